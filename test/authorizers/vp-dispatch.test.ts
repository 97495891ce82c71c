// Verified Permissions dispatch through the real SDK client and the emulator: retries of what the
// service model marks retryable, what token mode sends beside the token, and the decision cache
// across token refreshes.
import { VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Decision } from "../../src/index.js";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import type { VerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { startVerifiedPermissionsEmulator } from "../../src/testing/index.js";
import type { Scenario } from "../support/scenario.js";
import { NAMESPACE, POLICIES, SCHEMA, SCHEMA_JSON, matrix, object, scenario } from "../support/scenario.js";

let s: Scenario;
let emulator: VerifiedPermissionsEmulator;
let client: VerifiedPermissionsClient;
/** Every input the SDK client was asked to send, with its operation. */
const sent: { operation: string; input: Record<string, unknown> }[] = [];

beforeAll(async () => {
  s = await scenario();
  emulator = await startVerifiedPermissionsEmulator({ policies: POLICIES, schema: SCHEMA, userPools: [s.issuer.userPool], namespace: NAMESPACE });
  client = new VerifiedPermissionsClient({ ...emulator.clientConfig, maxAttempts: 1 });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ operation: String(context.commandName).replace(/Command$/, ""), input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: "initialize", name: "recordInputs" },
  );
});

afterAll(async () => {
  client.destroy();
  await emulator.close();
});

afterEach(() => {
  emulator.setBehavior("ok");
  emulator.resetCalls();
  sent.length = 0;
});

const vp = (extra: Partial<Parameters<typeof createVerifiedPermissionsAuthorizer>[0]> = {}) =>
  createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, client, namespace: NAMESPACE, schema: SCHEMA_JSON, timeoutMs: 10_000, ...extra });

describe("InternalServerException is retried (the service model marks it retryable)", () => {
  it("a 500 InternalServerException once, then an answer: the decision, not a 503", async () => {
    const alice = await s.caller("alice", ["tenant:acme"]);
    emulator.setBehavior("error", { times: 1 });
    const d = await vp({ retry: { baseDelayMs: 1 } }).isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme") });
    expect(d.allowed).toBe(true);
    expect(emulator.calls.IsAuthorized).toBe(2);
  });

  it("batched too", async () => {
    const alice = await s.caller("alice", ["tenant:acme"]);
    emulator.setBehavior("error", { times: 1 });
    const a = vp({ retry: { baseDelayMs: 1 }, batch: { minSize: 2 } });
    const ds = await Promise.all(["acme", "globex"].map((t) => a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object(t) })));
    expect(ds.map((d) => d.allowed)).toEqual([true, false]);
    expect(emulator.calls.BatchIsAuthorized).toBe(2);
  });
});

describe('mode "withToken" sends no entity of the group type beside the token', () => {
  const strip = (d: Decision) => ({ allowed: d.allowed, decision: d.decision, determiningPolicies: [...d.determiningPolicies].sort(), errors: d.errors });
  const groupTyped = () =>
    sent
      .filter((c) => c.operation.endsWith("WithToken"))
      .flatMap((c) => (c.input["entities"] as { entityList?: { identifier: { entityType: string } }[] } | undefined)?.entityList ?? [])
      .filter((e) => e.identifier.entityType === `${NAMESPACE}::UserGroup`);

  for (const batched of [false, true]) {
    it(`the demo's scenario with tenants as entities: the same decisions locally, with entities and with the token${batched ? " (batched)" : ""}`, async () => {
      const callers = [
        await s.caller("alice", ["tenant:acme"]),
        await s.caller("dana", ["tenant:acme", "tenant:globex"]),
        await s.caller("dana-for-acme", ["tenant:acme", "tenant:globex"], { tenantHint: "acme" }),
        await s.caller("root", ["tenant:acme", "tenant:acme:admin"], { tenantHint: "acme" }),
        await s.caller("svc", ["tenant:initech"], { tokenUse: "access" }),
        await s.caller("nobody", []),
      ];
      const o = { tenantEntityType: "Tenant", cache: false as const, ...(batched ? { batch: { minSize: 2 } } : {}) };
      const local = createCedarAuthorizer({ namespace: NAMESPACE, policies: POLICIES, schema: SCHEMA, tenantEntityType: "Tenant" });
      const entities = vp(o);
      const withToken = vp({ ...o, mode: "withToken" });
      const cases = matrix(callers);
      const expected = await Promise.all(cases.map((c) => local.isAuthorized(c.request)));
      const [viaEntities, viaToken] = await Promise.all([Promise.all(cases.map((c) => entities.isAuthorized(c.request))), Promise.all(cases.map((c) => withToken.isAuthorized(c.request)))]);
      cases.forEach((c, i) => {
        expect(strip(viaEntities[i]!), c.label).toEqual(strip(expected[i]!));
        expect(strip(viaToken[i]!), c.label).toEqual(strip(expected[i]!));
      });
      expect(expected.some((d) => d.allowed) && expected.some((d) => !d.allowed)).toBe(true);
      // The active-tenant rule decides: dana acting for acme may not read globex's bucket.
      expect(expected[cases.findIndex((c) => c.label === "dana-for-acme ReadObject globex")]!.allowed).toBe(false);
      expect(sent.some((c) => c.operation.endsWith("WithToken"))).toBe(true);
      expect(groupTyped()).toEqual([]);
      // Tenants still go, as entities of their own type.
      const tenantTyped = sent
        .filter((c) => c.operation.endsWith("WithToken"))
        .flatMap((c) => (c.input["entities"] as { entityList?: { identifier: { entityType: string } }[] } | undefined)?.entityList ?? [])
        .filter((e) => e.identifier.entityType === `${NAMESPACE}::Tenant`);
      expect(tenantTyped.length).toBeGreaterThan(0);
    });
  }

  it("an entity of the group type in request.entities is refused (503) rather than sent", async () => {
    const alice = await s.caller("alice", ["tenant:acme"]);
    const a = vp({ mode: "withToken", cache: false });
    const err = await a
      .isAuthorized({
        principal: alice.principal,
        token: alice.token,
        action: "ReadObject",
        resource: object("acme"),
        entities: [{ uid: { type: `${NAMESPACE}::UserGroup`, id: "x" }, attrs: {}, parents: [] }],
      })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string; cause?: Error },
      );
    expect(err?.code).toBe("authorizer_unavailable");
    expect(err?.cause?.message).toMatch(/group type/);
    expect(sent.filter((c) => c.operation.includes("IsAuthorized"))).toEqual([]);
  });

  it("an entity of the group type in the entities option is a TypeError at setup", () => {
    expect(() => vp({ mode: "withToken", entities: [{ uid: { type: `${NAMESPACE}::UserGroup`, id: "x" }, attrs: {}, parents: [] }] })).toThrow(/group type/);
    expect(() => vp({ entities: [{ uid: { type: `${NAMESPACE}::UserGroup`, id: "x" }, attrs: {}, parents: [] }] })).not.toThrow();
  });
});

describe("the decision cache across token refreshes (with a schema)", () => {
  const resource = object("acme");
  // Two tokens of one user that differ only in what a refresh changes: iat, exp, auth_time, jti,
  // origin_jti, event_id (the issuer draws new ones for every token).
  async function refreshPair(name: string, tokenUse: "id" | "access", firstExpiresInS = 3600) {
    const mint = tokenUse === "id" ? s.issuer.idToken : s.issuer.accessToken;
    const now = Math.floor(Date.now() / 1000);
    const o = { sub: `sub-${name}`, username: name, groups: ["tenant:acme"] };
    const first = await mint({ ...o, issuedAt: now - 3600 + firstExpiresInS, expiresIn: 3600, claims: { auth_time: now - 7200 } });
    const second = await mint({ ...o, issuedAt: now, expiresIn: 3600, claims: { auth_time: now - 60 } });
    return { first, second };
  }

  for (const mode of ["entities", "withToken"] as const) {
    for (const tokenUse of ["id", "access"] as const) {
      it(`${tokenUse} tokens, mode ${mode}: the refreshed token finds the decision (one call)`, async () => {
        const { first, second } = await refreshPair(`refresh-${mode}-${tokenUse}`, tokenUse);
        const a = vp({ mode });
        const p1 = await s.auth.resolveTenant(first);
        const p2 = await s.auth.resolveTenant(second);
        expect(p1.claims["jti"] ?? p1.claims["origin_jti"]).not.toEqual(p2.claims["jti"] ?? p2.claims["origin_jti"]);
        expect((await a.isAuthorized({ principal: p1, action: "ReadObject", resource })).allowed).toBe(true);
        expect((await a.isAuthorized({ principal: p2, action: "ReadObject", resource })).allowed).toBe(true);
        expect(emulator.callCount).toBe(1);
      });
    }
  }

  it("a refresh that comes after the old token expired still finds the decision; the expired principal itself is never served from the cache", async () => {
    // The old token expires a second from now: the usual moment a client refreshes.
    const { first } = await refreshPair("refresh-late", "id", 1);
    const a = vp();
    const p1 = await s.auth.resolveTenant(first);
    await a.isAuthorized({ principal: p1, action: "ReadObject", resource });
    while (Date.now() <= p1.expiresAt.getTime()) await new Promise((r) => setTimeout(r, 100));
    const { second } = await refreshPair("refresh-late", "id");
    const p2 = await s.auth.resolveTenant(second);
    expect((await a.isAuthorized({ principal: p2, action: "ReadObject", resource })).allowed).toBe(true);
    expect(emulator.callCount).toBe(1);
    await a.isAuthorized({ principal: p1, action: "ReadObject", resource });
    expect(emulator.callCount).toBe(2);
  });

  it("without a schema every claim can be read by a policy: a refreshed token is a new key", async () => {
    const { first, second } = await refreshPair("refresh-noschema", "id");
    const a = createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, client, namespace: NAMESPACE, timeoutMs: 10_000 });
    await a.isAuthorized({ principal: await s.auth.resolveTenant(first), action: "ReadObject", resource }).catch(() => undefined);
    await a.isAuthorized({ principal: await s.auth.resolveTenant(second), action: "ReadObject", resource }).catch(() => undefined);
    expect(emulator.callCount).toBe(2);
  });
});
