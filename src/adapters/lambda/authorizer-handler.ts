import type {
  APIGatewayAuthorizerWithContextResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  APIGatewayTokenAuthorizerEvent,
  PolicyDocument,
} from "aws-lambda";
import type { TenantAuthError } from "../../core/errors.js";
import { isTenantAuthError } from "../../core/errors.js";
import type { RequestAccess } from "../../core/request-auth.js";
import type { OptionsSchema } from "../../core/options.js";
import type { TenantPrincipal } from "../../core/principal.js";
import type { TenantAuth } from "../../core/tenant-auth.js";
import type { EventAuthOptions } from "./resolve.js";
import { reportError } from "../../core/adapter-options.js";
import { checkTenantAuth } from "../../core/request-auth.js";
import { EVENT_ACCESS, checkEventAuthOptions, createEventAuth, eventHeaderValues } from "./resolve.js";

/** The events a Lambda authorizer receives: REST TOKEN, REST REQUEST (and HTTP API 1.0), HTTP API 2.0. */
export type LambdaAuthorizerEvent = APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent | APIGatewayRequestAuthorizerEventV2;

/** A value API Gateway accepts in an authorizer's `context`: flat, never an object or array. */
export type AuthorizerContextValue = string | number | boolean;

/** The `context` an authorizer returns; the backend reads it from `requestContext.authorizer`. */
export type AuthorizerContext = Record<string, AuthorizerContextValue>;

/** The IAM-format answer (REST, and HTTP API with simple responses off). */
export type IamAuthorizerResult = APIGatewayAuthorizerWithContextResult<AuthorizerContext>;

/** The simple answer of an HTTP API authorizer with simple responses on. */
export type SimpleAuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>;

/**
 * Options of {@link createAuthorizerHandler}.
 *
 * `groups`, `tenantRoles` and `scopes` depend only on the caller, so they are safe with authorizer
 * caching. `authorizer` (with `action` and `resource`) usually depends on the route: API Gateway
 * reuses a cached Allow for every route during the TTL, so either disable caching (TTL 0) or make the
 * route part of the cache key, or decide per route in the backend (`withTenant({ authorizer })`).
 */
export interface AuthorizerHandlerOptions extends EventAuthOptions<LambdaAuthorizerEvent> {
  /**
   * `"iam"` (default): `{ principalId, policyDocument, context }` for REST APIs (TOKEN and REQUEST)
   * and HTTP APIs with simple responses off. `"simple"`: `{ isAuthorized, context }` for HTTP APIs
   * with simple responses on.
   */
  response?: "iam" | "simple";
  /**
   * More entries of the authorizer's answer `context` (what the backend reads from
   * `requestContext.authorizer`), merged over the standard ones. Values must be strings, numbers
   * or booleans. Formerly `context: (principal, event) => ...`: without `authorizer`, `context`
   * given as such a function is still read that way (deprecated); with an `authorizer`, `context`
   * is the policy context, as in every adapter.
   */
  authorizerContext?: (event: LambdaAuthorizerEvent, principal: TenantPrincipal) => AuthorizerContext;
  /**
   * What to do when keys or the policy engine cannot be reached (503 cases). `"error"` (default):
   * throw, which API Gateway answers with 500 and does not cache. `"deny"`: a Deny policy (403),
   * which API Gateway caches for the TTL. Neither ever allows.
   */
  onUnavailable?: "error" | "deny";
}

// The parts of an execute-api ARN that name a stage, each checked for its own syntax: a wildcard
// (`*`, `?`) or any other character there would widen an Allow beyond the API and stage it was
// meant for (IAM wildcards match within and across every part of the ARN).
const PARTITION = /^aws(?:-[a-z]+)*$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const ACCOUNT = /^\d{12}$/;
const API_ID = /^[a-z0-9]{1,64}$/i;
// Stage names are letters, digits, `-` and `_` (at most 128); HTTP APIs also have `$default`.
const STAGE = /^(?:\$default|[A-Za-z0-9_-]{1,128})$/;

/**
 * The stage-wide resource for a policy, from a `methodArn` (REST) or `routeArn` (HTTP API):
 * `arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets` → `arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*`.
 *
 * `<stage>/*` covers every route of the stage, because an IAM `*` matches across `/`: a REST
 * `GET/pets`, an HTTP API `GET/pets` or `ANY/{proxy+}`, and the HTTP API `$default` route, whose
 * `routeArn` has no method segment (`.../<stage>/$default`) and so is not covered by `<stage>/*\/*`.
 * The partition, region, account, API id and stage must each be well formed (no wildcard); the
 * rest of the ARN is not used. Throws an `Error` for anything else.
 */
export function stageWildcardArn(arn: unknown): string {
  if (typeof arn !== "string") throw new Error("The authorizer event has no methodArn or routeArn");
  const parts = arn.split(":");
  const [prefix, partition, service, region, account] = parts;
  const path = parts.slice(5).join(":").split("/");
  const [apiId, stage] = path;
  const wellFormed =
    parts.length >= 6 &&
    prefix === "arn" &&
    PARTITION.test(partition ?? "") &&
    service === "execute-api" &&
    REGION.test(region ?? "") &&
    ACCOUNT.test(account ?? "") &&
    path.length >= 2 &&
    API_ID.test(apiId ?? "") &&
    STAGE.test(stage ?? "");
  if (!wellFormed) throw new Error("The authorizer event's methodArn or routeArn is not a well-formed execute-api ARN");
  return `arn:${partition}:execute-api:${region}:${account}:${apiId}/${stage}/*`;
}

function policy(effect: "Allow" | "Deny", resource: string): PolicyDocument {
  return { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resource }] };
}

/**
 * The standard authorizer `context` of a principal: flat values only. Lists are JSON strings
 * (`JSON.parse(event.requestContext.authorizer.groups)` in the backend).
 */
export function authorizerContext(principal: TenantPrincipal): AuthorizerContext {
  const context: AuthorizerContext = {
    sub: principal.sub,
    username: principal.username,
    userPoolId: principal.userPoolId,
    tokenUse: principal.tokenUse,
    groups: JSON.stringify(principal.groups),
    tenantRoles: JSON.stringify(principal.tenantRoles),
    tenants: JSON.stringify(principal.tenants.map((t) => t.tenantId)),
    scopes: JSON.stringify(principal.scopes),
    expiresAt: Math.floor(principal.expiresAt.getTime() / 1000),
  };
  if (principal.tenantId !== undefined) context["tenantId"] = principal.tenantId;
  if (principal.clientId !== undefined) context["clientId"] = principal.clientId;
  return context;
}

function checkFlat(context: unknown): AuthorizerContext {
  if (typeof context !== "object" || context === null || Array.isArray(context)) {
    throw new TypeError("createAuthorizerHandler: authorizerContext() must return an object");
  }
  for (const [key, value] of Object.entries(context)) {
    const ok = typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
    if (!ok) throw new TypeError(`createAuthorizerHandler: authorizerContext value "${key}" must be a string, number or boolean`);
  }
  return context as AuthorizerContext;
}

/**
 * The former `context: (principal, event) => AuthorizerContext` option, now `authorizerContext:
 * (event, principal) => ...`, while `context` is the policy context of every adapter. Without an
 * `authorizer` a policy context means nothing (and would be refused), so a `context` function there
 * can only be the old option: read it as such.
 */
function legacyAuthorizerContext(options: AuthorizerHandlerOptions): AuthorizerHandlerOptions {
  if (typeof options !== "object" || options === null) return options;
  const { context, ...rest } = options as AuthorizerHandlerOptions & { context?: unknown };
  if (typeof context !== "function" || options.authorizer !== undefined || options.authorizerContext !== undefined) return options;
  const old = context as unknown as (principal: TenantPrincipal, event: LambdaAuthorizerEvent) => AuthorizerContext;
  return { ...rest, authorizerContext: (event, principal) => old(principal, event) };
}

function errorContext(err: TenantAuthError): AuthorizerContext {
  return { error: err.code, error_description: err.message };
}

const AUTHORIZER_HANDLER_OPTIONS: OptionsSchema = {
  response: { type: "oneOf", values: ["iam", "simple"] },
  authorizerContext: { type: "function" },
  onUnavailable: { type: "oneOf", values: ["error", "deny"] },
};

type Kind = "token" | "request" | "v2";

function kindOf(event: LambdaAuthorizerEvent): Kind {
  if ((event as { type?: unknown }).type === "TOKEN") return "token";
  if ((event as { version?: unknown }).version === "2.0") return "v2";
  return "request";
}

// REQUEST and HTTP API authorizer events are read as HTTP events are: headers only, never
// `identitySource` (HTTP API 2.0 events always carry the headers, and an identity source may be a
// query-string value: a token in the URL, which logs keep).
const AUTHORIZER_ACCESS: RequestAccess<LambdaAuthorizerEvent> = {
  headers: (event) => eventHeaderValues(event),
  param: EVENT_ACCESS.param,
};

// HTTP API authorizer events carry `version` ("1.0" or "2.0"); REST ones do not.
function isHttpApi(event: LambdaAuthorizerEvent): boolean {
  return typeof (event as { version?: unknown }).version === "string";
}

/**
 * Create a Lambda authorizer for API Gateway.
 *
 * - REST TOKEN authorizers (`event.authorizationToken`; no tenant header can reach them), REST
 *   REQUEST authorizers and HTTP API authorizers (payload 1.0 or 2.0; headers looked up
 *   case-insensitively) are told apart by the event.
 * - Allow: `{ principalId: sub, policyDocument, context }` whose resource is the whole stage
 *   (`arn:aws:execute-api:<region>:<account>:<api>/<stage>/*\/*`), because API Gateway reuses a
 *   cached Allow for every route; `context` from {@link authorizerContext}. With
 *   `response: "simple"`: `{ isAuthorized: true, context }`.
 * - 401 cases (no, malformed, invalid or expired token): `throw new Error("Unauthorized")`, which
 *   API Gateway answers with 401. With `response: "simple"`: `{ isAuthorized: false }` (HTTP API 403).
 * - 403 cases and `tenant_ambiguous`: a Deny policy (403) whose `context` carries `error` and
 *   `error_description`, or `{ isAuthorized: false, context }`.
 * - 503 cases (JWKS or policy engine unreachable): a thrown `Error` (API Gateway: 500, not cached),
 *   or a Deny with `onUnavailable: "deny"`. Never an Allow.
 *
 * Errors that are not ours (bugs in your callbacks, a bad `methodArn`) propagate: API Gateway
 * answers 500, and nothing is allowed.
 *
 * @example
 * ```ts
 * export const handler = createAuthorizerHandler(auth, { response: "iam" });
 * ```
 */
export function createAuthorizerHandler(auth: TenantAuth, options: AuthorizerHandlerOptions & { response: "simple" }): (event: APIGatewayRequestAuthorizerEventV2) => Promise<SimpleAuthorizerResult>;
export function createAuthorizerHandler(auth: TenantAuth, options?: AuthorizerHandlerOptions & { response?: "iam" }): (event: LambdaAuthorizerEvent) => Promise<IamAuthorizerResult>;
export function createAuthorizerHandler(
  auth: TenantAuth,
  options: AuthorizerHandlerOptions = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the overloads above give the precise types
): (event: LambdaAuthorizerEvent) => Promise<any> {
  checkTenantAuth(auth, "createAuthorizerHandler");
  options = checkEventAuthOptions(legacyAuthorizerContext(options), "createAuthorizerHandler", AUTHORIZER_HANDLER_OPTIONS);
  const eventAuth = createEventAuth<LambdaAuthorizerEvent>(auth, options, "createAuthorizerHandler", AUTHORIZER_ACCESS);
  const response = options.response ?? "iam";
  const onUnavailable = options.onUnavailable ?? "error";

  return async function authorizerHandler(event: LambdaAuthorizerEvent): Promise<IamAuthorizerResult | SimpleAuthorizerResult> {
    const kind = kindOf(event);
    // Simple responses carry no policy; IAM ones need the stage, and a bad ARN is a 500, never an Allow.
    const resource = response === "iam" ? stageWildcardArn(kind === "v2" ? (event as APIGatewayRequestAuthorizerEventV2).routeArn : (event as { methodArn?: unknown }).methodArn) : "";
    let principal: TenantPrincipal;
    try {
      if (kind === "token") {
        // A TOKEN authorizer gets the token alone: no header or path can name a tenant.
        const token = (event as APIGatewayTokenAuthorizerEvent).authorizationToken;
        principal = await auth.resolveTenant(typeof token === "string" ? token : undefined, { tenantHint: undefined });
      } else {
        principal = (await eventAuth.pipeline.principal(event)) as TenantPrincipal;
      }
      await eventAuth.check(event, principal);
    } catch (err) {
      reportError(options.onError, err, event);
      if (!isTenantAuthError(err)) throw err;
      if (err.status >= 500 && onUnavailable === "error") {
        throw new Error(`Authorizer unavailable: ${err.code}`, { cause: err });
      }
      if (response === "simple") return { isAuthorized: false, context: errorContext(err) };
      // REST answers a thrown "Unauthorized" with 401. The HTTP API guide documents no such answer
      // (a failed invocation is a 500 there), so HTTP APIs get a Deny (403) as with simple responses.
      if ((err.status === 401 || err.code === "invalid_request") && !isHttpApi(event)) throw new Error("Unauthorized", { cause: err });
      return { principalId: "unauthorized", policyDocument: policy("Deny", resource), context: errorContext(err) };
    }
    const extra = options.authorizerContext;
    const context = { ...authorizerContext(principal), ...(extra ? checkFlat(extra(event, principal)) : {}) };
    if (response === "simple") return { isAuthorized: true, context };
    return { principalId: principal.sub, policyDocument: policy("Allow", resource), context };
  };
}
