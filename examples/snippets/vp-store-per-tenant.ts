import { createVerifiedPermissionsAuthorizer } from "cognito-tenancy/verified-permissions";

// One policy store per tenant, each with an alias named after the tenant.
export const authorizer = createVerifiedPermissionsAuthorizer({
  policyStoreId: (principal) => `policy-store-alias/tenant-${principal.tenantId ?? "none"}`,
  namespace: "TenancyDemo",
});
