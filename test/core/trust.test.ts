// Dynamic trust: pools found at run time by resolveUserPool, against a fleet of real pools whose
// keys one loopback JWKS server serves and counts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import type { TenantAuthOptions, UserPoolConfig } from "../../src/index.js";
import { createTestFleet, createTestIssuer } from "../../src/testing/index.js";
import type { TestFleet } from "../../src/testing/index.js";
import { cognitoIssuerPoolId } from "../../src/core/trust.js";
import { refusal } from "../support/refusal.js";

let fleet: TestFleet;
let attackers: TestFleet;

beforeAll(async () => {
  fleet = await createTestFleet({ pools: 220 });
  // Real pools that are not the app's: their keys are served too, and must never be fetched.
  attackers = await createTestFleet({ pools: 2, region: "eu-west-1" });
}, 120_000);
afterAll(async () => {
  await fleet?.close();
  await attackers?.close();
});

/** A resolver over the fleet's table that counts its calls per issuer. */
function countingResolver(table: (issuer: string) => UserPoolConfig | undefined = (iss) => fleet.resolveUserPool(iss)) {
  const calls: string[] = [];
  const resolve = async (issuer: string) => {
    calls.push(issuer);
    return table(issuer);
  };
  return { calls, resolve };
}

function dynamicAuth(resolve: TenantAuthOptions["resolveUserPool"], options: Partial<TenantAuthOptions> = {}) {
  return createTenantAuth({ userPools: [], resolveUserPool: resolve, requireTenant: false, ...options });
}

function deferred(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

describe("setup", () => {
  it("needs userPools or resolveUserPool, and refuses resolver settings without a resolver", () => {
    expect(() => createTenantAuth({ userPools: [] })).toThrow(/userPools must list at least one user pool.*resolveUserPool/);
    expect(() => createTenantAuth({ userPools: [fleet.pools[0]!.userPool], userPoolCache: { maxEntries: 5 } })).toThrow(/userPoolCache needs resolveUserPool/);
    expect(() => createTenantAuth({ userPools: [fleet.pools[0]!.userPool], emulatorIssuers: ["http://127.0.0.1:1/"] })).toThrow(/emulatorIssuers needs resolveUserPool/);
    const resolve = () => undefined;
    expect(() => createTenantAuth({ userPools: [], resolveUserPool: "x" as never })).toThrow(/resolveUserPool must be a function/);
    expect(() => createTenantAuth({ userPools: [], resolveUserPool: resolve, userPoolCache: { max: 5 } as never })).toThrow(
      /unknown option userPoolCache\.max \(did you mean userPoolCache\.maxEntries\?\)/,
    );
    expect(() => createTenantAuth({ userPools: [], resolveUserPool: resolve, userPoolCache: { ttlMs: 0 } })).toThrow(/userPoolCache\.ttlMs/);
    // A prefix without its closing slash would admit http://127.0.0.1:92290/ and http://127.0.0.1:9229.evil/.
    expect(() => createTenantAuth({ userPools: [], resolveUserPool: resolve, emulatorIssuers: ["http://127.0.0.1:9229"] })).toThrow(/emulatorIssuers\[0\]/);
    expect(() => createTenantAuth({ userPools: [], resolveUserPool: resolve, resolveUserPoolTimeoutMs: 0 })).toThrow(/resolveUserPoolTimeoutMs/);
    expect(() => createTenantAuth({ userPools: [], resolveUserPool: resolve })).not.toThrow();
  });

  it("recognises both AWS issuer forms, and only Cognito's", () => {
    expect(cognitoIssuerPoolId("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123")).toBe("us-east-1_AbC123");
    expect(cognitoIssuerPoolId("https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123")).toBe("us-east-1_AbC123");
    expect(cognitoIssuerPoolId("https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_AbC123")).toBe("us-gov-west-1_AbC123");
    for (const bad of [
      "https://cognito-idp.us-west-2.amazonaws.com/us-east-1_AbC123", // a region the pool id does not name
      "http://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123",
      "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123/",
      "https://cognito-idp.us-east-1.amazonaws.com.evil.example/us-east-1_AbC123",
      "https://evil.example/us-east-1_AbC123",
      "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123?x=1",
      "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab-C",
      `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_${"a".repeat(2000)}`,
    ]) {
      expect(cognitoIssuerPoolId(bad), bad).toBeUndefined();
    }
  });
});

describe("pool per tenant", () => {
  it("serves 200+ pools, each resolved once and its keys fetched once", async () => {
    const { calls, resolve } = countingResolver();
    const auth = dynamicAuth(resolve);
    const pools = fleet.pools.slice(0, 210);
    const before = pools.map((p) => p.fetchCount);
    for (const pool of pools) {
      const principal = await auth.resolveTenant(await pool.idToken({ groups: ["tenant:acme"] }));
      expect(principal.userPoolId).toBe(pool.userPoolId);
      expect(principal.tenantId).toBe("acme");
      // A second token of the same pool: no lookup, no fetch.
      await auth.resolveTenant(await pool.accessToken());
    }
    expect(calls.length).toBe(210);
    expect(new Set(calls).size).toBe(210);
    expect(pools.map((p, i) => p.fetchCount - before[i]!)).toEqual(pools.map(() => 1));
  });

  it("50 concurrent first requests for a new pool make one resolver call and one JWKS fetch", async () => {
    const pool = await fleet.addPool();
    const gate = deferred();
    let calls = 0;
    const auth = dynamicAuth(async (issuer) => {
      calls++;
      await gate.promise;
      return fleet.resolveUserPool(issuer);
    });
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.idToken({ sub: `user-${i}` })));
    const pending = tokens.map((t) => auth.resolveTenant(t));
    await new Promise((r) => setImmediate(r));
    gate.release();
    const principals = await Promise.all(pending);
    expect(principals.map((p) => p.sub)).toEqual(tokens.map((_, i) => `user-${i}`));
    expect(calls).toBe(1);
    expect(pool.fetchCount).toBe(1);
  });

  it("accepts the issuer-cognito-idp form (multi-Region replication) and refuses a replica region's original form unasked", async () => {
    const userPoolId = "us-east-1_Replicated1";
    const updated = await createTestIssuer({ userPoolId, issuer: `https://issuer-cognito-idp.us-east-1.amazonaws.com/${userPoolId}` });
    const server = await updated.listen();
    try {
      const { calls, resolve } = countingResolver((iss) => (iss.endsWith(`/${userPoolId}`) ? { userPoolId, clientId: updated.clientId, tokenUse: null, jwksUri: server.jwksUri } : undefined));
      const auth = dynamicAuth(resolve);
      expect((await auth.resolveTenant(await updated.idToken())).userPoolId).toBe(userPoolId);
      expect(calls).toEqual([`https://issuer-cognito-idp.us-east-1.amazonaws.com/${userPoolId}`]);
      const replica = await updated.idToken({ claims: { iss: `https://cognito-idp.us-west-2.amazonaws.com/${userPoolId}` } });
      expect((await refusal(auth.resolveTenant(replica))).code).toBe("token_invalid");
      expect(calls.length).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("carries the app clients of the resolved config (app client per tenant)", async () => {
    const pool = fleet.pools[0]!;
    const auth = dynamicAuth((iss) => {
      const config = fleet.resolveUserPool(iss);
      return config && { ...config, clientId: ["client-acme", "client-globex"] };
    });
    expect((await auth.resolveTenant(await pool.idToken({ clientId: "client-globex" }))).clientId).toBe("client-globex");
    const other = await refusal(auth.resolveTenant(await pool.idToken({ clientId: "client-initech" })));
    expect([other.code, other.message]).toEqual(["token_invalid", "The token was not issued to an accepted app client"]);
  });

  it("never looks up a static pool's issuer", async () => {
    const { calls, resolve } = countingResolver();
    const staticIssuer = await createTestIssuer({ userPoolId: "us-east-1_Static1" });
    const auth = createTenantAuth({ userPools: [staticIssuer.userPool], resolveUserPool: resolve, requireTenant: false });
    expect((await auth.resolveTenant(await staticIssuer.idToken())).userPoolId).toBe("us-east-1_Static1");
    expect((await auth.resolveTenant(await fleet.pools[1]!.idToken())).userPoolId).toBe(fleet.pools[1]!.userPoolId);
    expect(calls).toEqual([fleet.pools[1]!.issuer]);
  });

  it("hydrate(issuers) resolves them and fetches their keys before the first request", async () => {
    const pool = await fleet.addPool();
    const { calls, resolve } = countingResolver();
    const auth = dynamicAuth(resolve);
    await auth.hydrate([pool.issuer]);
    expect([calls.length, pool.fetchCount]).toEqual([1, 1]);
    await auth.resolveTenant(await pool.idToken());
    expect([calls.length, pool.fetchCount]).toEqual([1, 1]);
    const unknownIssuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_NotOurs";
    expect((await refusal(auth.hydrate([unknownIssuer]))).code).toBe("token_invalid");
    await expect(createTenantAuth({ userPools: [pool.userPool] }).hydrate([pool.issuer])).rejects.toThrow(TypeError);
  });

  it("accepts emulator issuers only when the app allowed them", async () => {
    const local = await createTestFleet({ pools: 2, issuers: "loopback" });
    try {
      const pool = local.pools[0]!;
      expect(pool.issuer.startsWith(`${local.url}/`)).toBe(true);
      const { calls, resolve } = countingResolver((iss) => local.resolveUserPool(iss));
      expect((await refusal(dynamicAuth(resolve).resolveTenant(await pool.idToken()))).code).toBe("token_invalid");
      expect(calls).toEqual([]);
      for (const allowed of [`${local.url}/`, new RegExp(`^${local.url.replace(/\./g, "\\.")}/[\\w-]+$`, "g")]) {
        const auth = dynamicAuth(resolve, { emulatorIssuers: [allowed] });
        expect((await auth.resolveTenant(await pool.idToken())).userPoolId).toBe(pool.userPoolId);
        expect((await auth.resolveTenant(await local.pools[1]!.idToken())).userPoolId).toBe(local.pools[1]!.userPoolId);
      }
    } finally {
      await local.close();
    }
  });
});

describe("untrusted issuers", () => {
  it("refuses a real pool that is not the app's without fetching its keys (the 'any pool passes' bug)", async () => {
    const { calls, resolve } = countingResolver();
    const auth = dynamicAuth(resolve);
    const attacker = attackers.pools[0]!;
    const err = await refusal(auth.resolveTenant(await attacker.idToken({ groups: ["tenant:acme"] })));
    expect([err.code, err.status]).toEqual(["token_invalid", 401]);
    expect(calls).toEqual([attacker.issuer]);
    expect(attackers.fetchCount).toBe(0);
    // A token claiming a tenant pool's issuer but signed by the attacker's key: that pool's keys refuse it.
    const forged = await attacker.idToken({ claims: { iss: fleet.pools[2]!.issuer } });
    expect((await refusal(auth.resolveTenant(forged))).code).toBe("token_invalid");
    expect(attackers.fetchCount).toBe(0);
  });

  it("refuses malformed and non-Cognito issuers without asking the resolver", async () => {
    const { calls, resolve } = countingResolver();
    const auth = dynamicAuth(resolve);
    const pool = fleet.pools[3]!;
    for (const iss of [
      undefined,
      42,
      ["https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X"],
      "",
      `${attackers.url}/eu-west-1_Fleet00001`,
      "https://cognito-idp.us-west-2.amazonaws.com/us-east-1_Fleet00004",
      `${pool.issuer}/`,
      `${pool.issuer}#`,
    ]) {
      const token = await pool.idToken({ claims: { iss } });
      expect((await refusal(auth.resolveTenant(token))).code, String(iss)).toBe("token_invalid");
    }
    for (const garbage of ["not-a-token", "a.b.c", `${"e30"}.${Buffer.from("not json").toString("base64url")}.sig`]) {
      expect((await refusal(auth.resolveTenant(garbage))).code).toBe("token_invalid");
    }
    expect(calls).toEqual([]);
    expect(attackers.fetchCount).toBe(0);
  });

  it("refuses a config that names another pool, and fetches nothing for it", async () => {
    const tenant = fleet.pools[4]!;
    const otherPool = fleet.pools[5]!;
    const otherBefore = otherPool.fetchCount;
    for (const answer of [
      otherPool.userPool, // another tenant's pool
      { ...tenant.userPool, issuer: otherPool.issuer }, // the right id with another issuer
      { ...otherPool.userPool, issuer: tenant.issuer }, // the token's issuer, but another pool id
    ]) {
      const auth = dynamicAuth(() => answer);
      const err = await refusal(auth.resolveTenant(await tenant.idToken()));
      expect([err.code, err.status]).toEqual(["token_invalid", 401]);
    }
    expect(otherPool.fetchCount).toBe(otherBefore);
  });

  it("a flood of made-up issuers costs one resolver call each within the negative TTL, and no JWKS fetch", async () => {
    const { calls, resolve } = countingResolver();
    const auth = dynamicAuth(resolve, { userPoolCache: { negativeMaxEntries: 500 } });
    const attacker = attackers.pools[1]!;
    const issuers = Array.from({ length: 200 }, (_, i) => `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_MadeUp${i}`);
    const tokens = await Promise.all(issuers.map((iss) => attacker.idToken({ claims: { iss } })));
    const fetchesBefore = fleet.fetchCount;
    for (let round = 0; round < 5; round++) {
      const outcomes = await Promise.all(
        tokens.map((t) =>
          auth.resolveTenant(t).then(
            () => "resolved",
            (e: { code?: string }) => e.code,
          ),
        ),
      );
      expect(new Set(outcomes)).toEqual(new Set(["token_invalid"]));
    }
    expect(calls.length).toBe(200);
    expect(fleet.fetchCount).toBe(fetchesBefore);
    expect(attackers.fetchCount).toBe(0);
  });

  it("the memory of unknown issuers is bounded: past negativeMaxEntries the oldest are asked again", async () => {
    const { calls, resolve } = countingResolver();
    const auth = dynamicAuth(resolve, { userPoolCache: { negativeMaxEntries: 10 } });
    const attacker = attackers.pools[1]!;
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => attacker.idToken({ claims: { iss: `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Bound${i}` } })));
    for (const t of tokens) await refusal(auth.resolveTenant(t));
    for (const t of tokens.slice(-10)) await refusal(auth.resolveTenant(t));
    expect(calls.length).toBe(20);
    await refusal(auth.resolveTenant(tokens[0]!));
    expect(calls.length).toBe(21);
  });
});

describe("resolver failure", () => {
  it("a resolver that throws, answers garbage or hangs is 503 jwks_unavailable, and recovers once it answers", async () => {
    const pool = fleet.pools[6]!;
    let mode: "throw" | "garbage" | "string" | "hang" | "ok" = "throw";
    let calls = 0;
    const auth = dynamicAuth(
      (iss) => {
        calls++;
        if (mode === "throw") throw new Error("table unreachable");
        if (mode === "garbage") return { userPoolId: pool.userPoolId } as never;
        if (mode === "string") return "us-east-1_Fleet00007" as never;
        if (mode === "hang") return new Promise<never>(() => {});
        return fleet.resolveUserPool(iss);
      },
      { resolveUserPoolTimeoutMs: 200 },
    );
    const token = await pool.idToken();
    for (const m of ["throw", "garbage", "string", "hang"] as const) {
      mode = m;
      const err = await refusal(auth.resolveTenant(token));
      expect([m, err.code, err.status]).toEqual([m, "jwks_unavailable", 503]);
      expect(err.headers["Retry-After"]).toBeDefined();
    }
    // Failures are not remembered: the next request asks again, and the pool works at once.
    mode = "ok";
    const before = calls;
    expect((await auth.resolveTenant(token)).userPoolId).toBe(pool.userPoolId);
    expect(calls).toBe(before + 1);
  });

  it("a resolved pool whose keys cannot be fetched is 503, never an allow", async () => {
    const pool = await fleet.addPool();
    const auth = dynamicAuth((iss) => fleet.resolveUserPool(iss));
    fleet.setBehavior("error");
    try {
      expect((await refusal(auth.resolveTenant(await pool.idToken()))).code).toBe("jwks_unavailable");
    } finally {
      fleet.setBehavior("ok");
    }
  });
});

describe("caching", () => {
  it("evicts the least recently used pool past maxEntries, and finds it again on its next token", async () => {
    const [p1, p2, p3, p4] = [await fleet.addPool(), await fleet.addPool(), await fleet.addPool(), await fleet.addPool()];
    const { calls, resolve } = countingResolver();
    const auth = dynamicAuth(resolve, { userPoolCache: { maxEntries: 3 } });
    const t1 = await p1.idToken();
    await auth.resolveTenant(t1);
    await auth.resolveTenant(await p2.idToken());
    await auth.resolveTenant(await p3.idToken());
    await auth.resolveTenant(t1); // p1 used again (from the principal cache)
    await auth.resolveTenant(await p4.idToken()); // evicts p2, the least recently used
    expect(calls).toEqual([p1.issuer, p2.issuer, p3.issuer, p4.issuer]);
    await auth.resolveTenant(await p1.idToken());
    expect(calls.length).toBe(4);
    await auth.resolveTenant(await p2.idToken());
    expect(calls).toEqual([p1.issuer, p2.issuer, p3.issuer, p4.issuer, p2.issuer]);
    expect(p2.fetchCount).toBe(2);
    expect([p1.fetchCount, p3.fetchCount, p4.fetchCount]).toEqual([1, 1, 1]);
  });

  it("after ttlMs asks the resolver again; an unchanged answer keeps the keys, a removed pool is refused", async () => {
    const pool = await fleet.addPool();
    const { calls, resolve } = countingResolver();
    const auth = dynamicAuth(resolve, { userPoolCache: { ttlMs: 1 } });
    const token = await pool.idToken();
    await auth.resolveTenant(token);
    await new Promise((r) => setTimeout(r, 20));
    await auth.resolveTenant(token);
    expect(calls.length).toBe(2);
    expect(pool.fetchCount).toBe(1);
    fleet.removePool(pool.issuer);
    await new Promise((r) => setTimeout(r, 20));
    // Even the cached principal goes: its pool is no longer trusted.
    expect((await refusal(auth.resolveTenant(token))).code).toBe("token_invalid");
  });

  it("clearCache forgets resolved pools and unknown issuers", async () => {
    const pool = fleet.pools[7]!;
    const { calls, resolve } = countingResolver();
    const auth = dynamicAuth(resolve);
    await auth.resolveTenant(await pool.idToken());
    auth.clearCache();
    await auth.resolveTenant(await pool.idToken());
    expect(calls.length).toBe(2);
  });
});
