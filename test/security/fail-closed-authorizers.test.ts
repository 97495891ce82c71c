/**
 * Fail closed, policy side: a Verified Permissions endpoint (or client) that fails,
 * hangs, throttles forever or answers nonsense is a deny, never an allow. Through the guard
 * every adapter uses (`authorizeOrThrow`): 503 `authorizer_unavailable` for an engine that could
 * not decide, 403 `access_denied` for a DENY, and only a well-formed ALLOW passes.
 */
import { VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizeOrThrow, createTenantAuth } from "../../src/index.js";
import type { AuthorizationRequest, Authorizer, TenantPrincipal } from "../../src/index.js";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import { createTestIssuer, startVerifiedPermissionsEmulator } from "../../src/testing/index.js";
import type { VerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { expectRefused } from "../support/security.js";

const NAMESPACE = "Sec";
const POLICIES = `
@id("acme-reads")
permit (principal in Sec::UserGroup::"us-east-1_TestPool|tenant:acme", action == Sec::Action::"Read", resource);
`;

let alice: TenantPrincipal;
let emulator: VerifiedPermissionsEmulator;
let client: VerifiedPermissionsClient;
const read = (id = "doc-1"): AuthorizationRequest => ({ principal: alice, action: "Read", resource: { type: "Doc", id } });

beforeAll(async () => {
  const issuer = await createTestIssuer();
  const auth = createTenantAuth({ userPools: [issuer.userPool] });
  alice = await auth.resolveTenant(await issuer.idToken({ sub: "alice", groups: ["tenant:acme"] }));
  emulator = await startVerifiedPermissionsEmulator({ policies: POLICIES });
  client = new VerifiedPermissionsClient({ endpoint: emulator.endpoint, region: "us-east-1", credentials: { accessKeyId: "t", secretAccessKey: "t" }, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await emulator.close();
});

// A generous timeout: a healthy decision must not fail because the machine is busy (the first one
// also loads the SDK's middleware). Only the hanging endpoint is given a short one.
const vp = (extra: Record<string, unknown> = {}) =>
  createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, client, namespace: NAMESPACE, timeoutMs: 10_000, cache: false, ...extra });

describe("Verified Permissions endpoint failing or hanging: deny, never allow", () => {
  // Healthy calls get a generous timeout: the SDK's first call is slow on a loaded machine, and
  // only the failure cases are about the timeout.
  it("baseline: the healthy endpoint allows alice", async () => {
    emulator.setBehavior("ok");
    expect((await authorizeOrThrow(vp({ timeoutMs: 10_000 }), read())).allowed).toBe(true);
  });

  for (const behavior of ["error", "hang", "throttle"] as const) {
    it(`endpoint ${behavior}: 503 authorizer_unavailable, single and batched`, async () => {
      emulator.setBehavior(behavior);
      try {
        const a = vp({ retry: { maxAttempts: 3, baseDelayMs: 1 }, batch: { minSize: 2 }, ...(behavior === "hang" ? { timeoutMs: 200 } : {}) });
        await expectRefused(() => authorizeOrThrow(a, read()), "authorizer_unavailable", 503);
        // 40 concurrent decisions (two BatchIsAuthorized calls): every one refused.
        await Promise.all(Array.from({ length: 40 }, (_, i) => expectRefused(() => authorizeOrThrow(a, read(`doc-${i}`)), "authorizer_unavailable", 503)));
      } finally {
        emulator.setBehavior("ok");
      }
    });
  }

  it("nothing is remembered from an outage: the next decision asks again", async () => {
    const a = vp({ cache: { maxEntries: 10, ttlMs: 60_000 }, timeoutMs: 10_000 });
    emulator.setBehavior("error");
    await expectRefused(() => authorizeOrThrow(a, read()), "authorizer_unavailable", 503);
    emulator.setBehavior("ok");
    expect((await authorizeOrThrow(a, read())).allowed).toBe(true);
  });

  it("an endpoint nobody listens on", async () => {
    const dead = new VerifiedPermissionsClient({ endpoint: "http://127.0.0.1:9", region: "us-east-1", credentials: { accessKeyId: "t", secretAccessKey: "t" }, maxAttempts: 1 });
    try {
      const a = createVerifiedPermissionsAuthorizer({ policyStoreId: "x", client: dead, namespace: NAMESPACE, timeoutMs: 500 });
      await expectRefused(() => authorizeOrThrow(a, read()), "authorizer_unavailable", 503);
    } finally {
      dead.destroy();
    }
  });
});

describe("a client that answers nonsense: never an allow", () => {
  const fake = (answer: () => unknown) => ({
    isAuthorized: async () => answer(),
    batchIsAuthorized: async (input: unknown) => ({ results: (input as { requests: unknown[] }).requests.map((request) => ({ request, ...(answer() as object) })) }),
    isAuthorizedWithToken: async () => answer(),
    batchIsAuthorizedWithToken: async () => ({ results: [] }),
  });
  const answers: [string, () => unknown][] = [
    ["null", () => null],
    ["undefined", () => undefined],
    ["an empty object", () => ({})],
    ["a lower-case allow", () => ({ decision: "allow", determiningPolicies: [], errors: [] })],
    ["decision as an array", () => ({ decision: ["ALLOW"], determiningPolicies: [], errors: [] })],
    ["decision true", () => ({ decision: true })],
    ["allowed: true without a decision", () => ({ allowed: true })],
    ["a string", () => "ALLOW"],
  ];
  for (const [label, answer] of answers) {
    it(`${label}: refused`, async () => {
      const a = createVerifiedPermissionsAuthorizer({ policyStoreId: "ps", client: fake(answer), namespace: NAMESPACE, timeoutMs: 200, cache: false });
      await expectRefused(() => authorizeOrThrow(a, read()), "authorizer_unavailable", 503);
    });
  }
  it("an ALLOW that came with evaluation errors is a deny", async () => {
    const a = createVerifiedPermissionsAuthorizer({
      policyStoreId: "ps",
      client: fake(() => ({ decision: "ALLOW", determiningPolicies: [{ policyId: "p" }], errors: [{ errorDescription: "forbid policy errored" }] })),
      namespace: NAMESPACE,
      timeoutMs: 200,
      cache: false,
    });
    await expectRefused(() => authorizeOrThrow(a, read()), "access_denied", 403);
  });
  it("a batch answered with too few results refuses every request in it", async () => {
    const short = {
      ...fake(() => ({ decision: "ALLOW" })),
      batchIsAuthorized: async () => ({ results: [{ decision: "ALLOW", determiningPolicies: [], errors: [] }] }),
    };
    const a = createVerifiedPermissionsAuthorizer({ policyStoreId: "ps", client: short, namespace: NAMESPACE, timeoutMs: 200, cache: false, batch: { minSize: 2 } });
    await Promise.all(Array.from({ length: 5 }, (_, i) => expectRefused(() => authorizeOrThrow(a, read(`d${i}`)), "authorizer_unavailable", 503)));
  });
  it("a client that never settles and ignores the abort signal", async () => {
    const a = createVerifiedPermissionsAuthorizer({
      policyStoreId: "ps",
      client: { ...fake(() => null), isAuthorized: () => new Promise(() => {}), batchIsAuthorized: () => new Promise(() => {}) },
      namespace: NAMESPACE,
      timeoutMs: 100,
      cache: false,
    });
    await expectRefused(() => authorizeOrThrow(a, read()), "authorizer_unavailable", 503);
  });
  it("a client that throws synchronously", async () => {
    const a = createVerifiedPermissionsAuthorizer({
      policyStoreId: "ps",
      client: {
        ...fake(() => null),
        isAuthorized: () => {
          throw new Error("boom");
        },
      },
      namespace: NAMESPACE,
      timeoutMs: 100,
      cache: false,
      batch: false,
    });
    await expectRefused(() => authorizeOrThrow(a, read()), "authorizer_unavailable", 503);
  });
});

describe("authorizeOrThrow with any Authorizer: only a well-formed ALLOW passes", () => {
  const of = (isAuthorized: Authorizer["isAuthorized"]): Authorizer => ({ isAuthorized });
  it("throwing, rejecting and nonsense-answering authorizers are refused", async () => {
    await expectRefused(
      () =>
        authorizeOrThrow(
          of(() => {
            throw new TypeError("bug");
          }),
          read(),
        ),
      "authorizer_unavailable",
      503,
    );
    await expectRefused(
      () =>
        authorizeOrThrow(
          of(() => Promise.reject(new Error("down"))),
          read(),
        ),
      "authorizer_unavailable",
      503,
    );
    for (const d of [undefined, null, {}, { allowed: true }, { decision: "ALLOW" }, { allowed: "true", decision: "ALLOW" }, { allowed: 1, decision: "ALLOW" }, { allowed: true, decision: "allow" }]) {
      await expectRefused(
        () =>
          authorizeOrThrow(
            of(async () => d as never),
            read(),
          ),
        "access_denied",
        403,
      );
    }
  });
});

describe("local Cedar authorizer failing: deny", () => {
  it("invalid policies make every decision 503 authorizer_unavailable", async () => {
    const a = createCedarAuthorizer({ namespace: NAMESPACE, policies: "permit (principal, action, resource" });
    await expectRefused(() => authorizeOrThrow(a, read()), "authorizer_unavailable", 503);
  });
  it("hostile ids and attributes are data, not policy: no allow for other tenants", async () => {
    const a = createCedarAuthorizer({ namespace: NAMESPACE, policies: POLICIES });
    expect((await authorizeOrThrow(a, read())).allowed).toBe(true);
    const issuer = await createTestIssuer();
    const auth = createTenantAuth({ userPools: [issuer.userPool], requireTenant: false });
    const mallory = await auth.resolveTenant(
      await issuer.idToken({ sub: 'x"||true||"', groups: ['tenant:globex"),principal_in_Sec::UserGroup::"us-east-1_TestPool|tenant:acme', "us-east-1_TestPool|tenant:acme"] }),
    );
    expect(mallory.groups).toHaveLength(2);
    await expectRefused(() => authorizeOrThrow(a, { principal: mallory, action: "Read", resource: { type: "Doc", id: '"; permit(principal,action,resource); //' } }), "access_denied", 403);
  });
});
