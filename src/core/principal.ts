import type { NormalizedClaims } from "./claims.js";
import { normalizeClaims } from "./claims.js";
import type { TenantMembership, TenantResolver, TenantStrategy } from "./tenancy.js";
import type { OptionsSchema } from "./options.js";
import { validateOptions } from "./options.js";
import { compileTenantStrategy, normalizeTenantHint } from "./tenancy.js";

/**
 * Who is calling and which tenant they act for: the normalized claims plus the tenancy.
 * Frozen plain data: safe to share, log (it holds no token) and `JSON.stringify`.
 */
export interface TenantPrincipal extends NormalizedClaims {
  /** The active tenant; `undefined` only with `requireTenant: false`. */
  readonly tenantId: string | undefined;
  /** The user's roles in the active tenant. */
  readonly tenantRoles: readonly string[];
  /** Every tenant the user belongs to. */
  readonly tenants: readonly TenantMembership[];
}

/**
 * A principal from a resolver that requires a tenant (the default): `tenantId` is always set, so
 * code written against it needs no `!`. `createTenantAuth` returns resolvers typed with it unless
 * `requireTenant` may be `false`.
 */
export type TenantPrincipalWithTenant = TenantPrincipal & { readonly tenantId: string };

const EMPTY: readonly never[] = Object.freeze([]);

/** Assemble the frozen principal. Field order is fixed so every principal shares one shape. */
export function buildPrincipal(identity: NormalizedClaims, tenants: readonly TenantMembership[], active: TenantMembership | undefined): TenantPrincipal {
  return Object.freeze({
    sub: identity.sub,
    username: identity.username,
    userPoolId: identity.userPoolId,
    issuer: identity.issuer,
    clientId: identity.clientId,
    tokenUse: identity.tokenUse,
    groups: Object.isFrozen(identity.groups) ? identity.groups : Object.freeze(identity.groups),
    roles: identity.roles,
    preferredRole: identity.preferredRole,
    scopes: identity.scopes,
    tenantId: active?.tenantId,
    tenantRoles: active?.roles ?? EMPTY,
    tenants,
    claims: identity.claims,
    issuedAt: identity.issuedAt,
    expiresAt: identity.expiresAt,
  });
}

/** Options for {@link principalFromClaims}. */
export interface PrincipalFromClaimsOptions {
  /** How tenants are found; default `{ from: "groups" }`. */
  tenants?: TenantStrategy;
  /** Default `true`: a caller with no (or no selectable) tenant is refused. */
  requireTenant?: boolean;
  /** The tenant the request asks to act for (header or route parameter). */
  tenantHint?: string;
  /** The pool the claims come from; by default the last path segment of `iss`. */
  userPoolId?: string;
}

const resolverCache = new WeakMap<object, TenantResolver>();

// Checked on every call (options are per request here, and cheap to check): `requireTenant: 0`
// or `"no"` must not quietly switch the tenant requirement off, nor a misspelt key be ignored.
const PRINCIPAL_FROM_CLAIMS_SCHEMA: OptionsSchema = {
  tenants: { type: "object" },
  requireTenant: { type: "boolean" },
  tenantHint: { type: "any" },
  userPoolId: { type: "string", nonEmpty: true },
};

/**
 * Build a principal from claims that something else already verified, e.g. the claims an
 * API Gateway Cognito or JWT authorizer hands a Lambda. It runs the same normalizer and the
 * same tenant rules as `resolveTenant`, but checks no signature: never feed it unverified input.
 */
export async function principalFromClaims(claims: Record<string, unknown>, options: PrincipalFromClaimsOptions = {}): Promise<TenantPrincipal> {
  validateOptions(options, PRINCIPAL_FROM_CLAIMS_SCHEMA, { where: "principalFromClaims" });
  const strategy = options.tenants ?? DEFAULT_STRATEGY;
  let resolver = resolverCache.get(strategy);
  if (!resolver) {
    resolver = compileTenantStrategy(strategy);
    resolverCache.set(strategy, resolver);
  }
  const normalizeOptions = options.userPoolId === undefined ? {} : { userPoolId: options.userPoolId };
  const identity = normalizeClaims(claims, normalizeOptions);
  const memberships = await resolver.memberships(identity);
  const active = resolver.select(memberships, identity, normalizeTenantHint(options.tenantHint), options.requireTenant ?? true);
  return buildPrincipal(identity, memberships, active);
}

const DEFAULT_STRATEGY: TenantStrategy = Object.freeze({ from: "groups" }) as TenantStrategy;
