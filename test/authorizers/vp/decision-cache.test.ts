// The decision cache part alone: sharing of questions in flight, expiry, and generations.
import { describe, expect, it } from "vitest";
import { createDecisionCache } from "../../../src/authorizers/vp/decision-cache.js";

const valid = () => Date.now() + 3_600_000;

/** An answer that comes when the test says so. */
function later<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("createDecisionCache", () => {
  it("concurrent identical questions share one ask; its answer is stored and served", async () => {
    const c = createDecisionCache<string>({ maxEntries: 10, ttlMs: 60_000 });
    const answer = later<string>();
    let asks = 0;
    const ask = (store: (d: string) => void) => {
      asks++;
      return answer.promise.then((d) => (store(d), d));
    };
    const one = c.share("k", ask);
    const two = c.share("k", ask);
    expect(two).toBe(one);
    answer.resolve("ALLOW");
    expect(await Promise.all([one, two])).toEqual(["ALLOW", "ALLOW"]);
    expect(asks).toBe(1);
    expect(c.lookup("k", valid())).toBe("ALLOW");
    expect(c.size).toBe(1);
  });

  it("once settled the question is asked again (no hit: nothing was stored)", async () => {
    const c = createDecisionCache<string>({ maxEntries: 10, ttlMs: 60_000 });
    let asks = 0;
    await c.share("k", async () => (asks++, "DENY"));
    await c.share("k", async () => (asks++, "DENY"));
    expect(asks).toBe(2);
    expect(c.lookup("k", valid())).toBeUndefined();
  });

  it("a rejected ask is forgotten: the next question asks again", async () => {
    const c = createDecisionCache<string>({ maxEntries: 10, ttlMs: 60_000 });
    await expect(c.share("k", () => Promise.reject(new Error("503")))).rejects.toThrow("503");
    expect(await c.share("k", async (store) => (store("ALLOW"), "ALLOW"))).toBe("ALLOW");
    expect(c.lookup("k", valid())).toBe("ALLOW");
  });

  it("never answers for a principal whose token has expired", async () => {
    const c = createDecisionCache<string>({ maxEntries: 10, ttlMs: 60_000 });
    await c.share("k", async (store) => (store("ALLOW"), "ALLOW"));
    expect(c.lookup("k", Date.now() - 1)).toBeUndefined();
    expect(c.lookup("k", valid())).toBe("ALLOW");
  });

  it("an entry older than ttlMs is dropped (ttlMs 0: none is ever served)", async () => {
    const c = createDecisionCache<string>({ maxEntries: 10, ttlMs: 0 });
    await c.share("k", async (store) => (store("ALLOW"), "ALLOW"));
    expect(c.lookup("k", valid())).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it("clear(): forgets every entry, and an answer asked for before it is not stored", async () => {
    const c = createDecisionCache<string>({ maxEntries: 10, ttlMs: 60_000 });
    await c.share("old", async (store) => (store("ALLOW"), "ALLOW"));
    const answer = later<string>();
    const before = c.share("k", (store) => answer.promise.then((d) => (store(d), d)));
    c.clear();
    expect(c.size).toBe(0);
    // A question after clear() does not join the one asked before it.
    let asks = 0;
    const after = c.share("k", async () => (asks++, "DENY"));
    expect(after).not.toBe(before);
    answer.resolve("ALLOW");
    expect(await before).toBe("ALLOW");
    expect(await after).toBe("DENY");
    expect(asks).toBe(1);
    expect(c.lookup("k", valid())).toBeUndefined();
    expect(c.lookup("old", valid())).toBeUndefined();
  });

  it("holds at most maxEntries", async () => {
    const c = createDecisionCache<number>({ maxEntries: 3, ttlMs: 60_000 });
    for (let i = 0; i < 10; i++) await c.share(`k${i}`, async (store) => (store(i), i));
    expect(c.size).toBe(3);
    expect(c.lookup("k9", valid())).toBe(9);
    expect(c.lookup("k0", valid())).toBeUndefined();
  });

  it("off (no settings): nothing is stored, questions in flight are still shared", async () => {
    const c = createDecisionCache<string>(undefined);
    const answer = later<string>();
    let asks = 0;
    const ask = (store: (d: string) => void) => (asks++, answer.promise.then((d) => (store(d), d)));
    const one = c.share("k", ask);
    expect(c.share("k", ask)).toBe(one);
    answer.resolve("ALLOW");
    await one;
    expect(asks).toBe(1);
    expect(c.lookup("k", valid())).toBeUndefined();
    expect(c.size).toBe(0);
  });
});
