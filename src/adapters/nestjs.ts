/**
 * The NestJS adapter (NestJS 11, on `@nestjs/platform-express` and `@nestjs/platform-fastify`):
 * `cognito-tenancy/nestjs`.
 *
 * A thin translation between Nest and the core, like the Express and Fastify adapters:
 * {@link TenantAuthGuard} reads the request through the shared pipeline (`createRequestAuth`), runs
 * the core's guards for the route's {@link RequireGroups} / {@link RequireTenantRoles} /
 * {@link RequireScopes} and asks the module's authorizer for {@link Authorize}. Every refusal is a
 * thrown `TenantAuthError`, answered by {@link TenantAuthExceptionFilter} (registered by the module)
 * with the same status, `WWW-Authenticate` and `{ error, error_description }` body as the Express
 * adapter's error handler, never Nest's default 403 or 500.
 *
 * Written without decorator syntax (Nest's decorators are applied as functions), so it needs no
 * compiler flag; an app uses the decorators as usual.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [TenantAuthModule.forRoot({ auth, authorizer })],
 *   providers: [{ provide: APP_GUARD, useClass: TenantAuthGuard }],
 * })
 * class AppModule {}
 *
 * @Controller("projects")
 * class ProjectsController {
 *   @Delete(":id")
 *   @RequireTenantRoles("admin")
 *   remove(@Tenant() tenant: TenantPrincipal) { ... }
 * }
 * ```
 * @packageDocumentation
 */
import type { ArgumentsHost, CanActivate, DynamicModule, ExceptionFilter, ExecutionContext, ModuleMetadata, OnModuleInit, Provider } from "@nestjs/common";
import { Catch, Inject, Injectable, Logger, Module, SetMetadata, createParamDecorator } from "@nestjs/common";
import { APP_FILTER, DiscoveryModule, DiscoveryService, HttpAdapterHost, Reflector } from "@nestjs/core";
import type { ActionRef, Authorizer, Decision, ResourceRef } from "../core/authorizer.js";
import { AUTHORIZE_SETTINGS, HTTP_ADAPTER_OPTIONS, reportError } from "../core/adapter-options.js";
import { TenantAuthError } from "../core/errors.js";
import { nodeHeaderValues } from "../core/extract-token.js";
import type { NodeMessageHeaders } from "../core/extract-token.js";
import type { GroupRequirement, RouteRequirements } from "../core/guards.js";
import type { TenantPrincipal } from "../core/principal.js";
import type { AllGroups as CoreAllGroups, AnyGroups as CoreAnyGroups, AuthorizationSpec, RequestAccess, RequestAuth } from "../core/request-auth.js";
import { authorizeInput, checkTenantAuth, createRequestAuth, groupRequirementOf, listRequirement, runGuards } from "../core/request-auth.js";
import type { TenantAuth } from "../core/tenant-auth.js";
import type { OptionsSchema } from "../core/options.js";
import { validateOptions } from "../core/options.js";

export type { TenantPrincipal } from "../core/principal.js";

/**
 * The request as the guard and your {@link Authorize} functions see it: Express's `Request` on
 * `@nestjs/platform-express`, Fastify's `FastifyRequest` on `@nestjs/platform-fastify`. Both have
 * these members; annotate with your platform's type for the rest.
 */
export interface TenantRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Route parameters by name (`/documents/:id` gives `params.id`). */
  readonly params: Readonly<Record<string, string>>;
  readonly query: unknown;
  /** The parsed body (guards run after the platform parsed it). */
  readonly body: unknown;
  /** Set by {@link TenantAuthGuard}; `undefined` for an anonymous request with `credentialsRequired: false`. */
  tenant?: TenantPrincipal | undefined;
}

/** Options of {@link TenantAuthModule.forRoot}: the Express adapter's options, with the resolver and the policy engine. */
export interface TenantAuthModuleOptions {
  /** The resolver made once at start with `createTenantAuth(...)`. */
  auth: TenantAuth;
  /**
   * The policy engine {@link Authorize} asks (`cognito-tenancy/cedar`,
   * `cognito-tenancy/verified-permissions`, or any {@link Authorizer}). A controller with
   * `@Authorize` when the module has none stops the app at start (a `TypeError` naming the route).
   */
  authorizer?: Authorizer;
  /** Request header naming the tenant the caller acts for (case-insensitive). Default `"x-tenant-id"`; `false` reads none. */
  tenantHeader?: string | false;
  /**
   * Route parameter naming the tenant (`"tenantId"` for `/tenants/:tenantId/...`). The module's
   * options cover every route, so it is read on the routes that declare the parameter; the others
   * take the hint from the header alone (as the Fastify plugin does). When the header and the
   * parameter name different tenants: 400 `invalid_request`.
   */
  tenantParam?: string;
  /**
   * Default `true`: a request without a bearer token is refused (401 `token_missing`). `false`
   * lets it through anonymously with `@Tenant()` undefined; a token that is sent is still verified,
   * and a route with a `@Require...` or `@Authorize` still refuses an anonymous caller (401).
   */
  credentialsRequired?: boolean;
  /**
   * Header carrying the token instead of `Authorization`, e.g. `"x-amzn-oidc-accesstoken"` behind an
   * Application Load Balancer (a raw token there; `Bearer <token>` is accepted too).
   */
  tokenHeader?: string;
  /** Called with every ALLOW or DENY an `@Authorize` route gets, before it runs or is refused (an audit log). Must not throw. */
  onDecision?: (decision: Decision, request: TenantRequest) => void;
  /**
   * Called with every error the guard throws (a refusal, or a 503 with its `cause`) and the
   * request, before the answer is written: log the cause of 5xx here (the filter also logs 5xx
   * through Nest's `Logger`). What it does or throws does not change the answer.
   */
  onError?: (error: unknown, request: TenantRequest) => void;
}

/** Options of {@link TenantAuthModule.forRootAsync}: options from Nest's injector (a `ConfigService`, say). */
export interface TenantAuthModuleAsyncOptions {
  /** Modules whose providers `useFactory` needs. */
  imports?: ModuleMetadata["imports"];
  /** Tokens injected into `useFactory`, in order. */
  inject?: unknown[];
  /** Builds the options; they are checked as `forRoot`'s are, when the app starts. */
  useFactory: (...args: never[]) => TenantAuthModuleOptions | Promise<TenantAuthModuleOptions>;
}

const WHERE = "TenantAuthModule (NestJS)";

const MODULE_OPTIONS: OptionsSchema = {
  ...HTTP_ADAPTER_OPTIONS,
  credentialsRequired: { type: "boolean" },
  auth: { type: "any", required: true },
  authorizer: { type: "object" },
  onDecision: { type: "function" },
};

/** The injection token of the module's validated options (for your own providers; the guard needs no other). */
export const TENANT_AUTH_OPTIONS: unique symbol = Symbol("cognito-tenancy.nestjs.options");
// The pipeline built once from the options, shared by every guard instance.
const TENANT_AUTH_SETUP = Symbol("cognito-tenancy.nestjs.setup");

interface Setup {
  readonly options: TenantAuthModuleOptions;
  readonly pipeline: RequestAuth<TenantRequest>;
}

// The platform's request is Express's (an IncomingMessage itself) or Fastify's (the message in `raw`).
const NEST_ACCESS: RequestAccess<TenantRequest> = {
  headers: (request) => {
    const raw = (request as { raw?: NodeMessageHeaders }).raw ?? (request as unknown as NodeMessageHeaders);
    return nodeHeaderValues(raw, request.headers);
  },
  // The module's tenantParam covers every route: a route without the parameter gives no hint.
  param: (request, name) => {
    const params = request.params as Record<string, unknown> | undefined;
    return params !== null && typeof params === "object" && Object.prototype.hasOwnProperty.call(params, name) ? params[name] : undefined;
  },
};

function setup(options: TenantAuthModuleOptions): Setup {
  if (typeof options !== "object" || options === null) throw new TypeError(`${WHERE}: options must be an object with auth`);
  validateOptions(options, MODULE_OPTIONS, { where: WHERE });
  checkTenantAuth(options.auth, WHERE);
  if (options.authorizer !== undefined && typeof options.authorizer.isAuthorized !== "function") {
    throw new TypeError(`${WHERE}: authorizer must implement isAuthorized()`);
  }
  return { options, pipeline: createRequestAuth(options.auth, options, NEST_ACCESS, WHERE) };
}

// Route metadata keys. Symbols: no other library's metadata can collide with them.
const SKIP = Symbol("cognito-tenancy.nestjs.skip");
const GROUPS = Symbol("cognito-tenancy.nestjs.groups");
const TENANT_ROLES = Symbol("cognito-tenancy.nestjs.tenantRoles");
const SCOPES = Symbol("cognito-tenancy.nestjs.scopes");
const AUTHORIZE = Symbol("cognito-tenancy.nestjs.authorize");

// Requests the guard has handled, so `@Tenant()` can tell "anonymous by choice" from "no guard ran".
const seen = new WeakSet<object>();

function noToken(): TenantAuthError {
  return new TenantAuthError("token_missing", "No bearer token was sent");
}

/**
 * The guard: verifies the bearer token, resolves the tenant (`@Tenant()`), then runs the route's
 * and its controller's `@Require...` checks and `@Authorize` questions (all must pass: a
 * controller's requirement and a route's both apply). Use it globally
 * (`{ provide: APP_GUARD, useClass: TenantAuthGuard }`) or per controller or route
 * (`@UseGuards(TenantAuthGuard)`); {@link SkipTenantAuth} exempts a route of a global guard.
 * HTTP only: in another context (WebSocket, microservice) it refuses with a `TypeError`.
 */
export class TenantAuthGuard implements CanActivate {
  private readonly reflector = new Reflector();

  constructor(private readonly setup: Setup) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== "http") throw new TypeError("TenantAuthGuard guards HTTP routes only");
    const { skip, checks } = this.routeChecks(context.getClass(), context.getHandler());
    if (skip) return true;
    const request = context.switchToHttp().getRequest<TenantRequest>();
    const { options, pipeline } = this.setup;
    try {
      request.tenant = undefined;
      seen.add(request);
      const principal = await pipeline.principal(request);
      if (principal === undefined) {
        // Anonymous (credentialsRequired: false): a check without a principal refuses, never allows.
        if (checks.some((c) => c.requirements !== undefined || c.authorize !== undefined)) throw noToken();
        return true;
      }
      request.tenant = principal;
      for (const c of checks) if (c.requirements !== undefined) runGuards(principal, c.requirements);
      for (const c of checks) {
        if (c.authorize === undefined) continue;
        if (options.authorizer === undefined) {
          throw new TenantAuthError("authorizer_unavailable", "The route asks for authorization but no authorizer is configured");
        }
        await authorizeInput(options.authorizer, c.authorize, request, principal, options.onDecision);
      }
      return true;
    } catch (err) {
      reportError(options.onError, err, request);
      throw err;
    }
  }

  // Route metadata never changes once the app runs: read it once per controller and handler.
  private readonly routes = new WeakMap<object, WeakMap<object, { skip: boolean; checks: ReturnType<TenantAuthGuard["requirements"]>[] }>>();

  private routeChecks(controller: object, handler: object): { skip: boolean; checks: ReturnType<TenantAuthGuard["requirements"]>[] } {
    let byHandler = this.routes.get(controller);
    if (byHandler === undefined) this.routes.set(controller, (byHandler = new WeakMap()));
    let route = byHandler.get(handler);
    if (route === undefined) {
      const targets = [controller, handler];
      const checks = targets.map((t) => this.requirements(t));
      // @SkipTenantAuth never silences a check: a skipped controller's route that asks for roles,
      // groups, scopes or a decision is still authenticated and checked.
      const asks = checks.some((c) => c.requirements !== undefined || c.authorize !== undefined);
      route = { skip: !asks && targets.some((t) => this.reflector.get(SKIP, t as never) === true), checks };
      byHandler.set(handler, route);
    }
    return route;
  }

  private requirements(target: object): { requirements?: RouteRequirements; authorize?: AuthorizationSpec<TenantRequest> } {
    const groups = this.reflector.get<GroupRequirement | undefined>(GROUPS, target as never);
    const tenantRoles = this.reflector.get<readonly string[] | undefined>(TENANT_ROLES, target as never);
    const scopes = this.reflector.get<readonly string[] | undefined>(SCOPES, target as never);
    const authorize = this.reflector.get<AuthorizationSpec<TenantRequest> | undefined>(AUTHORIZE, target as never);
    const any = groups !== undefined || tenantRoles !== undefined || scopes !== undefined;
    return {
      ...(any ? { requirements: { ...(groups && { groups }), ...(tenantRoles && { tenantRoles }), ...(scopes && { scopes }) } } : {}),
      ...(authorize !== undefined ? { authorize } : {}),
    };
  }
}
Injectable()(TenantAuthGuard);
Inject(TENANT_AUTH_SETUP)(TenantAuthGuard, undefined as never, 0);

/**
 * Answers every `TenantAuthError` with its status, its headers (`WWW-Authenticate`, `Retry-After`)
 * and a `{ error, error_description }` JSON body, on either platform; a 5xx is also logged with its
 * cause through Nest's `Logger`. {@link TenantAuthModule} registers it globally (`APP_FILTER`);
 * other errors go to your filters or Nest's.
 */
export class TenantAuthExceptionFilter implements ExceptionFilter<TenantAuthError> {
  private readonly logger = new Logger("TenantAuth");

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: TenantAuthError, host: ArgumentsHost): void {
    const http = this.adapterHost.httpAdapter;
    if (host.getType() !== "http" || http === undefined) throw error;
    const response = host.switchToHttp().getResponse<unknown>();
    if (error.status >= 500) this.logger.error(`${error.code}: ${error.message}`, error.cause instanceof Error ? error.cause.stack : String(error.cause));
    for (const [name, value] of Object.entries(error.headers)) http.setHeader(response, name, value);
    http.reply(response, error.toJSON(), error.status);
  }
}
Catch(TenantAuthError)(TenantAuthExceptionFilter);
Inject(HttpAdapterHost)(TenantAuthExceptionFilter, undefined as never, 0);

const EXPORTS = [TENANT_AUTH_OPTIONS, TENANT_AUTH_SETUP, TenantAuthGuard];

/**
 * The module: import it once, in the root module. It is global, so {@link TenantAuthGuard} can be
 * used from every module; it registers {@link TenantAuthExceptionFilter} globally. When the app
 * starts, a controller with `@Authorize` while the module has no `authorizer` is a `TypeError`
 * naming the route (a check without its engine is a mistake, not a route to leave open).
 */
export class TenantAuthModule implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly setup: Setup,
  ) {}

  /** @internal Nest's lifecycle hook: the `@Authorize`-without-authorizer check. */
  onModuleInit(): void {
    if (this.setup.options.authorizer !== undefined) return;
    const reflector = new Reflector();
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | null | undefined;
      if (typeof controller !== "function") continue;
      const name = controller.name;
      if (reflector.get(AUTHORIZE, controller) !== undefined) throw noAuthorizer(name);
      for (const key of Object.getOwnPropertyNames(controller.prototype)) {
        const method = Object.getOwnPropertyDescriptor(controller.prototype, key)?.value as unknown;
        if (key !== "constructor" && typeof method === "function" && reflector.get(AUTHORIZE, method) !== undefined) throw noAuthorizer(`${name}.${key}`);
      }
    }
  }
  /**
   * The module with these options, checked now: an unknown key, a wrong type, or `tenantHeader`
   * and `tokenHeader` naming one header is a `TypeError` naming the option.
   *
   * @example
   * ```ts
   * imports: [TenantAuthModule.forRoot({ auth: createTenantAuth({ userPools: [pool] }), authorizer })]
   * ```
   */
  static forRoot(options: TenantAuthModuleOptions): DynamicModule {
    const built = setup(options);
    return module([
      { provide: TENANT_AUTH_SETUP, useValue: built },
      { provide: TENANT_AUTH_OPTIONS, useValue: options },
    ]);
  }

  /**
   * The module with options made by Nest's injector; they are checked as `forRoot`'s are, when the
   * app starts (a mistake stops `NestFactory.create`).
   *
   * @example
   * ```ts
   * TenantAuthModule.forRootAsync({
   *   imports: [ConfigModule],
   *   inject: [ConfigService],
   *   useFactory: (config: ConfigService) => ({ auth: createTenantAuth({ userPools: [config.get("pool")] }) }),
   * })
   * ```
   */
  static forRootAsync(options: TenantAuthModuleAsyncOptions): DynamicModule {
    if (typeof options !== "object" || options === null) throw new TypeError(`${WHERE}.forRootAsync: options must be an object with useFactory`);
    validateOptions(options, { imports: { type: "array" }, inject: { type: "array" }, useFactory: { type: "function", required: true } }, { where: `${WHERE}.forRootAsync` });
    const factory = options.useFactory as (...args: unknown[]) => TenantAuthModuleOptions | Promise<TenantAuthModuleOptions>;
    return {
      ...module([
        { provide: TENANT_AUTH_OPTIONS, useFactory: factory, inject: (options.inject ?? []) as never[] },
        { provide: TENANT_AUTH_SETUP, useFactory: (resolved: TenantAuthModuleOptions) => setup(resolved), inject: [TENANT_AUTH_OPTIONS] },
      ]),
      imports: [DiscoveryModule, ...(options.imports ?? [])],
    };
  }
}
Module({})(TenantAuthModule);
Inject(DiscoveryService)(TenantAuthModule, undefined as never, 0);
Inject(TENANT_AUTH_SETUP)(TenantAuthModule, undefined as never, 1);

function noAuthorizer(route: string): TypeError {
  return new TypeError(`${WHERE}: ${route} has @Authorize but the module was given no authorizer`);
}

function module(providers: Provider[]): DynamicModule {
  return {
    module: TenantAuthModule,
    global: true,
    imports: [DiscoveryModule],
    providers: [...providers, TenantAuthGuard, { provide: APP_FILTER, useClass: TenantAuthExceptionFilter }],
    exports: EXPORTS,
  };
}

/**
 * The principal the guard resolved, as a handler parameter: `remove(@Tenant() tenant: TenantPrincipal)`.
 * With a property name, that property: `@Tenant("tenantId") tenantId: string`. `undefined` for an
 * anonymous request (`credentialsRequired: false`); on a route the guard did not run for, 401
 * `token_missing` (never a handler without its caller).
 */
export const Tenant: (property?: keyof TenantPrincipal) => ParameterDecorator = createParamDecorator((property: keyof TenantPrincipal | undefined, context: ExecutionContext): unknown => {
  const request = context.switchToHttp().getRequest<TenantRequest>();
  if (!seen.has(request)) {
    throw new TenantAuthError("token_missing", "The request was not authenticated: guard this route with TenantAuthGuard");
  }
  const principal = request.tenant;
  return property === undefined || principal === undefined ? principal : principal[property];
});

/** Exempt a route (or a whole controller) from a global {@link TenantAuthGuard}: a health check, a login callback. */
export function SkipTenantAuth(): MethodDecorator & ClassDecorator {
  return SetMetadata(SKIP, true);
}

/** The `{ all: [...] }` form of {@link RequireGroups}: the caller must be in every group. */
export type AllGroups = CoreAllGroups;

/** The `{ any: [...] }` form of {@link RequireGroups}: the caller must be in at least one group. */
export type AnyGroups = CoreAnyGroups;

/**
 * Refuse (403 `access_denied`) a caller in none of these Cognito groups; `{ all: [...] }` requires
 * every one. Names compare exactly. On a route or a controller; an empty list is a `TypeError` at startup.
 *
 * @example
 * ```ts
 * @Get("reports") @RequireGroups("analysts", "admins") reports() { ... }
 * ```
 */
export function RequireGroups(...groups: string[]): MethodDecorator & ClassDecorator;
export function RequireGroups(requirement: AllGroups | AnyGroups): MethodDecorator & ClassDecorator;
export function RequireGroups(...args: (string | AllGroups | AnyGroups)[]): MethodDecorator & ClassDecorator {
  return SetMetadata(GROUPS, groupRequirementOf(args, "@RequireGroups"));
}

/**
 * Refuse (403 `access_denied`) a caller holding none of these roles in the active tenant (the
 * `<role>` of `tenant:<id>:<role>` groups), and (403 `tenant_missing`) a request acting for no tenant.
 *
 * @example
 * ```ts
 * @Delete(":id") @RequireTenantRoles("admin", "owner") remove() { ... }
 * ```
 */
export function RequireTenantRoles(...roles: string[]): MethodDecorator & ClassDecorator {
  return SetMetadata(TENANT_ROLES, listRequirement("tenantRoles", roles, "@RequireTenantRoles").tenantRoles);
}

/**
 * Refuse (403 `insufficient_scope`, with `scope="..."` in the challenge) a token lacking any of these
 * OAuth scopes (access tokens carry them). Every scope listed is required.
 *
 * @example
 * ```ts
 * @Get("orders") @RequireScopes("orders/read") list() { ... }
 * ```
 */
export function RequireScopes(...scopes: string[]): MethodDecorator & ClassDecorator {
  return SetMetadata(SCOPES, listRequirement("scopes", scopes, "@RequireScopes").scopes);
}

/** A value given as is, or computed from the request and the principal (possibly asynchronously). */
export type FromRequest<T> = T | ((request: TenantRequest, principal: TenantPrincipal) => T | Promise<T>);

/** Options of {@link Authorize}: the Express adapter's `authorize` options besides `action` and `resource`. */
export interface AuthorizeOptions {
  /** Extra `context` for the policies, plain JSON values. */
  context?: FromRequest<Readonly<Record<string, unknown>>>;
  /** Extra entities (Cedar JSON entity format) the policies need. */
  entities?: FromRequest<readonly unknown[]>;
}

const AUTHORIZE_OPTIONS: OptionsSchema = { context: AUTHORIZE_SETTINGS["context"]!, entities: AUTHORIZE_SETTINGS["entities"]! };

/**
 * Ask the module's authorizer whether the caller may do `action` on `resource`. A DENY is 403
 * `access_denied`; an engine that fails is 503 `authorizer_unavailable`: never an allow. An error
 * thrown by your own `resource`, `action` or `context` function reaches Nest's filters unchanged.
 *
 * @example
 * ```ts
 * @Get(":id")
 * @Authorize("ReadDocument", (request) => ({ type: "Document", id: request.params.id }))
 * read() { ... }
 * ```
 */
export function Authorize(action: FromRequest<ActionRef>, resource: FromRequest<ResourceRef>, options: AuthorizeOptions = {}): MethodDecorator & ClassDecorator {
  // action and resource are arguments here, not options: the shared rules check them one by one.
  const where = { where: "@Authorize (NestJS)" };
  validateOptions({ action, resource }, { action: AUTHORIZE_SETTINGS["action"]!, resource: AUTHORIZE_SETTINGS["resource"]! }, where);
  validateOptions(options, AUTHORIZE_OPTIONS, where);
  const spec: AuthorizationSpec<TenantRequest> = {
    action,
    resource,
    ...(options.context !== undefined ? { context: options.context } : {}),
    ...(options.entities !== undefined ? { entities: options.entities } : {}),
  };
  return SetMetadata(AUTHORIZE, Object.freeze(spec));
}
