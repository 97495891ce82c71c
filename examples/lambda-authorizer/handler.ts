// A REST API Lambda authorizer for the seed's scenario: tenants acme, globex and initech, each a
// Cognito group `tenant:<id>` whose IAM role may read only the tenant's bucket.
//
// It verifies the token, resolves the tenant (the x-tenant-id header of a REQUEST authorizer may
// pick one of the caller's tenants; otherwise their only tenant, or the one whose role Cognito put
// in cognito:preferred_role), and answers API Gateway with a policy for the whole stage plus a
// context the backend reads: the tenant, its bucket, and the IAM role to assume for that bucket.
//
// In a deployment, build the resolver from your pool and export the handler:
//   export const handler = createHandler(createTenantAuth({
//     userPools: [{ userPoolId: process.env.USER_POOL_ID!, clientId: process.env.CLIENT_ID!, tokenUse: "id" }],
//     tenants: { from: "groups", roleTenants: ROLE_TENANTS },
//   }));
import type { TenantAuth, TenantPrincipal } from "cognito-tenancy";
import { createAuthorizerHandler } from "cognito-tenancy/lambda";

/** Role ARN → tenant: which tenant each group's IAM role belongs to. */
export const ROLE_TENANTS: Readonly<Record<string, string>> = {
  "arn:aws:iam::111122223333:role/tenants/acme-assets-reader": "acme",
  "arn:aws:iam::111122223333:role/tenants/globex-assets-reader": "globex",
  "arn:aws:iam::111122223333:role/tenants/initech-assets-reader": "initech",
};

/** The caller's IAM role for the active tenant (from cognito:roles), if the token carries one. */
function tenantRoleArn(principal: TenantPrincipal): string | undefined {
  return principal.roles.find((role) => ROLE_TENANTS[role.arn] === principal.tenantId)?.arn;
}

export function createHandler(auth: TenantAuth) {
  return createAuthorizerHandler(auth, {
    response: "iam",
    // Added to the standard context (tenantId, sub, username, groups, ...). Values must be flat,
    // and must depend only on the caller and the tenant: API Gateway caches the answer per token.
    authorizerContext: (_event, principal) => {
      const role = tenantRoleArn(principal);
      return { bucket: `${principal.tenantId}-assets`, ...(role === undefined ? {} : { tenantRoleArn: role }) };
    },
  });
}
