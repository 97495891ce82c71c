// createVerifiedPermissionsAuthorizer's options go through the shared validator: a number that is a
// string (from process.env), infinite or negative is a TypeError naming the option, at setup. A
// string TTL used to keep decisions for the token's whole life, a string timeout to abort every
// call after 1 ms.
import { describe, expect, it } from "vitest";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";

const base = { policyStoreId: "PS1", namespace: "Ns", client: { send: async () => ({}) } };
const make = (extra: Record<string, unknown>) => () => createVerifiedPermissionsAuthorizer({ ...base, ...extra } as never);

/** Each numeric option, as the path in messages and the options that set it to `v`. */
const numeric: [string, (v: unknown) => Record<string, unknown>][] = [
  ["timeoutMs", (v) => ({ timeoutMs: v })],
  ["cache.ttlMs", (v) => ({ cache: { ttlMs: v } })],
  ["cache.maxEntries", (v) => ({ cache: { maxEntries: v } })],
  ["batch.windowMs", (v) => ({ batch: { windowMs: v } })],
  ["batch.maxSize", (v) => ({ batch: { maxSize: v } })],
  ["batch.minSize", (v) => ({ batch: { minSize: v } })],
  ["retry.maxAttempts", (v) => ({ retry: { maxAttempts: v } })],
  ["retry.baseDelayMs", (v) => ({ retry: { baseDelayMs: v } })],
];

describe("createVerifiedPermissionsAuthorizer options", () => {
  for (const [path, set] of numeric) {
    for (const value of ["60", Infinity, -1]) {
      it(`${path}: ${String(typeof value === "string" ? JSON.stringify(value) : value)} is a TypeError naming it`, () => {
        expect(make(set(value))).toThrow(TypeError);
        expect(make(set(value))).toThrow(new RegExp(`^createVerifiedPermissionsAuthorizer: ${path.replace(".", "\\.")} must be`));
      });
    }
  }

  it("batch.maxSize and batch.minSize stop at the service's 30", () => {
    expect(make({ batch: { maxSize: 31 } })).toThrow(/batch\.maxSize must be an integer from 1 to 30, got number 31/);
    expect(make({ batch: { minSize: 31 } })).toThrow(/batch\.minSize must be an integer from 1 to 30/);
    expect(make({ batch: { maxSize: 30, minSize: 30, windowMs: 5 } })).not.toThrow();
  });

  it("accepts the documented shapes", () => {
    for (const extra of [
      {},
      { batch: false },
      { batch: true },
      { batch: {} },
      { cache: false },
      { cache: { ttlMs: 0, maxEntries: 1 } },
      { timeoutMs: 1 },
      { retry: { maxAttempts: 1, baseDelayMs: 0 } },
      { mode: "withToken" },
    ]) {
      expect(make(extra), JSON.stringify(extra)).not.toThrow();
    }
  });

  it("unknown keys are refused with the likely intended one, at every level", () => {
    expect(make({ timeout: 100 })).toThrow(/unknown option timeout \(did you mean timeoutMs\?\)/);
    expect(make({ cache: { ttl: 100 } })).toThrow(/unknown option cache\.ttl \(did you mean cache\.ttlMs\?\)/);
    expect(make({ batch: { maxsize: 10 } })).toThrow(/unknown option batch\.maxsize \(did you mean batch\.maxSize\?\)/);
    expect(make({ retry: { attempts: 3 } })).toThrow(/unknown option retry\.attempts/);
    expect(make({ policyStoreID: "x" })).toThrow(/did you mean policyStoreId\?/);
  });

  it("other types and the required options", () => {
    expect(make({ cache: true })).toThrow(/cache must be an object, got boolean true/);
    expect(make({ batch: "yes" })).toThrow(/batch must be an object, got the string "yes"/);
    expect(make({ retry: 3 })).toThrow(/retry must be an object, got number 3/);
    expect(make({ mode: "token" })).toThrow(/mode must be one of "entities", "withToken"/);
    expect(make({ policyStoreId: "" })).toThrow(/policyStoreId must be a non-empty string/);
    expect(make({ namespace: undefined })).toThrow(/namespace is required/);
    expect(make({ allowWithErrors: "false" })).toThrow(/allowWithErrors must be true or false/);
    expect(make({ schema: 42 })).toThrow(/schema \(the store's schema as JSON: an object or JSON text\) must be an object, got number 42/);
  });
});
