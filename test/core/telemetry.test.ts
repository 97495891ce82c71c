/**
 * OpenTelemetry spans through the real SDK's in-memory exporter: what is recorded, and that no
 * token text or claim value other than ids reaches a span.
 */
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import { startTelemetry, tracing } from "../../src/core/telemetry.js";
import { createTestIssuer, startVerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import { NAMESPACE, POLICIES, SCHEMA, SCHEMA_JSON, bucket, scenario } from "../support/scenario.js";
import type { JwksServer, TestIssuer } from "../../src/testing/index.js";

const exporter = new InMemorySpanExporter();
let issuer: TestIssuer;
let server: JwksServer & { readonly userPool: Parameters<typeof createTenantAuth>[0]["userPools"][number] };

beforeAll(async () => {
  await startTelemetry();
  expect(tracing.on).toBe(false); // the API alone, no SDK: no spans, not even no-op ones
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  expect(tracing.on).toBe(true);
  issuer = await createTestIssuer();
  server = await issuer.listen();
});
afterAll(async () => {
  await server.close();
  trace.disable();
});
beforeEach(() => exporter.reset());

const spans = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);

/** Every attribute value and status message of every finished span, as text. */
function recorded(): string {
  return JSON.stringify(exporter.getFinishedSpans().map((s) => ({ a: s.attributes, st: s.status, n: s.name, e: s.events })));
}

describe("spans", () => {
  it("a first token: resolve_tenant with verify and jwks_fetch; a repeat: a cache hit with no verify", async () => {
    const auth = createTenantAuth({ userPools: [server.userPool] });
    const token = await issuer.idToken({ username: "alice", groups: ["tenant:acme:admin"], claims: { email: "alice@acme.example" } });
    await auth.resolveTenant(`Bearer ${token}`);

    const [resolve] = spans("cognito_tenancy.resolve_tenant");
    expect(resolve?.attributes).toMatchObject({
      "cognito_tenancy.cache_hit": false,
      "cognito_tenancy.user_pool_id": issuer.userPoolId,
      "cognito_tenancy.token_use": "id",
      "cognito_tenancy.tenant_id": "acme",
    });
    const [verify] = spans("cognito_tenancy.verify");
    expect(verify?.attributes).toMatchObject({ "cognito_tenancy.keys_fetched": true, "cognito_tenancy.user_pool_id": issuer.userPoolId });
    expect(verify?.parentSpanContext?.spanId).toBe(resolve?.spanContext().spanId);
    const [fetch] = spans("cognito_tenancy.jwks_fetch");
    expect(fetch?.attributes).toMatchObject({ "url.full": server.jwksUri, "cognito_tenancy.keys": 1 });

    exporter.reset();
    await auth.resolveTenant(`Bearer ${token}`);
    expect(spans("cognito_tenancy.resolve_tenant")[0]?.attributes["cognito_tenancy.cache_hit"]).toBe(true);
    expect(spans("cognito_tenancy.verify")).toEqual([]);

    const text = recorded();
    for (const secret of [token, token.split(".")[1]!, token.split(".")[2]!, "alice", "alice@acme.example", "tenant:acme:admin"]) {
      expect(text).not.toContain(secret);
    }
  });

  it("a refusal: the span ends in error with the code only, never the unverified text", async () => {
    const auth = createTenantAuth({ userPools: [server.userPool] });
    const forgedIss = `https://evil.example/${"x".repeat(200)}`;
    await expect(auth.resolveTenant(await issuer.idToken({ claims: { iss: forgedIss } }))).rejects.toMatchObject({ code: "token_invalid" });
    await expect(auth.resolveTenant(await issuer.idToken({ expiresIn: -60 }))).rejects.toMatchObject({ code: "token_expired" });
    const resolves = spans("cognito_tenancy.resolve_tenant");
    expect(resolves.map((s) => [s.attributes["error.type"], s.status])).toEqual([
      ["token_invalid", { code: 2, message: "token_invalid" }],
      ["token_expired", { code: 2, message: "token_expired" }],
    ]);
    expect(recorded()).not.toContain("evil.example");
  });

  it("a JWKS endpoint that fails: a jwks_fetch span in error", async () => {
    const other = await createTestIssuer();
    const failing = await other.listen();
    try {
      failing.setBehavior("error");
      const auth = createTenantAuth({ userPools: [failing.userPool] });
      await expect(auth.resolveTenant(await other.idToken())).rejects.toMatchObject({ code: "jwks_unavailable" });
      expect(spans("cognito_tenancy.jwks_fetch").map((s) => s.attributes["error.type"])).toEqual(["jwks_unavailable"]);
    } finally {
      await failing.close();
    }
  });
});

describe("authorization spans", () => {
  it("local Cedar and Verified Permissions: engine, action, resource type, tenant, decision, cache hit", async () => {
    const s = await scenario();
    const alice = await s.caller("alice", ["tenant:acme"], { claims: { email: "alice@acme.example" } });
    const cedar = createCedarAuthorizer({ policies: POLICIES, schema: SCHEMA, namespace: NAMESPACE });
    const emulator = await startVerifiedPermissionsEmulator({ policies: POLICIES, schema: SCHEMA, namespace: NAMESPACE });
    try {
      const vp = createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, namespace: NAMESPACE, schema: SCHEMA_JSON, timeoutMs: 10_000, clientConfig: emulator.clientConfig });
      exporter.reset();
      const request = { principal: alice.principal, action: "ListBucket", resource: bucket("acme") };
      expect((await cedar.isAuthorized(request)).decision).toBe("ALLOW");
      expect((await vp.isAuthorized({ ...request, resource: bucket("globex") })).decision).toBe("DENY");
      expect((await vp.isAuthorized({ ...request, resource: bucket("globex") })).decision).toBe("DENY");
      const authorize = spans("cognito_tenancy.authorize").map((span) => span.attributes);
      expect(authorize).toEqual([
        expect.objectContaining({
          "cognito_tenancy.engine": "cedar",
          "cognito_tenancy.action": "ListBucket",
          "cognito_tenancy.resource_type": "Bucket",
          "cognito_tenancy.tenant_id": "acme",
          "cognito_tenancy.decision": "ALLOW",
          "cognito_tenancy.determining_policies": 1,
        }),
        expect.objectContaining({ "cognito_tenancy.engine": "verified-permissions", "cognito_tenancy.decision": "DENY", "cognito_tenancy.determining_policies": 0 }),
        expect.objectContaining({ "cognito_tenancy.engine": "verified-permissions", "cognito_tenancy.decision": "DENY", "cognito_tenancy.cache_hit": true }),
      ]);
      expect(authorize[1]).not.toHaveProperty("cognito_tenancy.cache_hit");

      emulator.setBehavior("error");
      await expect(vp.isAuthorized({ ...request, resource: bucket("initech") })).rejects.toMatchObject({ code: "authorizer_unavailable" });
      expect(spans("cognito_tenancy.authorize").at(-1)?.attributes["error.type"]).toBe("authorizer_unavailable");
      expect(recorded()).not.toContain("alice");
    } finally {
      await emulator.close();
    }
  });
});
