import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { createTestIssuer, startVerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { CedarPolicyError } from "../../src/authorizers/cedar.js";
import { NAMESPACE, POLICIES, SCHEMA } from "../support/scenario.js";

let emulator: VerifiedPermissionsEmulator;
let idToken: string;
let accessToken: string;

const user = (sub: string) => ({ entityType: "TenancyDemo::User", entityId: `us-east-1_TestPool|${sub}` });
const read = { actionType: "TenancyDemo::Action", actionId: "ReadObject" };
const obj = (bucket: string) => ({ entityType: "TenancyDemo::Object", entityId: `${bucket}/x` });
const entities = (sub: string, group: string, bucket: string) => ({
  entityList: [
    { identifier: user(sub), attributes: { email: { string: `${sub}@example.com` } }, parents: [{ entityType: "TenancyDemo::UserGroup", entityId: `us-east-1_TestPool|${group}` }] },
    { identifier: obj(bucket), parents: [{ entityType: "TenancyDemo::Bucket", entityId: bucket }] },
  ],
});

async function post(target: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(emulator.endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `VerifiedPermissions.${target}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const issuer = await createTestIssuer();
  emulator = await startVerifiedPermissionsEmulator({ policies: POLICIES, schema: SCHEMA, policyStoreId: "PSTEST", userPools: [issuer.userPool], namespace: NAMESPACE });
  idToken = await issuer.idToken({ sub: "u1", groups: ["tenant:acme"], claims: { email: "u1@example.com" } });
  accessToken = await issuer.accessToken({ sub: "u2", groups: ["tenant:globex"] });
});

afterAll(() => emulator.close());

describe("the Verified Permissions JSON protocol", () => {
  it("IsAuthorized with an entityList", async () => {
    const r = await post("IsAuthorized", { policyStoreId: "PSTEST", principal: user("u1"), action: read, resource: obj("acme-assets"), entities: entities("u1", "tenant:acme", "acme-assets") });
    expect(r.status).toBe(200);
    expect(r.type).toBe("application/x-amz-json-1.0");
    expect(r.body).toEqual({ decision: "ALLOW", determiningPolicies: [{ policyId: "acme-reads-own-bucket" }], errors: [] });
  });

  it("IsAuthorized with cedarJson entities and context", async () => {
    const cedarJson = JSON.stringify([
      { uid: { type: "TenancyDemo::User", id: "us-east-1_TestPool|u1" }, attrs: {}, parents: [{ type: "TenancyDemo::UserGroup", id: "us-east-1_TestPool|tenant:acme" }] },
      { uid: { type: "TenancyDemo::Object", id: "globex-assets/x" }, attrs: {}, parents: [{ type: "TenancyDemo::Bucket", id: "globex-assets" }] },
    ]);
    const r = await post("IsAuthorized", { policyStoreId: "PSTEST", principal: user("u1"), action: read, resource: obj("globex-assets"), entities: { cedarJson }, context: { cedarJson: "{}" } });
    expect(r.body).toEqual({ decision: "DENY", determiningPolicies: [], errors: [] });
  });

  it("BatchIsAuthorized echoes each request with its result", async () => {
    const requests = [
      { principal: user("u1"), action: read, resource: obj("acme-assets") },
      { principal: user("u1"), action: read, resource: obj("globex-assets") },
    ];
    const all = { entityList: [...entities("u1", "tenant:acme", "acme-assets").entityList, entities("u1", "tenant:acme", "globex-assets").entityList[1]!] };
    const r = await post("BatchIsAuthorized", { policyStoreId: "PSTEST", entities: all, requests });
    expect(r.status).toBe(200);
    expect((r.body["results"] as { request: unknown; decision: string }[]).map((x) => [x.request, x.decision])).toEqual([
      [requests[0], "ALLOW"],
      [requests[1], "DENY"],
    ]);
  });

  it("IsAuthorizedWithToken builds the principal from an ID token, and from an access token", async () => {
    const e = { entityList: [{ identifier: obj("acme-assets"), parents: [{ entityType: "TenancyDemo::Bucket", entityId: "acme-assets" }] }] };
    const id = await post("IsAuthorizedWithToken", { policyStoreId: "PSTEST", identityToken: idToken, action: read, resource: obj("acme-assets"), entities: e });
    expect(id.body).toMatchObject({ decision: "ALLOW", principal: user("u1") });
    const access = await post("IsAuthorizedWithToken", { policyStoreId: "PSTEST", accessToken, action: read, resource: obj("acme-assets"), entities: e });
    expect(access.body).toMatchObject({ decision: "DENY", principal: user("u2") });
    const batch = await post("BatchIsAuthorizedWithToken", { policyStoreId: "PSTEST", identityToken: idToken, entities: e, requests: [{ action: read, resource: obj("acme-assets") }] });
    expect(batch.body).toMatchObject({ principal: user("u1"), results: [{ decision: "ALLOW" }] });
  });
});

describe("errors in the service's shape", () => {
  it("an unknown policy store: 404 ResourceNotFoundException", async () => {
    const r = await post("IsAuthorized", { policyStoreId: "PSother", principal: user("u1"), action: read, resource: obj("acme-assets") });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ __type: "com.amazonaws.verifiedpermissions#ResourceNotFoundException", resourceId: "PSother", resourceType: "POLICY_STORE" });
    expect(r.body["message"]).toMatch(/PSother/);
  });

  it("malformed input: 400 ValidationException", async () => {
    const noAction = await post("IsAuthorized", { policyStoreId: "PSTEST", principal: user("u1"), resource: obj("acme-assets") });
    expect(noAction.status).toBe(400);
    expect(noAction.body["__type"]).toBe("com.amazonaws.verifiedpermissions#ValidationException");
    const tooMany = await post("BatchIsAuthorized", { policyStoreId: "PSTEST", requests: Array.from({ length: 31 }, () => ({ principal: user("u1"), action: read, resource: obj("acme-assets") })) });
    expect(tooMany.status).toBe(400);
    const mixed = await post("BatchIsAuthorized", {
      policyStoreId: "PSTEST",
      requests: [
        { principal: user("u1"), action: read, resource: obj("acme-assets") },
        { principal: user("u2"), action: read, resource: obj("globex-assets") },
      ],
    });
    expect(mixed.status).toBe(400);
    expect(mixed.body["message"]).toMatch(/same principal or the same resource/);
    const undeclared = await post("IsAuthorized", {
      policyStoreId: "PSTEST",
      principal: user("u1"),
      action: read,
      resource: obj("acme-assets"),
      entities: { entityList: [{ identifier: user("u1"), attributes: { jti: { string: "x" } } }] },
    });
    expect(undeclared.status).toBe(400);
    expect(undeclared.body["message"]).toMatch(/jti/);
    const badToken = await post("IsAuthorizedWithToken", { policyStoreId: "PSTEST", identityToken: "not.a.jwt", action: read, resource: obj("acme-assets") });
    expect(badToken.status).toBe(400);
    const wrongSlot = await post("IsAuthorizedWithToken", { policyStoreId: "PSTEST", identityToken: accessToken, action: read, resource: obj("acme-assets") });
    expect(wrongSlot.status).toBe(400);
  });

  it("bad JSON: SerializationException; unknown operation: UnknownOperationException", async () => {
    expect((await post("IsAuthorized", "{nope")).body["__type"]).toMatch(/SerializationException$/);
    const unknown = await post("DeletePolicyStore", {});
    expect(unknown.status).toBe(400);
    expect(unknown.body["__type"]).toMatch(/UnknownOperationException$/);
  });

  it("counts calls per operation", async () => {
    emulator.resetCalls();
    await post("IsAuthorized", { policyStoreId: "PSTEST", principal: user("u1"), action: read, resource: obj("acme-assets") });
    await post("BatchIsAuthorized", { policyStoreId: "PSTEST", requests: [{ principal: user("u1"), action: read, resource: obj("acme-assets") }] });
    expect(emulator.calls).toMatchObject({ IsAuthorized: 1, BatchIsAuthorized: 1, IsAuthorizedWithToken: 0 });
    expect(emulator.callCount).toBe(2);
  });

  it("rehearses outages: error (500), throttle (429), then back to normal", async () => {
    emulator.setBehavior("error", { times: 1 });
    const e = await post("IsAuthorized", { policyStoreId: "PSTEST", principal: user("u1"), action: read, resource: obj("acme-assets") });
    expect([e.status, e.body["__type"]]).toEqual([500, "com.amazonaws.verifiedpermissions#InternalServerException"]);
    emulator.setBehavior("throttle", { times: 1 });
    const t = await post("IsAuthorized", { policyStoreId: "PSTEST", principal: user("u1"), action: read, resource: obj("acme-assets") });
    expect([t.status, t.body["__type"]]).toEqual([429, "com.amazonaws.verifiedpermissions#ThrottlingException"]);
    const ok = await post("IsAuthorized", { policyStoreId: "PSTEST", principal: user("u1"), action: read, resource: obj("acme-assets") });
    expect(ok.status).toBe(200);
  });

  it("without userPools the token operations are a ValidationException", async () => {
    const plain = await startVerifiedPermissionsEmulator({ policies: POLICIES });
    try {
      const res = await fetch(plain.endpoint, {
        method: "POST",
        headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "VerifiedPermissions.IsAuthorizedWithToken" },
        body: JSON.stringify({ policyStoreId: plain.policyStoreId, identityToken: idToken, action: read, resource: obj("acme-assets") }),
      });
      expect(res.status).toBe(400);
    } finally {
      await plain.close();
    }
  });

  it("invalid policies refuse to start, with Cedar's message", async () => {
    await expect(startVerifiedPermissionsEmulator({ policies: "permit (principal, action, resource) when { 1 + };" })).rejects.toBeInstanceOf(CedarPolicyError);
  });
});
