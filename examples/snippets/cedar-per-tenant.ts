import { createCedarAuthorizer } from "cognito-tenancy/cedar";

const storeOfTenant: Record<string, string> = { acme: "PSacmeEXAMPLE111111111", globex: "PSglobexEXAMPLE1111111" };

export const perTenant = createCedarAuthorizer({
  namespace: "TenancyDemo",
  // Each tenant's own store, synced on its first request; at most maxPolicySets at once.
  policyStore: { policyStoreId: (principal) => storeOfTenant[principal.tenantId ?? ""] ?? "", region: "us-east-1" },
  maxPolicySets: 50,
});
