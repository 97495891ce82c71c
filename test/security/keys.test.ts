/**
 * Key strength: an RSA key under 2048 bits, or with an exponent other than 65537, is never
 * trusted. A fetched one is skipped (a token naming it: 401 token_invalid, other keys of the same
 * JWKS still work); a preloaded one is a TypeError at setup. Real keys, real signatures, a real
 * JWKS server on 127.0.0.1.
 */
import { generateKeyPairSync, randomBytes, sign as cryptoSign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import type { UserPoolConfig } from "../../src/index.js";
import { startJwksServer } from "../../src/testing/index.js";
import type { JwksServer } from "../../src/testing/index.js";
import { expectRefused, json64, b64url } from "../support/security.js";

const ISSUER = "http://127.0.0.1/us-east-1_KeyPool";

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

function rsaKey(kid: string, modulusLength: number, publicExponent = 65537): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength, publicExponent });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" } };
}

function token(key: SigningKey): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = { sub: "u1", iss: ISSUER, aud: "client", token_use: "id", iat: now, auth_time: now, exp: now + 3600, "cognito:groups": ["tenant:acme"] };
  const input = `${json64({ alg: "RS256", kid: key.kid })}.${json64(payload)}`;
  return `${input}.${b64url(cryptoSign("sha256", Buffer.from(input), key.privateKey))}`;
}

let good: SigningKey;
let small: SigningKey;
let three: SigningKey;
let big: SigningKey;
// A published key with a 4096-bit exponent: no private key exists for it, but every token
// naming it would cost a 4096-bit exponentiation to refuse.
let hugeExponent: Record<string, unknown>;
const servers: JwksServer[] = [];

beforeAll(() => {
  good = rsaKey("good", 2048);
  small = rsaKey("small-1024", 1024);
  three = rsaKey("e-3", 2048, 3);
  big = rsaKey("e-2^32-1", 2048, 0xffffffff);
  hugeExponent = { ...good.jwk, kid: "e-huge", e: b64url(Buffer.concat([Buffer.from([0xff]), randomBytes(510), Buffer.from([0x01])])) };
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const pool = (extra: Partial<UserPoolConfig>): UserPoolConfig => ({ userPoolId: "us-east-1_KeyPool", clientId: "client", tokenUse: "id", issuer: ISSUER, ...extra });

describe("fetched JWKS", () => {
  it("refuses tokens signed with a 1024-bit key, e = 3 or a 32-bit exponent (401, not 503), and the good key still works", async () => {
    const server = await startJwksServer(() => ({ keys: [small.jwk, three.jwk, big.jwk, hugeExponent, good.jwk] }));
    servers.push(server);
    const auth = createTenantAuth({ userPools: [pool({ jwksUri: server.jwksUri })] });
    expect((await auth.resolveTenant(token(good))).tenantId).toBe("acme");
    for (const weak of [small, three, big]) {
      await expectRefused(() => auth.resolveTenant(token(weak)), "token_invalid", 401, /key this verifier refuses/);
    }
    const forged = `${json64({ alg: "RS256", kid: "e-huge" })}.${token(good).split(".").slice(1).join(".")}`;
    await expectRefused(() => auth.resolveTenant(forged), "token_invalid", 401, /key this verifier refuses/);
    // The weak keys are known and refused: no refetch for each such token.
    expect(server.requestCount).toBe(1);
    expect((await auth.resolveTenant(token(good))).tenantId).toBe("acme");
  });

  it("a JWKS holding only a weak key: the token is refused 401 token_invalid", async () => {
    const server = await startJwksServer(() => ({ keys: [small.jwk] }));
    servers.push(server);
    const auth = createTenantAuth({ userPools: [pool({ jwksUri: server.jwksUri })] });
    await expectRefused(() => auth.resolveTenant(token(small)), "token_invalid", 401);
  });
});

describe("preloaded jwks", () => {
  it.each([
    ["a 1024-bit modulus", () => small.jwk, /userPools\[0\]\.jwks\.keys\[0\] \(kid "small-1024"\) is refused: an RSA key's modulus must have at least 2048 bits \(this one has 1024\)/],
    ["e = 3", () => three.jwk, /userPools\[0\]\.jwks\.keys\[0\] \(kid "e-3"\) is refused: an RSA key's exponent must be 65537/],
    ["e = 2^32 - 1", () => big.jwk, /is refused: an RSA key's exponent must be 65537/],
    ["a 4096-bit exponent", () => hugeExponent, /is refused: an RSA key's exponent must be 65537/],
  ])("%s is a TypeError at setup", (_, jwk, message) => {
    expect(() => createTenantAuth({ userPools: [pool({ jwks: { keys: [jwk()] } })] })).toThrow(TypeError);
    expect(() => createTenantAuth({ userPools: [pool({ jwks: { keys: [jwk()] } })] })).toThrow(message);
  });

  it("a 2048-bit key with e = 65537 is accepted", async () => {
    const auth = createTenantAuth({ userPools: [pool({ jwks: { keys: [good.jwk] } })] });
    expect((await auth.resolveTenant(token(good))).tenantId).toBe("acme");
  });
});
