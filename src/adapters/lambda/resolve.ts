import type { ActionRef, Authorizer, Decision, ResourceRef } from "../../core/authorizer.js";
import { adapterHeaders, HTTP_ADAPTER_OPTIONS, REQUIREMENT_OPTIONS } from "../../core/adapter-options.js";
import type { HeaderValues } from "../../core/extract-token.js";
import { tenantHintOf } from "../../core/extract-token.js";
import type { OptionsSchema } from "../../core/options.js";
import { validateOptions } from "../../core/options.js";
import type { GroupRequirement } from "../../core/guards.js";
import { checkRouteRequirements } from "../../core/guards.js";
import type { AuthorizationSpec, FromInput, RequestAccess, RequestAuth } from "../../core/request-auth.js";
import { NO_ROUTE_PARAMETER, authorizeInput, createRequestAuth, missingTenantParam, runGuards } from "../../core/request-auth.js";
import type { TenantPrincipal } from "../../core/principal.js";
import type { TenantAuth } from "../../core/tenant-auth.js";
import { headerValues, pathParameter } from "./events.js";

/** A value, or a function of the event and the resolved principal that computes it (possibly asynchronously). */
export type FromEvent<E, T> = FromInput<E, T>;

/**
 * How an HTTP event is authenticated, shared by {@link withTenant} and {@link tenantAuthMiddleware}.
 * Guards run after the tenant is resolved, in this order: `groups`, `tenantRoles`, `scopes`, `authorizer`.
 */
export interface EventAuthOptions<E> {
  /** Header naming the tenant the request acts for; default `x-tenant-id`; `false` to read none. */
  tenantHeader?: string | false;
  /**
   * Path parameter naming the tenant (`event.pathParameters[tenantParam]`, REST and HTTP API).
   * When the header is sent too, both must agree, else 400 `invalid_request`. An event whose route
   * has no such parameter (ALB events have none) is refused, 503 `tenant_unavailable`, with the
   * mistake in `cause` for `onError`: never a fallback to the header, as in every adapter.
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

/** A header's values in an event (REST, HTTP API, ALB), for the core's readers. */
export function eventHeaderValues(event: unknown): HeaderValues {
  return (name) => headerValues(event, name);
}

/** The tenant hint of an event (header and/or path parameter), for events whose token was verified before. */
export function eventTenantHint(event: unknown, options: Pick<EventAuthOptions<unknown>, "tenantHeader" | "tenantParam">, where = "cognito-tenancy/lambda"): string | undefined {
  const { tenantHeader } = adapterHeaders(options, where);
  const name = options.tenantParam;
  const param = name === undefined ? undefined : routeParameter(event, name);
  // The rule of every adapter: a tenantParam the route does not have is refused, never read as the header alone.
  if (param === NO_ROUTE_PARAMETER) throw missingTenantParam(where, name as string);
  return tenantHintOf(eventHeaderValues(event), { tenantHeader, tenantParam: param });
}

function routeParameter(event: unknown, name: string): unknown {
  const params = (event as Record<string, unknown> | null)?.["pathParameters"];
  if (typeof params !== "object" || params === null || !Object.prototype.hasOwnProperty.call(params, name)) return NO_ROUTE_PARAMETER;
  return pathParameter(event, name);
}

/** How the request pipeline reads an HTTP event (REST, HTTP API, ALB). */
export const EVENT_ACCESS: RequestAccess<unknown> = { headers: eventHeaderValues, param: routeParameter };

/** The request pipeline of an event handler, and what it asks of the principal, made once at setup. */
export interface EventAuth<E> {
  readonly pipeline: RequestAuth<E>;
  /** Run the guards and the authorizer the options ask for; resolves only when all pass. */
  check(event: E, principal: TenantPrincipal): Promise<void>;
  /** Authenticate an HTTP event: read, resolve, check. Rejects only with a `TenantAuthError`, except for bugs in the option callbacks. */
  resolve(event: E): Promise<TenantPrincipal>;
}

/** Build the pipeline of validated event options; `access` replaces how the event is read (authorizer events). */
export function createEventAuth<E>(auth: TenantAuth, options: EventAuthOptions<E>, where: string, access: RequestAccess<E> = EVENT_ACCESS): EventAuth<E> {
  const pipeline = createRequestAuth<E>(auth, options, access, where);
  const authorizer = options.authorizer;
  const spec: AuthorizationSpec<E> | undefined =
    authorizer === undefined
      ? undefined
      : {
          action: options.action as FromEvent<E, ActionRef>,
          resource: options.resource as FromEvent<E, ResourceRef>,
          context: options.authorizationContext,
        };
  const onDecision = options.onDecision;
  async function check(event: E, principal: TenantPrincipal): Promise<void> {
    runGuards(principal, options);
    if (authorizer !== undefined) await authorizeInput(authorizer, spec as AuthorizationSpec<E>, event, principal, onDecision);
  }
  return {
    pipeline,
    check,
    async resolve(event) {
      const principal = (await pipeline.principal(event)) as TenantPrincipal;
      await check(event, principal);
      return principal;
    },
  };
}
