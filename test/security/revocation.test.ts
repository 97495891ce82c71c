/**
 * Revocation bounds. A user removed from a tenant (or signed out) keeps a valid token until it
 * expires, and Cognito's refresh keeps `auth_time`: `maxTokenAgeSeconds` bounds how long a sign-in
 * lasts, `assertTokenAge` does it per route, and `isRevoked` asks the app's own store, with its
 * answers cached for a short TTL. The verified-token cache never skips either check.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { assertTokenAge, createTenantAuth } from "../../src/index.js";
import type { TenantAuthOptions, TenantPrincipal } from "../../src/index.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";
import { expectRefused } from "../support/security.js";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterEach(() => {
  vi.useRealTimers();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const auth = (options: Partial<TenantAuthOptions> = {}) => createTenantAuth({ userPools: [issuer.userPool], ...options });
/** A token refreshed just now from a sign-in `signedInAgo` seconds ago. */
const refreshed = (signedInAgo: number, extra: Record<string, unknown> = {}) => issuer.idToken({ groups: ["tenant:acme"], claims: { auth_time: nowSeconds() - signedInAgo, ...extra } });

describe("maxTokenAgeSeconds", () => {
  it("refuses a token whose sign-in (auth_time) is too old, even freshly refreshed (401 token_expired)", async () => {
    const a = auth({ maxTokenAgeSeconds: 3600 });
    expect((await a.resolveTenant(await refreshed(60))).tenantId).toBe("acme");
    const old = await refreshed(7200);
    await expectRefused(() => a.resolveTenant(old), "token_expired", 401, /sign-in is older/);
  });

  it("falls back to iat when there is no auth_time; refuses a token with neither, or a non-numeric auth_time", async () => {
    const a = auth({ maxTokenAgeSeconds: 3600 });
    const old = await issuer.idToken({ groups: ["tenant:acme"], issuedAt: nowSeconds() - 4000, expiresIn: 7200, claims: { auth_time: undefined } });
    await expectRefused(() => a.resolveTenant(old), "token_expired", 401);
    const neither = await issuer.idToken({ groups: ["tenant:acme"], claims: { auth_time: undefined, iat: undefined } });
    await expectRefused(() => a.resolveTenant(neither), "token_invalid", 401, /auth_time or iat/);
    const stringly = await refreshed(0, { auth_time: "1700000000" });
    await expectRefused(() => a.resolveTenant(stringly), "token_invalid", 401, /auth_time claim must be a number/);
    // Without the option, such tokens are none of its business.
    expect((await auth().resolveTenant(neither)).tenantId).toBe("acme");
  });

  it("a pool's own maxTokenAgeSeconds overrides the global one", async () => {
    const token = await refreshed(120);
    expect((await auth({ maxTokenAgeSeconds: 3600 }).resolveTenant(token)).tenantId).toBe("acme");
    const strict = auth({ maxTokenAgeSeconds: 3600, userPools: [{ ...issuer.userPool, maxTokenAgeSeconds: 60 }] });
    await expectRefused(() => strict.resolveTenant(token), "token_expired", 401);
    const lenient = auth({ maxTokenAgeSeconds: 60, userPools: [{ ...issuer.userPool, maxTokenAgeSeconds: 3600 }] });
    expect((await lenient.resolveTenant(token)).tenantId).toBe("acme");
  });

  it("an over-age token is refused before the tenant lookup runs for it", async () => {
    let lookups = 0;
    const a = auth({ maxTokenAgeSeconds: 3600, tenants: { from: "custom", resolve: () => (lookups++, ["acme"]) } });
    const old = await refreshed(7200);
    await expectRefused(() => a.resolveTenant(old), "token_expired", 401);
    expect(lookups).toBe(0);
  });

  it("a cached token is refused once its sign-in gets too old, long before exp", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const token = await refreshed(0);
    const a = auth({ maxTokenAgeSeconds: 600 });
    const first = await a.resolveTenant(token);
    vi.setSystemTime(start + 599_000);
    expect(await a.resolveTenant(token)).toBe(first);
    vi.setSystemTime(Math.ceil(start / 1000) * 1000 + 600_000);
    await expectRefused(() => a.resolveTenant(token), "token_expired", 401);
    await expectRefused(() => a.resolveTenant(`Bearer ${token}`), "token_expired", 401);
  });
});

describe("assertTokenAge (per route)", () => {
  it("allows a recent sign-in and refuses an old one with 401 token_expired", async () => {
    const a = auth();
    const recent = await a.resolveTenant(await refreshed(10));
    const old = await a.resolveTenant(await refreshed(900));
    expect(() => assertTokenAge(recent, 300)).not.toThrow();
    try {
      assertTokenAge(old, 300);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: "token_expired", status: 401 });
    }
    expect(() => assertTokenAge(old, 3600)).not.toThrow();
  });

  it("a maxAgeSeconds that is not a number in range is a TypeError (never a silently skipped check)", async () => {
    const p = await auth().resolveTenant(await refreshed(10));
    for (const bad of ["300", NaN, Infinity, 0, -1, undefined]) {
      expect(() => assertTokenAge(p, bad as unknown as number)).toThrow(TypeError);
    }
  });
});

describe("isRevoked", () => {
  it("a revoked principal is refused 401 token_invalid; others pass; the hook sees the resolved principal", async () => {
    const seen: TenantPrincipal[] = [];
    const a = auth({
      isRevoked: (p) => {
        seen.push(p);
        return p.sub === "removed";
      },
    });
    expect((await a.resolveTenant(await issuer.idToken({ sub: "kept", groups: ["tenant:acme"] }))).sub).toBe("kept");
    await expectRefused(async () => a.resolveTenant(await issuer.idToken({ sub: "removed", groups: ["tenant:acme"] })), "token_invalid", 401, /revoked/);
    expect(seen.map((p) => [p.sub, p.tenantId])).toEqual([
      ["kept", "acme"],
      ["removed", "acme"],
    ]);
  });

  it("one call per principal per TTL, cached tokens included: a revocation takes effect within the TTL", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const revokedSubs = new Set<string>();
    let calls = 0;
    const a = auth({
      isRevoked: async (p) => {
        calls++;
        return revokedSubs.has(p.sub);
      },
      revocationCache: { ttlMs: 30_000 },
    });
    const token = await issuer.idToken({ sub: "bob", groups: ["tenant:acme"] });
    const first = await a.resolveTenant(token);
    expect(await a.resolveTenant(token)).toBe(first);
    expect(calls).toBe(1);
    revokedSubs.add("bob");
    vi.setSystemTime(start + 29_000);
    expect(await a.resolveTenant(token)).toBe(first); // the cached "not revoked" answer
    vi.setSystemTime(start + 30_001);
    await expectRefused(() => a.resolveTenant(token), "token_invalid", 401, /revoked/);
    expect(calls).toBe(2);
    // Another tenant of the same user is another principal: asked separately.
    const two = await issuer.idToken({ sub: "carol", groups: ["tenant:acme", "tenant:globex"] });
    await a.resolveTenant(two, { tenantHint: "acme" });
    await a.resolveTenant(two, { tenantHint: "globex" });
    expect(calls).toBe(4);
  });

  it("concurrent requests for one principal share one call", async () => {
    let calls = 0;
    const a = auth({
      isRevoked: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 20));
        return false;
      },
    });
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    await a.resolveTenant(token);
    a.clearCache();
    await Promise.all(Array.from({ length: 10 }, () => a.resolveTenant(token)));
    expect(calls).toBe(2);
  });

  it("fails closed with 503 tenant_unavailable when the hook throws, rejects, answers nonsense or hangs", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    const hooks: TenantAuthOptions["isRevoked"][] = [
      () => {
        throw new Error("database down");
      },
      () => Promise.reject(new Error("database down")),
      () => "no" as unknown as boolean,
      () => undefined as unknown as boolean,
      () => new Promise<boolean>(() => {}),
    ];
    for (const isRevoked of hooks) {
      const a = auth({ isRevoked, revocationTimeoutMs: 200 });
      const err = await expectRefused(() => a.resolveTenant(token), "tenant_unavailable", 503, /revocation status could not be checked/);
      expect(err.headers["Retry-After"]).toBeDefined();
      // A failure is never cached: the next request asks again (and fails again).
      await expectRefused(() => a.resolveTenant(token), "tenant_unavailable", 503);
    }
  });

  it("ttlMs: 0 asks on every request", async () => {
    let calls = 0;
    const a = auth({ isRevoked: () => (calls++, false), revocationCache: { ttlMs: 0 } });
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    for (let i = 0; i < 3; i++) await a.resolveTenant(token);
    expect(calls).toBe(3);
  });
});
