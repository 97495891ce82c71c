// The identity pool and STS emulators speak their services' protocols to the real SDK clients,
// with the services' errors.
import { CognitoIdentityClient, GetCredentialsForIdentityCommand, GetIdCommand } from "@aws-sdk/client-cognito-identity";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CognitoIdentityEmulator, TestIssuer } from "../../src/testing/index.js";
import { startCognitoIdentityEmulator } from "../../src/testing/index.js";
import { ABAC_ROLE, IDENTITY_POOL_ID, ROLE, setup } from "../support/credentials.js";
import type { Setup } from "../support/credentials.js";

let s: Setup;
let issuer: TestIssuer;
let rules: CognitoIdentityEmulator;
let client: CognitoIdentityClient;
let provider: string;
beforeAll(async () => {
  s = await setup();
  issuer = s.issuer;
  provider = `cognito-idp.us-east-1.amazonaws.com/${issuer.userPoolId}`;
  client = new CognitoIdentityClient({ ...s.identity.clientConfig, maxAttempts: 1 });
  rules = await startCognitoIdentityEmulator({
    identityPools: [
      {
        identityPoolId: IDENTITY_POOL_ID,
        providers: [{ userPool: issuer.userPool, clientIds: [issuer.clientId] }],
        authenticatedRole: ABAC_ROLE,
        roleMappings: {
          [`${provider}:${issuer.clientId}`]: {
            Type: "Rules",
            AmbiguousRoleResolution: "AuthenticatedRole",
            RulesConfiguration: { Rules: [{ Claim: "cognito:groups", MatchType: "Contains", Value: "tenant:globex", RoleARN: ROLE.globex }] },
          },
        },
      },
    ],
  });
});
afterAll(async () => {
  client.destroy();
  await Promise.all([s.close(), rules.close()]);
});

async function credentialsFor(emulatorClient: CognitoIdentityClient, token: string, CustomRoleArn?: string) {
  const Logins = { [provider]: token };
  const { IdentityId } = await emulatorClient.send(new GetIdCommand({ IdentityPoolId: IDENTITY_POOL_ID, Logins }));
  return emulatorClient.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins, ...(CustomRoleArn ? { CustomRoleArn } : {}) }));
}

describe("identity pool emulator", () => {
  it("one identity per user, stable across tokens; credentials with an Expiration the SDK parses", async () => {
    const a = await issuer.idToken({ sub: "user-1", roles: [ROLE.acme], preferredRole: ROLE.acme });
    const b = await issuer.idToken({ sub: "user-1", roles: [ROLE.acme], preferredRole: ROLE.acme });
    const first = await credentialsFor(client, a);
    const second = await credentialsFor(client, b);
    expect(first.IdentityId).toBe(second.IdentityId);
    expect(first.Credentials?.Expiration).toBeInstanceOf(Date);
    expect(s.identity.issued(first.Credentials!.AccessKeyId!)).toMatchObject({ roleArn: ROLE.acme, identityId: first.IdentityId });
  });

  it("answers the service's errors", async () => {
    const good = await issuer.idToken({ roles: [ROLE.acme], preferredRole: ROLE.acme });
    const foreign = await issuer.idToken({ signWith: "foreign" });
    const expired = await issuer.idToken({ expiresIn: -60 });
    const otherClient = await issuer.idToken({ clientId: "another-client" });
    const access = await issuer.accessToken();
    const cases: [() => Promise<unknown>, string][] = [
      [() => client.send(new GetIdCommand({ IdentityPoolId: "us-east-1:00000000-0000-0000-0000-000000000000", Logins: { [provider]: good } })), "ResourceNotFoundException"],
      [() => client.send(new GetIdCommand({ IdentityPoolId: IDENTITY_POOL_ID })), "NotAuthorizedException"],
      [() => client.send(new GetIdCommand({ IdentityPoolId: IDENTITY_POOL_ID, Logins: { [provider]: foreign } })), "NotAuthorizedException"],
      [() => client.send(new GetIdCommand({ IdentityPoolId: IDENTITY_POOL_ID, Logins: { [provider]: expired } })), "NotAuthorizedException"],
      [() => client.send(new GetIdCommand({ IdentityPoolId: IDENTITY_POOL_ID, Logins: { [provider]: otherClient } })), "NotAuthorizedException"],
      [() => client.send(new GetIdCommand({ IdentityPoolId: IDENTITY_POOL_ID, Logins: { [provider]: access } })), "NotAuthorizedException"],
      [() => client.send(new GetIdCommand({ IdentityPoolId: IDENTITY_POOL_ID, Logins: { "cognito-idp.us-east-1.amazonaws.com/us-east-1_Other": good } })), "NotAuthorizedException"],
      [() => client.send(new GetIdCommand({ IdentityPoolId: "not a pool id", Logins: { [provider]: good } })), "InvalidParameterException"],
      [() => client.send(new GetCredentialsForIdentityCommand({ IdentityId: "us-east-1:00000000-0000-0000-0000-000000000000", Logins: { [provider]: good } })), "NotAuthorizedException"],
    ];
    for (const [send, name] of cases) await expect(send()).rejects.toMatchObject({ name });
  });

  it("Token mapping with Deny: no preferred role and several roles is NotAuthorizedException", async () => {
    const tied = await issuer.idToken({ roles: [ROLE.acme, ROLE.globex] });
    await expect(credentialsFor(client, tied)).rejects.toMatchObject({ name: "NotAuthorizedException" });
    const picked = await credentialsFor(client, tied, ROLE.globex);
    expect(s.identity.issued(picked.Credentials!.AccessKeyId!)?.roleArn).toBe(ROLE.globex);
  });

  it("Rules mapping: the first matching rule, else the authenticated role; CustomRoleArn ignored", async () => {
    const rulesClient = new CognitoIdentityClient({ ...rules.clientConfig, maxAttempts: 1 });
    const globex = await credentialsFor(rulesClient, await issuer.idToken({ groups: ["tenant:acme", "tenant:globex"], roles: [ROLE.acme, ROLE.globex], preferredRole: ROLE.acme }), ROLE.acme);
    expect(rules.issued(globex.Credentials!.AccessKeyId!)?.roleArn).toBe(ROLE.globex);
    const other = await credentialsFor(rulesClient, await issuer.idToken({ groups: ["tenant:acme"] }));
    expect(rules.issued(other.Credentials!.AccessKeyId!)?.roleArn).toBe(ABAC_ROLE);
    rulesClient.destroy();
  });

  it("counts calls and can be told to throttle (TooManyRequestsException) or fail (InternalErrorException)", async () => {
    const token = await issuer.idToken({ roles: [ROLE.acme], preferredRole: ROLE.acme });
    s.identity.resetCalls();
    s.identity.setBehavior("throttle", { times: 1 });
    await expect(client.send(new GetIdCommand({ IdentityPoolId: IDENTITY_POOL_ID, Logins: { [provider]: token } }))).rejects.toMatchObject({ name: "TooManyRequestsException" });
    s.identity.setBehavior("error", { times: 1 });
    await expect(client.send(new GetIdCommand({ IdentityPoolId: IDENTITY_POOL_ID, Logins: { [provider]: token } }))).rejects.toMatchObject({ name: "InternalErrorException" });
    await client.send(new GetIdCommand({ IdentityPoolId: IDENTITY_POOL_ID, Logins: { [provider]: token } }));
    expect(s.identity.calls).toEqual({ GetId: 3, GetCredentialsForIdentity: 0 });
  });
});

describe("STS emulator", () => {
  it("AssumeRole over the Query protocol: credentials, assumed-role user, what they were issued for", async () => {
    const sts = new STSClient({ ...s.sts.clientConfig, maxAttempts: 1 });
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: ABAC_ROLE, RoleSessionName: "alice@acme", DurationSeconds: 900, Tags: [{ Key: "TenantId", Value: "acme" }], Policy: '{"Version":"2012-10-17","Statement":[]}' }),
    );
    expect(out.AssumedRoleUser?.Arn).toBe("arn:aws:sts::111122223333:assumed-role/tenant-assets-reader/alice@acme");
    expect(out.Credentials?.Expiration).toBeInstanceOf(Date);
    expect(s.sts.issued(out.Credentials!.AccessKeyId!)).toMatchObject({ roleArn: ABAC_ROLE, tags: { TenantId: "acme" }, roleSessionName: "alice@acme" });
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: ABAC_ROLE, RoleSessionName: "a b" }))).rejects.toMatchObject({ name: "ValidationError" });
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: ABAC_ROLE, RoleSessionName: "ok", DurationSeconds: 899 }))).rejects.toMatchObject({ name: "ValidationError" });
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: ABAC_ROLE, RoleSessionName: "ok", Policy: "not json" }))).rejects.toMatchObject({ name: "MalformedPolicyDocumentException" });
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::111122223333:role/nobody", RoleSessionName: "ok" }))).rejects.toMatchObject({ name: "AccessDenied" });
    s.sts.setBehavior("throttle", { times: 1 });
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: ABAC_ROLE, RoleSessionName: "ok" }))).rejects.toMatchObject({ name: "Throttling" });
    sts.destroy();
  });
});
