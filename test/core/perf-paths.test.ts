// The hot paths (docs/benchmarks.md) must not change outcomes: the verified-token cache keys on the token's
// tail but serves only the exact token; the "=" scan stands in for the compact-form pattern.
import { beforeAll, describe, expect, it } from "vitest";
import { compileTenantStrategy, createTenantAuth, isTenantAuthError } from "../../src/index.js";
import type { NormalizedClaims, TenantMembership } from "../../src/index.js";
import type { TenantAuth } from "../../src/index.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";

let issuer: TestIssuer;
let auth: TenantAuth;

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isTenantAuthError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("expected a refusal");
}

function withPayload(token: string, patch: Record<string, unknown>): string {
  const [h, p, s] = token.split(".") as [string, string, string];
  const payload = { ...JSON.parse(Buffer.from(p, "base64url").toString("utf8")), ...patch };
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
}

beforeAll(async () => {
  issuer = await createTestIssuer();
  auth = createTenantAuth({ userPools: [issuer.userPool] });
});

describe("verified-token cache fast paths", () => {
  it("a different token with the same signature (same cache key) is verified, not served", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    expect((await auth.resolveTenant(token)).tenantId).toBe("acme");
    const forged = withPayload(token, { "cognito:groups": ["tenant:globex"] });
    expect(forged.slice(-32)).toBe(token.slice(-32));
    expect((await refusal(auth.resolveTenant(forged))).code).toBe("token_invalid");
    expect((await refusal(auth.resolveTenant(`Bearer ${forged}`))).code).toBe("token_invalid");
    // ...and the genuine token is still served from the cache.
    const p = await auth.resolveTenant(token);
    expect(await auth.resolveTenant(`Bearer ${token}`)).toBe(p);
  });

  it("serves the cached principal for every header form extractToken accepts", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    const p = await auth.resolveTenant(`Bearer ${token}`);
    for (const value of [token, `Bearer ${token}`, `bearer ${token}`, `BEARER  ${token} `, ` ${token}`, [`Bearer ${token}`]]) {
      expect(await auth.resolveTenant(value)).toBe(p);
    }
  });

  it("refuses what extractToken refuses even when the token is cached", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    await auth.resolveTenant(token);
    expect((await refusal(auth.resolveTenant(`Bearer ${token} x`))).code).toBe("invalid_request");
    expect((await refusal(auth.resolveTenant(`Basic ${token}`))).code).toBe("token_missing");
    expect((await refusal(auth.resolveTenant([`Bearer ${token}`, `Bearer ${token}`]))).code).toBe("invalid_request");
    expect((await refusal(auth.resolveTenant(token, { tenantHint: ["a", "b"] as never }))).code).toBe("invalid_request");
  });

  it("a header that is not one b64token is invalid_request before anything else is looked at", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    await auth.resolveTenant(token);
    const header = "The Authorization header must carry exactly one bearer token";
    for (const value of [`Bearer ${token}!`, `Bearer ${token}=x`, `Bearer a,b`, `Bearer ${"x".repeat(70_000)}@`]) {
      expect(await refusal(auth.resolveTenant(value))).toEqual({ code: "invalid_request", message: header });
      // ...even when the tenant hint is bad too: the header is checked first.
      expect(await refusal(auth.resolveTenant(value, { tenantHint: ["a", "b"] as never }))).toEqual({ code: "invalid_request", message: header });
    }
    // A raw token (no scheme) is not held to the b64token rule; the verifier refuses it.
    expect((await refusal(auth.resolveTenant(`${token}!`))).code).toBe("token_invalid");
  });

  it("padding and other non-compact forms are refused with the compact-form error, cached or not", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    await auth.resolveTenant(token);
    const [h, p, s] = token.split(".") as [string, string, string];
    for (const bad of [`${h}=.${p}.${s}`, `${h}.${p}.${s}==`, `${h}.${p}.${s}.x`, `${h}..${s}`, `${h}.${p}`, `${h}.${p}.${s}+`]) {
      const err = await refusal(auth.resolveTenant(bad));
      expect(err).toEqual({ code: "token_invalid", message: "The token is not a JWS in compact form" });
    }
  });

  it("with the cache off, the same token is verified every time and gives equal principals", async () => {
    const off = createTenantAuth({ userPools: [issuer.userPool], cache: false });
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    const a = await off.resolveTenant(`Bearer ${token}`);
    const b = await off.resolveTenant(`Bearer ${token}`);
    expect(b).not.toBe(a);
    expect(b).toEqual(a);
  });

  it("an async custom resolver still resolves and caches", async () => {
    const custom = createTenantAuth({
      userPools: [issuer.userPool],
      tenants: { from: "custom", resolve: async () => ["acme"] },
    });
    const token = await issuer.idToken();
    const p = await custom.resolveTenant(token);
    expect(p.tenantId).toBe("acme");
    expect(await custom.resolveTenant(`Bearer ${token}`)).toBe(p);
  });

  it("group memberships remembered per group list are the ones computed afresh, even for lists that join alike", () => {
    const resolver = compileTenantStrategy({ from: "groups" });
    const fresh = () => compileTenantStrategy({ from: "groups" });
    const id = (groups: string[]) => ({ groups }) as unknown as NormalizedClaims;
    for (const groups of [["tenant:x", "tenant:y:admin"], ["tenant:x\ntenant:y:admin"], ["staff"], ["tenant:x", "tenant:y:admin"]]) {
      expect(resolver.memberships(id(groups))).toEqual(fresh().memberships(id(groups)));
    }
    expect((resolver.memberships(id(["tenant:x", "tenant:y:admin"])) as readonly TenantMembership[]).map((m) => m.tenantId)).toEqual(["x", "y"]);
    expect((resolver.memberships(id(["tenant:x\ntenant:y:admin"])) as readonly TenantMembership[]).map((m) => m.tenantId)).not.toEqual(["x", "y"]);
  });
});
