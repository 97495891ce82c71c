// createCedarAuthorizer({ policyStore }): policies, templates, template-linked policies and the
// schema synced from the Verified Permissions emulator through the real SDK client, decided in
// process with the store's policy ids.
import { VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Decision } from "../../src/index.js";
import { isTenantAuthError } from "../../src/index.js";
import type { CedarAuthorizer, CedarAuthorizerOptions } from "../../src/authorizers/cedar.js";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import type { VerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { startVerifiedPermissionsEmulator } from "../../src/testing/index.js";
import type { PolicyStoreAdmin } from "../support/policy-store.js";
import { policyStoreAdmin } from "../support/policy-store.js";
import type { Caller, Scenario } from "../support/scenario.js";
import { NAMESPACE, POLICIES, SCHEMA, SCHEMA_JSON, bucket, matrix, object, scenario } from "../support/scenario.js";

let s: Scenario;
let alice: Caller;
let gabe: Caller;
let callers: Caller[];
const open: { close(): unknown }[] = [];

/** Long refresh intervals: the tests refresh on demand and never wait for a timer, except where said. */
const HOUR = 3_600_000;

async function store(o: { validationMode?: "STRICT" | "OFF"; policies?: string; policyStoreId?: string } = {}): Promise<{ emulator: VerifiedPermissionsEmulator; admin: PolicyStoreAdmin }> {
  const emulator = await startVerifiedPermissionsEmulator({
    policies: o.policies ?? POLICIES,
    schema: SCHEMA,
    userPools: [s.issuer.userPool],
    namespace: NAMESPACE,
    ...(o.validationMode ? { validationMode: o.validationMode } : {}),
    ...(o.policyStoreId ? { policyStoreId: o.policyStoreId } : {}),
  });
  const admin = policyStoreAdmin(emulator);
  open.push(emulator, { close: () => admin.client.destroy() });
  return { emulator, admin };
}

function synced(emulator: VerifiedPermissionsEmulator, extra: Partial<CedarAuthorizerOptions["policyStore"] & object> = {}, top: Partial<CedarAuthorizerOptions> = {}): CedarAuthorizer {
  const authz = createCedarAuthorizer({
    namespace: NAMESPACE,
    policyStore: { policyStoreId: emulator.policyStoreId, clientConfig: emulator.clientConfig, refreshMs: HOUR, maxStaleMs: 2 * HOUR, timeoutMs: 10_000, ...extra },
    ...top,
  });
  open.push(authz);
  return authz;
}

const read = (c: Caller, tenant: string) => ({ principal: c.principal, action: "ReadObject", resource: object(tenant) });
const list = (c: Caller, tenant: string) => ({ principal: c.principal, action: "ListBucket", resource: bucket(tenant) });
const strip = (d: Decision) => ({ decision: d.decision, determiningPolicies: [...d.determiningPolicies].sort(), errors: [...d.errors] });
const TEMPLATE = `permit (principal in ?principal, action in [${NAMESPACE}::Action::"ReadObject", ${NAMESPACE}::Action::"ListBucket"], resource in ?resource);`;
const group = (name: string) => ({ entityType: `${NAMESPACE}::UserGroup`, entityId: `us-east-1_TestPool|${name}` });
const bucketId = (b: string) => ({ entityType: `${NAMESPACE}::Bucket`, entityId: b });

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isTenantAuthError(err)) return `${err.status} ${err.code}`;
    throw err;
  }
  return "allowed through";
}

beforeAll(async () => {
  s = await scenario();
  alice = await s.caller("alice", ["tenant:acme"]);
  gabe = await s.caller("gabe", ["tenant:globex"]);
  callers = [
    alice,
    gabe,
    await s.caller("ian", ["tenant:initech"]),
    await s.caller("dana", ["tenant:acme", "tenant:globex"]),
    await s.caller("dana-for-acme", ["tenant:acme", "tenant:globex"], { tenantHint: "acme" }),
    await s.caller("root", ["tenant:acme", "tenant:acme:admin"], { tenantHint: "acme" }),
    await s.caller("nobody", []),
    await s.caller("svc", ["tenant:initech"], { tokenUse: "access" }),
  ];
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  for (const o of open.reverse()) await o.close();
});

describe("policy sync: loading", () => {
  it("loads static policies over several ListPolicies pages, templates and linked policies, with the store's ids", async () => {
    // 60 more policies, held by the store from the start: two pages of 50.
    const extra = Array.from({ length: 60 }, (_, i) => `@id("extra-${i}")\npermit (principal == ${NAMESPACE}::User::"us-east-1_TestPool|sub-x${i}", action, resource);`).join("\n");
    const { emulator, admin } = await store({ policies: `${POLICIES}\n${extra}` });
    const templateId = await admin.createTemplate(TEMPLATE);
    const linkId = await admin.link(templateId, { principal: group("tenant:initech"), resource: bucketId("acme-assets") });
    emulator.resetCalls();
    const authz = synced(emulator);
    await authz.ready();
    expect(emulator.calls).toMatchObject({ ListPolicies: 2, GetSchema: 1, ListPolicyTemplates: 1, GetPolicyTemplate: 1, BatchGetPolicy: 1, GetPolicy: 0, IsAuthorized: 0 });
    expect(authz.policyIds).toHaveLength(66);
    expect(authz.policyIds).toContain(linkId);
    expect(strip(await authz.isAuthorized(read(alice, "acme")))).toEqual({ decision: "ALLOW", determiningPolicies: ["acme-reads-own-bucket"], errors: [] });
    const ian = callers[2]!;
    expect(strip(await authz.isAuthorized(list(ian, "acme")))).toEqual({ decision: "ALLOW", determiningPolicies: [linkId], errors: [] });
    expect((await authz.isAuthorized(read(gabe, "acme"))).allowed).toBe(false);
    expect(emulator.callCount).toBe(0);
  });

  it("an unchanged store costs its list pages and GetSchema a refresh; a change is seen within one refresh, loading only what changed", async () => {
    const { emulator, admin } = await store();
    const authz = synced(emulator);
    await authz.ready();
    emulator.resetCalls();
    expect(await authz.refresh()).toBe(false);
    expect(emulator.calls).toMatchObject({ ListPolicies: 1, GetSchema: 1, BatchGetPolicy: 0, ListPolicyTemplates: 0 });

    // globex may now read acme's bucket: one new policy, one BatchGetPolicy.
    const id = await admin.createPolicy(
      `permit (principal in ${NAMESPACE}::UserGroup::"us-east-1_TestPool|tenant:globex", action == ${NAMESPACE}::Action::"ReadObject", resource in ${NAMESPACE}::Bucket::"acme-assets");`,
    );
    expect((await authz.isAuthorized(read(gabe, "acme"))).allowed).toBe(false);
    emulator.resetCalls();
    expect(await authz.refresh()).toBe(true);
    expect(emulator.calls).toMatchObject({ ListPolicies: 1, GetSchema: 1, BatchGetPolicy: 1 });
    expect(strip(await authz.isAuthorized(read(gabe, "acme")))).toEqual({ decision: "ALLOW", determiningPolicies: [id], errors: [] });

    // An update (the action changes) and a delete.
    await admin.updatePolicy(
      id,
      `permit (principal in ${NAMESPACE}::UserGroup::"us-east-1_TestPool|tenant:globex", action == ${NAMESPACE}::Action::"ListBucket", resource in ${NAMESPACE}::Bucket::"acme-assets");`,
    );
    expect(await authz.refresh()).toBe(true);
    expect((await authz.isAuthorized(read(gabe, "acme"))).allowed).toBe(false);
    expect((await authz.isAuthorized(list(gabe, "acme"))).allowed).toBe(true);
    await admin.deletePolicy(id);
    expect(await authz.refresh()).toBe(true);
    expect((await authz.isAuthorized(list(gabe, "acme"))).allowed).toBe(false);
  });

  it("a template change changes its linked policies at the next refresh", async () => {
    const { emulator, admin } = await store();
    const templateId = await admin.createTemplate(TEMPLATE);
    const linkId = await admin.link(templateId, { principal: group("tenant:globex"), resource: bucketId("initech-assets") });
    const authz = synced(emulator);
    await authz.ready();
    expect(strip(await authz.isAuthorized(read(gabe, "initech")))).toEqual({ decision: "ALLOW", determiningPolicies: [linkId], errors: [] });
    await admin.updateTemplate(templateId, TEMPLATE.replace(`${NAMESPACE}::Action::"ReadObject", `, ""));
    expect(await authz.refresh()).toBe(true);
    expect((await authz.isAuthorized(read(gabe, "initech"))).allowed).toBe(false);
    expect((await authz.isAuthorized(list(gabe, "initech"))).allowed).toBe(true);
  });

  it("refreshes on its interval (refreshMs), with a timer that does not hold the process", async () => {
    const { emulator, admin } = await store();
    const intervals = vi.spyOn(globalThis, "setInterval");
    const authz = synced(emulator, { refreshMs: 200 });
    await authz.ready();
    // The refresh timer does not keep the event loop alive (unref'd).
    const timer = intervals.mock.results.find((r, i) => intervals.mock.calls[i]![1] === 200)?.value as NodeJS.Timeout | undefined;
    intervals.mockRestore();
    expect(timer).toBeDefined();
    expect(timer!.hasRef()).toBe(false);
    await admin.createPolicy(
      `permit (principal in ${NAMESPACE}::UserGroup::"us-east-1_TestPool|tenant:globex", action == ${NAMESPACE}::Action::"ReadObject", resource in ${NAMESPACE}::Bucket::"acme-assets");`,
    );
    await vi.waitFor(async () => expect((await authz.isAuthorized(read(gabe, "acme"))).allowed).toBe(true), { timeout: 30_000, interval: 100 });
    authz.close();
    expect(await refusal(authz.isAuthorized(read(alice, "acme")))).toBe("503 authorizer_unavailable");
  });
});

describe("policy sync: failing closed", () => {
  it("ready() rejects for a missing store, naming the cause; decisions are refused", async () => {
    const { emulator } = await store();
    const authz = createCedarAuthorizer({ namespace: NAMESPACE, policyStore: { policyStoreId: "PSdoesnotexist", clientConfig: emulator.clientConfig, refreshMs: HOUR, maxStaleMs: HOUR } });
    open.push(authz);
    await expect(authz.ready()).rejects.toThrow(/PSdoesnotexist.*ListPolicies.*ResourceNotFoundException.*check policyStoreId/);
    expect(await refusal(authz.isAuthorized(read(alice, "acme")))).toBe("503 authorizer_unavailable");
  });

  it("ready() rejects when the store cannot be read, then succeeds once it can", async () => {
    const { emulator } = await store();
    emulator.setBehavior("error", { operations: ["ListPolicies"] });
    const errors: Error[] = [];
    const authz = synced(emulator, { onError: (e) => errors.push(e) });
    await expect(authz.ready()).rejects.toThrow(/InternalServerException/);
    expect(await refusal(authz.isAuthorized(read(alice, "acme")))).toBe("503 authorizer_unavailable");
    expect(errors.length).toBeGreaterThan(0);
    emulator.setBehavior("ok");
    await authz.ready();
    expect((await authz.isAuthorized(read(alice, "acme"))).allowed).toBe(true);
  });

  it("a store that fails: the last good set until maxStaleMs, then 503, then back after a refresh", async () => {
    const { emulator } = await store();
    const errors: Error[] = [];
    const authz = synced(emulator, { maxStaleMs: 2 * HOUR, onError: (e) => errors.push(e) });
    await authz.ready();
    vi.useFakeTimers({ toFake: ["Date"] });
    emulator.setBehavior("error", { operations: ["ListPolicies"] });
    await expect(authz.refresh()).rejects.toThrow(/InternalServerException/);
    expect(errors).toHaveLength(1);
    vi.setSystemTime(Date.now() + HOUR);
    expect((await authz.isAuthorized(read(alice, "acme"))).allowed).toBe(true); // stale but within maxStaleMs
    vi.setSystemTime(Date.now() + 2 * HOUR);
    expect(await refusal(authz.isAuthorized(read(alice, "acme")))).toBe("503 authorizer_unavailable");
    expect(await refusal(authz.isAuthorized(read(gabe, "acme")))).toBe("503 authorizer_unavailable");
    emulator.setBehavior("ok");
    expect(await authz.refresh()).toBe(false); // the same set, confirmed again
    expect((await authz.isAuthorized(read(alice, "acme"))).allowed).toBe(true);
  });

  it("a set Cedar refuses is not swapped in: onError is told, the previous set stays, and it is not read again", async () => {
    const { emulator, admin } = await store({ validationMode: "OFF" });
    const errors: Error[] = [];
    const authz = synced(emulator, { onError: (e) => errors.push(e) });
    await authz.ready();
    // Store validation is off, so the store takes a policy the schema refuses, beside one that would let globex in.
    const opening = await admin.createPolicy(
      `permit (principal in ${NAMESPACE}::UserGroup::"us-east-1_TestPool|tenant:globex", action == ${NAMESPACE}::Action::"ReadObject", resource in ${NAMESPACE}::Bucket::"acme-assets");`,
    );
    const bad = await admin.createPolicy(`permit (principal, action == ${NAMESPACE}::Action::"DeleteEverything", resource);`);
    await expect(authz.refresh()).rejects.toThrow(/do not pass Cedar; the previous set stays in use/);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/DeleteEverything/)]);
    expect((await authz.isAuthorized(read(gabe, "acme"))).allowed).toBe(false);
    expect(strip(await authz.isAuthorized(read(alice, "acme")))).toEqual({ decision: "ALLOW", determiningPolicies: ["acme-reads-own-bucket"], errors: [] });
    emulator.resetCalls();
    await expect(authz.refresh()).rejects.toThrow(/DeleteEverything/);
    expect(emulator.calls.BatchGetPolicy).toBe(0);
    await admin.deletePolicy(bad);
    expect(await authz.refresh()).toBe(true);
    expect(strip(await authz.isAuthorized(read(gabe, "acme")))).toEqual({ decision: "ALLOW", determiningPolicies: [opening], errors: [] });
  });

  it("a first set Cedar refuses makes ready() reject", async () => {
    const { emulator } = await store({ validationMode: "OFF", policies: `permit (principal, action == ${NAMESPACE}::Action::"Nope", resource);` });
    const authz = synced(emulator);
    await expect(authz.ready()).rejects.toThrow(/do not pass Cedar; no set is in use/);
    expect(await refusal(authz.isAuthorized(read(alice, "acme")))).toBe("503 authorizer_unavailable");
  });

  it("options: policies and policyStore exclude each other; schema comes from the store; maxStaleMs ≥ refreshMs", () => {
    const policyStore = { policyStoreId: "PS1" };
    expect(() => createCedarAuthorizer({ namespace: NAMESPACE, policies: POLICIES, policyStore })).toThrow(/policies and policyStore exclude each other/);
    expect(() => createCedarAuthorizer({ namespace: NAMESPACE, policyStore, schema: SCHEMA })).toThrow(/schema and policyStore exclude each other/);
    expect(() => createCedarAuthorizer({ namespace: NAMESPACE, policyStore: { ...policyStore, refreshMs: 60_000, maxStaleMs: 1000 } })).toThrow(/maxStaleMs must be at least/);
    expect(() => createCedarAuthorizer({ namespace: NAMESPACE, policyStore: { ...policyStore, refreshMs: "60000" as unknown as number } })).toThrow(/policyStore.refreshMs must be an integer/);
    expect(() => createCedarAuthorizer({ namespace: NAMESPACE, policyStore: { policyStoreId: "" } })).toThrow(/policyStore.policyStoreId must be/);
    expect(() => createCedarAuthorizer({ namespace: NAMESPACE, policies: POLICIES, maxPolicySets: 3 })).toThrow(/maxPolicySets applies only/);
  });
});

describe("per-tenant policy sets", () => {
  const onlyOwn = (t: string) => `permit (principal in ${NAMESPACE}::UserGroup::"us-east-1_TestPool|tenant:${t}", action, resource in ${NAMESPACE}::Bucket::"${t}-assets");`;
  const everything = `permit (principal, action, resource);`;

  it("a function of the principal chooses the set; each is compiled once; a bounded cache never serves one tenant's set to another", async () => {
    const seen: string[] = [];
    const sets: Record<string, string> = { acme: onlyOwn("acme"), globex: everything };
    const authz = createCedarAuthorizer({
      namespace: NAMESPACE,
      schema: SCHEMA,
      maxPolicySets: 1,
      policies: async (p) => {
        seen.push(p.tenantId ?? "");
        return sets[p.tenantId ?? ""] ?? "";
      },
    });
    await authz.ready();
    // Alternating tenants with room for one set: every request recompiles into the one reused cache name.
    for (let i = 0; i < 3; i++) {
      expect((await authz.isAuthorized(read(alice, "acme"))).allowed).toBe(true);
      expect((await authz.isAuthorized(read(alice, "globex"))).allowed).toBe(false);
      expect((await authz.isAuthorized(read(gabe, "acme"))).allowed).toBe(true);
    }
    const both = await Promise.all([authz.isAuthorized(read(alice, "globex")), authz.isAuthorized(read(gabe, "initech")), authz.isAuthorized(read(alice, "acme"))]);
    expect(both.map((d) => d.allowed)).toEqual([false, true, true]);
    expect(seen).toContain("acme");
    authz.close();
    expect(await refusal(authz.isAuthorized(read(alice, "acme")))).toBe("503 authorizer_unavailable");
  });

  it("a function that throws, returns no set, or a set Cedar refuses: 503 for that tenant only", async () => {
    const authz = createCedarAuthorizer({
      namespace: NAMESPACE,
      schema: SCHEMA,
      policies: (p) => {
        if (p.tenantId === "globex") throw new Error("tenant directory down");
        if (p.tenantId === "initech") return `permit (principal, action == ${NAMESPACE}::Action::"Nope", resource);`;
        if (p.tenantId === undefined) return undefined as unknown as string;
        return onlyOwn(p.tenantId);
      },
    });
    expect((await authz.isAuthorized(read(alice, "acme"))).allowed).toBe(true);
    expect(await refusal(authz.isAuthorized(read(gabe, "globex")))).toBe("503 authorizer_unavailable");
    expect(await refusal(authz.isAuthorized(read(callers[2]!, "initech")))).toBe("503 authorizer_unavailable");
    expect(await refusal(authz.isAuthorized(read(callers[6]!, "initech")))).toBe("503 authorizer_unavailable");
  });

  it("a store per tenant: one sync per store, bounded, each failing closed on its own", async () => {
    const a = await store({ policies: onlyOwn("acme"), policyStoreId: "PSacme" });
    const g = await store({ policies: everything, policyStoreId: "PSglobex" });
    // One client for both emulators, routing each call by the store it names (as one endpoint would).
    const storeOf = (input: Record<string, unknown>) => String(input["policyStoreId"] ?? (input["requests"] as { policyStoreId: string }[] | undefined)?.[0]?.policyStoreId);
    const route = {
      send: (command: { input: Record<string, unknown> }, o?: { abortSignal?: AbortSignal }) => (storeOf(command.input) === "PSglobex" ? g : a).admin.client.send(command as never, o),
    };
    const chosen: string[] = [];
    const authz = createCedarAuthorizer({
      namespace: NAMESPACE,
      maxPolicySets: 1,
      policyStore: {
        client: route as never,
        refreshMs: HOUR,
        maxStaleMs: 2 * HOUR,
        policyStoreId: async (p) => {
          chosen.push(p.tenantId ?? "");
          return p.tenantId === "globex" ? "PSglobex" : p.tenantId === "acme" ? "PSacme" : "";
        },
      },
    });
    open.push(authz);
    await authz.ready();
    for (let i = 0; i < 2; i++) {
      // With room for one store, every switch closes one sync and loads the other.
      expect(strip(await authz.isAuthorized(read(alice, "acme")))).toEqual({ decision: "ALLOW", determiningPolicies: ["policy0"], errors: [] });
      expect((await authz.isAuthorized(read(alice, "globex"))).allowed).toBe(false);
      expect((await authz.isAuthorized(read(gabe, "acme"))).allowed).toBe(true);
    }
    expect(a.emulator.calls.ListPolicies).toBeGreaterThanOrEqual(2);
    expect(a.emulator.callCount + g.emulator.callCount).toBe(0);
    // No store id for a principal without tenant: refused, not a default store.
    expect(await refusal(authz.isAuthorized(read(callers[6]!, "acme")))).toBe("503 authorizer_unavailable");
    // One tenant's store down at its first load (acme's use closed globex's sync): that tenant is refused, the other decides.
    expect((await authz.isAuthorized(read(alice, "acme"))).allowed).toBe(true);
    g.emulator.setBehavior("error", { operations: ["ListPolicies"] });
    expect(await refusal(authz.isAuthorized(read(gabe, "acme")))).toBe("503 authorizer_unavailable");
    expect((await authz.isAuthorized(read(alice, "acme"))).allowed).toBe(true);
    g.emulator.setBehavior("ok");
    expect(chosen).toContain("globex");
  });
});

describe("equivalence with Verified Permissions", () => {
  for (const tenantEntityType of [undefined, "Tenant"] as const) {
    it(`every seed scenario${tenantEntityType ? " (tenants as entities)" : ""}, with a template-linked policy: synced decisions = IsAuthorized decisions, determining policies included`, async () => {
      const { emulator, admin } = await store();
      const templateId = await admin.createTemplate(TEMPLATE);
      await admin.link(templateId, { principal: group("tenant:initech"), resource: bucketId("globex-assets") });
      await admin.createPolicy(
        `forbid (principal in ${NAMESPACE}::UserGroup::"us-east-1_TestPool|tenant:acme", action == ${NAMESPACE}::Action::"ReadObject", resource) when { resource in ${NAMESPACE}::Bucket::"acme-assets" && principal has email && principal.email like "dana*" };`,
      );
      const o = tenantEntityType ? { tenantEntityType } : {};
      const local = synced(emulator, {}, o);
      const client = new VerifiedPermissionsClient({ ...emulator.clientConfig, maxAttempts: 1 });
      open.push({ close: () => client.destroy() });
      const remote = createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, client, namespace: NAMESPACE, schema: SCHEMA_JSON, cache: false, timeoutMs: 10_000, ...o });
      await local.ready();
      emulator.resetCalls();
      const cases = matrix(callers);
      for (const c of cases) {
        const [l, r] = await Promise.all([local.isAuthorized(c.request), remote.isAuthorized(c.request)]);
        expect({ case: c.label, ...strip(l) }).toEqual({ case: c.label, ...strip(r) });
      }
      expect(emulator.callCount).toBe(cases.length); // the remote side's calls only
      const allowed = (await Promise.all(cases.map((c) => local.isAuthorized(c.request)))).filter((d) => d.allowed).length;
      expect(allowed).toBeGreaterThan(3);
    });
  }
});
