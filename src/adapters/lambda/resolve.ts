import type { ActionRef, Authorizer, Decision, ResourceRef } from "../../core/authorizer.js";
import { adapterHeaders, HTTP_ADAPTER_OPTIONS, REQUIREMENT_OPTIONS } from "../../core/adapter-options.js";
import type { HeaderValues } from "../../core/extract-token.js";
import { readRequest, tenantHintOf } from "../../core/extract-token.js";
import type { OptionsSchema } from "../../core/options.js";
import { validateOptions } from "../../core/options.js";
import type { GroupRequirement } from "../../core/guards.js";
import { assertGroups, assertScopes, assertTenantRoles, authorizeOrThrow, checkRouteRequirements } from "../../core/guards.js";
import type { TenantPrincipal } from "../../core/principal.js";
import type { TenantAuth } from "../../core/tenant-auth.js";
import { headerValues, pathParameter } from "./events.js";

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
  /**
   * Header carrying the token instead of `Authorization`: behind an Application Load Balancer that
   * authenticates with Cognito, `"x-amzn-oidc-accesstoken"` (the access token, raw; `Bearer <token>`
   * is accepted too). Several values, separate or comma-joined, are refused (400 `invalid_request`).
   */
  tokenHeader?: string;
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
  /**
   * Called with every refusal or failure (a 503 with the engine's or key endpoint's failure in
   * `cause`) and the event, before the answer is built: log the cause of 5xx here. What it does or
   * throws does not change the answer.
   */
  onError?: (error: unknown, event: E) => void;
}

const EVENT_AUTH_OPTIONS: OptionsSchema = {
  ...HTTP_ADAPTER_OPTIONS,
  ...REQUIREMENT_OPTIONS,
  authorizer: { type: "object" },
  action: { type: "any" },
  resource: { type: "any" },
  authorizationContext: { type: "any" },
  onDecision: { type: "function" },
};

// Options that only mean something with a policy engine: given without one, no policy would be checked.
const NEEDS_AUTHORIZER = ["action", "resource", "authorizationContext", "onDecision"] as const;

/**
 * Configuration mistakes throw at creation, not on the first request: unknown keys (with the
 * likely intended one), wrong types, empty requirement lists, `action`/`resource` without
 * `authorizer` and the reverse. `extra` lists the entry point's own options.
 */
export function checkEventAuthOptions(options: EventAuthOptions<unknown>, where: string, extra: OptionsSchema = {}): void {
  validateOptions(options, { ...EVENT_AUTH_OPTIONS, ...extra }, { where });
  checkRouteRequirements(options, where);
  adapterHeaders(options, where);
  if (options.authorizer !== undefined) {
    if (typeof options.authorizer.isAuthorized !== "function") throw new TypeError(`${where}: authorizer must implement isAuthorized()`);
    if (options.action === undefined || options.resource === undefined) {
      throw new TypeError(`${where}: an authorizer needs both action and resource`);
    }
  } else {
    const orphan = NEEDS_AUTHORIZER.find((key) => options[key] !== undefined);
    if (orphan !== undefined) {
      throw new TypeError(`${where}: ${orphan} is given without authorizer (the policy engine to ask), so no policy would be checked; add authorizer`);
    }
  }
}

function evaluate<E, T>(value: FromEvent<E, T>, event: E, principal: TenantPrincipal): T {
  return typeof value === "function" ? (value as (event: E, principal: TenantPrincipal) => T)(event, principal) : value;
}

/** A header's values in an event (REST, HTTP API, ALB), for the core's readers. */
export function eventHeaderValues(event: unknown): HeaderValues {
  return (name) => headerValues(event, name);
}

/** The tenant hint of an event (header and/or path parameter), for events whose token was verified before. */
export function eventTenantHint(event: unknown, options: Pick<EventAuthOptions<unknown>, "tenantHeader" | "tenantParam">): string | undefined {
  const { tenantHeader } = adapterHeaders(options, "cognito-tenancy/lambda");
  return tenantHintOf(eventHeaderValues(event), {
    tenantHeader,
    tenantParam: options.tenantParam === undefined ? undefined : pathParameter(event, options.tenantParam),
  });
}

/**
 * The credential and tenant hint of an HTTP event or a REQUEST authorizer event: read by the core
 * from the headers (`tokenHeader` or `Authorization`, `tenantHeader`) and the path parameter.
 */
export function readEvent(
  event: unknown,
  options: Pick<EventAuthOptions<unknown>, "tenantHeader" | "tenantParam" | "tokenHeader">,
  values: HeaderValues = eventHeaderValues(event),
): { credential: string | undefined; tenantHint: string | undefined } {
  const { tokenHeader, tenantHeader } = adapterHeaders(options, "cognito-tenancy/lambda");
  return readRequest(values, {
    tokenHeader,
    tenantHeader,
    tenantParam: options.tenantParam === undefined ? undefined : pathParameter(event, options.tenantParam),
  });
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
  const { credential, tenantHint } = readEvent(event, options);
  const principal = await auth.resolveTenant(credential, { tenantHint });
  runGuards(principal, options);
  await runAuthorizer(event, principal, options);
  return principal;
}
