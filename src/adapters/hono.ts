/**
 * The Hono adapter (Hono 4): `cognito-tenancy/hono`. The same code runs on Node
 * (`@hono/node-server`), Bun, Deno and Cloudflare Workers.
 *
 * A thin translation between Hono and the core's request pipeline: {@link tenantAuth} verifies the
 * bearer token and resolves the tenant, setting `c.get("tenant")`; the guards and {@link authorize}
 * run the core's checks. Every refusal is answered by the middleware itself with the error's
 * status, its headers (`WWW-Authenticate`, `Retry-After`) and a `{ error, error_description }` JSON
 * body, as every other adapter answers; an app's own `app.onError` cannot turn it into a 500.
 * Hono is imported for types only: this module loads without it.
 *
 * Hono reads headers through the Fetch API's `Headers`, which joins a repeated header with commas:
 * two `Authorization` headers or two tenant headers arrive as one value and are still refused
 * (400 `invalid_request`), described as one value carrying several tokens or tenants.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createTenantAuth } from "cognito-tenancy";
 * import { tenantAuth, requireTenantRoles } from "cognito-tenancy/hono";
 *
 * const auth = createTenantAuth({ userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }] });
 * const app = new Hono();
 * app.use("/api/*", tenantAuth(auth));
 * app.delete("/api/projects/:id", requireTenantRoles("admin"), (c) => c.json({ tenant: c.get("tenant")?.tenantId }));
 * ```
 * @packageDocumentation
 */
import type { Context, MiddlewareHandler } from "hono";
import type { ActionRef, Authorizer, Decision, ResourceRef } from "../core/authorizer.js";
import { HTTP_ADAPTER_OPTIONS, reportError } from "../core/adapter-options.js";
import { TenantAuthError, isTenantAuthError } from "../core/errors.js";
import type { RouteRequirements } from "../core/guards.js";
import type { OptionsSchema } from "../core/options.js";
import { validateOptions } from "../core/options.js";
import type { TenantPrincipal } from "../core/principal.js";
import type { AllGroups, AnyGroups, RequestAccess } from "../core/request-auth.js";
import { NO_ROUTE_PARAMETER, authorizeInput, checkTenantAuth, createRequestAuth, groupRequirementOf, listRequirement, runGuards } from "../core/request-auth.js";
import type { TenantAuth } from "../core/tenant-auth.js";

export type { AllGroups, AnyGroups };

declare module "hono" {
  interface ContextVariableMap {
    /**
     * The caller and the tenant the request acts for, set by `tenantAuth()` from
     * `cognito-tenancy/hono`. `undefined` before it ran, and for anonymous requests when
     * `credentialsRequired: false`.
     */
    tenant: TenantPrincipal | undefined;
  }
}

/** Options of {@link tenantAuth}: the same names and defaults as every adapter's. */
export interface TenantAuthMiddlewareOptions {
  /** Request header naming the tenant the caller wants to act for. Default `"x-tenant-id"`; `false` reads none. */
  tenantHeader?: string | false;
  /**
   * Route parameter naming the tenant (`"tenantId"` for `/tenants/:tenantId/...`). Mount the
   * middleware where the route declares it (`app.use("/tenants/:tenantId/*", ...)`); elsewhere every
   * request with a credential is refused, 503 `tenant_unavailable`, with the mistake in `cause` for
   * `onError`: never a fallback to the header. When the header names another tenant: 400.
   */
  tenantParam?: string;
  /**
   * Default `true`: a request without a bearer token is refused (401 `token_missing`). `false` lets
   * it through anonymously with `c.get("tenant")` undefined; a bearer token that is sent is still
   * verified, and a bad one still refused.
   */
  credentialsRequired?: boolean;
  /** Header carrying the token instead of `Authorization` (`"x-amzn-oidc-accesstoken"` behind an ALB); a raw token or `Bearer <token>`. */
  tokenHeader?: string;
  /**
   * Called with every refusal or failure this middleware answers (a 503 carries the engine's or key
   * endpoint's failure in `cause`) and the context: log the cause of 5xx here. What it does or
   * throws does not change the answer.
   */
  onError?: (error: unknown, c: Context) => void;
}

const MIDDLEWARE_OPTIONS: OptionsSchema = { ...HTTP_ADAPTER_OPTIONS, credentialsRequired: { type: "boolean" } };

// The Fetch API's Headers: one value per name (repeats joined with commas, refused by the core).
const HONO_ACCESS: RequestAccess<Context> = {
  headers: (c) => (name) => {
    const value = c.req.raw.headers.get(name);
    return value === null ? undefined : [value];
  },
  param: (c, name) => {
    const params = c.req.param() as Record<string, unknown>;
    return Object.prototype.hasOwnProperty.call(params, name) ? params[name] : NO_ROUTE_PARAMETER;
  },
};

// Contexts tenantAuth() has handled, so a guard can tell "anonymous by choice" from "not mounted".
const seenByTenantAuth = new WeakSet<Context>();

/** The refusal as every adapter answers it; any other error is the app's and propagates unchanged. */
function refusal(c: Context, err: unknown, onError: ((error: unknown, c: Context) => void) | undefined): Response {
  if (!isTenantAuthError(err)) throw err;
  reportError(onError, err, c);
  return c.json(err.toJSON(), err.status as 400, { ...err.headers });
}

/**
 * Verify the bearer token, resolve the tenant, and set `c.get("tenant")` (a frozen
 * `TenantPrincipal`). A refusal is answered here (401/403/400/503 with `WWW-Authenticate`).
 *
 * @param auth - from `createTenantAuth()`.
 * @throws TypeError - at setup, for an invalid option.
 * @example
 * ```ts
 * app.use("/api/*", tenantAuth(auth));
 * app.use("/tenants/:tenantId/*", tenantAuth(auth, { tenantParam: "tenantId" }));
 * ```
 */
export function tenantAuth(auth: TenantAuth, options: TenantAuthMiddlewareOptions = {}): MiddlewareHandler {
  checkTenantAuth(auth, "tenantAuth (Hono)");
  validateOptions(options, MIDDLEWARE_OPTIONS, { where: "tenantAuth (Hono)" });
  const pipeline = createRequestAuth(auth, options, HONO_ACCESS, "tenantAuth (Hono)");
  const onError = options.onError;
  return async function cognitoTenantAuth(c, next) {
    c.set("tenant", undefined);
    seenByTenantAuth.add(c);
    let principal: TenantPrincipal | undefined;
    try {
      principal = await pipeline.principal(c);
    } catch (err) {
      return refusal(c, err, onError);
    }
    c.set("tenant", principal);
    await next();
  };
}

function principalOf(c: Context): TenantPrincipal {
  const principal = c.get("tenant");
  // A guard without a principal refuses: it never allows.
  if (principal === undefined || principal === null) {
    if (!seenByTenantAuth.has(c)) {
      throw new TenantAuthError("token_missing", "The request was not authenticated: mount tenantAuth() before this route's guards");
    }
    throw new TenantAuthError("token_missing", "No bearer token was sent");
  }
  return principal;
}

function guard(requirements: RouteRequirements): MiddlewareHandler {
  return async function cognitoRequire(c, next) {
    try {
      runGuards(principalOf(c), requirements);
    } catch (err) {
      return refusal(c, err, undefined);
    }
    await next();
  };
}

/**
 * Refuse (403 `access_denied`) a caller in none of these Cognito groups; `{ all: [...] }` requires
 * every one. Names compare exactly. Mount after {@link tenantAuth}; without it, 401 `token_missing`.
 *
 * @throws TypeError - at setup, for an empty list.
 */
export function requireGroups(...groups: string[]): MiddlewareHandler;
export function requireGroups(requirement: AllGroups | AnyGroups): MiddlewareHandler;
export function requireGroups(...args: (string | AllGroups | AnyGroups)[]): MiddlewareHandler {
  return guard({ groups: groupRequirementOf(args, "requireGroups") });
}

/**
 * Refuse (403 `access_denied`) a caller holding none of these roles in the active tenant, and
 * (403 `tenant_missing`) a request acting for no tenant. Mount after {@link tenantAuth}.
 *
 * @throws TypeError - at setup, for an empty list.
 */
export function requireTenantRoles(...roles: string[]): MiddlewareHandler {
  return guard(listRequirement("tenantRoles", roles, "requireTenantRoles"));
}

/**
 * Refuse (403 `insufficient_scope`, with `scope="..."` in the challenge) a token lacking any of
 * these OAuth scopes; every scope listed is required. Mount after {@link tenantAuth}.
 *
 * @throws TypeError - at setup, for an empty list.
 */
export function requireScopes(...scopes: string[]): MiddlewareHandler {
  return guard(listRequirement("scopes", scopes, "requireScopes"));
}

/** A value given as is, or computed from the context (possibly asynchronously). */
export type FromContext<T> = T | ((c: Context) => T | Promise<T>);

/** Options of {@link authorize}: the names of Express's `authorize`, plus `onError`. */
export interface AuthorizeOptions {
  /** The action id (`"ReadObject"`), a typed `{ type, id }`, or a function of the context. */
  action: FromContext<ActionRef>;
  /** The resource acted on: `(c) => ({ type: "Document", id: c.req.param("id") })`. */
  resource: FromContext<ResourceRef>;
  /** Extra `context` for the policies, plain JSON values. */
  context?: FromContext<Readonly<Record<string, unknown>>>;
  /** Extra entities (Cedar JSON entity format) the policies need. */
  entities?: FromContext<readonly unknown[]>;
  /** Called with every ALLOW or DENY (and its determining policies) before the request goes on or is refused. Must not throw. */
  onDecision?: (decision: Decision, c: Context) => void;
  /**
   * Called with every refusal this middleware answers (a 503 carries the engine's failure in
   * `cause`): Hono's error handler never sees them, so log the cause of 5xx here.
   */
  onError?: (error: unknown, c: Context) => void;
}

const AUTHORIZE_OPTIONS: OptionsSchema = {
  action: { type: "any", required: true },
  resource: { type: "any", required: true },
  context: { type: "any" },
  entities: { type: "any" },
  onDecision: { type: "function" },
  onError: { type: "function" },
};

/**
 * Ask a policy engine (Verified Permissions, local Cedar, or your own `Authorizer`) whether
 * `c.get("tenant")` may do `action` on `resource`. A DENY is 403 `access_denied`; an engine that
 * fails is 503 `authorizer_unavailable`: never an allow. An error thrown by your own option
 * functions propagates to Hono's error handler unchanged. Mount after {@link tenantAuth}.
 *
 * @example
 * ```ts
 * app.get("/documents/:id", authorize(authorizer, {
 *   action: "ReadDocument",
 *   resource: (c) => ({ type: "Document", id: c.req.param("id") ?? "" }),
 * }), handler);
 * ```
 */
export function authorize(authorizer: Authorizer, options: AuthorizeOptions): MiddlewareHandler {
  if (typeof authorizer !== "object" || authorizer === null || typeof authorizer.isAuthorized !== "function") {
    throw new TypeError("authorize(authorizer) needs an object with isAuthorized()");
  }
  if (typeof options !== "object" || options === null || options.action === undefined || options.resource === undefined) {
    throw new TypeError("authorize needs { action, resource }");
  }
  validateOptions(options, AUTHORIZE_OPTIONS, { where: "authorize (Hono)" });
  const { onDecision, onError } = options;
  return async function cognitoAuthorize(c, next) {
    try {
      await authorizeInput(authorizer, options, c, principalOf(c), onDecision);
    } catch (err) {
      return refusal(c, err, onError);
    }
    await next();
  };
}
