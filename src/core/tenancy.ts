import type { JwtClaims, NormalizedClaims } from "./claims.js";
import { TenantAuthError, isTenantAuthError } from "./errors.js";
import type { OptionsPlace, OptionsSchema } from "./options.js";
import { checkOption, describeValue, validateOptions } from "./options.js";

/** One tenant a user belongs to, and what they are in it. */
export interface TenantMembership {
  /** The tenant's id, exactly as the token names it. */
  readonly tenantId: string;
  /** Roles within the tenant, e.g. `admin` from the group `tenant:acme:admin`. */
  readonly roles: readonly string[];
  /** The groups that made this membership (empty for claim, pool and client strategies). */
  readonly groups: readonly string[];
}

/** What a custom resolver may return for each membership: a tenant id, or a membership. */
export type MembershipInput = string | { tenantId: string; roles?: readonly string[]; groups?: readonly string[] };

/** Settings that decide the active tenant when a user has several memberships. */
export interface TenantSelectionOptions {
  /**
   * Group names, highest priority first. With several memberships and no hint, the membership
   * holding the first listed group wins. Mirror the Precedence you gave the groups in Cognito:
   * tokens do not carry it.
   */
  precedence?: readonly string[];
  /**
   * IAM role ARN → tenant id. With several memberships, the tenant mapped from the token's
   * `cognito:preferred_role` wins (Cognito picks that role by group precedence).
   */
  roleTenants?: Readonly<Record<string, string>>;
}

/** Tenants from group names (the default): `tenant:<id>` or `tenant:<id>:<role>`. */
export interface GroupsTenantStrategy extends TenantSelectionOptions {
  from: "groups";
  /**
   * A group names a tenant when it matches. Named captures: `tenant` (required) and `role`
   * (optional). Default: `/^tenant:(?<tenant>[^:]+)(?::(?<role>[^:]+))?$/u`.
   */
  pattern?: RegExp;
}

/** Tenant from a claim, e.g. `custom:tenant_id` (a string, or an array of strings). */
export interface ClaimTenantStrategy extends TenantSelectionOptions {
  from: "claim";
  /** The claim holding the tenant id(s), e.g. `custom:tenant_id`. */
  claim: string;
}

/** One user pool per tenant: `{ [userPoolId]: tenantId }`. */
export interface UserPoolTenantStrategy {
  from: "userPool";
  /** User pool id → tenant id. A pool not listed gives no tenant. */
  tenants: Readonly<Record<string, string>>;
}

/** One app client per tenant: `{ [clientId]: tenantId }`. */
export interface AppClientTenantStrategy {
  from: "appClient";
  /** App client id (`aud` / `client_id`) → tenant id. A client not listed gives no tenant. */
  tenants: Readonly<Record<string, string>>;
}

/** Your own mapping from verified claims to memberships (may be async; cached with the token). */
export interface CustomTenantStrategy extends TenantSelectionOptions {
  from: "custom";
  /**
   * The caller's memberships from the verified claims. Runs once per token (cached with it); if it
   * throws or returns something else than a list, the request is refused with 503 `tenant_unavailable`.
   */
  resolve(claims: JwtClaims, identity: NormalizedClaims): readonly MembershipInput[] | Promise<readonly MembershipInput[]>;
}

/** How tenants are found in a token. See docs/tenancy.md. */
export type TenantStrategy = GroupsTenantStrategy | ClaimTenantStrategy | UserPoolTenantStrategy | AppClientTenantStrategy | CustomTenantStrategy;

/** The default group pattern: `tenant:<tenantId>` or `tenant:<tenantId>:<role>`. */
export const DEFAULT_GROUP_PATTERN = /^tenant:(?<tenant>[^:]+)(?::(?<role>[^:]+))?$/u;

const EMPTY: readonly never[] = Object.freeze([]);
const MEMO_ENTRIES = 1024;

/** A compiled strategy: finds memberships and picks the active one. */
export interface TenantResolver {
  memberships(identity: NormalizedClaims): readonly TenantMembership[] | Promise<readonly TenantMembership[]>;
  select(memberships: readonly TenantMembership[], identity: NormalizedClaims, tenantHint: string | undefined, requireTenant: boolean): TenantMembership | undefined;
}

function mapOf(record: Readonly<Record<string, string>>, what: string): Map<string, string> {
  if (typeof record !== "object" || record === null) throw new TypeError(`tenants.${what} must be an object`);
  const map = new Map<string, string>();
  for (const [key, value] of Object.entries(record)) {
    if (typeof value !== "string" || value === "") throw new TypeError(`tenants.${what}["${key}"] must be a non-empty string`);
    map.set(key, value);
  }
  return map;
}

class MembershipBuilder {
  private readonly byTenant = new Map<string, { roles: string[]; groups: string[] }>();
  add(tenantId: string, role: string | undefined, group: string | undefined): void {
    let m = this.byTenant.get(tenantId);
    if (!m) {
      m = { roles: [], groups: [] };
      this.byTenant.set(tenantId, m);
    }
    if (role !== undefined && !m.roles.includes(role)) m.roles.push(role);
    if (group !== undefined && !m.groups.includes(group)) m.groups.push(group);
  }
  build(): readonly TenantMembership[] {
    if (this.byTenant.size === 0) return EMPTY;
    const out: TenantMembership[] = [];
    for (const [tenantId, m] of this.byTenant) {
      out.push(Object.freeze({ tenantId, roles: Object.freeze(m.roles), groups: Object.freeze(m.groups) }));
    }
    return Object.freeze(out);
  }
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function single(tenantId: string | undefined): readonly TenantMembership[] {
  if (tenantId === undefined) return EMPTY;
  return Object.freeze([Object.freeze({ tenantId, roles: EMPTY, groups: EMPTY })]);
}

/**
 * A group pattern must capture `tenant` by name: without it no group ever names a tenant, and
 * every user is refused 403 `tenant_missing` at run time instead of a TypeError at setup.
 */
function checkPattern(value: unknown, name: string): void {
  if (!(value instanceof RegExp)) throw new TypeError(`${name} must be a RegExp, got ${describeValue(value)}`);
  // A match of the empty alternative lists every named group of the pattern (undefined values).
  const groups = new RegExp(`(?:${value.source})|`, value.flags.replace(/[gy]/g, "")).exec("")?.groups;
  if (groups === undefined || !Object.hasOwn(groups, "tenant")) {
    throw new TypeError(`${name} must have a named group (?<tenant>...) capturing the tenant id (and optionally (?<role>...))`);
  }
}

const SELECTION_SCHEMA: OptionsSchema = {
  precedence: {
    type: "custom",
    check: (value, name) => {
      if (!Array.isArray(value) || !value.every((p) => typeof p === "string" && p !== "")) {
        throw new TypeError(`${name} must be an array of group names, got ${describeValue(value)}`);
      }
    },
  },
  roleTenants: { type: "object" },
};

const STRATEGY_SCHEMAS: Readonly<Record<TenantStrategy["from"], OptionsSchema>> = {
  groups: { from: { type: "any" }, pattern: { type: "custom", check: checkPattern }, ...SELECTION_SCHEMA },
  claim: { from: { type: "any" }, claim: { type: "string", nonEmpty: true, required: true }, ...SELECTION_SCHEMA },
  userPool: { from: { type: "any" }, tenants: { type: "object", required: true } },
  appClient: { from: { type: "any" }, tenants: { type: "object", required: true } },
  custom: { from: { type: "any" }, resolve: { type: "function", required: true }, ...SELECTION_SCHEMA },
};

/**
 * Check a {@link TenantStrategy} object at setup: `from` names a known strategy, and the object
 * holds only that strategy's keys (an unknown key is a misspelt one whose setting would be ignored).
 */
export function validateTenantStrategy(strategy: unknown, place: OptionsPlace): void {
  const path = place.path ?? "tenants.";
  const label = path.slice(0, -1);
  if (typeof strategy !== "object" || strategy === null || Array.isArray(strategy)) {
    throw new TypeError(`${place.where}: ${label} must be an object such as { from: "groups" }, got ${describeValue(strategy)}`);
  }
  const from = (strategy as { from?: unknown }).from;
  try {
    checkOption(from, `${path}from`, { type: "oneOf", values: Object.keys(STRATEGY_SCHEMAS), required: true });
  } catch (err) {
    throw new TypeError(`${place.where}: ${(err as Error).message}`, { cause: err });
  }
  validateOptions(strategy, STRATEGY_SCHEMAS[from as TenantStrategy["from"]], { where: place.where, path });
}

function compilePattern(pattern: RegExp): RegExp {
  checkPattern(pattern, "tenants.pattern");
  // A global or sticky RegExp keeps lastIndex between calls and would skip matches.
  return pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, "")) : pattern;
}

function membershipsFromInputs(inputs: unknown): readonly TenantMembership[] {
  if (!Array.isArray(inputs)) throw new TypeError("a custom tenant resolver must return an array");
  const builder = new MembershipBuilder();
  for (const input of inputs as unknown[]) {
    if (typeof input === "string" && input !== "") {
      builder.add(input, undefined, undefined);
      continue;
    }
    const m = input as { tenantId?: unknown; roles?: unknown; groups?: unknown } | null;
    if (typeof m !== "object" || m === null || typeof m.tenantId !== "string" || m.tenantId === "") {
      throw new TypeError("a custom tenant resolver returned a membership without a tenantId");
    }
    const roles = (m.roles ?? []) as unknown[];
    const groups = (m.groups ?? []) as unknown[];
    if (!Array.isArray(roles) || !Array.isArray(groups) || ![...roles, ...groups].every((s) => typeof s === "string")) {
      throw new TypeError("a custom tenant resolver returned roles or groups that are not strings");
    }
    builder.add(m.tenantId, undefined, undefined);
    for (const role of roles as string[]) builder.add(m.tenantId, role, undefined);
    for (const group of groups as string[]) builder.add(m.tenantId, undefined, group);
  }
  return builder.build();
}

/**
 * Compile a {@link TenantStrategy} once, at start, into a {@link TenantResolver}.
 * Configuration mistakes throw a `TypeError` here rather than on a request.
 */
export function compileTenantStrategy(strategy: TenantStrategy = { from: "groups" }): TenantResolver {
  validateTenantStrategy(strategy, { where: "compileTenantStrategy", path: "tenants." });
  const selection = compileSelection(strategy as TenantSelectionOptions);
  let memberships: TenantResolver["memberships"];
  switch (strategy.from) {
    case "groups": {
      const pattern = compilePattern(strategy.pattern ?? DEFAULT_GROUP_PATTERN);
      // The memberships depend on the group list only, and users share group lists: remember
      // the frozen result per list (bounded) instead of matching and freezing on every token.
      // A hit compares the lists themselves, so names holding the separator cannot collide.
      const known = new Map<string, { groups: readonly string[]; memberships: readonly TenantMembership[] }>();
      memberships = (identity) => {
        const groups = identity.groups;
        if (groups.length === 0) return EMPTY;
        const key = groups.join("\n");
        const hit = known.get(key);
        if (hit !== undefined && sameStrings(hit.groups, groups)) return hit.memberships;
        const builder = new MembershipBuilder();
        for (const group of groups) {
          const match = pattern.exec(group);
          const tenantId = match?.groups?.["tenant"];
          if (!tenantId) continue;
          builder.add(tenantId, match.groups?.["role"] || undefined, group);
        }
        const found = builder.build();
        if (known.size >= MEMO_ENTRIES) known.clear();
        known.set(key, { groups: [...groups], memberships: found });
        return found;
      };
      break;
    }
    case "claim": {
      const claim = strategy.claim;
      if (typeof claim !== "string" || claim === "") throw new TypeError("tenants.claim must name a claim");
      memberships = (identity) => {
        const value = identity.claims[claim];
        if (value === undefined || value === "") return EMPTY;
        if (typeof value === "string") return single(value);
        if (Array.isArray(value) && value.every((v) => typeof v === "string" && v !== "")) {
          return membershipsFromInputs(value);
        }
        throw new TenantAuthError("token_invalid", `The ${claim} claim must be a string or an array of strings`);
      };
      break;
    }
    case "userPool": {
      const map = mapOf(strategy.tenants, "tenants");
      memberships = (identity) => single(map.get(identity.userPoolId));
      break;
    }
    case "appClient": {
      const map = mapOf(strategy.tenants, "tenants");
      memberships = (identity) => single(identity.clientId === undefined ? undefined : map.get(identity.clientId));
      break;
    }
    case "custom": {
      const resolve = strategy.resolve;
      if (typeof resolve !== "function") throw new TypeError("tenants.resolve must be a function");
      memberships = (identity) => {
        let result: ReturnType<typeof resolve>;
        try {
          result = resolve(identity.claims, identity);
        } catch (err) {
          throw resolverFailed(err);
        }
        if (result && typeof (result as Promise<unknown>).then === "function") {
          return (result as Promise<readonly MembershipInput[]>).then(
            (inputs) => {
              try {
                return membershipsFromInputs(inputs);
              } catch (err) {
                throw resolverFailed(err);
              }
            },
            (err: unknown) => {
              throw resolverFailed(err);
            },
          );
        }
        try {
          return membershipsFromInputs(result);
        } catch (err) {
          throw resolverFailed(err);
        }
      };
      break;
    }
    default:
      throw new TypeError(`Unknown tenant strategy: ${String((strategy as { from?: unknown }).from)}`);
  }
  return { memberships, select: selection };
}

// A custom resolver that throws (its database is down, it has a bug) must not let the request
// through, nor crash it with a 500 that hides the reason: it is a tenant lookup that failed.
function resolverFailed(err: unknown): TenantAuthError {
  if (isTenantAuthError(err)) return err;
  return new TenantAuthError("tenant_unavailable", "The tenant could not be resolved", { cause: err });
}

function compileSelection(options: TenantSelectionOptions): TenantResolver["select"] {
  const precedence = options.precedence ?? [];
  if (!Array.isArray(precedence) || !precedence.every((p) => typeof p === "string")) {
    throw new TypeError("tenants.precedence must be an array of group names");
  }
  const roleTenants = options.roleTenants ? mapOf(options.roleTenants, "roleTenants") : undefined;

  return (memberships, identity, tenantHint, requireTenant) => {
    if (tenantHint !== undefined) {
      for (const m of memberships) if (m.tenantId === tenantHint) return m;
      throw new TenantAuthError("tenant_forbidden", "The requested tenant is not one the caller belongs to");
    }
    if (memberships.length === 1) return memberships[0];
    if (memberships.length === 0) {
      if (!requireTenant) return undefined;
      throw new TenantAuthError("tenant_missing", "The caller belongs to no tenant");
    }
    if (roleTenants && identity.preferredRole) {
      const tenantId = roleTenants.get(identity.preferredRole.arn);
      const m = tenantId === undefined ? undefined : memberships.find((x) => x.tenantId === tenantId);
      if (m) return m;
    }
    for (const group of precedence) {
      const m = memberships.find((x) => x.groups.includes(group));
      if (m) return m;
    }
    if (!requireTenant) return undefined;
    throw new TenantAuthError("tenant_ambiguous", "The caller belongs to several tenants and the request does not say which one it acts for (send a tenant hint, such as the x-tenant-id header)");
  };
}

/** Check a tenant hint as it arrives from a header or route parameter. Empty means "no hint". */
export function normalizeTenantHint(hint: unknown): string | undefined {
  if (hint === undefined || hint === null || hint === "") return undefined;
  if (typeof hint === "string") return hint;
  if (Array.isArray(hint) && hint.length === 1) return normalizeTenantHint(hint[0]);
  throw new TenantAuthError("invalid_request", "The tenant hint must be a single string");
}
