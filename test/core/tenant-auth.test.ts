import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import type { TenantAuthOptions } from "../../src/index.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { JwksServer, TestIssuer } from "../../src/testing/index.js";
import type { UserPoolConfig } from "../../src/index.js";
import { refusal } from "../support/refusal.js";

let issuer: TestIssuer;
let other: TestIssuer;
const servers: JwksServer[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer({ userPoolId: "us-east-1_PoolA", clientId: "client-a" });
  other = await createTestIssuer({ userPoolId: "eu-west-1_PoolB", clientId: "client-b" });
});
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function listen(i: TestIssuer): Promise<JwksServer & { userPool: UserPoolConfig }> {
  const server = await i.listen();
  servers.push(server);
  return server;
}

const auth = (options: Partial<TenantAuthOptions> = {}) => createTenantAuth({ userPools: [issuer.userPool], requireTenant: false, ...options });

describe("verification", () => {
  it("accepts both token uses from a pool with tokenUse: null", async () => {
    const a = auth();
    expect((await a.resolveTenant(await issuer.idToken({ sub: "s1" }))).tokenUse).toBe("id");
    const p = await a.resolveTenant(await issuer.accessToken({ sub: "s1", scopes: ["x/read"] }));
    expect(p.tokenUse).toBe("access");
    expect(p.clientId).toBe("client-a");
    expect(p.scopes).toEqual(["x/read"]);
  });

  it("tokenUse id refuses access tokens and tokenUse access refuses ID tokens", async () => {
    const idOnly = auth({ userPools: [{ ...issuer.userPool, tokenUse: "id" }] });
    expect((await refusal(idOnly.resolveTenant(await issuer.accessToken()))).code).toBe("token_invalid");
    const accessOnly = auth({ userPools: [{ ...issuer.userPool, tokenUse: "access" }] });
    expect((await refusal(accessOnly.resolveTenant(await issuer.idToken()))).code).toBe("token_invalid");
    expect((await accessOnly.resolveTenant(await issuer.accessToken())).tokenUse).toBe("access");
  });

  it("checks the client: aud of ID tokens, client_id of access tokens", async () => {
    const list = auth({ userPools: [{ ...issuer.userPool, clientId: ["client-x", "client-a"] }] });
    expect((await list.resolveTenant(await issuer.idToken())).clientId).toBe("client-a");
    const wrong = auth({ userPools: [{ ...issuer.userPool, clientId: "client-x" }] });
    for (const token of [await issuer.idToken(), await issuer.accessToken()]) {
      const err = await refusal(wrong.resolveTenant(token));
      expect([err.code, err.status]).toEqual(["token_invalid", 401]);
      expect(err.message).toMatch(/app client/);
    }
    const any = auth({ userPools: [{ ...issuer.userPool, clientId: null }] });
    expect((await any.resolveTenant(await issuer.idToken({ clientId: "whatever" }))).clientId).toBe("whatever");
  });

  it("serves several pools, each principal naming its own", async () => {
    const a = auth({ userPools: [issuer.userPool, other.userPool] });
    expect((await a.resolveTenant(await issuer.idToken())).userPoolId).toBe("us-east-1_PoolA");
    const p = await a.resolveTenant(await other.idToken());
    expect(p.userPoolId).toBe("eu-west-1_PoolB");
    expect(p.issuer).toBe("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_PoolB");
  });

  it("refuses a pool it was not configured for, and a key from another pool", async () => {
    const err = await refusal(auth().resolveTenant(await other.idToken()));
    expect(err.code).toBe("token_invalid");
    // Right issuer claim, signed with the other pool's key.
    const forged = await other.sign({ ...(await claimsOf(await issuer.idToken())) }, { header: { kid: issuer.kid } });
    expect((await refusal(auth().resolveTenant(forged))).code).toBe("token_invalid");
  });

  it("accepts Cognito's issuer-cognito-idp issuer form for the same pool", async () => {
    const token = await issuer.idToken({ claims: { iss: "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_PoolA" } });
    expect((await auth().resolveTenant(token)).userPoolId).toBe("us-east-1_PoolA");
  });

  it.each([
    ["a trailing slash", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_PoolA/"],
    ["other case", "https://cognito-idp.us-east-1.amazonaws.com/US-EAST-1_POOLA"],
    ["http:", "http://cognito-idp.us-east-1.amazonaws.com/us-east-1_PoolA"],
  ])("refuses iss with %s", async (_label, iss) => {
    const err = await refusal(auth().resolveTenant(await issuer.idToken({ claims: { iss } })));
    expect(err.code).toBe("token_invalid");
  });

  it("requires exp", async () => {
    const err = await refusal(auth().resolveTenant(await issuer.idToken({ claims: { exp: undefined } })));
    expect([err.code, err.status]).toEqual(["token_invalid", 401]);
  });

  it("expired is token_expired; clock tolerance forgives skew", async () => {
    const token = await issuer.idToken({ issuedAt: Math.floor(Date.now() / 1000) - 3605, expiresIn: 3600 });
    const err = await refusal(auth().resolveTenant(token));
    expect([err.code, err.status]).toEqual(["token_expired", 401]);
    expect(err.headers["WWW-Authenticate"]).toMatch(/error="invalid_token"/);
    expect((await auth({ clockToleranceSeconds: 30 }).resolveTenant(token)).sub).toBeTruthy();
  });

  it("nbf in the future is token_expired (not yet valid)", async () => {
    const token = await issuer.idToken({ notBefore: 120 });
    expect((await refusal(auth().resolveTenant(token))).code).toBe("token_expired");
    expect((await auth({ clockToleranceSeconds: 300 }).resolveTenant(token)).sub).toBeTruthy();
  });

  it("refuses crit, padding, and a foreign key under the right kid", async () => {
    const a = auth();
    expect((await refusal(a.resolveTenant(await issuer.idToken({ header: { crit: ["exp"], exp: 1 } })))).code).toBe("token_invalid");
    const token = await issuer.idToken();
    const [h, p, s] = token.split(".");
    expect((await refusal(a.resolveTenant(`${h}=.${p}.${s}`))).code).toBe("token_invalid");
    expect((await refusal(a.resolveTenant(await issuer.idToken({ signWith: "foreign" })))).code).toBe("token_invalid");
  });

  it("a pool given jwks never fetches: an unknown kid is 401, not 503", async () => {
    const err = await refusal(auth().resolveTenant(await issuer.idToken({ header: { kid: "not-there" } })));
    expect([err.code, err.status]).toEqual(["token_invalid", 401]);
  });

  it("refuses a token larger than maxTokenLength before parsing it", async () => {
    const token = await issuer.idToken({ claims: { pad: "x".repeat(2000) } });
    const err = await refusal(auth({ maxTokenLength: 1000 }).resolveTenant(token));
    expect(err.message).toMatch(/larger/);
  });

  it("never puts the token in a message or header", async () => {
    const token = await issuer.idToken({ signWith: "foreign" });
    const err = await refusal(auth().resolveTenant(token));
    expect(err.message).not.toContain(token);
    expect(err.message).not.toContain(token.split(".")[1]);
    expect(JSON.stringify(err.headers)).not.toContain(token.split(".")[1]);
  });
});

describe("configuration", () => {
  it.each([
    ["no pools", { userPools: [] }],
    ["clientId missing", { userPools: [{ userPoolId: "us-east-1_X", tokenUse: "id" }] }],
    ["tokenUse missing", { userPools: [{ userPoolId: "us-east-1_X", clientId: "c" }] }],
    ["tokenUse wrong", { userPools: [{ userPoolId: "us-east-1_X", clientId: "c", tokenUse: "refresh" }] }],
    ["empty client list", { userPools: [{ userPoolId: "us-east-1_X", clientId: [], tokenUse: "id" }] }],
    ["not a pool id", { userPools: [{ userPoolId: "pool", clientId: "c", tokenUse: "id" }] }],
    ["http JWKS off loopback", { userPools: [{ userPoolId: "p", issuer: "http://idp.example/p", clientId: null, tokenUse: null }] }],
    [
      "a pool twice",
      {
        userPools: [
          { userPoolId: "us-east-1_X", clientId: "c", tokenUse: "id" },
          { userPoolId: "us-east-1_X", clientId: "d", tokenUse: "id" },
        ],
      },
    ],
  ])("%s throws a TypeError at start", (_label, options) => {
    expect(() => createTenantAuth(options as never)).toThrow(TypeError);
  });

  it("plain http is accepted for loopback, and elsewhere only with allowInsecureHttp", () => {
    const pool = { userPoolId: "p", issuer: "http://idp.internal:9229/p", clientId: null, tokenUse: null } as const;
    expect(() => createTenantAuth({ userPools: [pool], jwks: { allowInsecureHttp: true } })).not.toThrow();
    expect(() =>
      createTenantAuth({
        userPools: [
          { ...pool, issuer: "http://localhost:9229/p" },
          { ...pool, userPoolId: "q", issuer: "http://127.0.0.1:9229/q" },
        ],
      }),
    ).not.toThrow();
  });
});

describe("the verified-token cache", () => {
  it("returns the same principal for the same token, per hint", async () => {
    const a = auth({ requireTenant: true });
    const token = await issuer.idToken({ groups: ["tenant:acme", "tenant:globex"] });
    const p1 = await a.resolveTenant(token, { tenantHint: "acme" });
    expect(await a.resolveTenant(`Bearer ${token}`, { tenantHint: "acme" })).toBe(p1);
    const p2 = await a.resolveTenant(token, { tenantHint: "globex" });
    expect(p2.tenantId).toBe("globex");
    expect(await a.resolveTenant(token, { tenantHint: "globex" })).toBe(p2);
    // A cached token still obeys the tenant rules.
    expect((await refusal(a.resolveTenant(token))).code).toBe("tenant_ambiguous");
    expect((await refusal(a.resolveTenant(token, { tenantHint: "initech" }))).code).toBe("tenant_forbidden");
  });

  it("can be switched off", async () => {
    const a = auth({ cache: false });
    const token = await issuer.idToken();
    const p1 = await a.resolveTenant(token);
    const p2 = await a.resolveTenant(token);
    expect(p2).not.toBe(p1);
    expect(p2).toEqual(p1);
  });

  it("never serves a token past its exp", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = new Date("2030-01-01T00:00:00Z");
    vi.setSystemTime(start);
    const a = auth();
    const token = await issuer.idToken({ expiresIn: 60 });
    await a.resolveTenant(token);
    vi.setSystemTime(new Date(start.getTime() + 59_000));
    await a.resolveTenant(token);
    vi.setSystemTime(new Date(start.getTime() + 61_000));
    expect((await refusal(a.resolveTenant(token))).code).toBe("token_expired");
  });

  it("is bounded: the oldest entry goes first", async () => {
    const a = auth({ cache: { maxEntries: 2 } });
    const [t1, t2, t3] = await Promise.all([issuer.idToken(), issuer.idToken(), issuer.idToken()]);
    const p1 = await a.resolveTenant(t1!);
    const p2 = await a.resolveTenant(t2!);
    expect(await a.resolveTenant(t1!)).toBe(p1);
    await a.resolveTenant(t3!);
    expect(await a.resolveTenant(t2!)).toBe(p2);
    expect(await a.resolveTenant(t1!)).not.toBe(p1);
  });

  it("clearCache forgets everything", async () => {
    const a = auth();
    const token = await issuer.idToken();
    const p = await a.resolveTenant(token);
    a.clearCache();
    expect(await a.resolveTenant(token)).not.toBe(p);
  });

  it("does not cache a token whose verification failed", async () => {
    const a = auth();
    const token = await issuer.idToken({ signWith: "foreign" });
    for (let i = 0; i < 3; i++) expect((await refusal(a.resolveTenant(token))).code).toBe("token_invalid");
  });
});

describe("JWKS over HTTP on loopback", () => {
  it("concurrent first requests share one fetch", async () => {
    const i = await createTestIssuer();
    const server = await listen(i);
    const a = createTenantAuth({ userPools: [server.userPool], requireTenant: false });
    const tokens = await Promise.all(Array.from({ length: 25 }, () => i.idToken()));
    const principals = await Promise.all(tokens.map((t) => a.resolveTenant(t)));
    expect(principals).toHaveLength(25);
    expect(server.requestCount).toBe(1);
  });

  it("hydrate() prefetches; the first request then fetches nothing", async () => {
    const i = await createTestIssuer();
    const server = await listen(i);
    const a = createTenantAuth({ userPools: [server.userPool], requireTenant: false });
    await a.hydrate();
    expect(server.requestCount).toBe(1);
    await a.resolveTenant(await i.idToken());
    expect(server.requestCount).toBe(1);
  });

  it("an emulator-style issuer (cognito-local) with http: on localhost", async () => {
    const i = await createTestIssuer({ issuer: "http://localhost:9229/local_5hRxNKKh" });
    const server = await listen(i);
    const a = createTenantAuth({
      userPools: [{ userPoolId: "local_5hRxNKKh", issuer: i.issuer, jwksUri: server.jwksUri, clientId: i.clientId, tokenUse: "id" }],
    });
    const p = await a.resolveTenant(await i.idToken({ groups: ["tenant:acme"] }));
    expect(p.userPoolId).toBe("local_5hRxNKKh");
    expect(p.issuer).toBe("http://localhost:9229/local_5hRxNKKh");
    expect(p.tenantId).toBe("acme");
  });

  it.each(["error", "garbage", "hang"] as const)("an endpoint answering %s is 503 jwks_unavailable, then recovers", async (behavior) => {
    const i = await createTestIssuer();
    const server = await listen(i);
    server.setBehavior(behavior);
    const a = createTenantAuth({ userPools: [server.userPool], requireTenant: false, jwks: { timeoutMs: 1000, failureCooldownMs: 0 } });
    const token = await i.idToken();
    const err = await refusal(a.resolveTenant(token));
    expect([err.code, err.status]).toEqual(["jwks_unavailable", 503]);
    expect(err.headers["Retry-After"]).toBe("5");
    server.setBehavior("ok");
    expect((await a.resolveTenant(token)).sub).toBeTruthy();
  });

  it("an unreachable endpoint is 503; during the failure cooldown no new fetch is made", async () => {
    const i = await createTestIssuer();
    const server = await listen(i);
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const a = createTenantAuth({ userPools: [server.userPool], requireTenant: false, jwks: { timeoutMs: 500, failureCooldownMs: 60_000 } });
    const token = await i.idToken();
    expect((await refusal(a.resolveTenant(token))).code).toBe("jwks_unavailable");
    expect((await refusal(a.resolveTenant(token))).code).toBe("jwks_unavailable");
    const err = await refusal(a.hydrate());
    expect(err.code).toBe("jwks_unavailable");
    expect(err.message).toContain(server.jwksUri);
  });

  it("a new kid triggers a refetch; a flood of unknown kids does not", async () => {
    const i = await createTestIssuer();
    const server = await listen(i);
    const a = createTenantAuth({ userPools: [server.userPool], requireTenant: false });
    await a.resolveTenant(await i.idToken());
    expect(server.requestCount).toBe(1);
    for (let n = 0; n < 20; n++) {
      const err = await refusal(a.resolveTenant(await i.idToken({ header: { kid: `made-up-${n}` } })));
      expect([err.code, err.status]).toEqual(["token_invalid", 401]);
    }
    expect(server.requestCount).toBe(2);
  });

  it("rotation: a removed key invalidates the principals it verified", async () => {
    const i = await createTestIssuer();
    const server = await listen(i);
    const a = createTenantAuth({ userPools: [server.userPool], requireTenant: false });
    const oldToken = await i.idToken();
    await a.resolveTenant(oldToken);
    await i.rotate();
    const newToken = await i.idToken();
    expect((await a.resolveTenant(newToken)).sub).toBeTruthy();
    const err = await refusal(a.resolveTenant(oldToken));
    expect(err.code).toBe("token_invalid");
  });

  it("rotation that keeps the old key keeps its cached principals", async () => {
    const i = await createTestIssuer();
    const server = await listen(i);
    const a = createTenantAuth({ userPools: [server.userPool], requireTenant: false });
    const oldToken = await i.idToken();
    const p = await a.resolveTenant(oldToken);
    await i.rotate({ keepOld: true });
    await a.resolveTenant(await i.idToken());
    expect(server.requestCount).toBe(2);
    expect(await a.resolveTenant(oldToken)).toBe(p);
  });
});

async function claimsOf(token: string): Promise<Record<string, unknown>> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
}

describe("which refusal wins when several things are wrong", () => {
  // The order is: the Authorization header, then the tenant hint, then the token itself.
  it("a malformed header beats a malformed hint, which beats a bad token", async () => {
    const a = auth();
    const good = await issuer.idToken();
    const forged = await issuer.idToken({ signWith: "foreign" });
    const badHint = { tenantHint: ["a", "b"] as never };
    expect((await refusal(a.resolveTenant(`Bearer ${forged} extra`, badHint))).code).toBe("invalid_request");
    expect((await refusal(a.resolveTenant(`Basic ${forged}`, badHint))).code).toBe("token_missing");
    expect((await refusal(a.resolveTenant(`Bearer ${forged}`, badHint))).message).toMatch(/tenant hint/);
    expect((await refusal(a.resolveTenant(`Bearer ${good}`, badHint))).message).toMatch(/tenant hint/);
    expect((await refusal(a.resolveTenant(`Bearer ${forged}`))).code).toBe("token_invalid");
  });

  it("every accepted header form of a new token verifies it (not only 'Bearer <jwt>')", async () => {
    const forms = (t: string): (string | string[])[] => [t, ` ${t}`, `bearer ${t}`, `BEARER   ${t}  `, [`Bearer ${t}`]];
    for (const value of forms(await issuer.idToken({ sub: "form-user" }))) {
      expect((await auth({ cache: false }).resolveTenant(value)).sub).toBe("form-user");
    }
    for (const value of forms(await issuer.idToken({ signWith: "foreign" }))) {
      expect((await refusal(auth({ cache: false }).resolveTenant(value))).code).toBe("token_invalid");
    }
  });
});
