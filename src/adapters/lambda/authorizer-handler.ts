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
import { extractToken } from "../../core/extract-token.js";
import type { TenantPrincipal } from "../../core/principal.js";
import type { TenantAuth } from "../../core/tenant-auth.js";
import { headerValue } from "./events.js";
import type { EventAuthOptions } from "./resolve.js";
import { checkEventAuthOptions, runAuthorizer, runGuards, tenantHintOf } from "./resolve.js";

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
  /** More `context` entries, merged over the standard ones. Values must be strings, numbers or booleans. */
  context?: (principal: TenantPrincipal, event: LambdaAuthorizerEvent) => AuthorizerContext;
  /**
   * What to do when keys or the policy engine cannot be reached (503 cases). `"error"` (default):
   * throw, which API Gateway answers with 500 and does not cache. `"deny"`: a Deny policy (403),
   * which API Gateway caches for the TTL. Neither ever allows.
   */
  onUnavailable?: "error" | "deny";
}

const ARN_RESOURCE = /^([^/]+)\/([^/]+)(?:\/|$)/;

/**
 * The stage-wide resource for a policy, from a `methodArn` (REST) or `routeArn` (HTTP API):
 * `arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets` → `arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*\/*`.
 * Throws an `Error` for anything else.
 */
export function stageWildcardArn(arn: unknown): string {
  if (typeof arn !== "string") throw new Error("The authorizer event has no methodArn or routeArn");
  const parts = arn.split(":");
  const match = parts.length >= 6 ? ARN_RESOURCE.exec(parts.slice(5).join(":")) : null;
  if (parts[0] !== "arn" || !parts[1] || parts[2] !== "execute-api" || !parts[3] || !parts[4] || !match) {
    throw new Error("The authorizer event's methodArn or routeArn is not an execute-api ARN");
  }
  return `${parts.slice(0, 5).join(":")}:${match[1]}/${match[2]}/*/*`;
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
    throw new TypeError("createAuthorizerHandler: context() must return an object");
  }
  for (const [key, value] of Object.entries(context)) {
    const ok = typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
    if (!ok) throw new TypeError(`createAuthorizerHandler: context value "${key}" must be a string, number or boolean`);
  }
  return context as AuthorizerContext;
}

function errorContext(err: TenantAuthError): AuthorizerContext {
  return { error: err.code, error_description: err.message };
}

type Kind = "token" | "request" | "v2";

function kindOf(event: LambdaAuthorizerEvent): Kind {
  if ((event as { type?: unknown }).type === "TOKEN") return "token";
  if ((event as { version?: unknown }).version === "2.0") return "v2";
  return "request";
}

function credentialsOf(event: LambdaAuthorizerEvent, kind: Kind): string | readonly string[] | undefined {
  if (kind === "token") return (event as APIGatewayTokenAuthorizerEvent).authorizationToken;
  const fromHeader = headerValue(event, "authorization");
  if (fromHeader !== undefined || kind !== "v2") return fromHeader;
  // HTTP API 2.0: with `$request.header.Authorization` as the only identity source, its value is here too.
  const sources = (event as APIGatewayRequestAuthorizerEventV2).identitySource;
  return Array.isArray(sources) && sources.length === 1 ? sources[0] : undefined;
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
export function createAuthorizerHandler(
  auth: TenantAuth,
  options: AuthorizerHandlerOptions & { response: "simple" },
): (event: APIGatewayRequestAuthorizerEventV2) => Promise<SimpleAuthorizerResult>;
export function createAuthorizerHandler(
  auth: TenantAuth,
  options?: AuthorizerHandlerOptions & { response?: "iam" },
): (event: LambdaAuthorizerEvent) => Promise<IamAuthorizerResult>;
export function createAuthorizerHandler(
  auth: TenantAuth,
  options: AuthorizerHandlerOptions = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the overloads above give the precise types
): (event: LambdaAuthorizerEvent) => Promise<any> {
  if (typeof auth?.resolveTenant !== "function") throw new TypeError("createAuthorizerHandler: the first argument must come from createTenantAuth()");
  checkEventAuthOptions(options as EventAuthOptions<unknown>, "createAuthorizerHandler");
  const response = options.response ?? "iam";
  if (response !== "iam" && response !== "simple") throw new TypeError('createAuthorizerHandler: response must be "iam" or "simple"');
  const onUnavailable = options.onUnavailable ?? "error";
  if (onUnavailable !== "error" && onUnavailable !== "deny") throw new TypeError('createAuthorizerHandler: onUnavailable must be "error" or "deny"');

  return async function authorizerHandler(event: LambdaAuthorizerEvent): Promise<IamAuthorizerResult | SimpleAuthorizerResult> {
    const kind = kindOf(event);
    // Simple responses carry no policy; IAM ones need the stage, and a bad ARN is a 500, never an Allow.
    const resource = response === "iam" ? stageWildcardArn(kind === "v2" ? (event as APIGatewayRequestAuthorizerEventV2).routeArn : (event as { methodArn?: unknown }).methodArn) : "";
    let principal: TenantPrincipal;
    try {
      const token = extractToken(credentialsOf(event, kind));
      const tenantHint = kind === "token" ? undefined : tenantHintOf(event, options);
      principal = await auth.resolveTenant(token, { tenantHint });
      runGuards(principal, options);
      await runAuthorizer(event, principal, options);
    } catch (err) {
      if (!isTenantAuthError(err)) throw err;
      if (err.status >= 500 && onUnavailable === "error") {
        throw new Error(`Authorizer unavailable: ${err.code}`, { cause: err });
      }
      if (response === "simple") return { isAuthorized: false, context: errorContext(err) };
      if (err.status === 401 || err.code === "invalid_request") throw new Error("Unauthorized");
      return { principalId: "unauthorized", policyDocument: policy("Deny", resource), context: errorContext(err) };
    }
    const context = { ...authorizerContext(principal), ...(options.context ? checkFlat(options.context(principal, event)) : {}) };
    if (response === "simple") return { isAuthorized: true, context };
    return { principalId: principal.sub, policyDocument: policy("Allow", resource), context };
  };
}
