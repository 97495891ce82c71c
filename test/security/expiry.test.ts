/**
 * The exp boundary. RFC 7519 §4.1.4: the current time must be BEFORE exp, so a token is refused
 * at exactly exp (plus the clock tolerance, when one is set), whether it is verified or served
 * from the verified-token cache. A fake clock (only Date is faked) puts us exactly there.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import type { TenantAuthOptions } from "../../src/index.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";
import { decodeSegment, expectRefused } from "../support/security.js";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterEach(() => {
  vi.useRealTimers();
});

async function mint(): Promise<{ token: string; expMs: number }> {
  const token = await issuer.idToken({ groups: ["tenant:acme"] });
  return { token, expMs: (decodeSegment(token, 1)["exp"] as number) * 1000 };
}

const at = (ms: number) => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(ms);
};

const auth = (options: Partial<TenantAuthOptions> = {}) => createTenantAuth({ userPools: [issuer.userPool], ...options });

describe("exp: refused at now >= exp", () => {
  it("uncached: accepted 1 ms before exp, refused at exactly exp", async () => {
    const { token, expMs } = await mint();
    const a = auth({ cache: false });
    at(expMs - 1);
    expect((await a.resolveTenant(token)).tenantId).toBe("acme");
    at(expMs);
    await expectRefused(() => a.resolveTenant(token), "token_expired", 401);
    at(expMs + 1);
    await expectRefused(() => a.resolveTenant(token), "token_expired", 401);
  });

  it("cached: a token cached before exp is refused at exactly exp (raw and as a Bearer header)", async () => {
    const { token, expMs } = await mint();
    const a = auth();
    at(expMs - 1000);
    const first = await a.resolveTenant(token);
    at(expMs - 1);
    expect(await a.resolveTenant(token)).toBe(first); // served from the cache
    at(expMs);
    await expectRefused(() => a.resolveTenant(token), "token_expired", 401);
    await expectRefused(() => a.resolveTenant(`Bearer ${token}`), "token_expired", 401);
  });

  it("with clockToleranceSeconds: accepted until exp + tolerance, refused at exactly exp + tolerance, cached or not", async () => {
    const { token, expMs } = await mint();
    for (const options of [{ cache: false as const }, {}]) {
      const a = auth({ clockToleranceSeconds: 30, ...options });
      at(expMs - 1000);
      await a.resolveTenant(token);
      at(expMs + 29_999);
      expect((await a.resolveTenant(token)).tenantId).toBe("acme");
      at(expMs + 30_000);
      await expectRefused(() => a.resolveTenant(token), "token_expired", 401);
      vi.useRealTimers();
    }
  });

  it("an ID token and an access token alike", async () => {
    const token = await issuer.accessToken({ groups: ["tenant:acme"] });
    const expMs = (decodeSegment(token, 1)["exp"] as number) * 1000;
    at(expMs);
    await expectRefused(() => auth().resolveTenant(token), "token_expired", 401);
  });
});
