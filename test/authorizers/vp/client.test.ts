// The client part alone: which method each operation calls, retries of what the service model
// marks retryable, and the deadline. Small fake clients; the end-to-end path with the real SDK
// client and the emulator is in test/authorizers/vp-dispatch.test.ts.
import { describe, expect, it } from "vitest";
import { TenantAuthError } from "../../../src/core/errors.js";
import type { SdkModule } from "../../../src/authorizers/vp/client.js";
import { createVpClient, isRetryable } from "../../../src/authorizers/vp/client.js";

type Call = { method: string; input: unknown; signal: AbortSignal | undefined };

/** A method-style client whose every method answers with `answer(call)`. */
function fakeClient(answer: (call: Call, n: number) => Promise<unknown>) {
  const calls: Call[] = [];
  const method = (name: string) => (input: unknown, o?: { abortSignal?: AbortSignal }) => {
    const call = { method: name, input, signal: o?.abortSignal };
    calls.push(call);
    return answer(call, calls.length);
  };
  return {
    calls,
    client: {
      isAuthorized: method("isAuthorized"),
      batchIsAuthorized: method("batchIsAuthorized"),
      isAuthorizedWithToken: method("isAuthorizedWithToken"),
      batchIsAuthorizedWithToken: method("batchIsAuthorizedWithToken"),
    },
  };
}

const far = () => Date.now() + 60_000;
const named = (name: string) => Object.assign(new Error(name), { name });

describe("createVpClient", () => {
  it("calls the method of each operation with the input and an abort signal", async () => {
    const f = fakeClient(async (c) => ({ answered: c.method }));
    const c = createVpClient({ client: f.client, maxAttempts: 1, baseDelayMs: 0 });
    for (const [op, method] of [
      ["IsAuthorized", "isAuthorized"],
      ["BatchIsAuthorized", "batchIsAuthorized"],
      ["IsAuthorizedWithToken", "isAuthorizedWithToken"],
      ["BatchIsAuthorizedWithToken", "batchIsAuthorizedWithToken"],
    ] as const) {
      expect(await c.call(op, { policyStoreId: "ps" }, far())).toEqual({ answered: method });
    }
    expect(f.calls.map((x) => x.input)).toEqual(Array(4).fill({ policyStoreId: "ps" }));
    expect(f.calls.every((x) => x.signal instanceof AbortSignal)).toBe(true);
  });

  it("retries ThrottlingException and InternalServerException, then answers", async () => {
    const f = fakeClient(async (_c, n) => {
      if (n === 1) throw named("ThrottlingException");
      if (n === 2) throw named("InternalServerException");
      return { decision: "ALLOW" };
    });
    const c = createVpClient({ client: f.client, maxAttempts: 4, baseDelayMs: 0 });
    expect(await c.call("IsAuthorized", {}, far())).toEqual({ decision: "ALLOW" });
    expect(f.calls).toHaveLength(3);
  });

  it("stops after maxAttempts and passes the last error on as the client gave it", async () => {
    const err = named("ThrottlingException");
    const f = fakeClient(async () => {
      throw err;
    });
    const c = createVpClient({ client: f.client, maxAttempts: 3, baseDelayMs: 0 });
    await expect(c.call("IsAuthorized", {}, far())).rejects.toBe(err);
    expect(f.calls).toHaveLength(3);
  });

  it("does not retry what is not retryable (AccessDeniedException, a ValidationException)", async () => {
    for (const name of ["AccessDeniedException", "ValidationException"]) {
      const f = fakeClient(async () => {
        throw named(name);
      });
      const c = createVpClient({ client: f.client, maxAttempts: 4, baseDelayMs: 0 });
      await expect(c.call("IsAuthorized", {}, far())).rejects.toMatchObject({ name });
      expect(f.calls).toHaveLength(1);
    }
  });

  it("past the deadline: authorizer_unavailable without a call", async () => {
    const f = fakeClient(async () => ({}));
    const c = createVpClient({ client: f.client, maxAttempts: 1, baseDelayMs: 0 });
    const err = await c.call("IsAuthorized", {}, Date.now() - 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TenantAuthError);
    expect(err).toMatchObject({ code: "authorizer_unavailable", status: 503 });
    expect(f.calls).toHaveLength(0);
  });

  it("a call that never answers is aborted at the deadline: authorizer_unavailable", async () => {
    const f = fakeClient(
      (c) =>
        new Promise((_, reject) => {
          c.signal?.addEventListener("abort", () => reject(named("AbortError")));
        }),
    );
    const c = createVpClient({ client: f.client, maxAttempts: 4, baseDelayMs: 0 });
    await expect(c.call("IsAuthorized", {}, Date.now() + 50)).rejects.toMatchObject({ code: "authorizer_unavailable" });
    expect(f.calls[0]!.signal!.aborted).toBe(true);
    expect(f.calls).toHaveLength(1);
  });

  it("a client with neither send() nor the method: a TypeError naming the method", async () => {
    const c = createVpClient({ client: { send: undefined } as never, maxAttempts: 1, baseDelayMs: 0 });
    await expect(c.call("BatchIsAuthorized", {}, far())).rejects.toThrow(/batchIsAuthorized\(\)/);
  });

  it("without a client: made once from the SDK with maxAttempts 1, region and clientConfig; a failed import is tried again", async () => {
    const made: unknown[] = [];
    let loads = 0;
    const loadSdk = async () => {
      loads++;
      if (loads === 1) throw new Error("not installed");
      return {
        VerifiedPermissionsClient: class {
          constructor(config: unknown) {
            made.push(config);
          }
        },
      } as unknown as SdkModule;
    };
    const c = createVpClient({ region: "eu-west-1", clientConfig: { endpoint: "http://127.0.0.1:1" }, maxAttempts: 1, baseDelayMs: 0, loadSdk });
    await expect(c.get()).rejects.toThrow("not installed");
    const one = await c.get();
    expect(await c.get()).toBe(one);
    expect(made).toEqual([{ maxAttempts: 1, region: "eu-west-1", endpoint: "http://127.0.0.1:1" }]);
  });
});

describe("isRetryable", () => {
  it("what the service model marks retryable, $retryable, and HTTP 429; nothing else, and never a throw", () => {
    expect(isRetryable(named("ThrottlingException"))).toBe(true);
    expect(isRetryable(named("InternalServerException"))).toBe(true);
    expect(isRetryable({ name: "X", $retryable: {} })).toBe(true);
    expect(isRetryable({ name: "X", $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isRetryable({ name: "X", $metadata: { httpStatusCode: 500 } })).toBe(false);
    const hostile = Object.defineProperty({}, "name", {
      get() {
        throw new Error("boom");
      },
    });
    for (const v of [undefined, null, "ThrottlingException", 429, hostile]) expect(isRetryable(v)).toBe(false);
  });
});
