import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import type { TenantPrincipal } from "../../src/index.js";
import {
  actionToUid,
  fromAttributeValue,
  fromEntityList,
  projectToSchema,
  qualifyType,
  resourceToEntity,
  resourceToUid,
  toAttributeValue,
  toCedarEntities,
  toCedarRequest,
  toCedarValue,
} from "../../src/core/cedar-entities.js";
import { createTestIssuer } from "../../src/testing/index.js";

const SCHEMA_JSON = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../fixtures/policies/tenancy-demo.cedarschema.json"), "utf8")) as Record<string, unknown>;
let idPrincipal: TenantPrincipal;
let accessPrincipal: TenantPrincipal;
let dual: TenantPrincipal;

beforeAll(async () => {
  const issuer = await createTestIssuer();
  const auth = createTenantAuth({ userPools: [issuer.userPool], requireTenant: false });
  idPrincipal = await auth.resolveTenant(
    await issuer.idToken({
      sub: "s-1",
      username: "alice",
      groups: ["tenant:acme", "admins"],
      claims: { email: "alice@example.com", "custom:level": 3, nested: { a: 1, b: [true, "x"] } },
    }),
  );
  accessPrincipal = await auth.resolveTenant(await issuer.accessToken({ sub: "s-2", groups: ["tenant:globex"], scopes: ["openid", "assets/read"] }));
  dual = await auth.resolveTenant(await issuer.idToken({ sub: "s-3", groups: ["tenant:acme", "tenant:globex:admin"] }), { tenantHint: "globex" });
});

describe("toCedarEntities: the service's Cognito identity-source mapping", () => {
  it('principal <ns>::User::"<pool>|<sub>", one UserGroup parent per group', () => {
    const m = toCedarEntities(idPrincipal, { namespace: "TenancyDemo" });
    expect(m.principal).toEqual({ type: "TenancyDemo::User", id: "us-east-1_TestPool|s-1" });
    expect(m.principalIdentifier).toEqual({ entityType: "TenancyDemo::User", entityId: "us-east-1_TestPool|s-1" });
    const [principal, ...groups] = m.entities;
    expect(principal!.parents).toEqual([
      { type: "TenancyDemo::UserGroup", id: "us-east-1_TestPool|tenant:acme" },
      { type: "TenancyDemo::UserGroup", id: "us-east-1_TestPool|admins" },
    ]);
    expect(groups.map((g) => g.uid.id)).toEqual(["us-east-1_TestPool|tenant:acme", "us-east-1_TestPool|admins"]);
  });

  it("ID token: claims are principal attributes (groups excepted)", () => {
    const { entities, context } = toCedarEntities(idPrincipal, { namespace: "TenancyDemo" });
    const attrs = entities[0]!.attrs;
    expect(attrs["cognito:username"]).toBe("alice");
    expect(attrs["email"]).toBe("alice@example.com");
    expect(attrs["custom:level"]).toBe(3);
    expect(attrs["email_verified"]).toBe(true);
    expect(attrs["sub"]).toBe("s-1");
    expect(attrs).not.toHaveProperty("cognito:groups");
    expect(attrs["nested"]).toEqual({ a: 1, b: [true, "x"] });
    expect(context).toEqual({});
  });

  it("access token: no principal attributes; claims go to context.token, scope split into a set", () => {
    const m = toCedarEntities(accessPrincipal, { namespace: "TenancyDemo" });
    expect(m.entities[0]!.attrs).toEqual({});
    const token = m.context["token"] as Record<string, unknown>;
    expect(token["scope"]).toEqual(["openid", "assets/read"]);
    expect(token["client_id"]).toBe("test-client-id");
    expect(token).not.toHaveProperty("cognito:groups");
    expect(m.contextMap["token"]).toMatchObject({ record: { scope: { set: [{ string: "openid" }, { string: "assets/read" }] }, client_id: { string: "test-client-id" } } });
  });

  it("both formats say the same thing", () => {
    const m = toCedarEntities(idPrincipal, { namespace: "TenancyDemo" });
    expect(fromEntityList(m.entityList)).toEqual(m.entities);
    expect(m.entityList[0]!.attributes!["custom:level"]).toEqual({ long: 3 });
    expect(m.entityList[0]!.attributes!["email_verified"]).toEqual({ boolean: true });
    expect(m.entityList[0]!.attributes!["nested"]).toEqual({ record: { a: { long: 1 }, b: { set: [{ boolean: true }, { string: "x" }] } } });
    expect(m.entityList[0]!.parents![0]).toEqual({ entityType: "TenancyDemo::UserGroup", entityId: "us-east-1_TestPool|tenant:acme" });
  });

  it("custom entity types and an empty namespace", () => {
    const m = toCedarEntities(idPrincipal, { namespace: "", userEntityType: "CognitoUser", groupEntityType: "Role" });
    expect(m.principal).toEqual({ type: "CognitoUser", id: "us-east-1_TestPool|s-1" });
    expect(m.entities[0]!.parents[0]!.type).toBe("Role");
  });

  it("tenantEntityType: tenants become parents of the groups that grant them; the active tenant is context.tenant", () => {
    const m = toCedarEntities(dual, { namespace: "TenancyDemo", tenantEntityType: "Tenant" });
    const byId = new Map(m.entities.map((e) => [e.uid.id, e]));
    expect(byId.get("us-east-1_TestPool|tenant:acme")!.parents).toEqual([{ type: "TenancyDemo::Tenant", id: "acme" }]);
    expect(byId.get("us-east-1_TestPool|tenant:globex:admin")!.parents).toEqual([{ type: "TenancyDemo::Tenant", id: "globex" }]);
    expect(byId.get("acme")).toEqual({ uid: { type: "TenancyDemo::Tenant", id: "acme" }, attrs: {}, parents: [] });
    expect(m.context["tenant"]).toEqual({ __entity: { type: "TenancyDemo::Tenant", id: "globex" } });
    expect(m.contextMap["tenant"]).toEqual({ entityIdentifier: { entityType: "TenancyDemo::Tenant", entityId: "globex" } });
  });

  it("a claim named __proto__ is an attribute, not a prototype", async () => {
    const issuer = await createTestIssuer();
    const auth = createTenantAuth({ userPools: [issuer.userPool], requireTenant: false });
    const token = await issuer.sign({
      ...JSON.parse('{"__proto__": {"polluted": true}}'),
      sub: "p",
      iss: issuer.issuer,
      aud: issuer.clientId,
      token_use: "id",
      exp: Math.floor(Date.now() / 1000) + 60,
      iat: Math.floor(Date.now() / 1000),
    });
    const p = await auth.resolveTenant(token).catch(() => undefined);
    if (!p) return; // the core may refuse such a token outright: fine too
    const attrs = toCedarEntities(p, { namespace: "N" }).entities[0]!.attrs as Record<string, unknown>;
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});

describe("values", () => {
  it("Cedar has no float and no null: such values are refused, never left out", () => {
    expect(() => toCedarValue(1.5)).toThrow(TypeError);
    expect(() => toCedarValue(null)).toThrow(TypeError);
    expect(toCedarValue(2 ** 53)).toBe(2 ** 53);
    expect(toCedarValue(-(2 ** 62))).toBe(-(2 ** 62));
    expect(() => toCedarValue(-(2 ** 63))).toThrow(TypeError);
    expect(() => toCedarValue(2 ** 63)).toThrow(TypeError);
    expect(() => toCedarValue([1, null, 2.5, "a"], "context.xs")).toThrow(/context\.xs\[1\]/);
    expect(() => toCedarValue({ a: undefined, b: NaN, c: "x" }, "context")).toThrow(/context\.b/);
    expect(toCedarValue({ a: undefined, c: "x" })).toEqual({ c: "x" });
  });

  it("entity references and extension values map to entityIdentifier, ipaddr, decimal, datetime, duration", () => {
    expect(toAttributeValue({ __entity: { type: "N::T", id: "1" } })).toEqual({ entityIdentifier: { entityType: "N::T", entityId: "1" } });
    expect(toAttributeValue({ __extn: { fn: "ip", arg: "10.0.0.1" } })).toEqual({ ipaddr: "10.0.0.1" });
    expect(toAttributeValue({ __extn: { fn: "decimal", arg: "1.50" } })).toEqual({ decimal: "1.50" });
    expect(fromAttributeValue({ ipaddr: "10.0.0.1" })).toEqual({ __extn: { fn: "ip", arg: "10.0.0.1" } });
    expect(fromAttributeValue({ datetime: "2024-01-01" })).toEqual({ __extn: { fn: "datetime", arg: "2024-01-01" } });
    expect(() => fromAttributeValue({ string: "a", long: 1 })).toThrow(TypeError);
    expect(() => fromAttributeValue({ long: 1.5 })).toThrow(TypeError);
    expect(() => fromAttributeValue({ nope: 1 })).toThrow(TypeError);
  });
});

describe("uids relative to the namespace", () => {
  it("actions and resources", () => {
    expect(actionToUid("TenancyDemo", "ReadObject")).toEqual({ type: "TenancyDemo::Action", id: "ReadObject" });
    expect(actionToUid("TenancyDemo", { type: "Action", id: "x" })).toEqual({ type: "TenancyDemo::Action", id: "x" });
    expect(resourceToUid("TenancyDemo", { type: "Object", id: "a/b" })).toEqual({ type: "TenancyDemo::Object", id: "a/b" });
    expect(qualifyType("TenancyDemo", "Other::Thing")).toBe("Other::Thing");
    expect(qualifyType("", "Thing")).toBe("Thing");
    expect(resourceToEntity("N", { type: "Object", id: "1" })).toBeUndefined();
    expect(resourceToEntity("N", { type: "Object", id: "1", attributes: { size: 3 }, parents: [{ type: "Bucket", id: "b" }] })).toEqual({
      uid: { type: "N::Object", id: "1" },
      attrs: { size: 3 },
      parents: [{ type: "N::Bucket", id: "b" }],
    });
  });
});

describe("schema projection and whole requests", () => {
  it("keeps only declared principal attributes and context.token fields", () => {
    const id = toCedarEntities(idPrincipal, { namespace: "TenancyDemo" });
    const p = projectToSchema(id, SCHEMA_JSON, actionToUid("TenancyDemo", "ReadObject"));
    expect(p.entities[0]!.attrs).toEqual({ "cognito:username": "alice", email: "alice@example.com" });
    const access = toCedarEntities(accessPrincipal, { namespace: "TenancyDemo" });
    const q = projectToSchema(access, SCHEMA_JSON, actionToUid("TenancyDemo", "ReadObject"));
    expect(q.context).toEqual({ token: { client_id: "test-client-id", scope: ["openid", "assets/read"] } });
  });

  it("toCedarRequest: resource entity, extra entities, context merged; the principal cannot be replaced", () => {
    const r = toCedarRequest(
      {
        principal: idPrincipal,
        action: "ReadObject",
        resource: { type: "Object", id: "acme-assets/x", parents: [{ type: "Bucket", id: "acme-assets" }] },
        context: { ip: "10.0.0.1" },
        entities: [
          { uid: { type: "TenancyDemo::Bucket", id: "acme-assets" }, attrs: {}, parents: [] },
          { uid: { type: "TenancyDemo::User", id: "us-east-1_TestPool|s-1" }, attrs: { admin: true }, parents: [] },
        ],
      },
      { namespace: "TenancyDemo" },
    );
    expect(r.action).toEqual({ type: "TenancyDemo::Action", id: "ReadObject" });
    expect(r.context).toEqual({ ip: "10.0.0.1" });
    const ids = r.entities.map((e) => `${e.uid.type}::${e.uid.id}`);
    expect(ids).toContain("TenancyDemo::Object::acme-assets/x");
    expect(ids).toContain("TenancyDemo::Bucket::acme-assets");
    expect(r.entities.find((e) => e.uid.type === "TenancyDemo::User")!.attrs).not.toHaveProperty("admin");
  });
});
