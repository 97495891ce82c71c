import { createTenantAuth } from "cognito-tenancy";
import { createVerifiedPermissionsAuthorizer } from "cognito-tenancy/verified-permissions";

// For a store whose Cognito identity source maps groups: the service verifies the token and
// builds the principal itself. Created at start-up, before requests are resolved: from then on,
// every principal resolveTenant serves brings its token along.
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
  const principal = await auth.resolveTenant(authorization);
  // Sent as identityToken (ID token) or accessToken (access token), whichever the principal's is.
  const decision = await authorizer.isAuthorized({ principal, action: "ReadObject", resource: { type: "Object", id: objectId } });
  return decision.allowed;
}
