import type { ActionRef, Authorizer, ResourceRef } from "../../core/authorizer.js";
import type { HttpAdapterOptions, OnDecision } from "../../core/adapter-options.js";
import { adapterHeaders, HTTP_ADAPTER_OPTIONS, REQUIREMENT_OPTIONS } from "../../core/adapter-options.js";
import type { HeaderValues } from "../../core/extract-token.js";
import { tenantHintOf } from "../../core/extract-token.js";
import type { OptionsSchema } from "../../core/options.js";
import { renameOptions, renamedTo, validateOptions } from "../../core/options.js";
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
 * How an HTTP event is authenticated, shared by {@link withTenant}, {@link tenantAuthMiddleware} and
 * `createAuthorizerHandler`: the options every HTTP adapter takes ({@link HttpAdapterOptions};
 * a Lambda handler always requires credentials, so `credentialsRequired` is not one of them), the
 * guards, and the policy question, under the names every adapter uses.
 * Guards run after the tenant is resolved, in this order: `groups`, `tenantRoles`, `scopes`, `authorizer`.
 */
export interface EventAuthOptions<E> extends Omit<HttpAdapterOptions<E>, "credentialsRequired"> {
  /**
   * Path parameter naming the tenant (`event.pathParameters[tenantParam]`, REST and HTTP API).
   * When the header is sent too, both must agree, else 400 `invalid_request`. An event whose route
   * has no such parameter (ALB events have none) is refused, 503 `tenant_unavailable`, with the
   * mistake in `cause` for `onError`: never a fallback to the header, as in every adapter.
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
  /** Extra `context` for the policies, or a function of the event and principal. */
  context?: FromEvent<E, Readonly<Record<string, unknown>>>;
  /** Extra entities (Cedar JSON entity format) the policies need, or a function of the event and principal. */
  entities?: FromEvent<E, readonly unknown[]>;
  /** @deprecated Use `context` (the name every adapter gives the policy context). */
  authorizationContext?: FromEvent<E, Readonly<Record<string, unknown>>>;
  /**
   * Called with every ALLOW or DENY the authorizer gives (with its determining policies) before
   * the handler runs or the request is refused, e.g. for an audit log. Must not throw.
   */
  onDecision?: OnDecision<E>;
}

const EVENT_AUTH_OPTIONS: OptionsSchema = {
  ...HTTP_ADAPTER_OPTIONS,
  ...REQUIREMENT_OPTIONS,
  authorizer: { type: "object" },
  action: { type: "any" },
  resource: { type: "any" },
  context: { type: "any" },
  entities: { type: "any" },
  authorizationContext: renamedTo("context"),
  onDecision: { type: "function" },
};

// Options that only mean something with a policy engine: given without one, no policy would be checked.
const NEEDS_AUTHORIZER = ["action", "resource", "context", "entities", "onDecision"] as const;

/**
 * Configuration mistakes throw at creation, not on the first request: unknown keys (with the
 * likely intended one), wrong types, empty requirement lists, `action`/`resource` without
 * `authorizer` and the reverse. `extra` lists the entry point's own options. Returns the options
 * with deprecated names moved to the current ones: build the handler from what it returns.
 */
export function checkEventAuthOptions<O extends EventAuthOptions<never>>(given: O, where: string, extra: OptionsSchema = {}): O {
  const schema = { ...EVENT_AUTH_OPTIONS, ...extra };
  validateOptions(given, schema, { where });
  // Deprecated names are moved to the current ones, so nothing after this reads them.
  const options = renameOptions(given, schema);
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
  return options;
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
          context: options.context,
          entities: options.entities,
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
