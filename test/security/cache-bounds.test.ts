/**
 * Cache bounds, by behaviour. A cached principal comes back as the same frozen object;
 * a re-verified one is a new object. With `cache: { maxEntries: 100 }`:
 * - 150 distinct valid tokens leave exactly the last 100 cached;
 * - forged, expired and refused tokens are never cached, so they cannot evict anything;
 * - nothing is served past `exp`.
 * The million-token heap measurement is scripts/cache-bounds.ts (figures in docs/security.md).
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type { TenantPrincipal } from "../../src/index.js";
import { authFor, createRawIssuer, expectRefused } from "../support/security.js";
import type { RawIssuer } from "../support/security.js";

let es: RawIssuer;
let attacker: RawIssuer;
beforeAll(async () => {
  es = await createRawIssuer("ES256");
  attacker = await createRawIssuer("ES256");
});
const mint = (extra: Record<string, unknown> = {}) => es.signJson(es.claims({ sub: randomUUID(), jti: randomUUID(), ...extra }));

describe("verified-token cache bounds", () => {
  it("holds at most maxEntries principals: the oldest go first", async () => {
    const auth = authFor(es.issuer, { cache: { maxEntries: 100 } });
    const tokens = Array.from({ length: 150 }, () => mint());
    const first: TenantPrincipal[] = [];
    for (const t of tokens) first.push(await auth.resolveTenant(t));
    // The last 100 are served from the cache (same object)...
    for (let i = 50; i < 150; i++) expect(await auth.resolveTenant(tokens[i] as string)).toBe(first[i]);
    // ...the first 50 were evicted and are verified again (a new, equal object).
    for (let i = 0; i < 50; i++) {
      const again = await auth.resolveTenant(tokens[i] as string);
      expect(again).not.toBe(first[i]);
      expect(again).toEqual(first[i]);
    }
  });

  it("refused tokens are never cached, so a flood of them evicts nothing", async () => {
    const auth = authFor(es.issuer, { cache: { maxEntries: 100 } });
    const tokens = Array.from({ length: 100 }, () => mint());
    const cached = await Promise.all(tokens.map((t) => auth.resolveTenant(t)));
    for (let i = 0; i < 500; i++) {
      await expectRefused(() => auth.resolveTenant(attacker.signJson(es.claims({ sub: randomUUID() }), es.header())), "token_invalid", 401);
    }
    // Same tail as a cached token, different body: a miss, then a refusal; the entry survives.
    for (const t of tokens.slice(0, 20)) {
      const [, , sig] = t.split(".") as [string, string, string];
      const forged = `${es
        .signJson(es.claims({ "cognito:groups": ["tenant:globex"] }))
        .split(".")
        .slice(0, 2)
        .join(".")}.${sig}`;
      await expectRefused(() => auth.resolveTenant(forged), "token_invalid", 401);
    }
    for (let i = 0; i < 100; i++) expect(await auth.resolveTenant(tokens[i] as string)).toBe(cached[i]);
  });

  it("a valid token asked with hints it is not entitled to is refused and leaves the cache as it was", async () => {
    const auth = authFor(es.issuer, { cache: { maxEntries: 10 } });
    const token = mint();
    const p = await auth.resolveTenant(token);
    for (let i = 0; i < 1000; i++) await expectRefused(() => auth.resolveTenant(token, { tenantHint: `other-${i}` }), "tenant_forbidden", 403);
    expect(await auth.resolveTenant(token)).toBe(p);
    const hinted = await auth.resolveTenant(token, { tenantHint: "acme" });
    expect(hinted.tenantId).toBe("acme");
    expect(await auth.resolveTenant(token, { tenantHint: "acme" })).toBe(hinted);
  });

  it("never serves a principal past exp (an expired token within the clock tolerance is not cached)", async () => {
    const auth = authFor(es.issuer, { cache: { maxEntries: 10 }, clockToleranceSeconds: 120 });
    const now = Math.floor(Date.now() / 1000);
    const token = mint({ exp: now - 30 });
    const a = await auth.resolveTenant(token);
    const b = await auth.resolveTenant(token);
    expect(a).not.toBe(b);
    // Without the tolerance it is refused outright.
    await expectRefused(() => authFor(es.issuer).resolveTenant(token), "token_expired", 401);
  });

  it("cache: false keeps nothing", async () => {
    const auth = authFor(es.issuer, { cache: false });
    const token = mint();
    expect(await auth.resolveTenant(token)).not.toBe(await auth.resolveTenant(token));
  });
});
