// The demo's users and requests: the seed's scenario (fixtures/scenario.ts) as test-issuer tokens,
// and one request per row of the printed table, each with the outcome it must have.
import type { TestIssuer, TestTokenOptions } from "cognito-tenancy/testing";
import { SCENARIO } from "../fixtures/scenario.js";

type ScenarioToken = keyof typeof SCENARIO;

/**
 * The users: each tenant's users are in the group `tenant:<id>`, whose preferred IAM role may read
 * only the tenant's bucket. dave is in acme and globex; globex's group has the higher precedence,
 * so Cognito puts globex's role in his cognito:preferred_role. erin is in no tenant.
 */
export const USERS = {
  alice: { id: "alice-acme.id" },
  bob: { id: "bob-globex.id" },
  carol: { id: "carol-initech.id" },
  dave: { id: "dave-acme-globex.id", access: "dave-acme-globex.access" },
  erin: { id: "erin-no-tenant.id" },
} as const satisfies Record<string, { id: ScenarioToken; access?: ScenarioToken }>;

export type UserName = keyof typeof USERS;

/** `id` and `access` are the user's tokens; `expired` and `forged` are their ID token gone bad. */
export type TokenKind = "id" | "access" | "expired" | "forged" | "none";

export interface Case {
  /** What the row shows, in a few words. */
  readonly what: string;
  readonly user?: UserName;
  readonly token: TokenKind;
  /** Sent as `x-tenant-id`. */
  readonly tenantHeader?: string;
  /** `<bucket>/<key>`, requested as `GET /buckets/<bucket>/objects/<key>`. */
  readonly object: `${string}/${string}`;
  /**
   * `reason`: the determining policy (an ALLOW, or a DENY decided by a forbid), `no permit` (a DENY
   * no policy decided), or the error code of a request refused before the policy engine was asked.
   */
  readonly expect: { readonly status: number; readonly reason: string };
}

export const CASES: readonly Case[] = [
  { what: "own bucket", user: "alice", token: "id", object: "acme-assets/roadmap.pdf", expect: { status: 200, reason: "acme-reads-own-bucket" } },
  { what: "own bucket", user: "bob", token: "id", object: "globex-assets/plans.txt", expect: { status: 200, reason: "globex-reads-own-bucket" } },
  { what: "own bucket", user: "carol", token: "id", object: "initech-assets/tps.xlsx", expect: { status: 200, reason: "initech-reads-own-bucket" } },
  { what: "two tenants, header picks acme", user: "dave", token: "id", tenantHeader: "acme", object: "acme-assets/roadmap.pdf", expect: { status: 200, reason: "acme-reads-own-bucket" } },
  { what: "two tenants, header picks globex", user: "dave", token: "id", tenantHeader: "globex", object: "globex-assets/plans.txt", expect: { status: 200, reason: "globex-reads-own-bucket" } },
  { what: "no header: preferred role", user: "dave", token: "id", object: "globex-assets/plans.txt", expect: { status: 200, reason: "globex-reads-own-bucket" } },
  { what: "acting for acme, reads globex", user: "dave", token: "id", tenantHeader: "acme", object: "globex-assets/plans.txt", expect: { status: 403, reason: "active-tenant-only" } },
  { what: "header names a tenant not his", user: "dave", token: "id", tenantHeader: "initech", object: "initech-assets/tps.xlsx", expect: { status: 403, reason: "tenant_forbidden" } },
  { what: "access token: no role to pick", user: "dave", token: "access", object: "acme-assets/roadmap.pdf", expect: { status: 400, reason: "tenant_ambiguous" } },
  { what: "cross-tenant read", user: "alice", token: "id", object: "globex-assets/plans.txt", expect: { status: 403, reason: "active-tenant-only" } },
  { what: "cross-tenant, via the header", user: "alice", token: "id", tenantHeader: "globex", object: "globex-assets/plans.txt", expect: { status: 403, reason: "tenant_forbidden" } },
  { what: "in no tenant", user: "erin", token: "id", object: "acme-assets/roadmap.pdf", expect: { status: 403, reason: "tenant_missing" } },
  { what: "expired token", user: "alice", token: "expired", object: "acme-assets/roadmap.pdf", expect: { status: 401, reason: "token_expired" } },
  { what: "forged token (foreign key)", user: "alice", token: "forged", object: "acme-assets/roadmap.pdf", expect: { status: 401, reason: "token_invalid" } },
  { what: "no token", token: "none", object: "acme-assets/roadmap.pdf", expect: { status: 401, reason: "token_missing" } },
];

function tokenOptions(name: ScenarioToken): TestTokenOptions {
  const spec = SCENARIO[name]!;
  return {
    sub: spec.sub,
    username: spec.username,
    groups: spec.groups,
    ...(spec.roles ? { roles: spec.roles } : {}),
    ...(spec.preferredRole ? { preferredRole: spec.preferredRole } : {}),
    ...(spec.scopes ? { scopes: spec.scopes } : {}),
  };
}

/** The token a case sends, minted now by the test issuer; `undefined` for no token. */
export async function mint(issuer: TestIssuer, c: Case): Promise<string | undefined> {
  if (c.token === "none" || c.user === undefined) return undefined;
  const user: { id: ScenarioToken; access?: ScenarioToken } = USERS[c.user];
  const options = tokenOptions(user.id);
  switch (c.token) {
    case "id":
      return issuer.idToken(options);
    case "access":
      if (user.access === undefined) throw new Error(`demo: ${c.user} has no access token in the scenario`);
      return issuer.accessToken(tokenOptions(user.access));
    case "expired": // issued two hours ago, lived one hour
      return issuer.idToken({ ...options, issuedAt: Math.floor(Date.now() / 1000) - 7200, expiresIn: 3600 });
    case "forged": // the same claims, signed with a key the JWKS does not hold (same kid)
      return issuer.idToken({ ...options, signWith: "foreign" });
  }
}

/** A user's groups and preferred role, for the table of users. */
export function describeUser(name: UserName): { groups: readonly string[]; preferredRole?: string } {
  const spec = SCENARIO[USERS[name].id]!;
  return { groups: spec.groups, ...(spec.preferredRole ? { preferredRole: spec.preferredRole } : {}) };
}
