import { beforeAll, describe, expect, it } from "vitest";
import { isTenantAuthError } from "../../src/index.js";
import { CedarPolicyError, createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import type { Caller, Scenario } from "../support/scenario.js";
import { NAMESPACE, POLICIES, SCHEMA, SCHEMA_JSON, bucket, object, scenario } from "../support/scenario.js";

let s: Scenario;
let alice: Caller;
let gabe: Caller;
let dual: Caller;
let dualActingForAcme: Caller;

beforeAll(async () => {
  s = await scenario();
  alice = await s.caller("alice", ["tenant:acme"]);
  gabe = await s.caller("gabe", ["tenant:globex"]);
  dual = await s.caller("dana", ["tenant:acme", "tenant:globex"]);
  dualActingForAcme = await s.caller("dana", ["tenant:acme", "tenant:globex"], { tenantHint: "acme" });
});

describe("createCedarAuthorizer", () => {
  const authz = () => createCedarAuthorizer({ namespace: NAMESPACE, policies: POLICIES, schema: SCHEMA });

  it("lets each tenant read its own bucket, and only its own", async () => {
    const a = authz();
    await a.ready();
    const own = await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme") });
    expect(own).toEqual({ allowed: true, decision: "ALLOW", determiningPolicies: ["acme-reads-own-bucket"], errors: [] });
    const cross = await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("globex") });
    expect(cross).toEqual({ allowed: false, decision: "DENY", determiningPolicies: [], errors: [] });
    expect((await a.isAuthorized({ principal: gabe.principal, action: "ListBucket", resource: bucket("globex") })).allowed).toBe(true);
    expect((await a.isAuthorized({ principal: gabe.principal, action: "ListBucket", resource: bucket("initech") })).allowed).toBe(false);
  });

  it("a user in two tenants reads both buckets, unless the request acts for one tenant (tenantEntityType)", async () => {
    const a = authz();
    expect((await a.isAuthorized({ principal: dual.principal, action: "ReadObject", resource: object("acme") })).allowed).toBe(true);
    expect((await a.isAuthorized({ principal: dual.principal, action: "ReadObject", resource: object("globex") })).allowed).toBe(true);
    expect((await a.isAuthorized({ principal: dual.principal, action: "ReadObject", resource: object("initech") })).allowed).toBe(false);
    const t = createCedarAuthorizer({ namespace: NAMESPACE, policies: POLICIES, schema: SCHEMA, tenantEntityType: "Tenant" });
    expect(dualActingForAcme.principal.tenantId).toBe("acme");
    expect((await t.isAuthorized({ principal: dualActingForAcme.principal, action: "ReadObject", resource: object("acme") })).allowed).toBe(true);
    const other = await t.isAuthorized({ principal: dualActingForAcme.principal, action: "ReadObject", resource: object("globex") });
    expect(other).toMatchObject({ allowed: false, determiningPolicies: ["active-tenant-only"] });
  });

  it("accepts the schema as JSON, and policies as id → text", async () => {
    const a = createCedarAuthorizer({
      namespace: NAMESPACE,
      schema: SCHEMA_JSON,
      policies: { "acme-only": 'permit (principal in TenancyDemo::UserGroup::"us-east-1_TestPool|tenant:acme", action, resource);' },
    });
    await a.ready();
    expect(a.policyIds).toEqual(["acme-only"]);
    expect(await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("initech") })).toMatchObject({ allowed: true, determiningPolicies: ["acme-only"] });
  });

  it("names policies policy0, policy1, ... when they carry no @id", async () => {
    const a = createCedarAuthorizer({ namespace: "", policies: "forbid (principal, action, resource);\npermit (principal, action, resource);" });
    const d = await a.isAuthorized({ principal: alice.principal, action: "Read", resource: { type: "Doc", id: "1" } });
    expect(d).toEqual({ allowed: false, decision: "DENY", determiningPolicies: ["policy0"], errors: [] });
  });

  it("adds static entities to every request", async () => {
    const a = createCedarAuthorizer({
      namespace: NAMESPACE,
      policies: POLICIES,
      schema: SCHEMA,
      entities: [{ uid: { type: "TenancyDemo::Bucket", id: "acme-assets" }, attrs: {}, parents: [{ type: "TenancyDemo::Tenant", id: "acme" }] }],
    });
    // The object names only its bucket; the bucket's entity comes from `entities`.
    const d = await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: { type: "Object", id: "acme-assets/x", parents: [{ type: "Bucket", id: "acme-assets" }] } });
    expect(d.allowed).toBe(true);
  });

  it("creating is cheap and synchronous; nothing is parsed before ready() or the first decision", () => {
    const a = createCedarAuthorizer({ namespace: NAMESPACE, policies: "this is not cedar" });
    expect(a.policyIds).toEqual([]);
    return expect(a.ready()).rejects.toBeInstanceOf(CedarPolicyError);
  });
});

describe("invalid policies and schemas fail at start with the parser's message and location", () => {
  it("a syntax error names line and column", async () => {
    const err = await createCedarAuthorizer({ namespace: NAMESPACE, policies: "permit (principal, action, resource)\nwhen { principal.x == };" })
      .ready()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CedarPolicyError);
    expect((err as Error).message).toMatch(/^invalid Cedar policies: unexpected token `}`.* at 2:23/);
    expect((err as CedarPolicyError).details[0]).toMatchObject({ line: 2, column: 23 });
  });

  it("a policy that does not validate against the schema names the policy and the attribute", async () => {
    const err = await createCedarAuthorizer({
      namespace: NAMESPACE,
      schema: SCHEMA,
      policies: '@id("bad")\npermit (principal, action == TenancyDemo::Action::"ReadObject", resource)\nwhen { principal.department == "x" };',
    })
      .ready()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CedarPolicyError);
    expect((err as Error).message).toContain('policy "bad"');
    expect((err as Error).message).toContain("attribute `department`");
    expect((err as CedarPolicyError).details[0]).toMatchObject({ policyId: "bad", line: 3 });
  });

  it("an invalid schema", async () => {
    const err = await createCedarAuthorizer({ namespace: "X", schema: "namespace X { entity A = { a: Strin }; }", policies: "" })
      .ready()
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^invalid Cedar schema: failed to resolve type: Strin.* at 1:31/);
  });

  it("duplicate @id annotations", async () => {
    await expect(createCedarAuthorizer({ namespace: "", policies: '@id("a") permit (principal, action, resource);\n@id("a") forbid (principal, action, resource);' }).ready()).rejects.toThrow(
      /two policies have the id "a"/,
    );
  });

  it("without ready(), every decision fails closed with authorizer_unavailable (503)", async () => {
    const a = createCedarAuthorizer({ namespace: NAMESPACE, policies: "permit (principal, action, resource) when {" });
    const err = await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme") }).catch((e: unknown) => e);
    expect(isTenantAuthError(err) && err.code).toBe("authorizer_unavailable");
    expect((err as { status: number }).status).toBe(503);
    expect((err as Error).cause).toBeInstanceOf(CedarPolicyError);
  });
});

describe("evaluation errors never allow", () => {
  const erroringForbid = `
    @id("allow-all") permit (principal, action, resource);
    @id("forbid-unless-level") forbid (principal, action, resource) when { context.level < 3 };`;

  it("an ALLOW that came with errors is a DENY (a forbid that errored cannot let a permit through)", async () => {
    const a = createCedarAuthorizer({ namespace: "", policies: erroringForbid });
    const d = await a.isAuthorized({ principal: alice.principal, action: "Read", resource: { type: "Doc", id: "1" } });
    expect(d.allowed).toBe(false);
    expect(d.decision).toBe("DENY");
    expect(d.errors).toHaveLength(1);
    expect(d.errors[0]).toMatch(/^forbid-unless-level: /);
  });

  it("allowWithErrors keeps Cedar's semantics", async () => {
    const a = createCedarAuthorizer({ namespace: "", policies: erroringForbid, allowWithErrors: true });
    const d = await a.isAuthorized({ principal: alice.principal, action: "Read", resource: { type: "Doc", id: "1" } });
    expect(d).toMatchObject({ allowed: true, decision: "ALLOW", determiningPolicies: ["allow-all"] });
  });

  it("a request Cedar cannot evaluate rejects with authorizer_unavailable", async () => {
    const a = createCedarAuthorizer({ namespace: NAMESPACE, policies: POLICIES, schema: SCHEMA });
    // `undeclared` is not in the schema's context for ReadObject.
    const err = await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme"), context: { undeclared: 1 } }).catch((e: unknown) => e);
    expect(isTenantAuthError(err) && err.code).toBe("authorizer_unavailable");
    // The client's description is generic; Cedar's own message is kept in cause for the logs.
    expect((err as Error).message).toBe("The policy engine could not decide");
    expect(((err as Error).cause as Error).message).toContain("undeclared");
  });
});

describe("the mapping in action", () => {
  it("ID-token claims are principal attributes; undeclared claims are dropped under a schema", async () => {
    const withClaim = await s.caller("carol", ["tenant:acme"], { claims: { "custom:department": "finance" } });
    const a = createCedarAuthorizer({
      namespace: NAMESPACE,
      schema: SCHEMA,
      policies: `permit (principal, action == TenancyDemo::Action::"ReadObject", resource)
        when { principal has "custom:department" && principal["custom:department"] == "finance" &&
          principal has "cognito:username" && principal["cognito:username"] == "carol" };`,
    });
    expect((await a.isAuthorized({ principal: withClaim.principal, action: "ReadObject", resource: object("initech") })).allowed).toBe(true);
    expect((await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("initech") })).allowed).toBe(false);
  });

  it("access-token claims are context.token, scope a set", async () => {
    const m2m = await s.caller("svc", ["tenant:acme"], { tokenUse: "access", claims: { scope: "assets/read openid" } });
    const a = createCedarAuthorizer({
      namespace: NAMESPACE,
      schema: SCHEMA,
      policies: `permit (principal, action == TenancyDemo::Action::"ReadObject", resource)
        when { context has token && context.token has scope && context.token.scope.contains("assets/read") };`,
    });
    expect((await a.isAuthorized({ principal: m2m.principal, action: "ReadObject", resource: object("globex") })).allowed).toBe(true);
    expect((await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("globex") })).allowed).toBe(false);
  });
});
