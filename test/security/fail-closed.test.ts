/**
 * Fail closed: when the keys cannot be had, every request is a typed 503
 * `jwks_unavailable`, never an allow and never a 500; recovery follows when the endpoint does;
 * concurrent first requests share one fetch; unknown-kid floods are rate-limited; key rotation
 * and removal invalidate cached principals. Everything runs against loopback servers this suite
 * starts. No timing assertions: timeouts are set small so the suite is quick, and only codes
 * and request counts are asserted.
 */
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { JWK } from "jose";
import { createTenantAuth } from "../../src/index.js";
import type { TenantAuthOptions } from "../../src/index.js";
import { createTestIssuer, startJwksServer } from "../../src/testing/index.js";
import type { JwksServer, TestIssuer } from "../../src/testing/index.js";
import { createRawIssuer, expectRefused } from "../support/security.js";

// A healthy loopback fetch gets a generous timeout, so a loaded machine cannot turn it into a
// 503; only where the endpoint hangs on purpose is the timeout short (HANGS).
const FAST: TenantAuthOptions["jwks"] = { timeoutMs: 10_000, failureCooldownMs: 50, unknownKidCooldownMs: 60_000 };
const HANGS: TenantAuthOptions["jwks"] = { ...FAST, timeoutMs: 1000 };
const servers: JwksServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(issuer: TestIssuer) {
  const server = await issuer.listen();
  servers.push(server);
  return server;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("JWKS endpoint unreachable or broken: 503 jwks_unavailable", () => {
  it("connection refused (closed port)", async () => {
    const issuer = await createTestIssuer();
    const server = await issuer.listen();
    const pool = server.userPool;
    await server.close();
    const auth = createTenantAuth({ userPools: [pool], jwks: FAST });
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    const err = await expectRefused(() => auth.resolveTenant(token), "jwks_unavailable", 503);
    expect(err.headers["Retry-After"]).toBeDefined();
    expect(err.message).not.toContain(token.slice(0, 20));
  });

  for (const behavior of ["error", "garbage", "hang"] as const) {
    it(`endpoint answering ${behavior === "error" ? "500" : behavior}`, async () => {
      const issuer = await createTestIssuer();
      const server = await serve(issuer);
      server.setBehavior(behavior);
      const auth = createTenantAuth({ userPools: [server.userPool], jwks: HANGS });
      await expectRefused(async () => auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] })), "jwks_unavailable", 503);
      expect(server.requestCount).toBe(1);
    });
  }

  it("a response larger than maxResponseBytes", async () => {
    const issuer = await createTestIssuer();
    const padded = { keys: [...issuer.jwks.keys, ...Array.from({ length: 200 }, (_, i) => ({ kty: "oct", kid: `pad-${i}`, k: "x".repeat(200) }))] };
    const server = await startJwksServer(() => padded);
    servers.push(server);
    const auth = createTenantAuth({
      userPools: [{ userPoolId: issuer.userPoolId, clientId: issuer.clientId, tokenUse: null, issuer: issuer.issuer, jwksUri: server.jwksUri }],
      jwks: { ...FAST, maxResponseBytes: 4096 },
    });
    await expectRefused(async () => auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] })), "jwks_unavailable", 503);
  });

  it("a redirect, even to the right keys, is not followed", async () => {
    const issuer = await createTestIssuer();
    const target = await serve(issuer);
    const redirecting = createServer((_req, res) => {
      res.writeHead(302, { location: target.jwksUri });
      res.end();
    });
    await new Promise<void>((r) => redirecting.listen(0, "127.0.0.1", r));
    try {
      const jwksUri = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/jwks.json`;
      const auth = createTenantAuth({ userPools: [{ ...target.userPool, jwksUri }], jwks: FAST });
      await expectRefused(async () => auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] })), "jwks_unavailable", 503);
      expect(target.requestCount).toBe(0);
    } finally {
      await new Promise<void>((r) => redirecting.close(() => r()));
    }
  });

  it("a JSON answer that is not a JWKS", async () => {
    const issuer = await createTestIssuer();
    for (const body of [{ keys: "nope" }, [], { nokeys: [] }, null]) {
      const server = await startJwksServer(() => body);
      servers.push(server);
      const auth = createTenantAuth({
        userPools: [{ userPoolId: issuer.userPoolId, clientId: issuer.clientId, tokenUse: null, issuer: issuer.issuer, jwksUri: server.jwksUri }],
        jwks: FAST,
      });
      await expectRefused(async () => auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] })), "jwks_unavailable", 503);
    }
  });

  it("hydrate() at start fails closed too", async () => {
    const issuer = await createTestIssuer();
    const server = await serve(issuer);
    server.setBehavior("hang");
    const auth = createTenantAuth({ userPools: [server.userPool], jwks: HANGS });
    await expectRefused(() => auth.hydrate(), "jwks_unavailable", 503);
  });

  it("a pool with preloaded keys never fetches: an unknown kid is 401, not 503", async () => {
    const issuer = await createTestIssuer();
    const auth = createTenantAuth({ userPools: [issuer.userPool], jwks: FAST });
    await expectRefused(async () => auth.resolveTenant(await issuer.idToken({ header: { kid: "not-there" } })), "token_invalid", 401);
  });
});

describe("recovery", () => {
  it("answers 503 during the failure cooldown without refetching, then recovers when the endpoint does", async () => {
    const issuer = await createTestIssuer();
    const server = await serve(issuer);
    server.setBehavior("error");
    const auth = createTenantAuth({ userPools: [server.userPool], jwks: { ...FAST, failureCooldownMs: 1500 } });
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    await expectRefused(() => auth.resolveTenant(token), "jwks_unavailable", 503);
    expect(server.requestCount).toBe(1);
    server.setBehavior("ok");
    // Still inside the cooldown: fail fast, no request.
    await expectRefused(() => auth.resolveTenant(token), "jwks_unavailable", 503);
    expect(server.requestCount).toBe(1);
    await sleep(1600);
    expect((await auth.resolveTenant(token)).tenantId).toBe("acme");
    expect(server.requestCount).toBe(2);
  });

  it("recovers from a hang once the endpoint answers again", async () => {
    const issuer = await createTestIssuer();
    const server = await serve(issuer);
    server.setBehavior("hang");
    const auth = createTenantAuth({ userPools: [server.userPool], jwks: HANGS });
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    await expectRefused(() => auth.resolveTenant(token), "jwks_unavailable", 503);
    server.setBehavior("ok");
    await sleep(80);
    expect((await auth.resolveTenant(token)).tenantId).toBe("acme");
  });

  it("keys already cached keep working while the endpoint is down", async () => {
    const issuer = await createTestIssuer();
    const server = await serve(issuer);
    const auth = createTenantAuth({ userPools: [server.userPool], jwks: FAST, cache: false });
    expect((await auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] }))).tenantId).toBe("acme");
    server.setBehavior("error");
    expect((await auth.resolveTenant(await issuer.idToken({ groups: ["tenant:globex"] }))).tenantId).toBe("globex");
    expect(server.requestCount).toBe(1);
  });
});

describe("concurrency and floods", () => {
  it("50 concurrent first requests make exactly one fetch", async () => {
    const issuer = await createTestIssuer();
    const server = await serve(issuer);
    const auth = createTenantAuth({ userPools: [server.userPool], jwks: FAST });
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => issuer.idToken({ groups: [`tenant:t${i}`] })));
    const principals = await Promise.all(tokens.map((t) => auth.resolveTenant(t)));
    expect(principals.map((p) => p.tenantId)).toEqual(tokens.map((_, i) => `t${i}`));
    expect(server.requestCount).toBe(1);
  });

  it("50 concurrent first requests against a failing endpoint: one fetch, 50 typed 503s", async () => {
    const issuer = await createTestIssuer();
    const server = await serve(issuer);
    server.setBehavior("hang");
    const auth = createTenantAuth({ userPools: [server.userPool], jwks: HANGS });
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    await Promise.all(Array.from({ length: 50 }, () => expectRefused(() => auth.resolveTenant(token), "jwks_unavailable", 503)));
    expect(server.requestCount).toBe(1);
  });

  it("an unknown-kid flood is rate-limited: at most one refetch per cooldown", async () => {
    const raw = await createRawIssuer("RS256");
    const attacker = await createRawIssuer("RS256");
    const server = await serve(raw.issuer);
    const auth = createTenantAuth({ userPools: [server.userPool], jwks: FAST });
    expect((await auth.resolveTenant(raw.signJson(raw.claims()))).tenantId).toBe("acme");
    expect(server.requestCount).toBe(1);
    // Sequential flood.
    for (let i = 0; i < 100; i++) {
      await expectRefused(() => auth.resolveTenant(attacker.signJson(raw.claims(), { alg: "RS256", kid: randomUUID() })), "token_invalid", 401);
    }
    expect(server.requestCount).toBe(2);
    // Concurrent flood on a fresh verifier: one fetch for the keys, then the cooldown holds.
    const fresh = createTenantAuth({ userPools: [server.userPool], jwks: FAST });
    const before = server.requestCount;
    await Promise.all(Array.from({ length: 100 }, () => expectRefused(() => fresh.resolveTenant(attacker.signJson(raw.claims(), { alg: "RS256", kid: randomUUID() })), "token_invalid", 401)));
    expect(server.requestCount - before).toBe(1);
    // The real key still works during the cooldown.
    expect((await fresh.resolveTenant(raw.signJson(raw.claims()))).tenantId).toBe("acme");
  });

  it("an unknown-kid flood for an issuer that is not configured makes no fetch at all", async () => {
    const raw = await createRawIssuer("RS256");
    const server = await serve(raw.issuer);
    const auth = createTenantAuth({ userPools: [server.userPool], jwks: FAST });
    for (let i = 0; i < 20; i++) {
      await expectRefused(() => auth.resolveTenant(raw.signJson(raw.claims({ iss: `https://evil.example/${i}` }), raw.header({ kid: randomUUID() }))), "token_invalid", 401);
    }
    expect(server.requestCount).toBe(0);
  });
});

describe("key rotation and removal invalidate cached principals", () => {
  it("a cached principal is refused once a refetch shows its key removed", async () => {
    const issuer = await createTestIssuer();
    const server = await serve(issuer);
    const auth = createTenantAuth({ userPools: [server.userPool], jwks: FAST });
    const old = await issuer.idToken({ groups: ["tenant:acme"] });
    const first = await auth.resolveTenant(old);
    expect(await auth.resolveTenant(old)).toBe(first); // cached
    await issuer.rotate(); // the old key is no longer published
    // A token with the new kid makes the verifier refetch; the JWKS no longer has the old key.
    expect((await auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] }))).tenantId).toBe("acme");
    await expectRefused(() => auth.resolveTenant(old), "token_invalid", 401);
    await expectRefused(() => auth.resolveTenant(`Bearer ${old}`), "token_invalid", 401);
  });

  it("a rotation that keeps the old key keeps its principals", async () => {
    const issuer = await createTestIssuer();
    const server = await serve(issuer);
    const auth = createTenantAuth({ userPools: [server.userPool], jwks: FAST });
    const old = await issuer.idToken({ groups: ["tenant:acme"] });
    const first = await auth.resolveTenant(old);
    await issuer.rotate({ keepOld: true });
    await auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] }));
    expect(server.requestCount).toBe(2);
    expect(await auth.resolveTenant(old)).toBe(first);
  });

  it("a key replaced under the same kid invalidates the principals it verified", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const kid = "stable-kid";
    const issuer = await createTestIssuer({ privateJwk: { ...(privateKey.export({ format: "jwk" }) as JWK), kid } });
    const server = await serve(issuer);
    const auth = createTenantAuth({ userPools: [server.userPool], jwks: FAST });
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    await auth.resolveTenant(token);
    // Publish different key material under the same kid, plus a new kid that triggers the refetch.
    const other = await createTestIssuer();
    const replaced = { ...(other.jwks.keys[0] as JWK), kid };
    issuer.jwks.keys = [replaced, { ...(other.jwks.keys[0] as JWK), kid: "trigger" }];
    await auth.resolveTenant(await other.idToken({ header: { kid: "trigger" }, groups: ["tenant:acme"], claims: { iss: issuer.issuer } }));
    expect(server.requestCount).toBe(2);
    await expectRefused(() => auth.resolveTenant(token), "token_invalid", 401);
  });

  it("clearCache() forgets every principal", async () => {
    const issuer = await createTestIssuer();
    const auth = createTenantAuth({ userPools: [issuer.userPool] });
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    const a = await auth.resolveTenant(token);
    auth.clearCache();
    const b = await auth.resolveTenant(token);
    expect(b).not.toBe(a);
    expect(b).toEqual(a);
  });
});
