// The seed scenario shared by the authorizer tests: tenants acme, globex and initech in one pool,
// each tenant's users in its group, each tenant with its own bucket.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { AuthorizationRequest, ResourceRef, TenantAuth, TenantPrincipal } from "../../src/index.js";
import { createTenantAuth } from "../../src/index.js";
import type { TestIssuer } from "../../src/testing/index.js";
import { createTestIssuer } from "../../src/testing/index.js";

const dir = resolve(import.meta.dirname, "../../fixtures/policies");
export const POLICIES = readFileSync(resolve(dir, "tenancy-demo.cedar"), "utf8");
export const SCHEMA = readFileSync(resolve(dir, "tenancy-demo.cedarschema"), "utf8");
export const SCHEMA_JSON = JSON.parse(readFileSync(resolve(dir, "tenancy-demo.cedarschema.json"), "utf8")) as Record<string, unknown>;
export const NAMESPACE = "TenancyDemo";
export const TENANTS = ["acme", "globex", "initech"] as const;
export const bucketOf = (tenant: string): string => `${tenant}-assets`;

export function object(tenant: string, key = "report.pdf"): ResourceRef {
  return {
    type: "Object",
    id: `${bucketOf(tenant)}/${key}`,
    parents: [
      { type: "Bucket", id: bucketOf(tenant) },
      { type: "Tenant", id: tenant },
    ],
  };
}

export function bucket(tenant: string): ResourceRef {
  return { type: "Bucket", id: bucketOf(tenant), parents: [{ type: "Tenant", id: tenant }] };
}

export interface Caller {
  readonly name: string;
  readonly principal: TenantPrincipal;
  readonly token: string;
}

export interface Scenario {
  readonly issuer: TestIssuer;
  readonly auth: TenantAuth;
  caller(name: string, groups: readonly string[], options?: { tenantHint?: string; tokenUse?: "id" | "access"; claims?: Record<string, unknown> }): Promise<Caller>;
}

export async function scenario(): Promise<Scenario> {
  const issuer = await createTestIssuer();
  const auth = createTenantAuth({ userPools: [issuer.userPool], requireTenant: false });
  return {
    issuer,
    auth,
    async caller(name, groups, o = {}) {
      const mint = o.tokenUse === "access" ? issuer.accessToken : issuer.idToken;
      const token = await mint({ sub: `sub-${name}`, username: name, groups, claims: { email: `${name}@example.com`, ...o.claims } });
      const principal = await auth.resolveTenant(token, o.tenantHint ? { tenantHint: o.tenantHint } : {});
      return { name, principal, token };
    },
  };
}

/** Every (caller, action, resource) of the seed: own bucket, the other tenants' buckets. */
export function matrix(callers: readonly Caller[]): { label: string; request: AuthorizationRequest }[] {
  const out: { label: string; request: AuthorizationRequest }[] = [];
  for (const c of callers) {
    for (const t of TENANTS) {
      out.push({ label: `${c.name} ReadObject ${t}`, request: { principal: c.principal, action: "ReadObject", resource: object(t), token: c.token } });
      out.push({ label: `${c.name} ListBucket ${t}`, request: { principal: c.principal, action: "ListBucket", resource: bucket(t), token: c.token } });
      out.push({ label: `${c.name} WriteObject ${t}`, request: { principal: c.principal, action: "WriteObject", resource: object(t), token: c.token } });
    }
  }
  return out;
}
