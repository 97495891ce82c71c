// A batched BatchIsAuthorized call evaluates every request against the union of the entities its
// requests carry. A request must not be decided (nor its decision cached) with entities that
// another request of the batch supplied for a uid it names but did not describe itself.
import { VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthorizationRequest } from "../../../src/index.js";
import { createVerifiedPermissionsAuthorizer } from "../../../src/authorizers/verified-permissions.js";
import type { VerifiedPermissionsEmulator } from "../../../src/testing/index.js";
import { startVerifiedPermissionsEmulator } from "../../../src/testing/index.js";
import type { Caller, Scenario } from "../../support/scenario.js";
import { NAMESPACE, POLICIES, SCHEMA, SCHEMA_JSON, scenario } from "../../support/scenario.js";

let s: Scenario;
let emulator: VerifiedPermissionsEmulator;
let client: VerifiedPermissionsClient;
let alice: Caller;

beforeAll(async () => {
  s = await scenario();
  emulator = await startVerifiedPermissionsEmulator({ policies: POLICIES, schema: SCHEMA, userPools: [s.issuer.userPool], namespace: NAMESPACE });
  client = new VerifiedPermissionsClient({ endpoint: emulator.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1 });
  alice = await s.caller("alice", ["tenant:acme"]);
});

afterAll(async () => {
  client.destroy();
  await emulator.close();
});

const vp = (extra: Partial<Parameters<typeof createVerifiedPermissionsAuthorizer>[0]> = {}) =>
  createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, client, namespace: NAMESPACE, schema: SCHEMA_JSON, timeoutMs: 10_000, batch: { minSize: 2 }, ...extra });

describe("batched decisions see only the entities their own request describes", () => {
  // Alone, a bare Object (no parents) is in no bucket: DENY. Described with acme's bucket as parent: ALLOW.
  const described = (): AuthorizationRequest => ({
    principal: alice.principal,
    action: "ReadObject",
    resource: { type: "Object", id: "globex-assets/secret.pdf", parents: [{ type: "Bucket", id: "acme-assets" }] },
  });
  const bare = (): AuthorizationRequest => ({ principal: alice.principal, action: "ReadObject", resource: { type: "Object", id: "globex-assets/secret.pdf" } });

  it("alone, the bare request is denied", async () => {
    const d = await vp({ batch: false, cache: false }).isAuthorized(bare());
    expect(d.allowed).toBe(false);
  });

  it("batched with a request that describes the same uid, the bare request is still denied, and stays denied", async () => {
    const a = vp();
    const [withParents, withoutParents] = await Promise.all([a.isAuthorized(described()), a.isAuthorized(bare())]);
    expect(withParents.allowed).toBe(true);
    expect(withoutParents.allowed).toBe(false);
    // And the decision cache does not keep a contaminated answer.
    expect((await a.isAuthorized(bare())).allowed).toBe(false);
  });

  it("in the other order too", async () => {
    const a = vp();
    const [withoutParents, withParents] = await Promise.all([a.isAuthorized(bare()), a.isAuthorized(described())]);
    expect(withParents.allowed).toBe(true);
    expect(withoutParents.allowed).toBe(false);
  });

  it("requests that describe their own resources still batch into one call", async () => {
    const a = vp({ cache: false });
    emulator.resetCalls();
    const ds = await Promise.all([
      a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: { type: "Object", id: "acme-assets/a", parents: [{ type: "Bucket", id: "acme-assets" }] } }),
      a.isAuthorized({ principal: alice.principal, action: "ReadObject", resource: { type: "Object", id: "acme-assets/b", parents: [{ type: "Bucket", id: "acme-assets" }] } }),
    ]);
    expect(ds.map((d) => d.allowed)).toEqual([true, true]);
    expect(emulator.calls.BatchIsAuthorized).toBe(1);
  });
});
