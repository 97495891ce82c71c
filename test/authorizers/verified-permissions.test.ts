import { BatchIsAuthorizedCommand, IsAuthorizedCommand, VerifiedPermissions, VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Decision } from "../../src/index.js";
import { isTenantAuthError } from "../../src/index.js";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import type { VerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { startVerifiedPermissionsEmulator } from "../../src/testing/index.js";
import type { Caller, Scenario } from "../support/scenario.js";
import { NAMESPACE, POLICIES, SCHEMA, SCHEMA_JSON, matrix, object, scenario } from "../support/scenario.js";

let s: Scenario;
let emulator: VerifiedPermissionsEmulator;
let client: VerifiedPermissionsClient;
let callers: Caller[];
let alice: Caller;

const sdkClient = (endpoint: string) => new VerifiedPermissionsClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1 });

beforeAll(async () => {
  s = await scenario();
  emulator = await startVerifiedPermissionsEmulator({ policies: POLICIES, schema: SCHEMA, userPools: [s.issuer.userPool], namespace: NAMESPACE });
  client = sdkClient(emulator.endpoint);
  alice = await s.caller("alice", ["tenant:acme"]);
  callers = [
    alice,
    await s.caller("gabe", ["tenant:globex"]),
    await s.caller("ian", ["tenant:initech"]),
    await s.caller("dana", ["tenant:acme", "tenant:globex"]),
    await s.caller("dana-for-acme", ["tenant:acme", "tenant:globex"], { tenantHint: "acme" }),
    await s.caller("root", ["tenant:acme", "tenant:acme:admin"], { tenantHint: "acme" }),
    await s.caller("nobody", []),
    await s.caller("svc", ["tenant:initech"], { tokenUse: "access" }),
  ];
});

afterAll(async () => {
  client.destroy();
  await emulator.close();
});

afterEach(() => {
  emulator.setBehavior("ok");
  emulator.resetCalls();
});

function vp(extra: Partial<Parameters<typeof createVerifiedPermissionsAuthorizer>[0]> = {}) {
  // A generous timeout: a loaded CI machine must not turn a slow answer into a flaky failure.
  return createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, client, namespace: NAMESPACE, schema: SCHEMA_JSON, timeoutMs: 10_000, ...extra });
}

const strip = (d: Decision) => ({ allowed: d.allowed, decision: d.decision, determiningPolicies: [...d.determiningPolicies].sort(), errors: d.errors });

describe("the same decisions locally and through the real SDK + emulator", () => {
  for (const tenantEntityType of [undefined, "Tenant"] as const) {
    // With tenants as entities, withToken sends no group-typed entities (the service refuses them
    // beside a token): the tenant travels as its own entity and in context.tenant.
    it(`every seed scenario${tenantEntityType ? " (tenants as entities)" : ""}: local Cedar = IsAuthorized = IsAuthorizedWithToken`, async () => {
      const o = tenantEntityType ? { tenantEntityType } : {};
      const local = createCedarAuthorizer({ namespace: NAMESPACE, policies: POLICIES, schema: SCHEMA, ...o });
      const remote = vp({ batch: false, cache: false, ...o });
      const withToken = vp({ batch: false, cache: false, mode: "withToken", ...o });
      const cases = matrix(callers);
      const results: Record<string, unknown> = {};
      for (const { label, request } of cases) {
        const [l, r, t] = [await local.isAuthorized(request), await remote.isAuthorized(request), await withToken.isAuthorized(request)];
        expect(strip(r), label).toEqual(strip(l));
        expect(strip(t), label).toEqual(strip(l));
        results[label] = l.allowed;
      }
      expect(emulator.calls.IsAuthorized).toBe(cases.length);
      expect(emulator.calls.IsAuthorizedWithToken).toBe(cases.length);
      // The seed's expectations.
      expect(results["alice ReadObject acme"]).toBe(true);
      expect(results["alice ReadObject globex"]).toBe(false);
      expect(results["alice ListBucket initech"]).toBe(false);
      expect(results["gabe ReadObject globex"]).toBe(true);
      expect(results["ian ListBucket initech"]).toBe(true);
      expect(results["ian ReadObject acme"]).toBe(false);
      expect(results["dana ReadObject acme"]).toBe(true);
      expect(results["dana ReadObject globex"]).toBe(true);
      expect(results["dana ReadObject initech"]).toBe(false);
      expect(results["dana-for-acme ReadObject globex"]).toBe(!tenantEntityType);
      expect(results["root WriteObject acme"]).toBe(true);
      expect(results["alice WriteObject acme"]).toBe(false);
      expect(results["nobody ReadObject acme"]).toBe(false);
      expect(results["svc ReadObject initech"]).toBe(true);
    });
  }
});

describe("batching", () => {
  it("by default every decision is one IsAuthorized call, never a batch (a batch costs what 30 single calls cost)", async () => {
    const a = vp({ cache: false });
    const ds = await Promise.all(Array.from({ length: 4 }, (_, i) => a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object(i % 2 ? "acme" : "globex", `d${i}`) })));
    expect(ds.map((d) => d.allowed)).toEqual([false, true, false, true]);
    expect(emulator.calls.IsAuthorized).toBe(4);
    expect(emulator.calls.BatchIsAuthorized).toBe(0);
  });

  it("batch: true sends only full batches; what is left over goes as single calls", async () => {
    const a = vp({ cache: false, batch: true });
    const ds = await Promise.all(Array.from({ length: 45 }, (_, i) => a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object(i % 2 ? "acme" : "globex", `f${i}`) })));
    expect(ds.map((d) => d.allowed)).toEqual(Array.from({ length: 45 }, (_, i) => i % 2 === 1));
    expect(emulator.calls.BatchIsAuthorized).toBe(1);
    expect(emulator.calls.IsAuthorized).toBe(15);
    expect(emulator.decisionCount).toBe(45);
  });

  it("60 concurrent decisions for one principal go out as 2 BatchIsAuthorized calls", async () => {
    const a = vp({ cache: false, batch: true });
    const requests = Array.from({ length: 60 }, (_, i) => ({ principal: alice.principal, action: "ReadObject", resource: object(i % 2 ? "acme" : "globex", `file-${i}`) }));
    const decisions = await Promise.all(requests.map((r) => a.isAuthorized(r)));
    expect(decisions.map((d) => d.allowed)).toEqual(requests.map((_, i) => i % 2 === 1));
    expect(emulator.calls.BatchIsAuthorized).toBe(2);
    expect(emulator.calls.IsAuthorized).toBe(0);
    expect(emulator.decisionCount).toBe(60);
  });

  it("decisions for several principals batch per principal", async () => {
    const a = vp({ cache: false, batch: { minSize: 2 } });
    const reqs = callers.slice(0, 3).flatMap((c) => Array.from({ length: 10 }, (_, i) => ({ principal: c.principal, action: "ReadObject", resource: object("acme", `f${i}`) })));
    await Promise.all(reqs.map((r) => a.isAuthorized(r)));
    expect(emulator.calls.BatchIsAuthorized).toBe(3);
  });

  it("a window collects decisions that arrive over time", async () => {
    const a = vp({ cache: false, batch: { windowMs: 50, minSize: 2 } });
    const first = a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme", "a") });
    await new Promise((r) => setTimeout(r, 5));
    const second = a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme", "b") });
    await Promise.all([first, second]);
    expect(emulator.calls.BatchIsAuthorized).toBe(1);
  });

  it("withToken batches into BatchIsAuthorizedWithToken", async () => {
    const a = vp({ cache: false, mode: "withToken", batch: { minSize: 2 } });
    const ds = await Promise.all(Array.from({ length: 45 }, (_, i) => a.isAuthorized({ principal: alice.principal, token: alice.token, action: "ReadObject", resource: object("acme", `f${i}`) })));
    expect(ds.every((d) => d.allowed)).toBe(true);
    expect(emulator.calls.BatchIsAuthorizedWithToken).toBe(2);
  });

  it("batch: false sends one IsAuthorized per decision", async () => {
    const a = vp({ cache: false, batch: false });
    await Promise.all(Array.from({ length: 5 }, (_, i) => a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme", `f${i}`) })));
    expect(emulator.calls.IsAuthorized).toBe(5);
    expect(emulator.calls.BatchIsAuthorized).toBe(0);
  });

  it("identical concurrent decisions share one request", async () => {
    const a = vp({ cache: false });
    const r = { principal: alice.principal, action: "ReadObject", resource: object("acme") };
    await Promise.all([a.isAuthorized(r), a.isAuthorized(r), a.isAuthorized(r)]);
    expect(emulator.callCount).toBe(1);
    expect(emulator.decisionCount).toBe(1);
  });
});

describe("decision cache", () => {
  it("a cache hit makes no call", async () => {
    const a = vp();
    const r = { principal: alice.principal, action: "ReadObject", resource: object("acme") };
    const first = await a.isAuthorized(r);
    expect(emulator.callCount).toBe(1);
    const again = await a.isAuthorized(r);
    expect(again).toEqual(first);
    expect(emulator.callCount).toBe(1);
    expect(a.cacheSize).toBe(1);
  });

  it("the key covers principal, groups, action, resource and context; never shared across principals", async () => {
    const a = vp();
    const other = await s.caller("alice", ["tenant:globex"]); // same sub as alice, other groups
    await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme") });
    await a.isAuthorized({ principal: other.principal, action: "ReadObject", resource: object("acme") });
    await a.isAuthorized({ principal: callers[1]!.principal, action: "ReadObject", resource: object("acme") });
    await a.isAuthorized({ principal: alice.principal, action: "ListBucket", resource: object("acme") }).catch(() => undefined);
    await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme", "other") });
    await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: { ...object("acme"), parents: [{ type: "Bucket", id: "globex-assets" }] } });
    await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme"), context: { tenant: { __entity: { type: "TenancyDemo::Tenant", id: "acme" } } } });
    expect(emulator.callCount).toBe(7);
    const d = await a.isAuthorized({ principal: other.principal, action: "ReadObject", resource: object("acme") });
    expect(d.allowed).toBe(false);
    expect(emulator.callCount).toBe(7);
  });

  it("with the schema, a new token of the same user hits the cache (volatile claims are not in the key)", async () => {
    const a = vp();
    const again = await s.caller("alice", ["tenant:acme"]); // new jti, iat, ...
    await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme") });
    await a.isAuthorized({ principal: again.principal, action: "ReadObject", resource: object("acme") });
    expect(emulator.callCount).toBe(1);
  });

  it("entries expire after ttlMs, and never outlive the token", async () => {
    const a = vp({ cache: { ttlMs: 1 } });
    const r = { principal: alice.principal, action: "ReadObject", resource: object("acme") };
    await a.isAuthorized(r);
    await new Promise((res) => setTimeout(res, 10));
    await a.isAuthorized(r);
    expect(emulator.callCount).toBe(2);
    const b = vp();
    const shortLived = await s.caller("zed", ["tenant:acme"]);
    const expiring = { ...shortLived.principal, expiresAt: new Date(Date.now() + 5) };
    await b.isAuthorized({ principal: expiring, action: "ReadObject", resource: object("acme") });
    await new Promise((res) => setTimeout(res, 15));
    await b.isAuthorized({ principal: expiring, action: "ReadObject", resource: object("acme") });
    expect(emulator.callCount).toBe(4);
  });

  it("is bounded by maxEntries; cache: false and clearCache() make every decision a call", async () => {
    const a = vp({ cache: { maxEntries: 2 } });
    for (const k of ["a", "b", "c"]) await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme", k) });
    expect(a.cacheSize).toBe(2);
    a.clearCache();
    expect(a.cacheSize).toBe(0);
    const off = vp({ cache: false });
    const r = { principal: alice.principal, action: "ReadObject", resource: object("acme") };
    emulator.resetCalls();
    await off.isAuthorized(r);
    await off.isAuthorized(r);
    expect(emulator.callCount).toBe(2);
  });
});

describe("fail closed", () => {
  const r = () => ({ principal: alice.principal, action: "ReadObject" as const, resource: object("acme") });
  async function expectUnavailable(p: Promise<unknown>): Promise<TypeError | Error> {
    const err = await p.then(
      () => {
        throw new Error("expected a rejection, got a decision");
      },
      (e: unknown) => e as Error,
    );
    expect(isTenantAuthError(err) && err.code).toBe("authorizer_unavailable");
    expect((err as { status?: number }).status).toBe(503);
    return err;
  }

  it("a hanging endpoint denies with authorizer_unavailable within the timeout", async () => {
    emulator.setBehavior("hang");
    const a = vp({ timeoutMs: 150 });
    await expectUnavailable(a.isAuthorized(r()));
    // A batch too.
    await Promise.all(Array.from({ length: 5 }, (_, i) => expectUnavailable(a.isAuthorized({ ...r(), resource: object("acme", `h${i}`) }))));
  });

  it("a failing endpoint (500) denies", async () => {
    emulator.setBehavior("error");
    await expectUnavailable(vp().isAuthorized(r()));
  });

  it("an endpoint nobody listens on denies", async () => {
    const dead = await startVerifiedPermissionsEmulator({ policies: POLICIES });
    const endpoint = dead.endpoint;
    await dead.close();
    const c = sdkClient(endpoint);
    await expectUnavailable(createVerifiedPermissionsAuthorizer({ policyStoreId: "x", client: c, namespace: NAMESPACE, timeoutMs: 2000 }).isAuthorized(r()));
    c.destroy();
  });

  it("an unknown policy store (ResourceNotFoundException) denies", async () => {
    const err = await expectUnavailable(vp({ policyStoreId: "PSnope" }).isAuthorized(r()));
    // The store check at first use finds it: the cause names it, the SDK's error is its cause.
    expect((err.cause as Error).message).toMatch(/"PSnope".*ResourceNotFoundException/);
    expect(((err.cause as Error).cause as Error).name).toBe("ResourceNotFoundException");
  });

  it("throttling is retried with backoff inside the timeout", async () => {
    emulator.setBehavior("throttle", { times: 2 });
    const d = await vp({ retry: { baseDelayMs: 5 } }).isAuthorized(r());
    expect(d.allowed).toBe(true);
    expect(emulator.callCount).toBe(3);
  });

  it("throttling that outlasts the retries denies", async () => {
    emulator.setBehavior("throttle");
    const err = await expectUnavailable(vp({ retry: { maxAttempts: 3, baseDelayMs: 1 } }).isAuthorized(r()));
    expect((err.cause as Error).name).toBe("ThrottlingException");
    expect(emulator.callCount).toBe(3);
  });

  it("nothing is cached from a failure", async () => {
    emulator.setBehavior("error", { times: 1 });
    const a = vp({ retry: { maxAttempts: 1 } });
    await expectUnavailable(a.isAuthorized(r()));
    expect((await a.isAuthorized(r())).allowed).toBe(true);
  });

  it('mode "withToken" takes the token resolveTenant verified for the principal; without one it denies', async () => {
    // A principal resolveTenant serves once a withToken authorizer exists brings its token along.
    const a = vp({ mode: "withToken", cache: false });
    const served = await s.auth.resolveTenant(alice.token);
    expect(served).toBe(alice.principal); // the cached principal, now mapped to its token
    emulator.resetCalls();
    expect((await a.isAuthorized({ ...r(), principal: served })).decision).toBe("ALLOW");
    expect(emulator.calls.IsAuthorizedWithToken).toBe(1);
    expect(emulator.callCount).toBe(1);
    // A principal built from claims (nothing verified a token for it here) has none.
    const { principalFromClaims } = await import("../../src/index.js");
    const fromClaims = await principalFromClaims({ ...alice.principal.claims });
    emulator.resetCalls();
    const err = await expectUnavailable(vp({ mode: "withToken" }).isAuthorized({ ...r(), principal: fromClaims }));
    expect(err.message).toBe("The policy engine could not decide");
    expect((err.cause as Error).message).toMatch(/withToken/);
    expect(emulator.callCount).toBe(0);
  });

  it("mode withToken refuses a request.token that is not the principal's", async () => {
    const bob = await s.caller("bob", ["tenant:globex"]);
    const a = vp({ mode: "withToken" });
    const served = await s.auth.resolveTenant(alice.token); // remembered: compared as strings
    const { principalFromClaims } = await import("../../src/index.js");
    const fromClaims = await principalFromClaims({ ...alice.principal.claims }); // not: decoded
    emulator.resetCalls();
    for (const principal of [served, fromClaims]) {
      const err = await expectUnavailable(a.isAuthorized({ ...r(), principal, token: bob.token }));
      expect((err.cause as Error).message).toMatch(/not the token of/);
    }
    // Another token of alice's own (a refresh) is not the one this principal was verified from.
    const refreshed = await s.issuer.idToken({ sub: "sub-alice", username: "alice", groups: ["tenant:acme"] });
    await expectUnavailable(a.isAuthorized({ ...r(), principal: served, token: refreshed }));
    expect(emulator.callCount).toBe(0);
  });

  it("a token the identity source refuses denies", async () => {
    // Same sub and iss as alice, a foreign signature: it reaches the service, which refuses it.
    // (A principal without a remembered token, so the local same-token check cannot stop it first.)
    const { principalFromClaims } = await import("../../src/index.js");
    const fromClaims = await principalFromClaims({ ...alice.principal.claims });
    const foreign = await s.issuer.idToken({ sub: "sub-alice", groups: ["tenant:acme"], signWith: "foreign" });
    const err = await expectUnavailable(vp({ mode: "withToken" }).isAuthorized({ ...r(), principal: fromClaims, token: foreign }));
    expect((err.cause as Error).name).toBe("ValidationException");
  });
});

describe("configuration", () => {
  it("Cedar schema text instead of JSON is a TypeError that says what to give", () => {
    expect(() => vp({ schema: SCHEMA })).toThrow(/schema must be the store's schema as JSON/);
    expect(() => vp({ schema: JSON.stringify(SCHEMA_JSON) })).not.toThrow();
  });
});

describe("clients", () => {
  it("loads the SDK lazily and makes a client from region and clientConfig", async () => {
    const a = createVerifiedPermissionsAuthorizer({
      policyStoreId: emulator.policyStoreId,
      namespace: NAMESPACE,
      schema: SCHEMA_JSON,
      region: "us-east-1",
      clientConfig: { endpoint: emulator.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } },
    });
    expect((await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme") })).allowed).toBe(true);
    expect(emulator.calls.IsAuthorized).toBe(1);
  });

  it("accepts the aggregated VerifiedPermissions client", async () => {
    const agg = new VerifiedPermissions({ endpoint: emulator.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    const a = createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, client: agg, namespace: NAMESPACE, schema: SCHEMA_JSON, batch: { minSize: 2 } });
    const ds = await Promise.all([object("acme", "1"), object("globex", "2")].map((resource) => a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource })));
    expect(ds.map((d) => d.allowed)).toEqual([true, false]);
    expect(emulator.calls.BatchIsAuthorized).toBe(1);
    agg.destroy();
  });

  it("the SDK's own commands work against the emulator", async () => {
    const out = await client.send(
      new IsAuthorizedCommand({
        policyStoreId: emulator.policyStoreId,
        principal: { entityType: "TenancyDemo::User", entityId: "us-east-1_TestPool|sub-alice" },
        action: { actionType: "TenancyDemo::Action", actionId: "ReadObject" },
        resource: { entityType: "TenancyDemo::Object", entityId: "acme-assets/x" },
        entities: {
          entityList: [
            {
              identifier: { entityType: "TenancyDemo::User", entityId: "us-east-1_TestPool|sub-alice" },
              parents: [{ entityType: "TenancyDemo::UserGroup", entityId: "us-east-1_TestPool|tenant:acme" }],
            },
            { identifier: { entityType: "TenancyDemo::Object", entityId: "acme-assets/x" }, parents: [{ entityType: "TenancyDemo::Bucket", entityId: "acme-assets" }] },
          ],
        },
      }),
    );
    expect(out.decision).toBe("ALLOW");
    expect(out.determiningPolicies).toEqual([{ policyId: "acme-reads-own-bucket" }]);
    const err = await client.send(new BatchIsAuthorizedCommand({ policyStoreId: emulator.policyStoreId, requests: [] })).catch((e: unknown) => e as Error & { $metadata: { httpStatusCode: number } });
    expect(err).toMatchObject({ name: "ValidationException", $metadata: { httpStatusCode: 400 } });
  });
});
