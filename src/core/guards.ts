import type { Authorizer, AuthorizationRequest, Decision } from "./authorizer.js";
import { TenantAuthError, isTenantAuthError } from "./errors.js";
import type { OptionRule } from "./options.js";
import { checkOption } from "./options.js";
import type { TenantPrincipal } from "./principal.js";

/**
 * Groups a route needs: any of a list (the plain form), every one of `{ all }`, any of `{ any }`;
 * an object with both `all` and `any` needs both to hold.
 */
export type GroupRequirement = readonly string[] | { readonly all: readonly string[] } | { readonly any: readonly string[] };

/** What a route can require, as the adapters take it in their options. */
export interface RouteRequirements {
  groups?: GroupRequirement;
  tenantRoles?: readonly string[];
  scopes?: readonly string[];
}

/**
 * Check requirements at setup: an empty list (or one with a non-string or empty name) would
 * require nothing and let every caller through, so it is a configuration mistake (TypeError).
 */
export function checkRouteRequirements(requirements: RouteRequirements, where: string): void {
  const names = (list: unknown, what: string): void => {
    if (!Array.isArray(list) || list.length === 0 || !list.every((n) => typeof n === "string" && n !== "")) {
      throw new TypeError(`${where}: ${what} must be a non-empty list of names (an empty one would let everyone in)`);
    }
  };
  const { groups, tenantRoles, scopes } = requirements;
  if (groups !== undefined) {
    if (Array.isArray(groups)) names(groups, "groups");
    else if (typeof groups === "object" && groups !== null && ("all" in groups || "any" in groups)) {
      const g = groups as { all?: unknown; any?: unknown };
      if (g.all !== undefined) names(g.all, "groups.all");
      if (g.any !== undefined) names(g.any, "groups.any");
    } else throw new TypeError(`${where}: groups must be a list of names, { all: [...] } or { any: [...] }`);
  }
  if (tenantRoles !== undefined) names(tenantRoles, "tenantRoles");
  if (scopes !== undefined) names(scopes, "scopes");
}

// An empty list requires nothing: every caller would pass the guard it was meant to be.
function nothingRequired(what: string): TypeError {
  return new TypeError(`${what} must be a non-empty list of names (an empty one would let everyone in)`);
}

/**
 * Refuse (403 `access_denied`) a principal not in the required groups. A plain list means any
 * of them; `{ all: [...] }` means every one. Names compare exactly, as Cognito stores them.
 * An empty list is a `TypeError`, as in every guard below: it would require nothing.
 */
export function assertGroups(principal: TenantPrincipal, requirement: GroupRequirement): void {
  if (Array.isArray(requirement)) {
    if (requirement.length === 0) throw nothingRequired("assertGroups: groups");
    if (requirement.some((g) => principal.groups.includes(g))) return;
    throw new TenantAuthError("access_denied", "The caller is not in a group this route requires");
  }
  const req = requirement as { all?: readonly string[]; any?: readonly string[] };
  if (req.all === undefined && req.any === undefined) {
    throw new TypeError("a group requirement is a list of names, { all: [...] } or { any: [...] }");
  }
  if (req.all !== undefined && (!Array.isArray(req.all) || req.all.length === 0)) throw nothingRequired("assertGroups: groups.all");
  // Both may be given: then both must hold (never just the first one read).
  if (req.all !== undefined && !req.all.every((g) => principal.groups.includes(g))) {
    throw new TenantAuthError("access_denied", "The caller is not in every group this route requires");
  }
  if (req.any !== undefined) assertGroups(principal, req.any);
}

/** Refuse (403 `access_denied`) a principal with none of these roles in the active tenant. */
export function assertTenantRoles(principal: TenantPrincipal, roles: readonly string[]): void {
  if (!Array.isArray(roles) || roles.length === 0) throw nothingRequired("assertTenantRoles: roles");
  if (principal.tenantId === undefined) throw new TenantAuthError("tenant_missing", "The request acts for no tenant");
  if (roles.some((r) => principal.tenantRoles.includes(r))) return;
  throw new TenantAuthError("access_denied", "The caller does not hold a tenant role this route requires");
}

/** Refuse (403 `insufficient_scope`, RFC 6750 §3.1) a token lacking any of these scopes. */
export function assertScopes(principal: TenantPrincipal, scopes: readonly string[]): void {
  if (!Array.isArray(scopes) || scopes.length === 0) throw nothingRequired("assertScopes: scopes");
  if (scopes.every((s) => principal.scopes.includes(s))) return;
  throw new TenantAuthError("insufficient_scope", "The token lacks a scope this route requires", { scope: scopes });
}

/**
 * When the caller signed in, in epoch seconds: `auth_time` (kept by Cognito across token
 * refreshes, so it dates the sign-in, not the token), else `iat`. A token with neither, or an
 * `auth_time` that is not a number, is refused (401 `token_invalid`): its age cannot be told.
 */
export function signInTimeSeconds(claims: Readonly<Record<string, unknown>>): number {
  const authTime = claims["auth_time"];
  if (typeof authTime === "number" && Number.isFinite(authTime)) return authTime;
  if (authTime !== undefined) throw new TenantAuthError("token_invalid", "The auth_time claim must be a number");
  const iat = claims["iat"];
  if (typeof iat === "number" && Number.isFinite(iat)) return iat;
  throw new TenantAuthError("token_invalid", "The token has no auth_time or iat claim to tell its age");
}

/** The error of a sign-in older than allowed; shared by createTenantAuth and {@link assertTokenAge}. */
export function tokenTooOld(): TenantAuthError {
  return new TenantAuthError("token_expired", "The sign-in is older than this API accepts: sign in again");
}

/**
 * Refuse (401 `token_expired`) a principal whose sign-in (`auth_time`, else `iat`) is
 * `maxAgeSeconds` old or older: for routes that need a recent sign-in (change a password, pay).
 * A refreshed token keeps its `auth_time`, so refreshing does not help: the user signs in again.
 * No clock tolerance is applied. A `maxAgeSeconds` that is not a number from 1 to 315360000
 * (3650 days) is a TypeError: check it at setup, where you build the route's options.
 *
 * @example
 * ```ts
 * assertTokenAge(principal, 300); // signed in within the last five minutes
 * ```
 */
export function assertTokenAge(principal: TenantPrincipal, maxAgeSeconds: number): void {
  checkOption(maxAgeSeconds, "assertTokenAge: maxAgeSeconds", REQUIRED_TOKEN_AGE_RULE);
  if (!(Date.now() < (signInTimeSeconds(principal.claims) + maxAgeSeconds) * 1000)) throw tokenTooOld();
}

/** The rule of every `maxTokenAgeSeconds` / `maxAgeSeconds`: 1 s to 3650 days, Cognito's longest refresh-token validity. */
export const TOKEN_AGE_RULE: OptionRule = { type: "number", min: 1, max: 3650 * 86_400 };
const REQUIRED_TOKEN_AGE_RULE: OptionRule = { ...TOKEN_AGE_RULE, required: true };

/**
 * Called with every answer a policy engine gives (ALLOW or DENY, with the determining policies),
 * before the request is let through or refused: the place for an audit log. Not called when the
 * engine could not answer. It must not throw; if it does, the error goes to the caller as is.
 */
export type DecisionListener = (decision: Decision, request: AuthorizationRequest) => void;

/**
 * Ask an {@link Authorizer} and refuse unless it answers ALLOW: a DENY is 403 `access_denied`;
 * an engine that throws or answers nonsense is 503 `authorizer_unavailable`. Never an allow by default.
 */
export async function authorizeOrThrow(authorizer: Authorizer, request: AuthorizationRequest, onDecision?: DecisionListener): Promise<Decision> {
  let decision: Decision;
  try {
    decision = await authorizer.isAuthorized(request);
  } catch (err) {
    if (isTenantAuthError(err)) throw err;
    throw new TenantAuthError("authorizer_unavailable", "The policy engine could not be reached", { cause: err });
  }
  if (onDecision !== undefined && (decision?.decision === "ALLOW" || decision?.decision === "DENY")) onDecision(decision, request);
  if (decision?.allowed === true && decision.decision === "ALLOW") return decision;
  throw new TenantAuthError("access_denied", "The policy does not allow this request");
}
