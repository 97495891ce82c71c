/**
 * Verified Permissions answers that do not line up, and clients that reject with anything.
 *
 * - A `BatchIsAuthorized` result names the request it answers (`request`). Matching results by
 *   position would let a reordered answer hand one request's ALLOW to another: the real SDK client,
 *   against the emulator, behind a wrapper that reorders (or tampers with) the service's answer.
 * - A client may reject with `undefined`, `null`, a string, a number, a frozen object or an object
 *   whose getters throw: every decision is 503 `authorizer_unavailable`, and nothing escapes as an
 *   unhandled rejection (which takes a Node process down).
 */
import { VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { authorizeOrThrow } from "../../src/index.js";
import type { AuthorizationRequest } from "../../src/index.js";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import type { VerifiedPermissionsClientLike } from "../../src/authorizers/verified-permissions.js";
import { startVerifiedPermissionsEmulator } from "../../src/testing/index.js";
import type { VerifiedPermissionsEmulator } from "../../src/testing/index.js";
import type { Caller } from "../support/scenario.js";
import { NAMESPACE, POLICIES, SCHEMA, SCHEMA_JSON, object, scenario } from "../support/scenario.js";
import { expectRefused } from "../support/security.js";

let emulator: VerifiedPermissionsEmulator;
let sdk: VerifiedPermissionsClient;
let alice: Caller;

beforeAll(async () => {
  const s = await scenario();
  emulator = await startVerifiedPermissionsEmulator({ policies: POLICIES, schema: SCHEMA, userPools: [s.issuer.userPool], namespace: NAMESPACE });
  sdk = new VerifiedPermissionsClient({ ...emulator.clientConfig, maxAttempts: 1 });
  alice = await s.caller("alice", ["tenant:acme"]);
});
afterAll(async () => {
  sdk.destroy();
  await emulator.close();
});

/** The real client, with the service's batch answer passed through `tamper` on its way back. */
function tampering(tamper: (results: Record<string, unknown>[]) => unknown[]): VerifiedPermissionsClientLike {
  return {
    async send(command: unknown, options?: { abortSignal?: AbortSignal }) {
      const out = (await sdk.send(command as never, options)) as { results?: Record<string, unknown>[] };
      return out.results ? { ...out, results: tamper(out.results) } : out;
    },
  };
}

// alice (acme) may read acme's objects, not globex's.
const allowed = (): AuthorizationRequest => ({ principal: alice.principal, action: "ReadObject", resource: object("acme", "mine.pdf") });
const denied = (): AuthorizationRequest => ({ principal: alice.principal, action: "ReadObject", resource: object("globex", "theirs.pdf") });

const vp = (client: VerifiedPermissionsClientLike, extra: Record<string, unknown> = {}) =>
  createVerifiedPermissionsAuthorizer({
    policyStoreId: emulator.policyStoreId,
    client,
    namespace: NAMESPACE,
    schema: SCHEMA_JSON,
    timeoutMs: 10_000,
    cache: false,
    batch: { minSize: 2 },
    ...extra,
  });

describe("a batch answer is matched to its requests by the request each result echoes", () => {
  afterEach(() => emulator.resetCalls());

  it("the service's answer reordered: the denied request stays denied, the allowed one allowed", async () => {
    const a = vp(tampering((results) => [...results].reverse()));
    const [yes, no] = await Promise.all([a.isAuthorized(allowed()), a.isAuthorized(denied())]);
    expect(emulator.calls.BatchIsAuthorized).toBe(1);
    expect(no.allowed).toBe(false);
    expect(no.decision).toBe("DENY");
    expect(yes.allowed).toBe(true);
  });

  it("in token mode too (BatchIsAuthorizedWithToken)", async () => {
    const a = vp(
      tampering((results) => [...results].reverse()),
      { mode: "withToken" },
    );
    const [yes, no] = await Promise.all([a.isAuthorized({ ...allowed(), token: alice.token }), a.isAuthorized({ ...denied(), token: alice.token })]);
    expect(emulator.calls.BatchIsAuthorizedWithToken).toBe(1);
    expect(no.allowed).toBe(false);
    expect(yes.allowed).toBe(true);
  });

  const broken: [string, (results: Record<string, unknown>[]) => unknown[]][] = [
    ["every result echoes the first request", (results) => results.map((r) => ({ ...r, request: results[0]!["request"] }))],
    ["the results carry no request", (results) => results.map(({ request: _omitted, ...r }) => r)],
    [
      "a result echoes a request nobody sent",
      (results) => results.map((r, i) => (i === 0 ? { ...r, request: { ...(r["request"] as object), resource: { entityType: "TenancyDemo::Object", entityId: "x" } } } : r)),
    ],
    [
      "a result echoes the other request's context",
      (results) =>
        results.map((r) => ({ ...r, request: { ...(r["request"] as object), context: { contextMap: { tenant: { entityIdentifier: { entityType: "TenancyDemo::Tenant", entityId: "globex" } } } } } })),
    ],
    ["every result is the ALLOW, echoing the allowed request", (results) => results.map(() => results.find((r) => r["decision"] === "ALLOW"))],
  ];
  for (const [label, tamper] of broken) {
    it(`${label}: a request no result lines up with is refused (503), never allowed`, async () => {
      const a = vp(tampering(tamper));
      const outcomes = await Promise.allSettled([authorizeOrThrow(a, allowed()), authorizeOrThrow(a, denied())]);
      const denial = outcomes[1]!;
      expect(denial.status).toBe("rejected");
      const code = (denial as PromiseRejectedResult).reason.code as string;
      expect(["authorizer_unavailable", "access_denied"]).toContain(code);
      // Whatever happens to the allowed request, it is never decided by another's answer: at
      // least one of the two is refused as unanswered.
      const unavailable = outcomes.filter((o) => o.status === "rejected" && (o.reason as { code?: string }).code === "authorizer_unavailable");
      expect(unavailable.length).toBeGreaterThan(0);
    });
  }
});

describe("a client that rejects with anything: 503, and no unhandled rejection", () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(() => {
    process.on("unhandledRejection", onUnhandled);
  });
  afterAll(() => {
    process.off("unhandledRejection", onUnhandled);
  });
  beforeEach(() => {
    unhandled.length = 0;
  });

  const thrown: [string, () => unknown][] = [
    ["undefined", () => undefined],
    ["null", () => null],
    ["a string", () => "ThrottlingException"],
    ["a number", () => 503],
    ["a frozen object", () => Object.freeze({ name: "InternalFailure", message: "frozen" })],
    ["a frozen object without a name", () => Object.freeze(Object.create(null))],
    [
      "an object whose getters throw",
      () =>
        Object.freeze({
          get name(): string {
            throw new Error("getter");
          },
          get $retryable(): unknown {
            throw new Error("getter");
          },
        }),
    ],
  ];
  for (const [label, value] of thrown) {
    for (const style of ["send", "methods"] as const) {
      for (const batched of [false, true]) {
        it(`${label} (${style}()${batched ? ", batched" : ""})`, async () => {
          const reject = () => Promise.reject(value());
          const client: VerifiedPermissionsClientLike =
            style === "send" ? { send: reject } : { isAuthorized: reject, batchIsAuthorized: reject, isAuthorizedWithToken: reject, batchIsAuthorizedWithToken: reject };
          // A timeout longer than an answer takes: the 503 must come from the catch, not from the timer.
          const a = vp(client, { timeoutMs: 5_000, batch: batched && { minSize: 2 } });
          const requests = batched ? [allowed(), denied()] : [allowed()];
          await Promise.all(requests.map((r) => expectRefused(() => authorizeOrThrow(a, r), "authorizer_unavailable", 503)));
          // Let Node report any rejection nobody handled (it does so once the current task ends).
          await new Promise((r) => setTimeout(r, 20));
          expect(unhandled).toEqual([]);
        }, 20_000);
      }
    }
  }
});
