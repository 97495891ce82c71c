// A policy store per tenant: the authorizer picks the store per principal (id, alias or function),
// against the emulator holding two stores with different policies behind one endpoint, through the
// real SDK client.
import { VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isTenantAuthError } from "../../src/index.js";
import type { TenantPrincipal } from "../../src/index.js";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import type { VerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { startVerifiedPermissionsEmulator } from "../../src/testing/index.js";
import type { Caller, Scenario } from "../support/scenario.js";
import { NAMESPACE, POLICIES, SCHEMA, SCHEMA_JSON, object, scenario } from "../support/scenario.js";

const GLOBEX_STORE = "PSGLOBEX00000000000001";
// The globex store's policies differ from the seed's: any member of any tenant may read anything.
const GLOBEX_POLICIES = `@id("globex-reads-all") permit (principal, action == ${NAMESPACE}::Action::"ReadObject", resource);`;

let s: Scenario;
let emulator: VerifiedPermissionsEmulator;
let globex: VerifiedPermissionsEmulator;
let client: VerifiedPermissionsClient;
let alice: Caller;
let gabe: Caller;

beforeAll(async () => {
  s = await scenario();
  emulator = await startVerifiedPermissionsEmulator({
    policies: POLICIES,
    schema: SCHEMA,
    userPools: [s.issuer.userPool],
    namespace: NAMESPACE,
    aliases: ["policy-store-alias/acme"],
    stores: [{ policyStoreId: GLOBEX_STORE, policies: GLOBEX_POLICIES, schema: SCHEMA, aliases: ["policy-store-alias/globex"] }],
  });
  globex = emulator.stores[GLOBEX_STORE]!;
  client = new VerifiedPermissionsClient({ ...emulator.clientConfig, maxAttempts: 1 });
  alice = await s.caller("alice", ["tenant:acme"]);
  gabe = await s.caller("gabe", ["tenant:globex"]);
});

afterAll(async () => {
  client?.destroy();
  await emulator?.close();
});

afterEach(() => {
  emulator.resetCalls();
  globex.resetCalls();
});

const storeOfTenant = (p: TenantPrincipal) => (p.tenantId === "globex" ? "policy-store-alias/globex" : "policy-store-alias/acme");

function vp(policyStoreId: Parameters<typeof createVerifiedPermissionsAuthorizer>[0]["policyStoreId"], extra: Partial<Parameters<typeof createVerifiedPermissionsAuthorizer>[0]> = {}) {
  return createVerifiedPermissionsAuthorizer({ policyStoreId, client, namespace: NAMESPACE, schema: SCHEMA_JSON, timeoutMs: 10_000, ...extra });
}

async function unavailable(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => {
      throw new Error("expected a rejection, got a decision");
    },
    (e: unknown) => e as Error,
  );
  expect(isTenantAuthError(err) && [err.code, err.status]).toEqual(["authorizer_unavailable", 503]);
  return err;
}

describe("the emulator's stores", () => {
  it("answers for a store by id or alias, each with its own policies", async () => {
    const read = { principal: gabe.principal, action: "ReadObject", resource: object("acme") };
    for (const [id, allowed] of [
      [emulator.policyStoreId, false],
      ["policy-store-alias/acme", false],
      [GLOBEX_STORE, true],
      ["policy-store-alias/globex", true],
    ] as const) {
      const a = vp(id);
      await a.ready();
      expect([id, (await a.isAuthorized(read)).allowed]).toEqual([id, allowed]);
    }
    await expect(vp("policy-store-alias/initech").ready()).rejects.toThrow(/ResourceNotFoundException/);
  });

  it("refuses an alias that is not policy-store-alias/<name>", async () => {
    await expect(startVerifiedPermissionsEmulator({ policies: POLICIES, aliases: ["acme"] })).rejects.toThrow(/aliases\[0\]/);
  });
});

describe("a store per tenant", () => {
  for (const kind of ["sync", "async"] as const) {
    it(`a ${kind} function of the principal picks the store`, async () => {
      const a = vp(kind === "sync" ? storeOfTenant : async (p) => storeOfTenant(p));
      // gabe (globex) reads acme's object: his store allows any read; alice's store (the seed's) does not.
      expect((await a.isAuthorized({ principal: gabe.principal, action: "ReadObject", resource: object("acme") })).allowed).toBe(true);
      expect((await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("globex") })).allowed).toBe(false);
      expect((await a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: object("acme") })).allowed).toBe(true);
      // Each store's identity source is read once, by its own id.
      expect([emulator.calls.GetPolicyStore, globex.calls.GetPolicyStore]).toEqual([1, 1]);
      expect([emulator.calls.IsAuthorized, globex.calls.IsAuthorized]).toEqual([2, 1]);
    });
  }

  it("cached decisions never answer for another store", async () => {
    let store = "policy-store-alias/acme";
    const a = vp(() => store);
    const request = { principal: gabe.principal, action: "ReadObject", resource: object("acme") };
    expect((await a.isAuthorized(request)).allowed).toBe(false);
    expect((await a.isAuthorized(request)).allowed).toBe(false); // cached
    expect(emulator.calls.IsAuthorized).toBe(1);
    store = "policy-store-alias/globex";
    expect((await a.isAuthorized(request)).allowed).toBe(true);
    expect(globex.calls.IsAuthorized).toBe(1);
    expect(a.cacheSize).toBe(2);
  });

  it("batches never mix stores", async () => {
    let store = "policy-store-alias/acme";
    const a = vp(() => store, { batch: { minSize: 2 } });
    const read = (key: string) => ({ principal: gabe.principal, action: "ReadObject", resource: object("acme", key) });
    const pending = [a.isAuthorized(read("a1")), a.isAuthorized(read("a2"))];
    store = "policy-store-alias/globex";
    pending.push(a.isAuthorized(read("g1")), a.isAuthorized(read("g2")));
    const decisions = await Promise.all(pending);
    expect(decisions.map((d) => d.allowed)).toEqual([false, false, true, true]);
    expect([emulator.calls.BatchIsAuthorized, emulator.decisionCount]).toEqual([1, 2]);
    expect([globex.calls.BatchIsAuthorized, globex.decisionCount]).toEqual([1, 2]);
  });

  it("a function that throws, rejects or returns no store id fails closed", async () => {
    const request = { principal: gabe.principal, action: "ReadObject", resource: object("acme") };
    const choices: ((p: TenantPrincipal) => string | Promise<string>)[] = [
      () => {
        throw new Error("no store for this tenant");
      },
      async () => {
        throw new Error("table down");
      },
      () => 42 as never,
      () => "",
      () => "not a store id!",
      async () => undefined as never,
    ];
    for (const choose of choices) await unavailable(vp(choose).isAuthorized(request));
    expect(emulator.callCount + globex.callCount).toBe(0);
  });

  it("ready() with a function checks the client only: stores are read on their first decision", async () => {
    const a = vp(storeOfTenant);
    await a.ready();
    expect(emulator.calls.GetPolicyStore + globex.calls.GetPolicyStore).toBe(0);
  });
});
