/**
 * The Express adapter (Express 4 and 5): `cognito-tenancy/express`.
 *
 * A thin translation between Express and the core. {@link tenantAuth} verifies the bearer token
 * and resolves the tenant through `auth.resolveTenant`, the guards call the core's `assert*`
 * functions, {@link authorize} calls the core's `authorizeOrThrow`. Every refusal is a
 * `TenantAuthError` handed to `next(err)`: it carries `status` and `headers`, so Express's default
 * error handler already answers 401/403/400/503 with the `WWW-Authenticate` challenge, and
 * {@link tenantAuthErrorHandler} answers the same quietly, as `{ error, error_description }` JSON.
 *
 * Every middleware settles its own promises and calls `next(err)` itself, so Express 4 (which
 * ignores a rejected promise) and Express 5 (which forwards it) behave the same, and no rejection
 * is ever left unhandled. Express is only imported for types: this module loads without it.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { createTenantAuth } from "cognito-tenancy";
 * import { tenantAuth, requireTenantRoles, tenantAuthErrorHandler } from "cognito-tenancy/express";
 *
 * const auth = createTenantAuth({ userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }] });
 * const app = express();
 * app.use(tenantAuth(auth));
 * app.get("/admin", requireTenantRoles("admin"), (req, res) => { res.json({ tenant: req.tenant?.tenantId }) });
 * app.use(tenantAuthErrorHandler());
 * ```
 * @packageDocumentation
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from "express";
import type { Authorizer } from "../core/authorizer.js";
import { TenantAuthError, isTenantAuthError } from "../core/errors.js";
import type { AuthorizeSettings, HttpAdapterOptions, OnDecision } from "../core/adapter-options.js";
import { AUTHORIZE_SETTINGS, HTTP_ADAPTER_OPTIONS, reportError } from "../core/adapter-options.js";
import { nodeHeaderValues } from "../core/extract-token.js";
import type { AllGroups as CoreAllGroups, AnyGroups as CoreAnyGroups, FromInput, RequestAccess } from "../core/request-auth.js";
import { NO_ROUTE_PARAMETER, authorizeInput, checkTenantAuth, createRequestAuth, groupRequirementOf, listRequirement, runGuards } from "../core/request-auth.js";
import type { RouteRequirements } from "../core/guards.js";
import type { TenantPrincipal } from "../core/principal.js";
import type { TenantAuth } from "../core/tenant-auth.js";
import type { OptionsSchema } from "../core/options.js";
import { validateOptions } from "../core/options.js";

/**
 * What `tenantAuth`, the guards and `authorize` return: an Express middleware for any route.
 * It is generic in the route's parameters, so a guard standing before a handler leaves Express's
 * own typing alone: in `app.delete("/projects/:id", requireTenantRoles("admin"), handler)` the
 * handler's `req.params` is still `{ id: string }`.
 */
export type TenantMiddleware = <P>(req: Request<P>, res: Response, next: NextFunction) => void;

// The handlers read the request only as Express's base `Request` (headers, params by name), which
// every `Request<P>` is at run time; the generic type exists for the caller's inference only.
function middleware(handler: RequestHandler): TenantMiddleware {
  return handler as unknown as TenantMiddleware;
}

declare global {
  // Declaration merging into the `Express` namespace that @types/express 4 and 5 both declare
  // (through @types/express-serve-static-core): `req.tenant` is typed in every handler.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The caller and the tenant the request acts for, set by `tenantAuth()` from
       * `cognito-tenancy/express`. `undefined` before it ran, and for anonymous requests when
       * `credentialsRequired: false`.
       */
      tenant?: TenantPrincipal;
    }
  }
}

/**
 * Options of {@link tenantAuth}, under their former name: they are the options every HTTP adapter
 * takes, `HttpAdapterOptions<Request>`.
 * @deprecated Use `HttpAdapterOptions<Request>` (`import type { HttpAdapterOptions } from "cognito-tenancy"`).
 */
export type TenantAuthMiddlewareOptions = HttpAdapterOptions<Request>;

const MIDDLEWARE_OPTIONS: OptionsSchema = { ...HTTP_ADAPTER_OPTIONS, credentialsRequired: { type: "boolean" } };

/**
 * Verify the bearer token, resolve the tenant, and set `req.tenant` (a frozen `TenantPrincipal`).
 * Every failure goes to `next(err)` as a `TenantAuthError` with `status` and `headers`.
 *
 * `tenantParam`: Express fills `req.params` only for the router or route whose path declares the
 * parameter, so mount the middleware there:
 * `router.use("/tenants/:tenantId", tenantAuth(auth, { tenantParam: "tenantId" }))` or
 * `app.get("/tenants/:tenantId/docs", tenantAuth(auth, { tenantParam: "tenantId" }), handler)`.
 * Mounted where the parameter does not exist (a mistake Express cannot show at setup), every
 * request with a credential is refused, 503 `tenant_unavailable`, with the mistake in `cause` for
 * `onError`: never a fallback to the header, as in every adapter.
 *
 * @param auth - from `createTenantAuth()`.
 * @param options - the options every HTTP adapter takes ({@link HttpAdapterOptions}): where the
 *   tenant hint and the token come from, whether credentials are required, `onError`.
 * @throws TypeError - at setup, for an invalid option.
 *
 * @example
 * ```ts
 * app.use(tenantAuth(auth));                                   // header x-tenant-id selects the tenant
 * const tenants = express.Router();
 * tenants.use("/tenants/:tenantId", tenantAuth(auth, { tenantParam: "tenantId" })); // or the URL does
 * ```
 */
export function tenantAuth(auth: TenantAuth, options: HttpAdapterOptions<Request> = {}): TenantMiddleware {
  checkTenantAuth(auth, "tenantAuth (Express)");
  validateOptions(options, MIDDLEWARE_OPTIONS, { where: "tenantAuth (Express)" });
  const pipeline = createRequestAuth(auth, options, EXPRESS_ACCESS, "tenantAuth (Express)");
  const onError = options.onError;
  return middleware(function cognitoTenantAuth(req: Request, _res: Response, next: NextFunction): void {
    req.tenant = undefined;
    seenByTenantAuth.add(req);
    const fail: NextFunction =
      onError === undefined
        ? next
        : (err?: unknown) => {
            if (err !== undefined) reportError(onError, err, req);
            next(err);
          };
    settle(fail, async () => {
      req.tenant = await pipeline.principal(req);
    });
  });
}

// Express fills `req.params` only for the router or route whose path declares the parameter.
const EXPRESS_ACCESS: RequestAccess<Request> = {
  headers: (req) => nodeHeaderValues(req, req.headers),
  param: (req, name) => {
    const params = req.params as Record<string, unknown> | undefined;
    return params !== undefined && params !== null && Object.prototype.hasOwnProperty.call(params, name) ? params[name] : NO_ROUTE_PARAMETER;
  },
};

/**
 * Run `work`, then `next()`; or `next(err)` if it throws or rejects. The one place a promise is
 * settled, so that Express 4 never sees an unhandled rejection and `next` is called exactly once.
 */
function settle(next: NextFunction, work: () => void | Promise<void>): void {
  let result: void | Promise<void>;
  try {
    result = work();
  } catch (err) {
    next(err);
    return;
  }
  if (result === undefined) {
    next();
    return;
  }
  result.then(
    () => next(),
    (err: unknown) => next(err),
  );
}

// Requests tenantAuth() has handled, so a guard can tell "anonymous by choice"
// (credentialsRequired: false) from "tenantAuth() was never mounted before me".
const seenByTenantAuth = new WeakSet<Request>();

function principalOf(req: Request): TenantPrincipal {
  const principal = req.tenant;
  // A guard without a principal refuses: it never allows.
  if (principal === undefined || principal === null) {
    if (!seenByTenantAuth.has(req)) {
      throw new TenantAuthError("token_missing", "The request was not authenticated: mount tenantAuth() before this route's guards");
    }
    throw new TenantAuthError("token_missing", "No bearer token was sent");
  }
  return principal;
}

/** The `{ all: [...] }` form of {@link requireGroups}: the caller must be in every group. */
export type AllGroups = CoreAllGroups;

/** The `{ any: [...] }` form of {@link requireGroups}: the caller must be in at least one group. */
export type AnyGroups = CoreAnyGroups;

/**
 * Refuse (403 `access_denied`) a caller in none of these Cognito groups; `{ all: [...] }` requires
 * every one. Names compare exactly. Mount after {@link tenantAuth}; without it, 401 `token_missing`.
 *
 * @throws TypeError - at setup, for an empty list.
 * @example
 * ```ts
 * app.get("/reports", requireGroups("analysts", "admins"), handler);   // any of
 * app.post("/billing", requireGroups({ all: ["billing", "mfa"] }), handler);
 * ```
 */
export function requireGroups(...groups: string[]): TenantMiddleware;
export function requireGroups(requirement: AllGroups | AnyGroups): TenantMiddleware;
export function requireGroups(...args: (string | AllGroups | AnyGroups)[]): TenantMiddleware {
  return guard({ groups: groupRequirementOf(args, "requireGroups") });
}

/**
 * Refuse (403 `access_denied`) a caller holding none of these roles in the active tenant (the
 * `<role>` of `tenant:<id>:<role>` groups), and (403 `tenant_missing`) a request acting for no tenant.
 * Mount after {@link tenantAuth}; without it, 401 `token_missing`.
 *
 * @throws TypeError - at setup, for an empty list.
 * @example
 * ```ts
 * app.delete("/projects/:id", requireTenantRoles("admin", "owner"), handler);
 * ```
 */
export function requireTenantRoles(...roles: string[]): TenantMiddleware {
  return guard(listRequirement("tenantRoles", roles, "requireTenantRoles"));
}

/**
 * The former name of {@link requireTenantRoles}; the same guard.
 * @deprecated Use {@link requireTenantRoles} (plural, like `requireGroups` and `requireScopes`).
 */
export function requireTenantRole(...roles: string[]): TenantMiddleware {
  return guard(listRequirement("tenantRoles", roles, "requireTenantRole"));
}

/**
 * Refuse (403 `insufficient_scope`, with `scope="..."` in the challenge) a token lacking any of
 * these OAuth scopes (access tokens carry them). Every scope listed is required.
 * Mount after {@link tenantAuth}; without it, 401 `token_missing`.
 *
 * @throws TypeError - at setup, for an empty list.
 * @example
 * ```ts
 * app.get("/orders", requireScopes("orders/read"), handler);
 * ```
 */
export function requireScopes(...scopes: string[]): TenantMiddleware {
  return guard(listRequirement("scopes", scopes, "requireScopes"));
}

function guard(requirements: RouteRequirements): TenantMiddleware {
  return middleware(function cognitoRequire(req: Request, _res: Response, next: NextFunction): void {
    settle(next, () => runGuards(principalOf(req), requirements));
  });
}

/** A value given as is, or computed from the request and `req.tenant` (possibly asynchronously). */
export type FromRequest<T> = FromInput<Request, T>;

/**
 * Options of {@link authorize}: `action`, `resource`, `context`, `entities` (values, or functions
 * `(req, principal) => T | Promise<T>`), as in every adapter ({@link AuthorizeSettings}).
 */
export interface AuthorizeOptions extends AuthorizeSettings<Request> {
  /**
   * Called with every ALLOW or DENY (and its determining policies) before the request goes on or
   * is refused, e.g. for an audit log. Not called when the engine cannot answer. Must not throw.
   */
  onDecision?: OnDecision<Request>;
}

const AUTHORIZE_OPTIONS: OptionsSchema = { ...AUTHORIZE_SETTINGS, onDecision: { type: "function" } };

/**
 * Ask a policy engine (an `Authorizer`: Verified Permissions, local Cedar, or your own) whether
 * `req.tenant` may do `action` on `resource`. A DENY is 403 `access_denied`; an engine that fails
 * is 503 `authorizer_unavailable`: never an allow. An error thrown by your own `resource`,
 * `action` or `context` function goes to `next(err)` unchanged.
 * Mount after {@link tenantAuth}; without it, 401 `token_missing`.
 *
 * @example
 * ```ts
 * app.get("/documents/:id", authorize(authorizer, {
 *   action: "ReadDocument",
 *   resource: (req) => ({ type: "Document", id: String(req.params.id) }),
 * }), handler);
 * ```
 */
export function authorize(authorizer: Authorizer, options: AuthorizeOptions): TenantMiddleware {
  if (typeof authorizer !== "object" || authorizer === null || typeof authorizer.isAuthorized !== "function") {
    throw new TypeError("authorize(authorizer) needs an object with isAuthorized()");
  }
  if (typeof options !== "object" || options === null || options.action === undefined || options.resource === undefined) {
    throw new TypeError("authorize needs { action, resource }");
  }
  validateOptions(options, AUTHORIZE_OPTIONS, { where: "authorize (Express)" });
  return middleware(function cognitoAuthorize(req: Request, _res: Response, next: NextFunction): void {
    settle(next, async () => {
      await authorizeInput(authorizer, options, req, principalOf(req), options.onDecision);
    });
  });
}

/** Options of {@link tenantAuthErrorHandler}. */
export interface TenantAuthErrorHandlerOptions {
  /**
   * Called with each error this handler answers (ours only), e.g. to count refusals. It must not
   * throw; the handler logs nothing itself.
   */
  onError?: (err: TenantAuthError, req: Request) => void;
}

/**
 * Error middleware answering `TenantAuthError`s with their status, their headers
 * (`WWW-Authenticate`, `Retry-After`) and a `{ error, error_description }` JSON body, without
 * logging a stack per refused request as Express's default handler does. Any other error is
 * passed on with `next(err)`. Mount it after your routes.
 *
 * @example
 * ```ts
 * app.use(tenantAuthErrorHandler());
 * ```
 */
export function tenantAuthErrorHandler(options: TenantAuthErrorHandlerOptions = {}): ErrorRequestHandler {
  validateOptions(options, { onError: { type: "function" } }, { where: "tenantAuthErrorHandler" });
  const onError = options.onError;
  return function cognitoTenantAuthErrorHandler(err: unknown, req: Request, res: Response, next: NextFunction): void {
    if (!isTenantAuthError(err) || res.headersSent) {
      next(err);
      return;
    }
    if (onError !== undefined) onError(err, req);
    res
      .status(err.status)
      .set({ ...err.headers })
      .json(err.toJSON());
  };
}
