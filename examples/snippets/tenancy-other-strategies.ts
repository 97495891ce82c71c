import { createTenantAuth } from "cognito-tenancy";
import type { UserPoolConfig } from "cognito-tenancy";

const pools: UserPoolConfig[] = [
  { userPoolId: "us-east-1_Acme0001", clientId: null, tokenUse: "access" },
  { userPoolId: "us-east-1_Globex01", clientId: null, tokenUse: "access" },
];

// Attribute-based: a custom attribute (or a claim your pre token generation Lambda adds).
export const byClaim = createTenantAuth({ userPools: pools, tenants: { from: "claim", claim: "custom:tenant_id" } });

// One user pool per tenant.
export const byPool = createTenantAuth({
  userPools: pools,
  tenants: { from: "userPool", tenants: { "us-east-1_Acme0001": "acme", "us-east-1_Globex01": "globex" } },
});

// One app client per tenant.
export const byClient = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_Shared01", clientId: ["acme-web", "globex-web"], tokenUse: "id" }],
  tenants: { from: "appClient", tenants: { "acme-web": "acme", "globex-web": "globex" } },
});

// Anything else: your own lookup. It runs once per token (the result is cached with it);
// if it throws, the request is refused with 503 tenant_unavailable.
const memberships = new Map([["sub-of-alice", [{ tenantId: "acme", roles: ["admin"] }]]]);
export const custom = createTenantAuth({
  userPools: pools,
  tenants: { from: "custom", resolve: async (claims) => memberships.get(String(claims["sub"])) ?? [] },
});
