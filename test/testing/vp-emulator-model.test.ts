// The emulator validates input as the service's API model says, and holds identity sources as the
// service does. Every rule is checked through the real SDK client: the error's name and HTTP status
// are what an application sees.
import {
  BatchIsAuthorizedCommand,
  BatchIsAuthorizedWithTokenCommand,
  GetIdentitySourceCommand,
  GetPolicyStoreCommand,
  IsAuthorizedCommand,
  IsAuthorizedWithTokenCommand,
  ListIdentitySourcesCommand,
  VerifiedPermissionsClient,
} from "@aws-sdk/client-verifiedpermissions";
import type { BatchIsAuthorizedCommandInput, IsAuthorizedCommandInput } from "@aws-sdk/client-verifiedpermissions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestIssuer, VerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { createTestIssuer, startVerifiedPermissionsEmulator } from "../../src/testing/index.js";

const POOL = "us-east-1_TestPool";
const POOL_ARN = `arn:aws:cognito-idp:us-east-1:123456789012:userpool/${POOL}`;
const POLICIES = `
@id("public") permit (principal, action == Action::"read", resource == Doc::"public");
@id("alice") permit (principal == User::"alice", action == Action::"read", resource);
@id("admins") permit (principal in AWS::CognitoGroup::"${POOL}|admins", action == App::Action::"Read", resource);
`;

let issuer: TestIssuer;
let plain: VerifiedPermissionsEmulator; // no identity source
let store: VerifiedPermissionsEmulator; // a Cognito identity source with the default group type
let client: VerifiedPermissionsClient;
let storeClient: VerifiedPermissionsClient;

beforeAll(async () => {
  issuer = await createTestIssuer({ userPoolId: POOL });
  plain = await startVerifiedPermissionsEmulator({ policies: POLICIES });
  store = await startVerifiedPermissionsEmulator({
    policies: POLICIES,
    userPools: [issuer.userPool],
    identitySource: { userPoolArn: POOL_ARN, clientIds: [issuer.clientId], principalEntityType: "App::User" },
  });
  client = new VerifiedPermissionsClient({ ...plain.clientConfig, maxAttempts: 1 });
  storeClient = new VerifiedPermissionsClient({ ...store.clientConfig, maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  storeClient.destroy();
  await plain.close();
  await store.close();
});

/** The SDK error a call rejects with: its name and HTTP status. */
async function failure(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string; error: Record<string, unknown> }> {
  const err = await p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e as Error & { $metadata?: { httpStatusCode?: number } },
  );
  return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message, error: err as unknown as Record<string, unknown> };
}

const invalid = { name: "ValidationException", status: 400 };
const doc = (id: string) => ({ entityType: "Doc", entityId: id });
const read = { actionType: "Action", actionId: "read" };
const isAuthorized = (input: Partial<IsAuthorizedCommandInput>) => client.send(new IsAuthorizedCommand({ policyStoreId: plain.policyStoreId, action: read, resource: doc("x"), ...input }));
const batch = (input: Partial<BatchIsAuthorizedCommandInput>) =>
  client.send(new BatchIsAuthorizedCommand({ policyStoreId: plain.policyStoreId, requests: [{ principal: { entityType: "User", entityId: "alice" }, action: read, resource: doc("x") }], ...input }));

describe("policyStoreId (PolicyStoreId: 1-200 characters of [a-zA-Z0-9-/_])", () => {
  it("malformed, empty or over-long is a ValidationException, in every operation", async () => {
    for (const policyStoreId of ["PS bad!", "", "P".repeat(201), "PS\u00e9"]) {
      expect(await failure(isAuthorized({ policyStoreId, principal: { entityType: "User", entityId: "alice" } }))).toMatchObject(invalid);
      expect(await failure(client.send(new GetPolicyStoreCommand({ policyStoreId })))).toMatchObject(invalid);
      expect(await failure(client.send(new ListIdentitySourcesCommand({ policyStoreId })))).toMatchObject(invalid);
    }
  });

  it("well-formed but unknown (an id, an alias) is a ResourceNotFoundException (404)", async () => {
    for (const policyStoreId of ["PSunknown", "P".repeat(200), "policy-store-alias/example_store"]) {
      const f = await failure(isAuthorized({ policyStoreId }));
      expect(f).toMatchObject({ name: "ResourceNotFoundException", status: 404, error: { resourceId: policyStoreId, resourceType: "POLICY_STORE" } });
    }
  });
});

describe("entity and action identifiers (EntityType, EntityId, ActionType, ActionId)", () => {
  it("ids of 1 to 200 characters pass; empty, 201 characters or a line break do not", async () => {
    const ok = await isAuthorized({ principal: { entityType: "User", entityId: "a".repeat(200) }, resource: { entityType: "D".repeat(200), entityId: "x" } });
    expect(ok.decision).toBe("DENY");
    for (const principal of [
      { entityType: "User", entityId: "" },
      { entityType: "User", entityId: "a".repeat(201) },
      { entityType: "User", entityId: "a\nb" },
      { entityType: "", entityId: "alice" },
      { entityType: "U".repeat(201), entityId: "alice" },
    ]) {
      expect(await failure(isAuthorized({ principal })), JSON.stringify(principal).slice(0, 60)).toMatchObject(invalid);
    }
    // Identifiers inside entities too: parents and entityIdentifier attribute values.
    const parent = { identifier: { entityType: "User", entityId: "alice" }, parents: [{ entityType: "Team", entityId: "t".repeat(201) }] };
    expect(await failure(isAuthorized({ entities: { entityList: [parent] } }))).toMatchObject(invalid);
    const attribute = { identifier: { entityType: "User", entityId: "alice" }, attributes: { boss: { entityIdentifier: { entityType: "User", entityId: "" } } } };
    expect(await failure(isAuthorized({ entities: { entityList: [attribute] } }))).toMatchObject(invalid);
  });

  it("an action type must be Action or <ns>::Action; an action id 1 to 200 characters", async () => {
    expect((await isAuthorized({ principal: { entityType: "User", entityId: "alice" }, action: { actionType: "Action", actionId: "read" } })).decision).toBe("ALLOW");
    expect((await isAuthorized({ action: { actionType: "App::Action", actionId: "r".repeat(200) } })).decision).toBe("DENY");
    for (const action of [
      { actionType: "Verb", actionId: "read" },
      { actionType: "App::Verb", actionId: "read" },
      { actionType: "Action", actionId: "" },
      { actionType: "Action", actionId: "r".repeat(201) },
    ]) {
      expect(await failure(isAuthorized({ action })), JSON.stringify(action).slice(0, 60)).toMatchObject(invalid);
    }
  });

  it("entities of IsAuthorized and BatchIsAuthorized may not include actions", async () => {
    const entities = { entityList: [{ identifier: { entityType: "Action", entityId: "read" } }] };
    expect(await failure(isAuthorized({ entities }))).toMatchObject(invalid);
    expect(await failure(batch({ entities }))).toMatchObject(invalid);
    const cedarJson = JSON.stringify([{ uid: { type: "App::Action", id: "Read" }, attrs: {}, parents: [] }]);
    expect(await failure(isAuthorized({ entities: { cedarJson } }))).toMatchObject(invalid);
  });

  it("principal (and resource) may be omitted in IsAuthorized: only unconstrained scopes match", async () => {
    expect(await isAuthorized({ resource: doc("public") })).toMatchObject({ decision: "ALLOW", determiningPolicies: [{ policyId: "public" }] });
    expect((await isAuthorized({ resource: doc("secret") })).decision).toBe("DENY");
    expect((await isAuthorized({ principal: { entityType: "User", entityId: "alice" }, resource: undefined })).decision).toBe("ALLOW");
  });
});

describe("BatchIsAuthorized limits", () => {
  const alice = { entityType: "User", entityId: "alice" };
  const requests = (n: number) => Array.from({ length: n }, (_, i) => ({ principal: alice, action: read, resource: doc(`d${i}`) }));

  it("1 to 30 requests", async () => {
    expect((await batch({ requests: requests(30) })).results).toHaveLength(30);
    expect(await failure(batch({ requests: requests(31) }))).toMatchObject(invalid);
    expect(await failure(batch({ requests: [] }))).toMatchObject(invalid);
  });

  it("entities: at most 100 resources and 100 principals (a request's principal and its ancestors)", async () => {
    const resources = (n: number) => Array.from({ length: n }, (_, i) => ({ identifier: doc(`r${i}`) }));
    expect((await batch({ entities: { entityList: resources(100) } })).results).toHaveLength(1);
    expect(await failure(batch({ entities: { entityList: resources(101) } }))).toMatchObject(invalid);
    const withGroups = (n: number) => [
      { identifier: alice, parents: Array.from({ length: n }, (_, i) => ({ entityType: "Team", entityId: `t${i}` })) },
      ...Array.from({ length: n }, (_, i) => ({ identifier: { entityType: "Team", entityId: `t${i}` } })),
    ];
    expect((await batch({ entities: { entityList: withGroups(99) } })).results).toHaveLength(1);
    expect(await failure(batch({ entities: { entityList: withGroups(100) } }))).toMatchObject(invalid);
  });
});

describe("IsAuthorizedWithToken and the identity source", () => {
  const readApp = { actionType: "App::Action", actionId: "Read" };
  const withToken = (input: Record<string, unknown>) => storeClient.send(new IsAuthorizedWithTokenCommand({ policyStoreId: store.policyStoreId, action: readApp, resource: doc("x"), ...input }));

  it("principal of the identity source's type, groups of AWS::CognitoGroup (the default)", async () => {
    const admin = await issuer.idToken({ sub: "ada", groups: ["admins"] });
    const out = await withToken({ identityToken: admin });
    expect(out).toMatchObject({ decision: "ALLOW", determiningPolicies: [{ policyId: "admins" }], principal: { entityType: "App::User", entityId: `${POOL}|ada` } });
    expect((await withToken({ identityToken: await issuer.idToken({ sub: "bob", groups: ["staff"] }) })).decision).toBe("DENY");
  });

  it("identityToken, accessToken, or both (of the same user); neither is a ValidationException", async () => {
    const id = await issuer.idToken({ sub: "ada", groups: ["admins"] });
    const access = await issuer.accessToken({ sub: "ada", groups: ["admins"] });
    expect((await withToken({ accessToken: access })).decision).toBe("ALLOW");
    expect(await withToken({ identityToken: id, accessToken: access })).toMatchObject({ decision: "ALLOW", principal: { entityId: `${POOL}|ada` } });
    const other = await issuer.accessToken({ sub: "eve" });
    expect(await failure(withToken({ identityToken: id, accessToken: other }))).toMatchObject(invalid);
    expect(await failure(withToken({}))).toMatchObject(invalid);
    expect(await failure(withToken({ identityToken: access }))).toMatchObject(invalid);
  });

  it("entities of the principal or group entity type beside a token are refused; actions only as bare identifiers", async () => {
    const id = await issuer.idToken({ sub: "ada", groups: ["admins"] });
    const group = { identifier: { entityType: "AWS::CognitoGroup", entityId: `${POOL}|admins` } };
    expect(await failure(withToken({ identityToken: id, entities: { entityList: [group] } }))).toMatchObject(invalid);
    const user = { identifier: { entityType: "App::User", entityId: `${POOL}|someone` } };
    expect(await failure(withToken({ identityToken: id, entities: { entityList: [user] } }))).toMatchObject(invalid);
    const bareAction = { identifier: { entityType: "App::Action", entityId: "Read" } };
    expect((await withToken({ identityToken: id, entities: { entityList: [bareAction] } })).decision).toBe("ALLOW");
    const describedAction = { ...bareAction, attributes: { x: { long: 1 } } };
    expect(await failure(withToken({ identityToken: id, entities: { entityList: [describedAction] } }))).toMatchObject(invalid);
  });

  it("a token of another app client than the identity source's clientIds is refused", async () => {
    // Keys that accept any client: the identity source's clientIds alone decide.
    const e = await startVerifiedPermissionsEmulator({
      policies: POLICIES,
      userPools: [{ ...issuer.userPool, clientId: null }],
      identitySource: { userPoolArn: POOL_ARN, clientIds: [issuer.clientId], principalEntityType: "App::User" },
    });
    const c = new VerifiedPermissionsClient({ ...e.clientConfig, maxAttempts: 1 });
    try {
      const ask = (token: string) => c.send(new IsAuthorizedWithTokenCommand({ policyStoreId: e.policyStoreId, accessToken: token, action: readApp, resource: doc("x") }));
      expect((await ask(await issuer.accessToken({ sub: "ada", groups: ["admins"] }))).decision).toBe("ALLOW");
      expect(await failure(ask(await issuer.accessToken({ sub: "ada", groups: ["admins"], clientId: "another-client" })))).toMatchObject(invalid);
    } finally {
      c.destroy();
      await e.close();
    }
  });

  it("a token whose issuer is not the user pool's AWS issuer is refused, even with the right keys", async () => {
    const local = await createTestIssuer({ userPoolId: POOL, issuer: `http://localhost:9229/${POOL}` });
    const e = await startVerifiedPermissionsEmulator({
      policies: POLICIES,
      userPools: [local.userPool],
      identitySource: { userPoolArn: POOL_ARN, clientIds: [], principalEntityType: "App::User" },
    });
    const c = new VerifiedPermissionsClient({ ...e.clientConfig, maxAttempts: 1 });
    try {
      const token = await local.idToken({ sub: "ada", groups: ["admins"] });
      expect(await failure(c.send(new IsAuthorizedWithTokenCommand({ policyStoreId: e.policyStoreId, identityToken: token, action: readApp, resource: doc("x") })))).toMatchObject(invalid);
    } finally {
      c.destroy();
      await e.close();
    }
  });

  it("BatchIsAuthorizedWithToken: at most 99 groups in the token and 100 resources in entities", async () => {
    const send = (token: string, n = 0) =>
      storeClient.send(
        new BatchIsAuthorizedWithTokenCommand({
          policyStoreId: store.policyStoreId,
          identityToken: token,
          entities: { entityList: Array.from({ length: n }, (_, i) => ({ identifier: doc(`r${i}`) })) },
          requests: [{ action: readApp, resource: doc("x") }],
        }),
      );
    const groups = (n: number) => ["admins", ...Array.from({ length: n - 1 }, (_, i) => `g${i}`)];
    expect((await send(await issuer.idToken({ sub: "ada", groups: groups(99) }), 100)).results?.[0]?.decision).toBe("ALLOW");
    expect(await failure(send(await issuer.idToken({ sub: "ada", groups: groups(100) })))).toMatchObject(invalid);
    expect(await failure(send(await issuer.idToken({ sub: "ada", groups: ["admins"] }), 101))).toMatchObject(invalid);
  });

  it("a store without identity source refuses tokens", async () => {
    const f = await failure(client.send(new IsAuthorizedWithTokenCommand({ policyStoreId: plain.policyStoreId, identityToken: await issuer.idToken(), action: readApp, resource: doc("x") })));
    expect(f).toMatchObject(invalid);
  });
});

describe("GetPolicyStore, ListIdentitySources, GetIdentitySource", () => {
  it("GetPolicyStore answers the model's output shape", async () => {
    const out = await storeClient.send(new GetPolicyStoreCommand({ policyStoreId: store.policyStoreId }));
    expect(out).toMatchObject({ policyStoreId: store.policyStoreId, validationSettings: { mode: "OFF" } });
    expect(out.arn).toBe(`arn:aws:verifiedpermissions::123456789012:policy-store/${store.policyStoreId}`);
    expect(out.createdDate).toBeInstanceOf(Date);
    expect(out.lastUpdatedDate).toBeInstanceOf(Date);
    expect(await failure(storeClient.send(new GetPolicyStoreCommand({ policyStoreId: "PSother" })))).toMatchObject({ name: "ResourceNotFoundException", status: 404 });
  });

  it("identity sources in pages of maxResults, with the configuration GetIdentitySource gives", async () => {
    const e = await startVerifiedPermissionsEmulator({
      policies: POLICIES,
      userPools: [issuer.userPool],
      identitySource: [
        { userPoolArn: POOL_ARN, clientIds: [], principalEntityType: "App::User" },
        { userPoolArn: POOL_ARN, clientIds: ["c1"], principalEntityType: "App::Member", groupEntityType: "App::UserGroup", identitySourceId: "ISsecond" },
      ],
    });
    const c = new VerifiedPermissionsClient({ ...e.clientConfig, maxAttempts: 1 });
    try {
      const first = await c.send(new ListIdentitySourcesCommand({ policyStoreId: e.policyStoreId, maxResults: 1 }));
      expect(first.identitySources).toHaveLength(1);
      expect(first.identitySources?.[0]).toMatchObject({
        principalEntityType: "App::User",
        configuration: { cognitoUserPoolConfiguration: { userPoolArn: POOL_ARN, clientIds: [], issuer: `https://cognito-idp.us-east-1.amazonaws.com/${POOL}` } },
      });
      // The default group type is the service's to apply: not echoed as a configuration.
      expect(first.identitySources?.[0]?.configuration?.cognitoUserPoolConfiguration?.groupConfiguration).toBeUndefined();
      expect(first.nextToken).toEqual(expect.any(String));
      const second = await c.send(new ListIdentitySourcesCommand({ policyStoreId: e.policyStoreId, maxResults: 1, nextToken: first.nextToken }));
      expect(second.identitySources?.map((s) => s.identitySourceId)).toEqual(["ISsecond"]);
      expect(second.nextToken).toBeUndefined();
      const all = await c.send(new ListIdentitySourcesCommand({ policyStoreId: e.policyStoreId }));
      expect(all.identitySources).toHaveLength(2);
      const filtered = await c.send(new ListIdentitySourcesCommand({ policyStoreId: e.policyStoreId, filters: [{ principalEntityType: "App::Member" }] }));
      expect(filtered.identitySources?.map((s) => s.identitySourceId)).toEqual(["ISsecond"]);
      expect(await failure(c.send(new ListIdentitySourcesCommand({ policyStoreId: e.policyStoreId, maxResults: 0 })))).toMatchObject(invalid);
      expect(await failure(c.send(new ListIdentitySourcesCommand({ policyStoreId: e.policyStoreId, nextToken: "bm9wZQ" })))).toMatchObject(invalid);

      const got = await c.send(new GetIdentitySourceCommand({ policyStoreId: e.policyStoreId, identitySourceId: "ISsecond" }));
      expect(got).toMatchObject({
        identitySourceId: "ISsecond",
        policyStoreId: e.policyStoreId,
        principalEntityType: "App::Member",
        configuration: { cognitoUserPoolConfiguration: { userPoolArn: POOL_ARN, clientIds: ["c1"], groupConfiguration: { groupEntityType: "App::UserGroup" } } },
      });
      const missing = await failure(c.send(new GetIdentitySourceCommand({ policyStoreId: e.policyStoreId, identitySourceId: "ISnone" })));
      expect(missing).toMatchObject({ name: "ResourceNotFoundException", status: 404, error: { resourceType: "IDENTITY_SOURCE" } });
      expect(await failure(c.send(new GetIdentitySourceCommand({ policyStoreId: e.policyStoreId, identitySourceId: "IS bad" })))).toMatchObject(invalid);
    } finally {
      c.destroy();
      await e.close();
    }
  });

  it("a misconfigured identity source is a TypeError at start, naming the option", async () => {
    const base = { policies: POLICIES, userPools: [issuer.userPool] };
    const source = { userPoolArn: POOL_ARN, clientIds: [], principalEntityType: "App::User" };
    await expect(startVerifiedPermissionsEmulator({ policies: POLICIES, identitySource: source })).rejects.toThrow(/identitySource needs userPools/);
    await expect(startVerifiedPermissionsEmulator({ ...base, identitySource: { ...source, userPoolArn: "us-east-1_TestPool" } })).rejects.toThrow(
      /identitySource\.userPoolArn must match the service's UserPoolArn/,
    );
    await expect(startVerifiedPermissionsEmulator({ ...base, identitySource: { ...source, groupEntityType: "App::Bad Group" } })).rejects.toThrow(/identitySource\.groupEntityType/);
    await expect(startVerifiedPermissionsEmulator({ ...base, identitySource: source, namespace: "App" })).rejects.toThrow(/namespace and identitySource exclude each other/);
    await expect(startVerifiedPermissionsEmulator({ ...base, policyStoreId: "bad id" })).rejects.toThrow(/policyStoreId must match the service's PolicyStoreId/);
  });
});

describe("protocol errors", () => {
  it("an unknown operation: UnknownOperationException (400), as AWS JSON services answer", async () => {
    const c = new VerifiedPermissionsClient({ ...plain.clientConfig, maxAttempts: 1 });
    // The SDK only sends operations it knows: rename one on the way out.
    c.middlewareStack.add(
      (next) => (args) => {
        (args.request as { headers: Record<string, string> }).headers["x-amz-target"] = "VerifiedPermissions.FrobnicatePolicies";
        return next(args);
      },
      { step: "finalizeRequest" },
    );
    plain.resetCalls();
    try {
      expect(await failure(c.send(new GetPolicyStoreCommand({ policyStoreId: plain.policyStoreId })))).toMatchObject({ name: "UnknownOperationException", status: 400 });
      expect(plain.calls.GetPolicyStore).toBe(0);
    } finally {
      c.destroy();
    }
  });

  it("InternalServerException (500) is retryable in the model, and the SDK says so", async () => {
    plain.setBehavior("error", { times: 1 });
    const f = await failure(isAuthorized({}));
    expect(f).toMatchObject({ name: "InternalServerException", status: 500 });
    expect(f.error["$fault"]).toBe("server");
    plain.setBehavior("error", { times: 1, operations: ["GetPolicyStore"] });
    expect(await failure(client.send(new GetPolicyStoreCommand({ policyStoreId: plain.policyStoreId })))).toMatchObject({ name: "InternalServerException", status: 500 });
    expect((await isAuthorized({})).decision).toBe("DENY");
  });
});
