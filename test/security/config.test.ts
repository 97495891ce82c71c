/**
 * Configuration mistakes that used to switch a check off silently: every option of
 * createTenantAuth is checked at setup, and a wrong one is a TypeError naming it.
 * Options often come from process.env, i.e. as strings: `exp + "60"` is a string, and an
 * expired token was accepted for ever.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { assertGroups, assertScopes, assertTenantRoles, createTenantAuth, principalFromClaims } from "../../src/index.js";
import type { TenantAuthOptions } from "../../src/index.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";
import { expectRefused } from "../support/security.js";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

const base = (): Record<string, unknown> => ({ userPools: [{ ...issuer.userPool }] });
const create = (options: Record<string, unknown>) => () => createTenantAuth(options as unknown as TenantAuthOptions);

/** Options with `value` at `path` (`jwks.timeoutMs`, `userPools[0].maxTokenAgeSeconds`). */
function withOption(path: string, value: unknown): Record<string, unknown> {
  const options = base();
  // The revocation settings only exist with the hook.
  if (path.startsWith("revocation")) options["isRevoked"] = () => false;
  const pool = /^userPools\[0\]\.(.+)$/.exec(path);
  if (pool) {
    (options["userPools"] as Record<string, unknown>[])[0]![pool[1] as string] = value;
    return options;
  }
  const [head, leaf] = path.split(".") as [string, string | undefined];
  if (leaf === undefined) options[head] = value;
  else options[head] = { [leaf]: value };
  return options;
}

const NUMERIC_OPTIONS = [
  "clockToleranceSeconds",
  "maxTokenLength",
  "maxTokenAgeSeconds",
  "jwks.timeoutMs",
  "jwks.unknownKidCooldownMs",
  "jwks.failureCooldownMs",
  "jwks.maxResponseBytes",
  "cache.maxEntries",
  "revocationCache.maxEntries",
  "revocationCache.ttlMs",
  "revocationTimeoutMs",
  "userPools[0].maxTokenAgeSeconds",
];

describe("numeric options: a finite number in range, or a TypeError naming the option", () => {
  for (const path of NUMERIC_OPTIONS) {
    it.each([["60"], [Infinity], [NaN], [-1], [-Infinity], [null], [true]])(`${path} = %s`, (value) => {
      const escaped = path.replace(/[.[\]]/g, "\\$&");
      expect(create(withOption(path, value))).toThrow(TypeError);
      expect(create(withOption(path, value))).toThrow(new RegExp(`^createTenantAuth: ${escaped} must be `));
    });
  }

  it("a sane value of each is accepted", () => {
    const sane: Record<string, number> = {
      clockToleranceSeconds: 60,
      maxTokenLength: 8192,
      maxTokenAgeSeconds: 3600,
      "jwks.timeoutMs": 500,
      "jwks.unknownKidCooldownMs": 50,
      "jwks.failureCooldownMs": 50,
      "jwks.maxResponseBytes": 65536,
      "cache.maxEntries": 50,
      "revocationCache.maxEntries": 50,
      "revocationCache.ttlMs": 1000,
      revocationTimeoutMs: 1000,
      "userPools[0].maxTokenAgeSeconds": 60,
    };
    for (const path of NUMERIC_OPTIONS) expect(create(withOption(path, sane[path])), path).not.toThrow();
  });

  it("bounds: no clock tolerance over 300 s, no fractional millisecond counts", () => {
    expect(create(withOption("clockToleranceSeconds", 301))).toThrow("clockToleranceSeconds must be a number from 0 to 300");
    expect(create(withOption("clockToleranceSeconds", 300))).not.toThrow();
    expect(create(withOption("jwks.timeoutMs", 1.5))).toThrow("jwks.timeoutMs must be an integer");
    expect(create(withOption("maxTokenLength", 10 * 1024 * 1024))).toThrow("maxTokenLength must be an integer from 64 to 1048576");
  });

  it('an expired token stays refused: clockToleranceSeconds "60" throws at setup instead of accepting it for ever', async () => {
    const expired = await issuer.idToken({ groups: ["tenant:acme"], issuedAt: Math.floor(Date.now() / 1000) - 7200, expiresIn: 3600 });
    expect(create({ ...base(), clockToleranceSeconds: "60" })).toThrow(
      /^createTenantAuth: clockToleranceSeconds must be a number from 0 to 300, got the string "60" \(a string, e\.g\. from process\.env/,
    );
    // The same token with the number is still refused: 60 s of tolerance does not cover an hour.
    await expectRefused(() => createTenantAuth({ userPools: [issuer.userPool], clockToleranceSeconds: 60 }).resolveTenant(expired), "token_expired", 401);
  });
});

describe("unknown keys: a TypeError naming the likely intended one", () => {
  it.each([
    [{ tenant: { from: "groups" } }, /unknown option tenant \(did you mean tenants\?\)/],
    [{ requiredTenant: false }, /unknown option requiredTenant \(did you mean requireTenant\?\)/],
    [{ clockTolerance: 5 }, /did you mean clockToleranceSeconds\?/],
    [{ jwks: { timeout: 100 } }, /unknown option jwks\.timeout \(did you mean jwks\.timeoutMs\?\)/],
    [{ cache: { maxentries: 10 } }, /unknown option cache\.maxentries \(did you mean cache\.maxEntries\?\)/],
    [{ isRevoked: () => false, revocationCache: { ttl: 10 } }, /unknown option revocationCache\.ttl \(did you mean revocationCache\.ttlMs\?\)/],
  ])("%o", (extra, message) => {
    expect(create({ ...base(), ...extra })).toThrow(message);
  });

  it("in a user pool", () => {
    expect(create({ userPools: [{ ...issuer.userPool, clientID: "x" }] })).toThrow(/unknown option userPools\[0\]\.clientID \(did you mean userPools\[0\]\.clientId\?\)/);
    expect(create({ userPools: [{ ...issuer.userPool, jwksUrl: "https://x" }] })).toThrow(/did you mean userPools\[0\]\.jwksUri\?/);
    expect(create({ userPools: [{ ...issuer.userPool, tokenUse: "ID" }] })).toThrow(/userPools\[0\]\.tokenUse must be one of "id", "access", null/);
    expect(create({ userPools: [{ ...issuer.userPool, clientId: [] }] })).toThrow(/userPools\[0\]\.clientId must be a non-empty string/);
    expect(create({ userPools: [{ ...issuer.userPool, jwks: [] }] })).toThrow(/userPools\[0\]\.jwks must be a JWKS/);
    expect(create({ userPools: [] })).toThrow(/userPools must list at least one user pool/);
    expect(create({ userPools: [issuer.userPool, "pool"] })).toThrow(/userPools\[1\] must be an object/);
  });

  it("in each tenants strategy: every `from` has its own keys", () => {
    const strategy = (tenants: unknown) => create({ ...base(), tenants });
    expect(strategy({ from: "groups", claim: "custom:tenant" })).toThrow(/unknown option tenants\.claim; known: from, pattern, precedence, roleTenants/);
    expect(strategy({ from: "groups", patern: /^t:(?<tenant>.+)$/ })).toThrow(/did you mean tenants\.pattern\?/);
    expect(strategy({ from: "claim", claims: "custom:tenant" })).toThrow(/unknown option tenants\.claims \(did you mean tenants\.claim\?\)/);
    expect(strategy({ from: "claim" })).toThrow(/tenants\.claim is required/);
    expect(strategy({ from: "userPool", tenants: {}, precedence: ["a"] })).toThrow(/unknown option tenants\.precedence/);
    expect(strategy({ from: "appClient", tenant: {} })).toThrow(/did you mean tenants\.tenants\?/);
    expect(strategy({ from: "custom", resolver: () => [] })).toThrow(/did you mean tenants\.resolve\?/);
    expect(strategy({ from: "group" })).toThrow(/tenants\.from must be one of "groups", "claim", "userPool", "appClient", "custom"/);
    expect(strategy({ from: "groups", precedence: "tenant:a" })).toThrow(/tenants\.precedence must be an array of group names/);
  });
});

describe("other settings that silently switched a check off", () => {
  it("a custom groups pattern without a (?<tenant>...) group is a TypeError (every user got 403 before)", async () => {
    expect(create({ ...base(), tenants: { from: "groups", pattern: /^org-([a-z]+)$/ } })).toThrow(/tenants\.pattern must have a named group \(\?<tenant>\.\.\.\)/);
    expect(create({ ...base(), tenants: { from: "groups", pattern: /^org-(?<tenantId>[a-z]+)$/ } })).toThrow(/named group \(\?<tenant>/);
    const auth = createTenantAuth({ userPools: [issuer.userPool], tenants: { from: "groups", pattern: /^org-(?<tenant>[a-z]+)$|^x$/ } });
    expect((await auth.resolveTenant(await issuer.idToken({ groups: ["org-acme"] }))).tenantId).toBe("acme");
  });

  it("requireTenant must be a boolean, cache false or an object, and revocation settings need the hook", () => {
    expect(create({ ...base(), requireTenant: "false" })).toThrow(/requireTenant must be true or false, got the string "false"/);
    expect(create({ ...base(), cache: true })).toThrow(/cache must be an object, got boolean true/);
    expect(create({ ...base(), cache: false })).not.toThrow();
    expect(create({ ...base(), isRevoked: true })).toThrow(/isRevoked must be a function/);
    expect(create({ ...base(), revocationCache: { ttlMs: 1000 } })).toThrow(/revocationCache needs isRevoked/);
    expect(create({ ...base(), revocationTimeoutMs: 1000 })).toThrow(/revocationTimeoutMs needs isRevoked/);
    expect(create({ ...base(), jwks: { allowInsecureHttp: "false" } })).toThrow(/jwks\.allowInsecureHttp must be true or false/);
  });
});

describe("the same class elsewhere: a wrong value that switched a check off", () => {
  it("the guards refuse an empty requirement list with a TypeError instead of letting everyone in", async () => {
    const p = await createTenantAuth({ userPools: [issuer.userPool] }).resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] }));
    expect(() => assertGroups(p, [])).toThrow(/assertGroups: groups must be a non-empty list/);
    expect(() => assertGroups(p, { all: [] })).toThrow(/assertGroups: groups\.all must be a non-empty list/);
    expect(() => assertGroups(p, { any: [] })).toThrow(/assertGroups: groups must be a non-empty list/);
    expect(() => assertTenantRoles(p, [])).toThrow(/assertTenantRoles: roles must be a non-empty list/);
    expect(() => assertScopes(p, [])).toThrow(/assertScopes: scopes must be a non-empty list/);
    expect(() => assertScopes(p, "openid" as unknown as string[])).toThrow(TypeError);
  });

  it("principalFromClaims: requireTenant of the wrong type, or a misspelt key, is a TypeError (requireTenant: 0 skipped the tenant check)", async () => {
    const claims = () => ({ sub: "u1", iss: issuer.issuer, token_use: "id", exp: Math.floor(Date.now() / 1000) + 60, "cognito:groups": ["beta"] });
    await expect(principalFromClaims(claims(), { requireTenant: 0 as unknown as boolean })).rejects.toThrow(/principalFromClaims: requireTenant must be true or false, got number 0/);
    await expect(principalFromClaims(claims(), { requiredTenant: false } as never)).rejects.toThrow(/did you mean requireTenant\?/);
    await expectRefused(() => principalFromClaims(claims()), "tenant_missing", 403);
  });
});
