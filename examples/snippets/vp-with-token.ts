import { createTenantAuth, extractToken } from "cognito-tenancy";
import { createVerifiedPermissionsAuthorizer } from "cognito-tenancy/verified-permissions";

// For a store whose Cognito identity source maps groups: the service verifies the token and
// builds the principal itself. Each request must carry the raw JWT as `token`.
const authorizer = createVerifiedPermissionsAuthorizer({
  policyStoreId: "PSEXAMPLEabcdefg111111",
  region: "us-east-1",
  namespace: "TenancyDemo",
  mode: "withToken",
});

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_TestPool", clientId: "app-client", tokenUse: "id" }],
});

export async function canRead(authorization: string, objectId: string) {
  const token = extractToken(authorization); // "Bearer <jwt>" → "<jwt>"
  const principal = await auth.resolveTenant(token);
  const decision = await authorizer.isAuthorized({
    principal,
    token, // sent as identityToken (ID token) or accessToken (access token)
    action: "ReadObject",
    resource: { type: "Object", id: objectId },
  });
  return decision.allowed;
}
