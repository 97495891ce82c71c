/**
 * The one request pipeline every HTTP adapter runs (Express, Fastify, the Lambda handlers): read
 * the credential and the tenant hint, resolve the principal, run the guards, ask the authorizer.
 * Written once here, framework-free; an adapter supplies only how to read its request (header
 * values, a route parameter) and how to answer, so the adapters cannot drift apart.
 */
import type { ActionRef, AuthorizationRequest, Authorizer, Decision, ResourceRef } from "./authorizer.js";
import { adapterHeaders } from "./adapter-options.js";
import { TenantAuthError, isTenantAuthError } from "./errors.js";
import type { HeaderValues } from "./extract-token.js";
import { extractToken, readRequest } from "./extract-token.js";
import type { GroupRequirement, RouteRequirements } from "./guards.js";
import { assertGroups, assertScopes, assertTenantRoles, authorizeOrThrow, checkRouteRequirements } from "./guards.js";
import type { TenantPrincipal } from "./principal.js";
import type { TenantAuth } from "./tenant-auth.js";

/**
 * What a route-parameter accessor returns when the request's route declares no parameter of that
 * name (as opposed to `undefined`, a declared parameter without a value).
 */
export const NO_ROUTE_PARAMETER: unique symbol = Symbol("cognito-tenancy.noRouteParameter");

/** How an adapter reads its framework's request `I`. Plain functions, made once at setup. */
export interface RequestAccess<I> {
  /** The request's header values (see {@link HeaderValues}). */
  readonly headers: (input: I) => HeaderValues;
  /** The value of route parameter `name`, or {@link NO_ROUTE_PARAMETER} when the route has none by that name. */
  readonly param: (input: I, name: string) => unknown;
}

/** The validated options (see `HTTP_ADAPTER_OPTIONS`) the pipeline reads. */
export interface RequestAuthOptions {
  readonly tenantHeader?: string | false | undefined;
  readonly tenantParam?: string | undefined;
  readonly tokenHeader?: string | undefined;
  /** Default `true`; `false` lets a request without a bearer token through anonymously. */
  readonly credentialsRequired?: boolean | undefined;
}

/** What {@link createRequestAuth} gives an adapter. */
export interface RequestAuth<I> {
  /** The credential and tenant hint of a request, in the core's order (credential errors first). */
  read(input: I): { credential: string | undefined; tenantHint: string | undefined };
  /**
   * The principal of a request; `undefined` only with `credentialsRequired: false` and no bearer
   * token (a token that is sent is verified all the same). Rejects with a `TenantAuthError`.
   */
  principal(input: I): Promise<TenantPrincipal | undefined>;
}

/**
 * The refusal for a `tenantParam` that names no parameter of the request's route: a configuration
 * mistake Express can only see per request (a middleware does not know the path it is mounted on).
 * Fail closed, typed: 503 `tenant_unavailable` (the tenant the URL should name cannot be read), with
 * the mistake, naming the option, in `cause` for the `onError` hook. Never a fallback to the header.
 */
export function missingTenantParam(where: string, name: string): TenantAuthError {
  return new TenantAuthError("tenant_unavailable", "The tenant could not be resolved", {
    cause: new TypeError(`${where}: tenantParam "${name}" names no parameter of this route; mount it where the route declares :${name}`),
  });
}

/**
 * Build an adapter's request pipeline from its validated options.
 *
 * @param where - the adapter's name, for configuration errors (`"tenantAuth (Express)"`).
 * @throws TypeError - at setup, when `tenantHeader` and `tokenHeader` name one header.
 */
export function createRequestAuth<I>(auth: TenantAuth, options: RequestAuthOptions, access: RequestAccess<I>, where: string): RequestAuth<I> {
  const { tokenHeader, tenantHeader } = adapterHeaders(options, where);
  const tenantParam = options.tenantParam;
  const credentialsRequired = options.credentialsRequired ?? true;
  const sources = { tokenHeader, tenantHeader, tenantParam: undefined as unknown };

  function read(input: I): { credential: string | undefined; tenantHint: string | undefined } {
    const values = access.headers(input);
    let param: unknown;
    if (tenantParam !== undefined) {
      param = access.param(input, tenantParam);
      if (param === NO_ROUTE_PARAMETER) {
        // Credential errors come first, as everywhere else: no token is a 401, not a 503.
        extractToken(readRequest(values, { tokenHeader, tenantHeader: undefined }).credential);
        throw missingTenantParam(where, tenantParam);
      }
    }
    return readRequest(values, tenantParam === undefined ? sources : { tokenHeader, tenantHeader, tenantParam: param });
  }

  async function principal(input: I): Promise<TenantPrincipal | undefined> {
    if (credentialsRequired) {
      const { credential, tenantHint } = read(input);
      return auth.resolveTenant(credential, { tenantHint });
    }
    let request: { credential: string | undefined; tenantHint: string | undefined };
    try {
      request = read(input);
    } catch (err) {
      // Optional credentials: without a token the request passes anonymously and its tenant hint
      // is moot; several credential values are refused all the same.
      if (isTenantAuthError(err) && err.code === "token_missing") return undefined;
      throw err;
    }
    if (hasNoBearerToken(request.credential)) return undefined;
    return auth.resolveTenant(request.credential, { tenantHint: request.tenantHint });
  }

  return { read, principal };
}

function hasNoBearerToken(credential: string | undefined): boolean {
  try {
    extractToken(credential);
    return false;
  } catch (err) {
    return isTenantAuthError(err) && err.code === "token_missing";
  }
}

/** The `{ all: [...] }` form of a `requireGroups` guard: the caller must be in every group. */
export interface AllGroups {
  readonly all: readonly string[];
}

/** The `{ any: [...] }` form of a `requireGroups` guard: the caller must be in at least one group. */
export interface AnyGroups {
  readonly any: readonly string[];
}

// A copy, so a list the app changes later does not change the route's requirement.
function frozenList(list: unknown): readonly string[] {
  return Array.isArray(list) ? Object.freeze([...(list as string[])]) : (list as readonly string[]);
}

/**
 * The requirement of a `requireGroups(...)` guard in any adapter: names (any of them), or one
 * `{ all }` / `{ any }` object (both given: both must hold). Checked by `checkRouteRequirements`.
 *
 * @throws TypeError - at setup, for an empty or malformed list, naming `where`.
 */
export function groupRequirementOf(args: readonly (string | AllGroups | AnyGroups)[], where: string): GroupRequirement {
  const first = args[0];
  let groups: GroupRequirement;
  if (args.length === 1 && typeof first === "object" && first !== null) {
    const { all, any } = first as { all?: unknown; any?: unknown };
    if (all !== undefined && any !== undefined) groups = { all: frozenList(all), any: frozenList(any) } as unknown as GroupRequirement;
    else if (all !== undefined) groups = { all: frozenList(all) };
    else if (any !== undefined) groups = frozenList(any);
    else groups = first as GroupRequirement;
  } else {
    groups = frozenList(args);
  }
  checkRouteRequirements({ groups }, where);
  return groups;
}

/** The requirement of a `requireTenantRoles(...)` or `requireScopes(...)` guard, copied and checked. */
export function listRequirement(key: "tenantRoles" | "scopes", list: readonly string[], where: string): RouteRequirements {
  const requirements = { [key]: frozenList(list) };
  checkRouteRequirements(requirements, where);
  return requirements;
}

/** Run the caller-only guards a requirements object asks for, in this order: `groups`, `tenantRoles`, `scopes`. */
export function runGuards(principal: TenantPrincipal, requirements: RouteRequirements): void {
  if (requirements.groups !== undefined) assertGroups(principal, requirements.groups);
  if (requirements.tenantRoles !== undefined) assertTenantRoles(principal, requirements.tenantRoles);
  if (requirements.scopes !== undefined) assertScopes(principal, requirements.scopes);
}

/** An option given as a value, or computed from the request and the principal (possibly asynchronously). */
export type FromInput<I, T> = T | ((input: I, principal: TenantPrincipal) => T | Promise<T>);

/** What to ask an {@link Authorizer} about a request. */
export interface AuthorizationSpec<I> {
  readonly action: FromInput<I, ActionRef>;
  readonly resource: FromInput<I, ResourceRef>;
  readonly context?: FromInput<I, Readonly<Record<string, unknown>>> | undefined;
  readonly entities?: FromInput<I, readonly unknown[]> | undefined;
}

/** The value of a value-or-function option. */
export function evaluateOption<I, T>(option: FromInput<I, T>, input: I, principal: TenantPrincipal): T | Promise<T> {
  return typeof option === "function" ? (option as (input: I, principal: TenantPrincipal) => T | Promise<T>)(input, principal) : option;
}

/**
 * Ask `authorizer` whether `principal` may do what `spec` describes; resolves only on ALLOW (DENY:
 * 403 `access_denied`; an engine failure: 503 `authorizer_unavailable`). `onDecision` hears every
 * ALLOW and DENY with the request `input`. An error thrown by the app's own option functions
 * propagates unchanged.
 */
export async function authorizeInput<I>(
  authorizer: Authorizer,
  spec: AuthorizationSpec<I>,
  input: I,
  principal: TenantPrincipal,
  onDecision?: ((decision: Decision, input: I) => void) | undefined,
): Promise<Decision> {
  const request: AuthorizationRequest = {
    principal,
    action: await evaluateOption(spec.action, input, principal),
    resource: await evaluateOption(spec.resource, input, principal),
    ...(spec.context === undefined ? {} : { context: await evaluateOption(spec.context, input, principal) }),
    ...(spec.entities === undefined ? {} : { entities: await evaluateOption(spec.entities, input, principal) }),
  };
  return authorizeOrThrow(authorizer, request, onDecision === undefined ? undefined : (decision) => onDecision(decision, input));
}

/**
 * The `auth` argument every adapter takes: the object `createTenantAuth()` returns, else a
 * `TypeError` at setup naming the adapter.
 */
export function checkTenantAuth(auth: unknown, where: string): asserts auth is TenantAuth {
  if (typeof auth !== "object" || auth === null || typeof (auth as { resolveTenant?: unknown }).resolveTenant !== "function") {
    throw new TypeError(`${where}: auth must be the object createTenantAuth() returns`);
  }
}
