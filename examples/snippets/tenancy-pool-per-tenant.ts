import { createTenantAuth } from "cognito-tenancy";
import type { UserPoolConfig } from "cognito-tenancy";

// Your tenants table (DynamoDB, Postgres, ...): one row per tenant, keyed by the pool's issuer.
interface TenantRow {
  tenantId: string;
  userPoolId: string;
  appClientIds: string[];
}
declare function getTenantByIssuer(issuer: string, signal: AbortSignal): Promise<TenantRow | undefined>;

// Filled by the resolver from the same row, so the tenant strategy needs no second lookup.
const tenantOfPool = new Map<string, string>();

export const auth = createTenantAuth({
  userPools: [], // every pool comes from the table
  // Called with the token's UNVERIFIED iss, and only when it is a Cognito issuer. Nothing from the
  // token is trusted here: it is a key to look up, and the keys are fetched from the returned config.
  resolveUserPool: async (issuer): Promise<UserPoolConfig | undefined> => {
    const row = await getTenantByIssuer(issuer, AbortSignal.timeout(2000));
    if (row === undefined) return undefined; // not one of ours: 401, remembered for negativeTtlMs
    tenantOfPool.set(row.userPoolId, row.tenantId);
    return { userPoolId: row.userPoolId, clientId: row.appClientIds, tokenUse: "access" };
  },
  userPoolCache: { maxEntries: 1000, ttlMs: 15 * 60_000, negativeTtlMs: 60_000 },
  resolveUserPoolTimeoutMs: 3000,
  tenants: {
    from: "custom",
    resolve: (_claims, identity) => {
      const tenantId = tenantOfPool.get(identity.userPoolId);
      return tenantId === undefined ? [] : [tenantId];
    },
  },
});
