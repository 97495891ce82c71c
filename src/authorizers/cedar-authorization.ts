/**
 * `cognito-tenancy/cedar-authorization`: interop with the `AuthorizationEngine` interface of Cedar's
 * own JavaScript packages (`@cedar-policy/cedar-authorization`, used by
 * `@cedar-policy/authorization-for-expressjs`), both ways.
 *
 * - {@link toAuthorizationEngine}: our Verified Permissions or local Cedar authorizer (or any
 *   {@link Authorizer}) as such an engine, so an app on that stack keeps its middleware and gets
 *   our principal mapping, decision cache and fail-closed rules.
 * - {@link fromAuthorizationEngine}: any such engine as our {@link Authorizer}, for our adapters'
 *   `authorize`; an engine that fails or answers nonsense is a 503, never an allow.
 *
 * The interface is declared here structurally (it is the same in the package's 0.1 and 0.2), so
 * this module loads nothing of the package, nor of Cedar: it only maps.
 * @packageDocumentation
 */
import type { AuthorizationRequest, Authorizer, Decision } from "../core/authorizer.js";
import type { CedarMappingOptions } from "../core/cedar/principal.js";
import { toCedarEntities } from "../core/cedar/principal.js";
import { normalizeEntity, toCedarRequest } from "../core/cedar/request.js";
import type { CedarEntity } from "../core/cedar/values.js";
import { TenantAuthError, isTenantAuthError } from "../core/errors.js";
import type { OptionsSchema } from "../core/options.js";
import { validateOptions } from "../core/options.js";
import type { TenantPrincipal } from "../core/principal.js";
import type { TenantAuth } from "../core/tenant-auth.js";

/** A Cedar entity uid, as the engine interface has it. */
export interface EngineEntityUid {
  type: string;
  id: string;
}

/** A Cedar value in JSON form (`CedarValueJson` of the engine interface). */
export type EngineValue = { __entity: EngineEntityUid } | { __extn: { fn: string; arg: EngineValue } } | boolean | number | string | EngineValue[] | { [key: string]: EngineValue } | null;

/** A Cedar entity in JSON form, as the engine interface has it. */
export interface EngineEntity {
  uid: EngineEntityUid;
  attrs: Record<string, EngineValue>;
  parents: EngineEntityUid[];
}

/** The request of `AuthorizationEngine.isAuthorized`. */
export interface EngineRequest {
  principal: EngineEntityUid;
  action: EngineEntityUid;
  resource: EngineEntityUid;
  context: Record<string, EngineValue>;
}

/** The answer of `AuthorizationEngine.isAuthorized`. */
export type EngineResult = { type: "deny" } | { type: "allow"; authorizerInfo: { principalUid: EngineEntityUid; determiningPolicies: string[] } } | { type: "error"; message: string };

/** `AuthorizationEngine` of `@cedar-policy/cedar-authorization` (0.1 and 0.2). */
export interface AuthorizationEngine {
  isAuthorized(request: EngineRequest, entities: EngineEntity[]): Promise<EngineResult>;
}

// Principal entities made by principalEntity(), with the principal they stand for: the engine
// finds the verified principal by the very object the app's middleware passes along.
const principals = new WeakMap<object, TenantPrincipal>();

/**
 * The Cedar entity of a verified principal (uid `<ns>::User::"<userPoolId>|<sub>"`, its claims as
 * attributes, its groups as parents: the mapping of every authorizer here), for an app's
 * `getPrincipalEntity`. An engine from {@link toAuthorizationEngine} recognises it and decides for
 * the principal it was made from; any other engine can use it as an ordinary entity.
 *
 * @example
 * ```ts
 * principalConfiguration: { type: "custom", getPrincipalEntity: async (req) => principalEntity(req.tenant!, { namespace: "TenancyDemo" }) },
 * ```
 */
export function principalEntity(principal: TenantPrincipal, mapping: CedarMappingOptions): EngineEntity {
  if (typeof principal !== "object" || principal === null || typeof principal.sub !== "string") {
    throw new TypeError("principalEntity needs the principal resolveTenant returned (did the authentication middleware run?)");
  }
  const entity = toCedarEntities(principal, mapping).entities[0] as CedarEntity;
  const out: EngineEntity = { uid: { ...entity.uid }, attrs: structuredClone(entity.attrs) as Record<string, EngineValue>, parents: entity.parents.map((p) => ({ ...p })) };
  principals.set(out, principal);
  return out;
}

/** Options of {@link toAuthorizationEngine}. */
export interface ToAuthorizationEngineOptions {
  /**
   * Verify principals sent as a raw token (the `identityToken` / `accessToken` principal
   * configurations of `@cedar-policy/authorization-for-expressjs`, whose principal is
   * `{ type: "Principal", id: <token> }`) with this resolver. Without it, only principals made by
   * {@link principalEntity} are decided; any other is an `error` answer.
   */
  auth?: TenantAuth;
  /**
   * Called with every failure turned into an `error` or `deny` answer (with its `cause`), since the
   * engine interface carries only a message. What it does or throws does not change the answer.
   */
  onError?: (error: unknown) => void;
}

const TO_ENGINE_OPTIONS: OptionsSchema = { auth: { type: "object" }, onError: { type: "function" } };

/** The principal type `@cedar-policy/authorization-for-expressjs` uses for a token principal. */
const TOKEN_PRINCIPAL_TYPE = "Principal";

function sameUid(a: unknown, b: EngineEntityUid): boolean {
  const u = a as EngineEntityUid | null | undefined;
  return typeof u === "object" && u !== null && u.type === b.type && u.id === b.id;
}

/**
 * One of our authorizers (Verified Permissions, local Cedar, or any {@link Authorizer}) as an
 * `AuthorizationEngine`. The principal is never taken from the request's entities: it is the
 * verified principal a {@link principalEntity} stands for (or, with `auth`, the principal of a
 * token principal), mapped as the authorizer maps it; the principal's entity in `entities` is
 * dropped, the others (the resource, your entities) are passed on. Our authorizer's cache and
 * rules apply unchanged.
 *
 * Answers: ALLOW is `allow` (with the determining policies), DENY is `deny`, and a request it
 * cannot decide (an unknown principal, an engine failure, a malformed decision) is `error`: never
 * `allow`. A principal refused before deciding (a bad token, `tenant_forbidden`) is `deny`.
 *
 * @example
 * ```ts
 * const engine = toAuthorizationEngine(createCedarAuthorizer({ policies, schema, namespace: "TenancyDemo" }));
 * new ExpressAuthorizationMiddleware({ schema, authorizationEngine: engine, principalConfiguration: { type: "custom", getPrincipalEntity } });
 * ```
 */
export function toAuthorizationEngine(authorizer: Authorizer, options: ToAuthorizationEngineOptions = {}): AuthorizationEngine {
  if (typeof authorizer !== "object" || authorizer === null || typeof authorizer.isAuthorized !== "function") {
    throw new TypeError("toAuthorizationEngine(authorizer) needs an object with isAuthorized()");
  }
  validateOptions(options, TO_ENGINE_OPTIONS, { where: "toAuthorizationEngine" });
  const { auth, onError } = options;
  if (auth !== undefined && typeof auth.resolveTenant !== "function") {
    throw new TypeError("toAuthorizationEngine: auth must be the object createTenantAuth() returns");
  }

  async function principalOf(request: EngineRequest, entities: readonly EngineEntity[]): Promise<{ principal: TenantPrincipal; token?: string; entity?: object }> {
    for (const e of entities) {
      const p = typeof e === "object" && e !== null ? principals.get(e) : undefined;
      if (p !== undefined && sameUid(e.uid, request.principal)) return { principal: p, entity: e };
    }
    if (auth !== undefined && request.principal.type === TOKEN_PRINCIPAL_TYPE && typeof request.principal.id === "string") {
      return { principal: await auth.resolveTenant(request.principal.id), token: request.principal.id };
    }
    throw new TenantAuthError("authorizer_unavailable", "The request's principal is not a verified principal", {
      cause: new TypeError("toAuthorizationEngine: the principal entity must come from principalEntity() (or be a token principal, with the auth option)"),
    });
  }

  async function decide(request: EngineRequest, entities: EngineEntity[]): Promise<EngineResult> {
    if (typeof request !== "object" || request === null || !Array.isArray(entities)) {
      throw new TenantAuthError("authorizer_unavailable", "The engine was called with a malformed request");
    }
    const { principal, token, entity } = await principalOf(request, entities);
    const ours: AuthorizationRequest = {
      principal,
      action: { type: request.action.type, id: request.action.id },
      resource: { type: request.resource.type, id: request.resource.id },
      context: request.context ?? {},
      entities: entities.filter((e) => e !== entity),
      ...(token !== undefined ? { token } : {}),
    };
    let decision: Decision;
    try {
      decision = await authorizer.isAuthorized(ours);
    } catch (err) {
      if (isTenantAuthError(err)) throw err;
      throw new TenantAuthError("authorizer_unavailable", "The policy engine could not be reached", { cause: err });
    }
    if (decision?.allowed === true && decision.decision === "ALLOW" && Array.isArray(decision.determiningPolicies)) {
      return { type: "allow", authorizerInfo: { principalUid: { ...request.principal }, determiningPolicies: [...decision.determiningPolicies] } };
    }
    if (decision?.allowed === false && decision.decision === "DENY") return { type: "deny" };
    throw new TenantAuthError("authorizer_unavailable", "The policy engine answered neither ALLOW nor DENY");
  }

  return {
    async isAuthorized(request: EngineRequest, entities: EngineEntity[]): Promise<EngineResult> {
      try {
        return await decide(request, entities);
      } catch (err) {
        if (onError !== undefined) {
          try {
            onError(err);
          } catch {
            // An observer that fails must not change the answer.
          }
        }
        // A refusal of the caller (401/403/400) is a deny; anything else could not be decided.
        if (isTenantAuthError(err) && err.status < 500) return { type: "deny" };
        const code = isTenantAuthError(err) ? err.code : "authorizer_unavailable";
        const message = isTenantAuthError(err) ? err.message : "The policy engine could not decide";
        return { type: "error", message: `${code}: ${message}` };
      }
    },
  };
}

/** Options of {@link fromAuthorizationEngine}: the principal mapping, as the other authorizers take it. */
export interface FromAuthorizationEngineOptions extends CedarMappingOptions {
  /**
   * Entities (Cedar JSON format) added to every request, merged with the mapped ones as
   * `createCedarAuthorizer`'s `entities` are. Checked now: a value Cedar cannot represent is a `TypeError`.
   */
  readonly entities?: readonly unknown[];
}

const optionalType = { type: "string", nonEmpty: true } as const;
const FROM_ENGINE_OPTIONS: OptionsSchema = {
  namespace: { type: "string", required: true },
  userEntityType: optionalType,
  groupEntityType: optionalType,
  tenantEntityType: optionalType,
  entities: { type: "array" },
};

function unavailable(message: string, cause?: unknown): TenantAuthError {
  return new TenantAuthError("authorizer_unavailable", "The policy engine could not decide", { cause: cause ?? new Error(message) });
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/**
 * Any `AuthorizationEngine` (`CedarInlineAuthorizationEngine`, an Amazon Verified Permissions
 * engine, your own) as our {@link Authorizer}, for `authorize` in every adapter. Each request is
 * mapped as our authorizers map it (principal, groups, claims, tenants, your entities), then
 * handed to the engine. Fail closed: an engine that throws, answers `error`, or answers anything
 * but a well-formed `allow` or `deny` (an `allow` without its `authorizerInfo`, or about another
 * principal) is 503 `authorizer_unavailable`, with the engine's answer in `cause`: never an allow.
 * The interface reports no evaluation errors, so an engine's ALLOW is taken as it is.
 *
 * @example
 * ```ts
 * const authorizer = fromAuthorizationEngine(new CedarInlineAuthorizationEngine({ staticPolicies, schema }), { namespace: "TenancyDemo" });
 * app.get("/docs/:id", authorize(authorizer, { action: "ReadDocument", resource: (req) => ({ type: "Document", id: req.params.id }) }), handler);
 * ```
 */
export function fromAuthorizationEngine(engine: AuthorizationEngine, options: FromAuthorizationEngineOptions): Authorizer {
  if (typeof engine !== "object" || engine === null || typeof engine.isAuthorized !== "function") {
    throw new TypeError("fromAuthorizationEngine(engine) needs an object with isAuthorized(request, entities)");
  }
  validateOptions(options, FROM_ENGINE_OPTIONS, { where: "fromAuthorizationEngine" });
  let staticEntities: readonly CedarEntity[];
  try {
    staticEntities = (options.entities ?? []).map(normalizeEntity);
  } catch (err) {
    throw new TypeError(`fromAuthorizationEngine: entities: ${(err as Error).message}`, { cause: err });
  }
  const mapping: CedarMappingOptions = {
    namespace: options.namespace,
    ...(options.userEntityType !== undefined ? { userEntityType: options.userEntityType } : {}),
    ...(options.groupEntityType !== undefined ? { groupEntityType: options.groupEntityType } : {}),
    ...(options.tenantEntityType !== undefined ? { tenantEntityType: options.tenantEntityType } : {}),
  };

  return {
    async isAuthorized(request: AuthorizationRequest): Promise<Decision> {
      let cedar;
      try {
        cedar = toCedarRequest(request, { ...mapping, staticEntities });
      } catch (err) {
        if (isTenantAuthError(err)) throw err;
        throw unavailable("the request could not be mapped", err);
      }
      // Copies: an engine may keep or change what it is given.
      const copy = <T>(value: T): T => structuredClone(value);
      let result: unknown;
      try {
        result = await engine.isAuthorized(
          { principal: copy(cedar.principal), action: copy(cedar.action), resource: copy(cedar.resource), context: copy(cedar.context) as Record<string, EngineValue> },
          copy(cedar.entities) as EngineEntity[],
        );
      } catch (err) {
        throw unavailable("the engine threw", err);
      }
      const answer = result as { type?: unknown; message?: unknown; authorizerInfo?: { principalUid?: unknown; determiningPolicies?: unknown } } | null;
      if (answer?.type === "deny") return Object.freeze({ allowed: false, decision: "DENY", determiningPolicies: Object.freeze([]), errors: Object.freeze([]) });
      if (answer?.type === "allow") {
        const info = answer.authorizerInfo;
        if (typeof info !== "object" || info === null || !isStringArray(info.determiningPolicies)) {
          throw unavailable("the engine answered allow without its authorizerInfo");
        }
        // An allow must say whom it is about: one without principalUid is malformed, not trusted.
        if (!sameUid(info.principalUid, cedar.principal)) {
          throw unavailable("the engine answered allow for another principal, or for none");
        }
        return Object.freeze({ allowed: true, decision: "ALLOW", determiningPolicies: Object.freeze([...info.determiningPolicies]), errors: Object.freeze([]) });
      }
      if (answer?.type === "error") throw unavailable(`the engine answered error: ${String(answer.message)}`);
      throw unavailable(`the engine answered neither allow, deny nor error`);
    },
  };
}
