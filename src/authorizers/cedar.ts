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
import { nestedOptions, validateOptions } from "../core/options.js";
import type { TenantPrincipal } from "../core/principal.js";
import type { CedarEngine, PolicyInput } from "./cedar-engine.js";
import { CedarPolicyError, compileCedar, loadCedar } from "./cedar-engine.js";
import { toDecision } from "./decision.js";
import type { PolicySource } from "./policy-sets.js";
import { fixedSource, syncSource, tenantPolicySource, tenantStoreSource } from "./policy-sets.js";
import type { PolicyStoreClientLike } from "./policy-sync.js";
import { createPolicySync, syncClient } from "./policy-sync.js";
import { loadSdk } from "./vp/client.js";

export { CedarPolicyError } from "./cedar-engine.js";
export type { PolicyInput } from "./cedar-engine.js";

export type { PolicyStoreClientLike } from "./policy-sync.js";

/**
 * A Verified Permissions policy store to take the policies from ({@link CedarAuthorizerOptions.policyStore}):
 * the store stays the source of truth, decisions are made in process.
 */
export interface CedarPolicyStoreOptions {
  /**
   * The store, or a function of the principal to its tenant's store (sync or async): each store is
   * synced on first use, at most `maxPolicySets` at once (least recently used closed first). A
   * function that throws or returns no id refuses the request (503).
   */
  readonly policyStoreId: string | ((principal: TenantPrincipal) => string | Promise<string>);
  /**
   * Your client (a `VerifiedPermissionsClient`). Without it, `@aws-sdk/client-verifiedpermissions`
   * is imported on first use and a client made with `region` and `clientConfig`.
   */
  readonly client?: PolicyStoreClientLike;
  /** Region of the client made for you. */
  readonly region?: string;
  /** More configuration for the client made for you (`endpoint`, `credentials`, ...). */
  readonly clientConfig?: Readonly<Record<string, unknown>>;
  /**
   * How often the store is checked for changes, in ms; default 60000. A check of an unchanged store
   * is its policy list (one `ListPolicies` page per 50 policies) and `GetSchema`, plus the template
   * list when template-linked policies exist; a change loads only the changed policies.
   */
  readonly refreshMs?: number;
  /**
   * How long decisions may use a set the store has not confirmed, in ms; default 300000 (5 minutes),
   * at least `refreshMs`. Past it, while refreshes fail (the store unreachable, or a set Cedar refuses),
   * every decision is `authorizer_unavailable` (503) until a refresh succeeds.
   */
  readonly maxStaleMs?: number;
  /** The longest one management call may take, in ms; default 5000. */
  readonly timeoutMs?: number;
  /** A refresh that failed, or a set Cedar refused (the previous set stays in use): for your logs and alarms. */
  readonly onError?: (error: Error) => void;
}

/** Options of {@link createCedarAuthorizer}. */
export interface CedarAuthorizerOptions {
  /**
   * Cedar policies: text (policy ids come from `@id("...")` annotations, else `policy0`, `policy1`,
   * ... in order) or an object of id → policy text (the ids Verified Permissions would show).
   *
   * Or a function of the principal to its tenant's set (sync or async): each distinct string, or
   * object, it returns is compiled once and cached (at most `maxPolicySets`, least recently used
   * dropped first), so return the same value for the same set. A function that throws, returns
   * something else, or a set Cedar refuses, refuses the request (503). Exactly one of `policies`
   * and `policyStore`.
   */
  readonly policies?: PolicyInput | ((principal: TenantPrincipal) => PolicyInput | Promise<PolicyInput>);
  /**
   * Take static policies, templates, template-linked policies and the schema from a Verified
   * Permissions policy store, keep them fresh, and decide in process: no call and no cost per
   * decision, determining policies named by the store's policy ids. Exactly one of `policies` and
   * `policyStore`; the store's schema replaces `schema`.
   */
  readonly policyStore?: CedarPolicyStoreOptions;
  /** With a function in `policies` or `policyStore.policyStoreId`: the most sets (or stores) kept at once; default 100. */
  readonly maxPolicySets?: number;
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
   *
   * With `policyStore`: the first load of the store; rejects when the store is missing or cannot
   * be read, or its policies do not pass Cedar (a later call tries again). With a function of the
   * principal: loads cedar-wasm only (sets and stores load on their first request).
   */
  ready(): Promise<void>;
  /**
   * With `policyStore`: check the store(s) now and load what changed (for a webhook or an
   * EventBridge rule on the store's changes); resolves `true` when a new set is in use, rejects
   * with why the refresh failed (the previous set stays). Otherwise resolves `false`.
   */
  refresh(): Promise<boolean>;
  /** Stop refreshing (the timers do not keep the process alive anyway); later decisions are refused (503). */
  close(): void;
  /** Policy ids, once ready (empty when policies are chosen per principal). */
  readonly policyIds: readonly string[];
}

const optionalType = { type: "string", nonEmpty: true } as const;

/** The options `createCedarAuthorizer` accepts; any other key is a mistake (did-you-mean). It has no numeric options. */
const POLICY_STORE_OPTIONS: OptionsSchema = {
  policyStoreId: {
    type: "custom",
    required: true,
    check(value, name) {
      if (typeof value !== "function" && (typeof value !== "string" || value === "")) throw new TypeError(`${name} must be a policy store id or a function of the principal to one`);
    },
  },
  client: { type: "object" },
  region: { type: "string", nonEmpty: true },
  clientConfig: { type: "object" },
  refreshMs: { type: "number", integer: true, min: 100, max: 86_400_000 },
  maxStaleMs: { type: "number", integer: true, min: 100, max: 7 * 86_400_000 },
  timeoutMs: { type: "number", integer: true, min: 1, max: 600_000 },
  onError: { type: "function" },
};

const CEDAR_OPTIONS: OptionsSchema = {
  policies: {
    type: "custom",
    check(value, name) {
      const ok =
        typeof value === "string" || typeof value === "function" || (typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string"));
      if (!ok) throw new TypeError(`${name} must be Cedar policy text, an object of policy id to policy text, or a function of the principal to one of those`);
    },
  },
  policyStore: nestedOptions(POLICY_STORE_OPTIONS),
  maxPolicySets: { type: "number", integer: true, min: 1, max: 100_000 },
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
  if (options.policies === undefined && options.policyStore === undefined) {
    throw new TypeError("createCedarAuthorizer: policies is required (Cedar text, id → text, or a function of the principal), unless policyStore names a Verified Permissions store to sync");
  }
  if (options.policies !== undefined && options.policyStore !== undefined) {
    throw new TypeError("createCedarAuthorizer: policies and policyStore exclude each other: give the policies, or the store to take them from");
  }
  if (options.policyStore && options.schema !== undefined) {
    throw new TypeError("createCedarAuthorizer: schema and policyStore exclude each other: the store's schema is used");
  }
  const store = options.policyStore;
  if (store && (store.maxStaleMs ?? DEFAULT_MAX_STALE_MS) < (store.refreshMs ?? DEFAULT_REFRESH_MS)) {
    throw new TypeError("createCedarAuthorizer: policyStore.maxStaleMs must be at least policyStore.refreshMs, or every decision between two refreshes would be refused");
  }
  if (options.maxPolicySets !== undefined && typeof options.policies !== "function" && typeof store?.policyStoreId !== "function") {
    throw new TypeError("createCedarAuthorizer: maxPolicySets applies only with a function in policies or policyStore.policyStoreId");
  }
  void startTelemetry();
  let staticEntities: readonly CedarEntity[];
  try {
    staticEntities = (options.entities ?? []).map(normalizeEntity);
  } catch (err) {
    throw new TypeError(`createCedarAuthorizer: entities: ${(err as Error).message}`, { cause: err });
  }
  const source = policySource(options);
  let closed = false;
  // One options object per engine (a synced store or a tenant's set swaps engines): the mapping of
  // a principal is memoized per options object.
  const requestOptions = new WeakMap<CedarEngine, CedarRequestOptions>();
  const mappingOptions = (e: CedarEngine): CedarRequestOptions => {
    let o = requestOptions.get(e);
    if (o === undefined) {
      o = {
        namespace: options.namespace,
        ...(options.userEntityType !== undefined ? { userEntityType: options.userEntityType } : {}),
        ...(options.groupEntityType !== undefined ? { groupEntityType: options.groupEntityType } : {}),
        ...(options.tenantEntityType !== undefined ? { tenantEntityType: options.tenantEntityType } : {}),
        ...(e.schemaJson !== undefined ? { schema: e.schemaJson } : {}),
        staticEntities,
      };
      requestOptions.set(e, o);
    }
    return o;
  };

  function isAuthorized(request: AuthorizationRequest): Promise<Decision> {
    return tracing.on ? traceDecision("cedar", request, () => decide(request)) : decide(request);
  }

  async function decide(request: AuthorizationRequest): Promise<Decision> {
    if (closed) throw unavailable(new Error("createCedarAuthorizer: the authorizer is closed"));
    const chosen = source.engine(request.principal);
    // The engine is used synchronously from here: a per-tenant cache name is never reused under it.
    const e = chosen instanceof Promise ? await chosen : chosen;
    let answer;
    try {
      answer = e.evaluate(toCedarRequest(request, mappingOptions(e)));
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
    ready: () => source.ready(),
    refresh: () => source.refresh(),
    close() {
      closed = true;
      source.close();
    },
    isAuthorized,
    get policyIds() {
      return source.policyIds;
    },
  };
}

const DEFAULT_REFRESH_MS = 60_000;
const DEFAULT_MAX_STALE_MS = 300_000;
const DEFAULT_MAX_POLICY_SETS = 100;

/** Where the policy set of a request comes from: fixed, one synced store, or per principal. */
function policySource(options: CedarAuthorizerOptions): PolicySource {
  const validatePolicies = options.validatePolicies;
  const max = options.maxPolicySets ?? DEFAULT_MAX_POLICY_SETS;
  const store = options.policyStore;
  if (store) {
    const client = syncClient({
      ...(store.client !== undefined ? { client: store.client } : {}),
      ...(store.region !== undefined ? { region: store.region } : {}),
      ...(store.clientConfig !== undefined ? { clientConfig: store.clientConfig } : {}),
    });
    const makeSync = (policyStoreId: string, slot?: string) =>
      createPolicySync({
        policyStoreId,
        client,
        loadSdk,
        refreshMs: store.refreshMs ?? DEFAULT_REFRESH_MS,
        maxStaleMs: store.maxStaleMs ?? DEFAULT_MAX_STALE_MS,
        timeoutMs: store.timeoutMs ?? 5000,
        validatePolicies: validatePolicies !== false,
        onError: store.onError,
        ...(slot !== undefined ? { slot } : {}),
      });
    const id = store.policyStoreId;
    return typeof id === "function" ? tenantStoreSource(id, makeSync, max, loadCedar) : syncSource(makeSync(id));
  }
  const policies = options.policies!;
  const compile = (input: PolicyInput, cacheId?: string) =>
    compileCedar({
      policies: input,
      ...(options.schema !== undefined ? { schema: options.schema } : {}),
      ...(validatePolicies !== undefined ? { validatePolicies } : {}),
      ...(cacheId !== undefined ? { cacheId } : {}),
    });
  if (typeof policies === "function") {
    // The schema is shared: check it once at ready() by compiling it with no policies.
    return tenantPolicySource(policies, compile, max, () => compile({}));
  }
  return fixedSource(() => compile(policies));
}

// Re-exported so an app can check errors without importing cedar-engine.
// The client sees one generic description; the parser's or evaluator's message stays in
// `cause`, for the app's logs (it can quote policy text).
function unavailable(cause: unknown): TenantAuthError {
  return new TenantAuthError("authorizer_unavailable", "The policy engine could not decide", { cause });
}

/** True when `err` is the `CedarPolicyError` that `ready()` rejects with for an invalid policy or schema. */
export const isCedarPolicyError = (err: unknown): err is CedarPolicyError => err instanceof CedarPolicyError;
