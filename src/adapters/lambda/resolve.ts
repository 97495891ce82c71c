import type { ActionRef, Authorizer, Decision, ResourceRef } from "../../core/authorizer.js";
import { TenantAuthError } from "../../core/errors.js";
import { extractToken } from "../../core/extract-token.js";
import type { GroupRequirement } from "../../core/guards.js";
import { assertGroups, assertScopes, assertTenantRoles, authorizeOrThrow, checkRouteRequirements } from "../../core/guards.js";
import type { TenantPrincipal } from "../../core/principal.js";
import type { TenantAuth } from "../../core/tenant-auth.js";
import { normalizeTenantHint } from "../../core/tenancy.js";
import { headerValue, pathParameter } from "./events.js";

/** A value, or a function of the event and the resolved principal that computes it. */
export type FromEvent<E, T> = T | ((event: E, principal: TenantPrincipal) => T);

/**
 * How an HTTP event is authenticated, shared by {@link withTenant} and {@link tenantAuthMiddleware}.
 * Guards run after the tenant is resolved, in this order: `groups`, `tenantRoles`, `scopes`, `authorizer`.
 */
export interface EventAuthOptions<E> {
  /** Header naming the tenant the request acts for; default `x-tenant-id`; `false` to read none. */
  tenantHeader?: string | false;
  /**
   * Path parameter naming the tenant (`event.pathParameters[tenantParam]`, REST and HTTP API).
   * When the header is sent too, both must agree, else 400 `invalid_request`.
   */
  tenantParam?: string;
  /** Groups the caller must be in (any of a list, or `{ all: [...] }`); else 403 `access_denied`. */
  groups?: GroupRequirement;
  /** Roles the caller must hold in the active tenant (any of); else 403 `access_denied`. */
  tenantRoles?: readonly string[];
  /** Scopes the token must carry (all of); else 403 `insufficient_scope`. */
  scopes?: readonly string[];
  /**
   * A policy engine to ask (Verified Permissions, local Cedar, ...). Needs `action` and `resource`.
   * A DENY is 403 `access_denied`; an engine that fails is 503 `authorizer_unavailable`.
   */
  authorizer?: Authorizer;
  /** The action to authorize, or a function of the event and principal. Required with `authorizer`. */
  action?: FromEvent<E, ActionRef>;
  /** The resource to authorize, or a function of the event and principal. Required with `authorizer`. */
  resource?: FromEvent<E, ResourceRef>;
  /** Extra `context` for the policies. */
  authorizationContext?: FromEvent<E, Readonly<Record<string, unknown>>>;
  /**
   * Called with every ALLOW or DENY the authorizer gives (with its determining policies) before
   * the handler runs or the request is refused, e.g. for an audit log. Must not throw.
   */
  onDecision?: (decision: Decision, event: E) => void;
}

/** Configuration mistakes throw at creation, not on the first request. */
export function checkEventAuthOptions(options: EventAuthOptions<unknown>, where: string): void {
  if (typeof options !== "object" || options === null) throw new TypeError(`${where}: options must be an object`);
  checkRouteRequirements(options, where);
  if (options.tenantHeader !== undefined && options.tenantHeader !== false && (typeof options.tenantHeader !== "string" || options.tenantHeader === "")) {
    throw new TypeError(`${where}: tenantHeader must be a header name or false`);
  }
  if (options.authorizer !== undefined) {
    if (typeof options.authorizer?.isAuthorized !== "function") throw new TypeError(`${where}: authorizer must implement isAuthorized()`);
    if (options.action === undefined || options.resource === undefined) {
      throw new TypeError(`${where}: an authorizer needs both action and resource`);
    }
  }
}

function evaluate<E, T>(value: FromEvent<E, T>, event: E, principal: TenantPrincipal): T {
  return typeof value === "function" ? (value as (event: E, principal: TenantPrincipal) => T)(event, principal) : value;
}

/** The tenant hint of an HTTP event: path parameter and/or header, normalized by the core. */
export function tenantHintOf(event: unknown, options: Pick<EventAuthOptions<unknown>, "tenantHeader" | "tenantParam">): string | undefined {
  const headerName = options.tenantHeader === undefined ? "x-tenant-id" : options.tenantHeader;
  const fromHeader = headerName === false ? undefined : normalizeTenantHint(headerValue(event, headerName));
  const fromParam = options.tenantParam === undefined ? undefined : normalizeTenantHint(pathParameter(event, options.tenantParam));
  if (fromHeader !== undefined && fromParam !== undefined && fromHeader !== fromParam) {
    throw new TenantAuthError("invalid_request", "The tenant in the path and the tenant header differ");
  }
  return fromParam ?? fromHeader;
}

/** Run the route-independent guards (groups, tenant roles, scopes) the options ask for. */
export function runGuards(principal: TenantPrincipal, options: Pick<EventAuthOptions<unknown>, "groups" | "tenantRoles" | "scopes">): void {
  if (options.groups !== undefined) assertGroups(principal, options.groups);
  if (options.tenantRoles !== undefined) assertTenantRoles(principal, options.tenantRoles);
  if (options.scopes !== undefined) assertScopes(principal, options.scopes);
}

/** Ask the options' authorizer, if any; resolves only on ALLOW. */
export async function runAuthorizer<E>(event: E, principal: TenantPrincipal, options: EventAuthOptions<E>): Promise<void> {
  if (options.authorizer === undefined) return;
  const context = options.authorizationContext === undefined ? undefined : evaluate(options.authorizationContext, event, principal);
  const onDecision = options.onDecision;
  await authorizeOrThrow(
    options.authorizer,
    {
      principal,
      action: evaluate(options.action as FromEvent<E, ActionRef>, event, principal),
      resource: evaluate(options.resource as FromEvent<E, ResourceRef>, event, principal),
      ...(context === undefined ? {} : { context }),
    },
    onDecision === undefined ? undefined : (decision) => onDecision(decision, event),
  );
}

/**
 * Authenticate an HTTP event (REST, HTTP API, ALB): read the Authorization header and the tenant
 * hint, resolve the principal with the core, then run the guards and the authorizer.
 * Rejects only with a `TenantAuthError`, except for bugs in the option callbacks.
 */
export async function resolveHttpEvent<E>(auth: TenantAuth, event: E, options: EventAuthOptions<E>): Promise<TenantPrincipal> {
  // Credentials first, so a request with no token is a 401 even when its tenant header is bad.
  const token = extractToken(headerValue(event, "authorization"));
  const tenantHint = tenantHintOf(event, options);
  const principal = await auth.resolveTenant(token, { tenantHint });
  runGuards(principal, options);
  await runAuthorizer(event, principal, options);
  return principal;
}
