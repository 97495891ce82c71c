/**
 * `cognito-tenancy/cedar`: authorize in process with `@cedar-policy/cedar-wasm`, with the same
 * entity mapping and the same decisions as Verified Permissions.
 * @packageDocumentation
 */
import type { AuthorizationRequest, Authorizer, Decision } from "../core/authorizer.js";
import type { CedarEntity, CedarRequestOptions, CedarSchemaJson } from "../core/cedar-entities.js";
import { normalizeEntity, toCedarRequest } from "../core/cedar-entities.js";
import { TenantAuthError } from "../core/errors.js";
import { startTelemetry, traceDecision, tracing } from "../core/telemetry.js";
import type { OptionsSchema } from "../core/options.js";
import { validateOptions } from "../core/options.js";
import type { CedarEngine, PolicyInput } from "./cedar-engine.js";
import { CedarPolicyError, compileCedar } from "./cedar-engine.js";
import { toDecision } from "./decision.js";

export { CedarPolicyError } from "./cedar-engine.js";
export type { PolicyInput } from "./cedar-engine.js";

/** Options of {@link createCedarAuthorizer}. */
export interface CedarAuthorizerOptions {
  /**
   * Cedar policies: text (policy ids come from `@id("...")` annotations, else `policy0`, `policy1`,
   * ... in order) or an object of id → policy text (the ids Verified Permissions would show).
   */
  readonly policies: PolicyInput;
  /**
   * The Cedar schema (text or JSON). With it, policies are validated at start, principal attributes
   * and `context.token` are projected onto what it declares (as the service does with token claims),
   * and requests are checked against it.
   */
  readonly schema?: string | CedarSchemaJson;
  /** The schema namespace: `"ReadObject"` means `<namespace>::Action::"ReadObject"`. */
  readonly namespace: string;
  /** Principal entity type of the identity source; default `"User"`. */
  readonly userEntityType?: string;
  /** Group entity type of the identity source; default `"UserGroup"`. */
  readonly groupEntityType?: string;
  /** Model tenants as entities of this type (see `toCedarEntities`). */
  readonly tenantEntityType?: string;
  /**
   * Entities (Cedar JSON format) added to every request, e.g. buckets and their tenants. One that
   * describes a group or tenant the mapping builds is merged with it (parents and attributes
   * united; the same attribute with two values is a `TypeError`); one with the principal's uid is
   * ignored. Checked at creation: a value Cedar cannot represent is a `TypeError`.
   */
  readonly entities?: readonly unknown[];
  /** Validate the policies against the schema at start; default `true` when there is a schema. */
  readonly validatePolicies?: boolean;
  /**
   * Cedar skips a policy whose evaluation errors, so a `forbid` that errors lets a `permit` through.
   * By default an ALLOW that came with evaluation errors is turned into a DENY (fail closed);
   * `true` keeps Cedar's (and the service's) plain semantics.
   */
  readonly allowWithErrors?: boolean;
}

/** The local Cedar authorizer. */
export interface CedarAuthorizer extends Authorizer {
  /**
   * Load cedar-wasm and parse policies and schema (done once; later calls return the same promise).
   * Rejects with {@link CedarPolicyError}, Cedar's message with line:column, when they are invalid.
   * Call it at start so a bad policy stops the deploy instead of denying every request.
   */
  ready(): Promise<void>;
  /** Policy ids, once ready. */
  readonly policyIds: readonly string[];
}

const optionalType = { type: "string", nonEmpty: true } as const;

/** The options `createCedarAuthorizer` accepts; any other key is a mistake (did-you-mean). It has no numeric options. */
const CEDAR_OPTIONS: OptionsSchema = {
  policies: {
    type: "custom",
    required: true,
    check(value, name) {
      const ok =
        typeof value === "string" ||
        (typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string"));
      if (!ok) throw new TypeError(`${name} must be Cedar policy text or an object of policy id to policy text`);
    },
  },
  schema: {
    type: "custom",
    check(value, name) {
      if (typeof value !== "string" && (typeof value !== "object" || value === null || Array.isArray(value))) {
        throw new TypeError(`${name} must be Cedar schema text or its JSON form (an object)`);
      }
    },
  },
  namespace: { type: "string", required: true },
  userEntityType: optionalType,
  groupEntityType: optionalType,
  tenantEntityType: optionalType,
  entities: { type: "array" },
  validatePolicies: { type: "boolean" },
  allowWithErrors: { type: "boolean" },
};

/**
 * Create an authorizer that evaluates Cedar policies in process. Importing this module is cheap:
 * cedar-wasm loads, and policies are parsed, on `ready()` or the first decision.
 *
 * Fail closed: invalid policies make `ready()` reject with a {@link CedarPolicyError} and every
 * `isAuthorized` reject with `authorizer_unavailable` (503); so does a request Cedar cannot
 * evaluate (e.g. entities that do not match the schema). A decision is never an allow by accident.
 */
export function createCedarAuthorizer(options: CedarAuthorizerOptions): CedarAuthorizer {
  validateOptions(options, CEDAR_OPTIONS, { where: "createCedarAuthorizer" });
  void startTelemetry();
  let staticEntities: readonly CedarEntity[];
  try {
    staticEntities = (options.entities ?? []).map(normalizeEntity);
  } catch (err) {
    throw new TypeError(`createCedarAuthorizer: entities: ${(err as Error).message}`, { cause: err });
  }
  let engine: CedarEngine | undefined;
  let starting: Promise<void> | undefined;
  let requestOptions: { engine: CedarEngine; options: CedarRequestOptions } | undefined;
  const mappingOptions = (e: CedarEngine): CedarRequestOptions => ({
    namespace: options.namespace,
    ...(options.userEntityType !== undefined ? { userEntityType: options.userEntityType } : {}),
    ...(options.groupEntityType !== undefined ? { groupEntityType: options.groupEntityType } : {}),
    ...(options.tenantEntityType !== undefined ? { tenantEntityType: options.tenantEntityType } : {}),
    ...(e.schemaJson !== undefined ? { schema: e.schemaJson } : {}),
    staticEntities,
  });

  function ready(): Promise<void> {
    starting ??= compileCedar({
      policies: options.policies,
      ...(options.schema !== undefined ? { schema: options.schema } : {}),
      ...(options.validatePolicies !== undefined ? { validatePolicies: options.validatePolicies } : {}),
    }).then((e) => {
      engine = e;
    });
    return starting;
  }

  function isAuthorized(request: AuthorizationRequest): Promise<Decision> {
    return tracing.on ? traceDecision("cedar", request, () => decide(request)) : decide(request);
  }

  async function decide(request: AuthorizationRequest): Promise<Decision> {
    if (!engine) {
      try {
        await ready();
      } catch (err) {
        throw unavailable(err);
      }
    }
    const e = engine!;
    let answer;
    try {
      // One options object per engine: the mapping of a principal is memoized per options object.
      if (requestOptions?.engine !== e) requestOptions = { engine: e, options: mappingOptions(e) };
      answer = e.evaluate(toCedarRequest(request, requestOptions.options));
    } catch (err) {
      // A token the mapping refuses (token_invalid) keeps its own status; anything else is a 503.
      if (err instanceof TenantAuthError) throw err;
      throw unavailable(err);
    }
    if (!answer.ok) {
      throw unavailable(new Error(`local Cedar could not evaluate the request: ${answer.errors.join("; ")}`));
    }
    return toDecision(answer.decision, answer.determiningPolicies, answer.errors, options.allowWithErrors === true);
  }

  return {
    ready,
    isAuthorized,
    get policyIds() {
      return engine?.policyIds ?? [];
    },
  };
}

// Re-exported so an app can check errors without importing cedar-engine.
// The client sees one generic description; the parser's or evaluator's message stays in
// `cause`, for the app's logs (it can quote policy text).
function unavailable(cause: unknown): TenantAuthError {
  return new TenantAuthError("authorizer_unavailable", "The policy engine could not decide", { cause });
}

/** True when `err` is the `CedarPolicyError` that `ready()` rejects with for an invalid policy or schema. */
export const isCedarPolicyError = (err: unknown): err is CedarPolicyError => err instanceof CedarPolicyError;
