/**
 * The Fastify adapter (Fastify 4 and 5): one plugin that authenticates every request in an
 * `onRequest` hook, before the body is parsed, and sets a typed `request.tenant`.
 *
 * ```ts
 * await app.register(tenantAuthPlugin, { auth });
 * app.get("/me", async (request) => ({ tenant: request.tenant!.tenantId }));
 * app.get("/health", { config: { tenantAuth: false } }, async () => "ok");
 * ```
 *
 * It only translates: token extraction, verification, tenant resolution, the guards and the error
 * model are the core's. Fastify is an optional peer dependency and is imported for types only.
 * @packageDocumentation
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import type { Authorizer } from "../core/authorizer.js";
import { TenantAuthError } from "../core/errors.js";
import type { GroupRequirement } from "../core/guards.js";
import { checkRouteRequirements } from "../core/guards.js";
import type { TenantPrincipal } from "../core/principal.js";
import type { TenantAuth } from "../core/tenant-auth.js";
import type { AuthorizeSettings, HttpAdapterOptions, OnDecision } from "../core/adapter-options.js";
import { AUTHORIZE_SETTINGS, HTTP_ADAPTER_OPTIONS, REQUIREMENT_OPTIONS, reportError } from "../core/adapter-options.js";
import { nodeHeaderValues } from "../core/extract-token.js";
import type { RequestAccess } from "../core/request-auth.js";
import { authorizeInput, checkTenantAuth, createRequestAuth, runGuards } from "../core/request-auth.js";
import type { OptionsSchema } from "../core/options.js";
import { validateOptions } from "../core/options.js";

/**
 * Options of {@link tenantAuthPlugin}: the options every HTTP adapter takes ({@link HttpAdapterOptions}:
 * `tenantHeader`, `tenantParam`, `credentialsRequired`, `tokenHeader`, `onError`), and the resolver
 * and policy engine of the scope.
 */
export interface TenantAuthPluginOptions extends HttpAdapterOptions<FastifyRequest> {
  /** The resolver made once at start with `createTenantAuth(...)`. */
  auth: TenantAuth;
  /**
   * The policy engine routes with `config.tenantAuth.authorize` ask (`cognito-tenancy/cedar`,
   * `cognito-tenancy/verified-permissions`, or any {@link Authorizer}). A route that asks for
   * authorization when the plugin has none is refused at registration with a `TypeError`.
   */
  authorizer?: Authorizer;
  /**
   * Called with every ALLOW or DENY the authorizer gives a route (with its determining policies)
   * before the request goes on or is refused, e.g. for an audit log. Must not throw.
   */
  onDecision?: OnDecision<FastifyRequest>;
  /**
   * Route parameter naming the tenant (e.g. `"tenantId"` for `/tenants/:tenantId/...`). On routes
   * that declare it, its value is the tenant hint. When the header names another tenant, the
   * request is refused (400 `invalid_request`) rather than guessing which one was meant.
   */
  tenantParam?: string;
}

/**
 * What a route's `authorize` setting asks the plugin's {@link Authorizer}: `action`, `resource`,
 * `context`, `entities`, each a value or a function `(request, principal) => T | Promise<T>`. It
 * runs in a `preHandler` hook, so a function may read `request.params`, `request.query`, the
 * headers and the parsed and validated `request.body`.
 */
export type TenantRouteAuthorization = AuthorizeSettings<FastifyRequest>;

/**
 * Per-route settings, in `config.tenantAuth`. Every check given must pass; they run in this order.
 *
 * ```ts
 * app.delete("/docs/:id", { config: { tenantAuth: { tenantRoles: ["admin"] } } }, handler);
 * ```
 */
export interface TenantRouteOptions {
  /** Groups the caller must be in: any of a list, or `{ all: [...] }` (403 `access_denied`). */
  groups?: GroupRequirement;
  /** Roles the caller must hold in the active tenant: any of them (403 `access_denied`). */
  tenantRoles?: readonly string[];
  /** Scopes the access token must carry: all of them (403 `insufficient_scope`). */
  scopes?: readonly string[];
  /** Ask the plugin's authorizer; a DENY is 403 `access_denied`, an engine failure 503. */
  authorize?: TenantRouteAuthorization;
}

declare module "fastify" {
  interface FastifyRequest {
    /**
     * The caller, set by `cognito-tenancy/fastify` before the body is parsed. `undefined` (no
     * principal, as in every adapter) on public routes (`config: { tenantAuth: false }`), for
     * anonymous requests with `credentialsRequired: false`, and in scopes the plugin does not cover.
     */
    tenant: TenantPrincipal | undefined;
  }
  interface FastifyContextConfig {
    /** `cognito-tenancy/fastify` settings for this route: `false` makes it public. */
    tenantAuth?: false | TenantRouteOptions;
  }
}

/** The name the plugin registers under (Fastify's `plugin-meta`), for other plugins' `dependencies`. */
export const TENANT_AUTH_PLUGIN_NAME = "cognito-tenancy";

type RouteSetting = false | TenantRouteOptions | undefined;

// Route config across Fastify versions: `routeOptions.config` (5.x and 4.x since 4.10), then the
// deprecated `routeConfig`, then `context.config` (the oldest 4.x). Only the first is read on a
// current Fastify, so no deprecation warning is ever triggered there.
function routeSetting(request: FastifyRequest): RouteSetting {
  const r = request as unknown as {
    routeOptions?: { config?: { tenantAuth?: RouteSetting } };
    routeConfig?: { tenantAuth?: RouteSetting };
    context?: { config?: { tenantAuth?: RouteSetting } };
  };
  const config = r.routeOptions !== undefined ? r.routeOptions.config : (r.routeConfig ?? r.context?.config);
  return config?.tenantAuth;
}

// Fastify's own `register` options reach the plugin with ours.
const PLUGIN_OPTIONS: OptionsSchema = {
  ...HTTP_ADAPTER_OPTIONS,
  credentialsRequired: { type: "boolean" },
  auth: { type: "any" },
  authorizer: { type: "object" },
  onDecision: { type: "function" },
  prefix: { type: "any" },
  logLevel: { type: "any" },
  logSerializers: { type: "any" },
};

const ROUTE_OPTIONS: OptionsSchema = { ...REQUIREMENT_OPTIONS, authorize: { type: "object" } };

function checkRouteSetting(setting: unknown, route: string, authorizer: Authorizer | undefined): void {
  if (setting === undefined || setting === false) return;
  const where = `config.tenantAuth of ${route}`;
  if (typeof setting !== "object" || setting === null || Array.isArray(setting)) {
    throw new TypeError(`${where} must be false or an object`);
  }
  validateOptions(setting, ROUTE_OPTIONS, { where });
  const s = setting as TenantRouteOptions;
  checkRouteRequirements(s, where);
  if (s.authorize !== undefined) {
    validateOptions(s.authorize, AUTHORIZE_SETTINGS, { where, path: "authorize." });
    if (authorizer === undefined) throw new TypeError(`${where} asks for authorize but tenantAuthPlugin was given no authorizer`);
  }
}

// A plugin covers a whole scope, so its `tenantParam` is read on the routes that declare it (the
// routes are known at registration); the others take the hint from the header alone.
const FASTIFY_ACCESS: RequestAccess<FastifyRequest> = {
  headers: (request) => nodeHeaderValues(request.raw, request.headers),
  param: (request, name) => {
    const params = request.params as Record<string, unknown> | undefined;
    return params !== null && typeof params === "object" ? params[name] : undefined;
  },
};

function noToken(): TenantAuthError {
  return new TenantAuthError("token_missing", "No bearer token was sent");
}

const plugin: FastifyPluginAsync<TenantAuthPluginOptions> = async function cognitoTenancy(fastify: FastifyInstance, options: TenantAuthPluginOptions): Promise<void> {
  validateOptions(options, PLUGIN_OPTIONS, { where: "tenantAuthPlugin (Fastify)" });
  checkTenantAuth(options.auth, "tenantAuthPlugin (Fastify)");
  const authorizer = options.authorizer;
  if (authorizer !== undefined && typeof authorizer.isAuthorized !== "function") {
    throw new TypeError("tenantAuthPlugin (Fastify): authorizer must implement isAuthorized()");
  }
  const pipeline = createRequestAuth(options.auth, options, FASTIFY_ACCESS, "tenantAuthPlugin (Fastify)");

  // No principal is `undefined` in every adapter.
  fastify.decorateRequest("tenant", undefined);

  // Misconfigured routes fail at start, not on the first request.
  fastify.addHook("onRoute", (route: RouteOptions) => {
    const config = route.config as { tenantAuth?: unknown } | undefined;
    checkRouteSetting(config?.tenantAuth, `${String(route.method)} ${route.url}`, authorizer);
  });

  // onRequest: routing is done (params and route config are known) but the body is not read yet,
  // so a request without valid credentials costs no body parsing at all.
  const onError = options.onError;
  // Both hooks report what they throw to onError, then let Fastify answer as usual.
  const observed =
    (hook: (request: FastifyRequest) => Promise<void>) =>
    async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
      try {
        await hook(request);
      } catch (err) {
        reportError(onError, err, request);
        throw err;
      }
    };

  fastify.addHook(
    "onRequest",
    observed(async (request) => {
      const setting = routeSetting(request);
      if (setting === false) return;
      const principal = await pipeline.principal(request);
      if (principal === undefined) {
        // Anonymous (credentialsRequired: false): a guard without a principal refuses, never allows.
        if (setting?.groups !== undefined || setting?.tenantRoles !== undefined || setting?.scopes !== undefined) throw noToken();
        return;
      }
      request.tenant = principal;
      if (setting === undefined || setting === null) return;
      runGuards(principal, setting);
    }),
  );

  // preHandler: the policy question may need the parsed, validated body to name its resource.
  // Registered even without an authorizer, so that a route asking for one fails closed.
  fastify.addHook(
    "preHandler",
    observed(async (request) => {
      const setting = routeSetting(request);
      if (setting === false || setting === undefined || setting === null || setting.authorize === undefined) return;
      const principal = request.tenant;
      if (principal === undefined || principal === null) throw noToken();
      if (authorizer === undefined) {
        throw new TenantAuthError("authorizer_unavailable", "The route asks for authorization but no authorizer is configured");
      }
      await authorizeInput(authorizer, setting.authorize, request, principal, options.onDecision);
    }),
  );
};

// What the `fastify-plugin` package does, without depending on it (the only runtime dependency
// is aws-jwt-verify). Fastify (lib/plugin-utils.js, 4.x lib/pluginUtils.js) and avvio read these:
// - `skip-override`: do not encapsulate, so the decorator and hooks apply to the scope that
//   registers the plugin (and its children), not to a private child scope where they do nothing;
// - `fastify.display-name`: the name in errors and `printPlugins()`;
// - `plugin-meta`: the name (checkable by other plugins' `dependencies`) and the Fastify versions
//   supported, which Fastify checks with semver at registration.
const meta = plugin as unknown as Record<symbol, unknown>;
meta[Symbol.for("skip-override")] = true;
meta[Symbol.for("fastify.display-name")] = TENANT_AUTH_PLUGIN_NAME;
meta[Symbol.for("plugin-meta")] = { name: TENANT_AUTH_PLUGIN_NAME, fastify: "4.x || 5.x" };

/**
 * The Fastify plugin (Fastify 4 and 5). Register it once; it applies to the scope that registers
 * it and every child scope (it is not encapsulated, like any `fastify-plugin`-wrapped plugin).
 *
 * - Every route in that scope is authenticated in `onRequest`, before the body is parsed:
 *   `request.tenant` is the resolved {@link TenantPrincipal}. `config: { tenantAuth: false }`
 *   makes a route public (`request.tenant` stays `undefined`).
 * - The tenant hint comes from the `x-tenant-id` header (`tenantHeader`), or from the route
 *   parameter named by `tenantParam`.
 * - `config: { tenantAuth: { groups, tenantRoles, scopes, authorize } }` adds checks to a route
 *   ({@link TenantRouteOptions}); `authorize` runs in `preHandler` with the plugin's `authorizer`.
 * - Refusals are thrown {@link TenantAuthError}s: Fastify's default error handler answers with
 *   their status, their `WWW-Authenticate` header and its usual body
 *   `{ statusCode, code, error, message }`. A custom error handler receives them too: send
 *   `error.headers` with `reply.headers(error.headers)` there.
 * - Unknown routes: Fastify runs `onRequest` hooks for its 404 handler too, so in the scope the
 *   plugin covers, an anonymous request for an unknown URL gets 401, not 404 (it does not learn
 *   which routes exist). Register the plugin inside a child scope to keep 404s public.
 *
 * @example
 * ```ts
 * const auth = createTenantAuth({ userPools: [{ userPoolId, clientId: "app-client", tokenUse: "id" }] });
 * await app.register(tenantAuthPlugin, { auth });
 * app.get("/me", async (request) => request.tenant);
 * ```
 */
export const tenantAuthPlugin: FastifyPluginAsync<TenantAuthPluginOptions> = plugin;

export type { TenantPrincipal } from "../core/principal.js";
