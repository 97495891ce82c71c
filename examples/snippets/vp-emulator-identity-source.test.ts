import { IsAuthorizedWithTokenCommand, VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import { createTestIssuer, startVerifiedPermissionsEmulator } from "cognito-tenancy/testing";
import { afterAll, expect, it } from "vitest";

const issuer = await createTestIssuer({ userPoolId: "us-east-1_TestPool" });
const emulator = await startVerifiedPermissionsEmulator({
  policies: 'permit (principal in AWS::CognitoGroup::"us-east-1_TestPool|admins", action, resource);',
  userPools: [issuer.userPool], // the keys its tokens are verified with
  identitySource: {
    userPoolArn: "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_TestPool",
    clientIds: [issuer.clientId], // [] accepts any app client
    principalEntityType: "MyApp::User",
    // groupEntityType left out: AWS::CognitoGroup, as in the service
  },
});
const client = new VerifiedPermissionsClient(emulator.clientConfig);
afterAll(async () => {
  client.destroy();
  await emulator.close();
});

it("the identity source builds the principal and its groups from the token", async () => {
  const out = await client.send(
    new IsAuthorizedWithTokenCommand({
      policyStoreId: emulator.policyStoreId,
      identityToken: await issuer.idToken({ sub: "ada", groups: ["admins"] }),
      action: { actionType: "MyApp::Action", actionId: "Read" },
      resource: { entityType: "MyApp::Doc", entityId: "d1" },
    }),
  );
  expect(out.decision).toBe("ALLOW");
  expect(out.principal).toEqual({ entityType: "MyApp::User", entityId: "us-east-1_TestPool|ada" });
});
