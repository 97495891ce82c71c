import { createTenantAuth } from "cognito-tenancy";
import { createTenantCredentials, roleTenantsFrom } from "cognito-tenancy/credentials";
import { createTestIssuer, startCognitoIdentityEmulator } from "cognito-tenancy/testing";
import { afterAll, expect, it } from "vitest";

const roleForTenant = {
  acme: "arn:aws:iam::111122223333:role/tenants/acme-assets-reader",
  globex: "arn:aws:iam::111122223333:role/tenants/globex-assets-reader",
};
const issuer = await createTestIssuer({ userPoolId: "us-east-1_TestPool" });
const identityPoolId = "us-east-1:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const emulator = await startCognitoIdentityEmulator({
  identityPools: [
    {
      identityPoolId,
      providers: [{ userPool: issuer.userPool, clientIds: [issuer.clientId] }],
      // Token-based role mapping: CustomRoleArn when the token's cognito:roles holds it.
      roleMappings: { [`cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool:${issuer.clientId}`]: { Type: "Token", AmbiguousRoleResolution: "Deny" } },
    },
  ],
});
afterAll(() => emulator.close());

// The real @aws-sdk/client-cognito-identity client, pointed at the emulator.
const creds = createTenantCredentials({ identityPool: { identityPoolId, clientConfig: emulator.clientConfig }, roleForTenant });
const auth = createTenantAuth({ userPools: [issuer.userPool], tenants: { from: "groups", roleTenants: roleTenantsFrom(roleForTenant) } });

it("dave, acting for globex, gets globex's role although his preferred role is acme's", async () => {
  const token = await issuer.idToken({
    groups: ["tenant:acme", "tenant:globex"],
    roles: [roleForTenant.acme, roleForTenant.globex],
    preferredRole: roleForTenant.acme,
  });
  const principal = await auth.resolveTenant(token, { tenantHint: "globex" });
  const aws = await creds.forPrincipal(principal);
  // The emulator remembers what each access key was issued for.
  expect(emulator.issued(aws.accessKeyId)?.roleArn).toBe(roleForTenant.globex);
  expect(emulator.calls).toEqual({ GetId: 1, GetCredentialsForIdentity: 1 });
});
