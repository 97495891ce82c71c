/**
 * The attack suite: one describe per attack class. Every case must be refused with a
 * typed TenantAuthError carrying the exact code and status: never accepted, never a 500, never
 * anything but a TenantAuthError. Tokens are crafted byte by byte where jose would not make them.
 */
import { createHmac, createPublicKey, sign as cryptoSign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_MAX_TOKEN_LENGTH, createTenantAuth, principalFromClaims } from "../../src/index.js";
import type { TenantAuth } from "../../src/index.js";
import { startJwksServer } from "../../src/testing/index.js";
import type { JwksServer } from "../../src/testing/index.js";
import { authFor, b64url, createRawIssuer, decodeSegment, expectRefused, json64, withSegment } from "../support/security.js";
import type { RawIssuer } from "../support/security.js";

let rs: RawIssuer;
let es: RawIssuer;
let auth: TenantAuth;
let esAuth: TenantAuth;
let valid: string;

beforeAll(async () => {
  rs = await createRawIssuer("RS256");
  es = await createRawIssuer("ES256");
  auth = authFor(rs.issuer);
  esAuth = authFor(es.issuer);
  valid = rs.signJson(rs.claims());
  // The baseline: the unmodified token is accepted, so every refusal below is the attack's doing.
  expect((await auth.resolveTenant(valid)).tenantId).toBe("acme");
  expect((await esAuth.resolveTenant(es.signJson(es.claims()))).tenantId).toBe("acme");
});

const invalid = (token: string, a: TenantAuth = auth) => expectRefused(() => a.resolveTenant(token), "token_invalid", 401);

describe("alg none and its case variants", () => {
  const variants = ["none", "None", "NONE", "nOnE", "none ", ""];
  for (const alg of variants) {
    it(`refuses alg ${JSON.stringify(alg)} without a signature, with an empty one, and with a real one`, async () => {
      const header = json64({ alg, kid: rs.issuer.kid, typ: "JWT" });
      const payload = json64(rs.claims());
      const realSig = valid.split(".")[2] as string;
      await invalid(`${header}.${payload}.`);
      await invalid(`${header}.${payload}`);
      await invalid(`${header}.${payload}.${realSig}`);
      await invalid(`${header}.${payload}.${b64url("signature")}`);
    });
  }
  it("refuses a header without alg", async () => {
    await invalid(rs.signJson(rs.claims(), { kid: rs.issuer.kid }));
  });
  it("refuses an alg of the wrong type", async () => {
    await invalid(rs.signJson(rs.claims(), { alg: ["RS256"], kid: rs.issuer.kid }));
    await invalid(rs.signJson(rs.claims(), { alg: null, kid: rs.issuer.kid }));
  });
});

describe("RS256 → HS256 key confusion (public key as the HMAC secret)", () => {
  const hs = (alg: string, secret: string | Buffer, kid?: string) => {
    const input = `${json64({ alg, kid: kid ?? rs.issuer.kid, typ: "JWT" })}.${json64(rs.claims())}`;
    return `${input}.${createHmac(alg === "HS512" ? "sha512" : alg === "HS384" ? "sha384" : "sha256", secret)
      .update(input)
      .digest("base64url")}`;
  };
  const secrets = (): [string, string | Buffer][] => {
    const jwk = rs.issuer.jwks.keys[0] as object;
    const pub = createPublicKey({ key: jwk as never, format: "jwk" });
    const pem = pub.export({ type: "spki", format: "pem" }) as string;
    const pkcs1 = pub.export({ type: "pkcs1", format: "pem" }) as string;
    return [
      ["SPKI PEM", pem],
      ["SPKI PEM without the trailing newline", pem.trimEnd()],
      ["SPKI PEM with leading whitespace", `  \n${pem}`],
      ["SPKI PEM with a prefix", `key=${pem}`],
      ["PKCS#1 PEM", pkcs1],
      ["the JWK JSON text", JSON.stringify(jwk)],
      ["the JWKS JSON text", JSON.stringify(rs.issuer.jwks)],
      ["the modulus n", (jwk as { n: string }).n],
      ["SPKI DER", pub.export({ type: "spki", format: "der" })],
      ["PKCS#1 DER", pub.export({ type: "pkcs1", format: "der" })],
      ["an empty secret", ""],
    ];
  };
  it("refuses HS256/384/512 signed with every form of the public key", async () => {
    for (const [, secret] of secrets()) {
      for (const alg of ["HS256", "HS384", "HS512", "hs256"]) await invalid(hs(alg, secret));
    }
  });
  it("refuses them too when the published JWK carries no alg", async () => {
    const { alg: _alg, ...noAlg } = rs.issuer.jwks.keys[0] as Record<string, unknown>;
    const lax = createTenantAuth({ userPools: [{ ...rs.issuer.userPool, jwks: { keys: [noAlg] } }] });
    expect((await lax.resolveTenant(valid)).tenantId).toBe("acme");
    for (const [, secret] of secrets()) await invalid(hs("HS256", secret), lax);
  });
  it("refuses an RS256 token presented as PS256 / ES256 / EdDSA", async () => {
    const [h, p, s] = valid.split(".") as [string, string, string];
    for (const alg of ["PS256", "ES256", "EdDSA", "RS384", "RS512"]) {
      const header = { ...decodeSegment(valid, 0), alg };
      await invalid(`${json64(header)}.${p}.${s}`);
    }
    expect(h).toBeTruthy();
  });
});

describe("kid: path traversal, SQL text, wrong type, unknown", () => {
  const kids: unknown[] = ["../../../../etc/passwd", "/.well-known/jwks.json", "' OR '1'='1' --", "x\u0000y", "", "__proto__", "constructor", "unknown-kid"];
  it("refuses hostile and unknown kid strings (preloaded keys: token_invalid, never a fetch)", async () => {
    for (const kid of kids) await invalid(rs.signJson(rs.claims(), rs.header({ kid })));
  });
  it("refuses a kid of the wrong type, and no kid", async () => {
    for (const kid of [123, null, true, [rs.issuer.kid], { kid: rs.issuer.kid }]) await invalid(rs.signJson(rs.claims(), rs.header({ kid })));
    await invalid(rs.signJson(rs.claims(), { alg: "RS256" }));
  });
  it("never puts the kid into a URL: a fetching pool asks only its jwksUri, and once", async () => {
    const server = await rs.issuer.listen();
    try {
      const fetching = createTenantAuth({ userPools: [server.userPool], jwks: { unknownKidCooldownMs: 60_000 } });
      expect((await fetching.resolveTenant(valid)).tenantId).toBe("acme");
      const before = server.requestCount;
      for (const kid of kids) await invalid(rs.signJson(rs.claims(), rs.header({ kid })), fetching);
      // One refetch for the first unknown kid, then the cooldown holds.
      expect(server.requestCount - before).toBeLessThanOrEqual(1);
    } finally {
      await server.close();
    }
  });
});

describe("keys offered in the header (jwk, jku, x5u, x5c): never used, never fetched", () => {
  let attacker: RawIssuer;
  let trap: JwksServer;
  beforeAll(async () => {
    attacker = await createRawIssuer("RS256");
    trap = await startJwksServer(() => attacker.issuer.jwks);
  });
  afterAll(() => trap.close());

  it("ignores an embedded jwk (the attacker's own key, same kid)", async () => {
    const jwk = { ...(attacker.issuer.jwks.keys[0] as object), kid: rs.issuer.kid };
    const token = attacker.signJson(rs.claims(), { alg: "RS256", kid: rs.issuer.kid, jwk });
    await invalid(token);
  });
  it("never fetches jku or x5u", async () => {
    for (const field of ["jku", "x5u"]) {
      const token = attacker.signJson(rs.claims(), { alg: "RS256", kid: rs.issuer.kid, [field]: trap.jwksUri });
      await invalid(token);
      // And with the attacker's kid, which a naive verifier would look up at jku.
      await invalid(attacker.signJson(rs.claims(), { alg: "RS256", kid: attacker.issuer.kid, [field]: trap.jwksUri }));
    }
    expect(trap.requestCount).toBe(0);
  });
  it("ignores x5c / x5t", async () => {
    const der = createPublicKey({ key: attacker.issuer.jwks.keys[0] as never, format: "jwk" }).export({ type: "spki", format: "der" });
    const token = attacker.signJson(rs.claims(), { alg: "RS256", kid: rs.issuer.kid, x5c: [der.toString("base64")], x5t: "AAAA" });
    await invalid(token);
  });
  it("a fetching pool fetches only its own jwksUri, never the header's", async () => {
    const server = await rs.issuer.listen();
    try {
      const fetching = createTenantAuth({ userPools: [server.userPool] });
      await invalid(attacker.signJson(rs.claims(), { alg: "RS256", kid: attacker.issuer.kid, jku: trap.jwksUri, x5u: trap.jwksUri }), fetching);
      expect(trap.requestCount).toBe(0);
      expect(server.requestCount).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe("crit with unknown names", () => {
  it("refuses any crit header, even on a correctly signed token", async () => {
    for (const crit of [["x-unknown"], ["exp"], ["b64"], [], "b64", null]) {
      await invalid(rs.signJson(rs.claims(), rs.header({ crit, "x-unknown": true, b64: true })));
    }
  });
  it("refuses b64:false with crit (RFC 7797 unencoded payload)", async () => {
    await invalid(rs.signJson(rs.claims(), rs.header({ crit: ["b64"], b64: false })));
  });
});

describe("ES256: all-zero signature (CVE-2022-21449) and DER-encoded signatures", () => {
  it("refuses r = s = 0, in every length", async () => {
    const input = `${json64(es.header())}.${json64(es.claims())}`;
    for (const len of [64, 0, 1, 32, 63, 65, 72]) {
      const sig = b64url(Buffer.alloc(len));
      if (sig === "") await invalid(`${input}.`, esAuth);
      else await invalid(`${input}.${sig}`, esAuth);
    }
  });
  it("refuses r = s = n (the group order) and r = 0, s = valid", async () => {
    const input = `${json64(es.header())}.${json64(es.claims())}`;
    const n = Buffer.from("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", "hex");
    await invalid(`${input}.${b64url(Buffer.concat([n, n]))}`, esAuth);
    const good = Buffer.from(es.signRaw(json64(es.header()), json64(es.claims())).split(".")[2] as string, "base64url");
    await invalid(`${input}.${b64url(Buffer.concat([Buffer.alloc(32), good.subarray(32)]))}`, esAuth);
  });
  it("refuses a correct signature in DER (ASN.1) encoding instead of r || s", async () => {
    const input = `${json64(es.header())}.${json64(es.claims())}`;
    const der = cryptoSign("sha256", Buffer.from(input), { key: es.privateKey, dsaEncoding: "der" });
    await invalid(`${input}.${b64url(der)}`, esAuth);
    // The same bytes in r || s form are accepted: the refusal is about the encoding.
    const p1363 = cryptoSign("sha256", Buffer.from(input), { key: es.privateKey, dsaEncoding: "ieee-p1363" });
    expect((await esAuth.resolveTenant(`${input}.${b64url(p1363)}`)).tenantId).toBe("acme");
  });
  it("refuses a high-S / modified ES256 signature", async () => {
    const token = es.signJson(es.claims());
    const sig = Buffer.from(token.split(".")[2] as string, "base64url");
    sig[63] = (sig[63] as number) ^ 1;
    await invalid(withSegment(token, 2, b64url(sig)), esAuth);
  });
});

describe("structure: stripped signature, segment counts, empty segments, non-base64url characters", () => {
  it("refuses a stripped signature, two, four and five segments", async () => {
    const [h, p, s] = valid.split(".") as [string, string, string];
    for (const t of [`${h}.${p}.`, `${h}.${p}`, `${h}.${p}.${s}.${s}`, `${h}.${p}.${s}.`, `${h}.${p}.${s}.x.y`, `${h}`, `${h}.${p}.${s}..`]) await invalid(t);
  });
  it("refuses empty segments", async () => {
    const [h, p, s] = valid.split(".") as [string, string, string];
    for (const t of [`.${p}.${s}`, `${h}..${s}`, "..", ".", "...", `${h}.${p}..${s}`]) await invalid(t);
  });
  it("refuses standard base64 (+, /) and = padding", async () => {
    const [h, p, s] = valid.split(".") as [string, string, string];
    const std = (x: string) => Buffer.from(x, "base64url").toString("base64");
    const stdSig = std(s);
    // A signature almost always holds '-' or '_', so the standard alphabet differs somewhere.
    expect(stdSig.replace(/=+$/, "")).not.toBe(s);
    await invalid(`${h}.${p}.${stdSig.replace(/=+$/, "")}`);
    await invalid(`${h}.${p}.${s}=`);
    await invalid(`${h}==.${p}.${s}`);
    await invalid(`${h}.${p}=.${s}`);
    await invalid(`${std(h)}.${std(p)}.${stdSig}`);
    // Through the Authorization header the same (RFC 6750 b64token allows + / =): the verifier refuses.
    await expectRefused(() => auth.resolveTenant(`Bearer ${h}.${p}.${s}=`), "token_invalid", 401);
    await expectRefused(() => auth.resolveTenant(`Bearer ${h}.${p}.${stdSig}`), "token_invalid", 401);
  });
  it("refuses whitespace and other characters inside the token", async () => {
    const [h, p, s] = valid.split(".") as [string, string, string];
    await invalid(`${h}.${p}.${s.slice(0, 10)}%${s.slice(10)}`);
    await invalid(`${h}.${p}.${s}\u0000`);
    await invalid(`${h}.${p}.${s.slice(0, 10)}\u00e9${s.slice(10)}`);
    // With whitespace inside, the value no longer looks like one token.
    await expectRefused(() => auth.resolveTenant(`Bearer ${h}.${p} .${s}`), "invalid_request", 400);
    await expectRefused(() => auth.resolveTenant(`Bearer ${h}.${p}.${s} ${s}`), "invalid_request", 400);
    await expectRefused(() => auth.resolveTenant(`Bearer ${h}.\n${p}.${s}`), "invalid_request", 400);
    await expectRefused(() => auth.resolveTenant(`${h}.${p}\t.${s}`), "token_missing", 401);
  });
});

describe("payload and header tampering", () => {
  it("refuses a payload changed after signing (tenant, sub, exp, token_use)", async () => {
    const claims = decodeSegment(valid, 1);
    for (const change of [
      { "cognito:groups": ["tenant:globex"] },
      { "cognito:groups": ["tenant:acme", "tenant:globex:admin"] },
      { sub: "someone-else" },
      { exp: (claims["exp"] as number) + 86_400 },
      { token_use: "access" },
    ]) {
      await invalid(withSegment(valid, 1, json64({ ...claims, ...change })));
    }
  });
  it("refuses a header changed after signing", async () => {
    await invalid(withSegment(valid, 0, json64({ ...decodeSegment(valid, 0), typ: "at+jwt" })));
  });
  it("refuses a token signed with another key under the real kid", async () => {
    await invalid(await rs.issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" }));
  });
  it("refuses a signature moved from another valid token", async () => {
    const other = rs.signJson(rs.claims({ "cognito:groups": ["tenant:globex"] }));
    await invalid(withSegment(valid, 2, other.split(".")[2] as string));
  });
});

describe("duplicate JSON keys", () => {
  // Decision: a duplicate key is parsed as JSON.parse does (the last one wins), as aws-jwt-verify
  // and jose do. It cannot smuggle anything: the signature covers the exact bytes, so only the
  // issuer can produce a payload with a duplicate, and Cognito does not.
  it("refuses a duplicate cognito:groups appended to a signed payload", async () => {
    const bytes = Buffer.from(valid.split(".")[1] as string, "base64url").toString("utf8");
    const smuggled = `${bytes.slice(0, -1)},"cognito:groups":["tenant:globex:admin"]}`;
    await invalid(withSegment(valid, 1, b64url(smuggled)));
    const first = `{"cognito:groups":["tenant:globex:admin"],${bytes.slice(1)}`;
    await invalid(withSegment(valid, 1, b64url(first)));
  });
  it("refuses a duplicate alg / kid in the header", async () => {
    const [, p, s] = valid.split(".") as [string, string, string];
    await invalid(`${b64url(`{"alg":"RS256","kid":"${rs.issuer.kid}","alg":"none"}`)}.${p}.${s}`);
    await invalid(`${b64url(`{"alg":"none","kid":"${rs.issuer.kid}","alg":"RS256"}`)}.${p}.${s}`);
  });
  it("an issuer-signed duplicate resolves deterministically: the last one wins", async () => {
    const body = JSON.stringify(rs.claims({ "cognito:groups": ["tenant:acme"] }));
    const token = rs.signRaw(json64(rs.header()), b64url(`${body.slice(0, -1)},"cognito:groups":["tenant:globex"]}`));
    expect((await auth.resolveTenant(token)).groups).toEqual(["tenant:globex"]);
  });
});

describe("__proto__ and constructor keys grant nothing and pollute nothing", () => {
  const noPollution = () => {
    const probe = {} as Record<string, unknown>;
    expect(probe["polluted"]).toBeUndefined();
    expect(probe["cognito:groups"]).toBeUndefined();
    expect(probe["isAdmin"]).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  };
  const protoPayload = (body: Record<string, unknown>, injected: string) => {
    const json = JSON.stringify(body);
    return b64url(`${json.slice(0, -1)},${injected}}`);
  };
  it("a signed __proto__ holding cognito:groups yields no tenant (403 tenant_missing)", async () => {
    const claims = rs.claims({ "cognito:groups": undefined });
    delete (claims as Record<string, unknown>)["cognito:groups"];
    const token = rs.signRaw(json64(rs.header()), protoPayload(claims, `"__proto__":{"cognito:groups":["tenant:acme:admin"],"polluted":1}`));
    await expectRefused(() => auth.resolveTenant(token), "tenant_missing", 403);
    const ctor = rs.signRaw(json64(rs.header()), protoPayload(claims, `"constructor":{"prototype":{"cognito:groups":["tenant:acme"],"polluted":1}}`));
    await expectRefused(() => auth.resolveTenant(ctor), "tenant_missing", 403);
    noPollution();
  });
  it("with requireTenant: false, the principal has no groups, no extra claims and a plain prototype", async () => {
    const lax = authFor(rs.issuer, { requireTenant: false });
    const claims = rs.claims();
    delete (claims as Record<string, unknown>)["cognito:groups"];
    const token = rs.signRaw(json64(rs.header()), protoPayload(claims, `"__proto__":{"cognito:groups":["tenant:acme"],"isAdmin":true}`));
    const p = await lax.resolveTenant(token);
    expect(p.tenantId).toBeUndefined();
    expect(p.groups).toEqual([]);
    expect((p.claims as Record<string, unknown>)["isAdmin"]).toBeUndefined();
    expect(Object.getPrototypeOf(p.claims)).toBe(Object.prototype);
    noPollution();
  });
  it("a forged __proto__ token (not signed by the pool) is refused 401", async () => {
    const attacker = await createRawIssuer("RS256");
    const token = attacker.signRaw(json64(rs.header()), protoPayload(rs.claims(), `"__proto__":{"cognito:groups":["tenant:acme"]}`));
    await invalid(token);
    await invalid(attacker.signRaw(b64url(`{"__proto__":{"alg":"RS256"},"kid":"${rs.issuer.kid}"}`), json64(rs.claims())));
    noPollution();
  });
  it("a __proto__ in the header cannot supply alg or kid", async () => {
    const token = rs.signRaw(b64url(`{"__proto__":{"alg":"RS256","kid":"${rs.issuer.kid}"}}`), json64(rs.claims()));
    await invalid(token);
    noPollution();
  });
  it("claims already parsed elsewhere (principalFromClaims) with __proto__ grant nothing", async () => {
    const claims = JSON.parse(
      `{"sub":"u","iss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X","token_use":"id","exp":${Math.floor(Date.now() / 1000) + 60},"__proto__":{"cognito:groups":["tenant:acme"]}}`,
    ) as Record<string, unknown>;
    await expectRefused(() => principalFromClaims(claims), "tenant_missing", 403);
    noPollution();
  });
});

describe("deeply nested JSON", () => {
  const deepArray = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
  const deepObject = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
  it("refuses a signed payload nested deeper than the parser's stack, typed", async () => {
    const body = JSON.stringify(rs.claims());
    for (const depth of [5_000, 20_000]) {
      await invalid(rs.signRaw(json64(rs.header()), b64url(`${body.slice(0, -1)},"deep":${deepArray(depth)}}`)));
      await invalid(rs.signRaw(json64(rs.header()), b64url(`${body.slice(0, -1)},"deep":${deepObject(Math.min(depth, 8_000))}}`)));
    }
  });
  it("refuses a deeply nested header", async () => {
    await invalid(rs.signRaw(b64url(`{"alg":"RS256","kid":"${rs.issuer.kid}","x":${deepArray(20_000)}}`), json64(rs.claims())));
  });
  it("a moderately nested custom claim is harmless (kept, frozen)", async () => {
    const body = JSON.stringify(rs.claims());
    const p = await auth.resolveTenant(rs.signRaw(json64(rs.header()), b64url(`${body.slice(0, -1)},"deep":${deepArray(200)}}`)));
    expect(Object.isFrozen(p.claims["deep"])).toBe(true);
  });
  it("normalizes claims objects nested deeper than the call stack into a typed refusal (principalFromClaims)", async () => {
    // JSON.parse itself is not recursive: an API Gateway event can carry any depth.
    const claims = JSON.parse(
      `{"sub":"u","iss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X","token_use":"id","exp":${Math.floor(Date.now() / 1000) + 60},"cognito:groups":["tenant:acme"],"deep":${deepArray(200_000)}}`,
    ) as Record<string, unknown>;
    await expectRefused(() => principalFromClaims(claims), "token_invalid", 401);
  });
});

describe("invalid UTF-8", () => {
  const withBytes = (prefix: string, bytes: number[], suffix: string) => b64url(Buffer.concat([Buffer.from(prefix), Buffer.from(bytes), Buffer.from(suffix)]));
  const sequences = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]];
  it("refuses a signed payload holding invalid UTF-8 (in a claim and in a group name)", async () => {
    const body = JSON.stringify(rs.claims());
    for (const seq of sequences) {
      await invalid(rs.signRaw(json64(rs.header()), withBytes(`${body.slice(0, -1)},"x":"a`, seq, 'b"}')));
      const groups = body.replace('"tenant:acme"', '"tenant:ac');
      await invalid(rs.signRaw(json64(rs.header()), withBytes(groups.slice(0, groups.indexOf('"tenant:ac') + 10), seq, `me"${groups.slice(groups.indexOf('"tenant:ac') + 10)}`)));
    }
  });
  it("refuses invalid UTF-8 in the header", async () => {
    for (const seq of sequences) {
      await invalid(rs.signRaw(withBytes(`{"alg":"RS256","kid":"${rs.issuer.kid}","x":"`, seq, '"}'), json64(rs.claims())));
    }
  });
  it("refuses invalid UTF-8 in a key, inside an array and in a nested object", async () => {
    const body = JSON.stringify(rs.claims());
    for (const seq of sequences) {
      await invalid(rs.signRaw(json64(rs.header()), withBytes(`${body.slice(0, -1)},"k`, seq, '":1}')));
      await invalid(rs.signRaw(json64(rs.header()), withBytes(`${body.slice(0, -1)},"list":["a","`, seq, '"]}')));
      await invalid(rs.signRaw(json64(rs.header()), withBytes(`${body.slice(0, -1)},"deep":{"a":{"b":"`, seq, '"}}}')));
    }
  });
  it("accepts a validly encoded U+FFFD (the byte check, not the character, decides)", async () => {
    const p = await auth.resolveTenant(rs.signJson(rs.claims({ note: "replacement \uFFFD character" })));
    expect(p.claims["note"]).toBe("replacement \uFFFD character");
  });
  it("accepts valid non-ASCII UTF-8 (the check is for validity, not ASCII)", async () => {
    const p = await auth.resolveTenant(rs.signJson(rs.claims({ "cognito:groups": ["tenant:ácme-東京-🏢"] })));
    expect(p.tenantId).toBe("ácme-東京-🏢");
  });
});

describe("exp, nbf, iat of wrong types; nbf in the future; expired", () => {
  const now = () => Math.floor(Date.now() / 1000);
  it("refuses exp, nbf, iat that are not finite numbers", async () => {
    for (const name of ["exp", "nbf", "iat"]) {
      for (const value of [String(now() + 3600), null, true, [now() + 3600], { t: now() }, "Infinity"]) {
        await invalid(rs.signJson(rs.claims({ [name]: value })));
      }
    }
  });
  it("refuses a missing exp", async () => {
    const claims = rs.claims();
    delete (claims as Record<string, unknown>)["exp"];
    await invalid(rs.signJson(claims));
  });
  it("refuses exp and iat outside the range of a date", async () => {
    for (const name of ["exp", "iat"]) for (const value of [1e300, 8.64e12 + 1, -1e300]) await invalid(rs.signJson(rs.claims({ [name]: value })));
  });
  it("refuses nbf in the future and exp in the past with token_expired", async () => {
    await expectRefused(() => auth.resolveTenant(rs.signJson(rs.claims({ nbf: now() + 600 }))), "token_expired", 401);
    await expectRefused(() => auth.resolveTenant(rs.signJson(rs.claims({ exp: now() - 1 }))), "token_expired", 401);
    await expectRefused(() => auth.resolveTenant(rs.signJson(rs.claims({ exp: 0 }))), "token_expired", 401);
  });
});

describe("iss variants: trailing slash, other case, http:, other pool", () => {
  it("refuses every near-miss issuer", async () => {
    const iss = rs.issuer.issuer;
    for (const bad of [
      `${iss}/`,
      iss.toUpperCase(),
      iss.replace("cognito-idp", "Cognito-Idp"),
      iss.replace("https:", "http:"),
      iss.replace("us-east-1", "us-west-2"),
      `${iss}x`,
      ` ${iss}`,
      iss.replace("https://", "https://evil.example/"),
      "",
      undefined,
    ]) {
      const claims = rs.claims({ iss: bad });
      if (bad === undefined) delete (claims as Record<string, unknown>)["iss"];
      await invalid(rs.signJson(claims));
    }
  });
  it("refuses an issuer of the wrong type", async () => {
    for (const bad of [[rs.issuer.issuer], 1, { iss: rs.issuer.issuer }, null]) await invalid(rs.signJson(rs.claims({ iss: bad })));
  });
});

describe("aud arrays and client ids", () => {
  it("refuses an aud array even when it holds the client id", async () => {
    const idPool = createTenantAuth({ userPools: [{ ...rs.issuer.userPool, tokenUse: "id" }] });
    for (const aud of [[rs.issuer.clientId], [rs.issuer.clientId, "other"], ["other", rs.issuer.clientId], []]) {
      await invalid(rs.signJson(rs.claims({ aud })));
      await invalid(rs.signJson(rs.claims({ aud })), idPool);
    }
  });
  it("refuses an aud array when the pool accepts any client (clientId: null)", async () => {
    const anyClient = createTenantAuth({ userPools: [{ ...rs.issuer.userPool, clientId: null }] });
    await invalid(rs.signJson(rs.claims({ aud: [rs.issuer.clientId] })), anyClient);
  });
  it("refuses another client, and a client_id array on an access token", async () => {
    await invalid(rs.signJson(rs.claims({ aud: "other-client" })));
    await invalid(await rs.issuer.accessToken({ groups: ["tenant:acme"], clientId: "other-client" }));
    await invalid(await rs.issuer.accessToken({ groups: ["tenant:acme"], claims: { client_id: [rs.issuer.clientId] } }));
  });
});

describe("token_use: missing, unknown, ID/access swap", () => {
  it("refuses a missing or unknown token_use", async () => {
    for (const tokenUse of [undefined, "refresh", "ID", "Access", "", ["id"], 1, null]) {
      const claims = rs.claims({ token_use: tokenUse });
      if (tokenUse === undefined) delete (claims as Record<string, unknown>)["token_use"];
      await invalid(rs.signJson(claims));
    }
  });
  it("refuses an access token where ID tokens are required, and the reverse", async () => {
    const idOnly = createTenantAuth({ userPools: [{ ...rs.issuer.userPool, tokenUse: "id" }] });
    const accessOnly = createTenantAuth({ userPools: [{ ...rs.issuer.userPool, tokenUse: "access" }] });
    await invalid(await rs.issuer.accessToken({ groups: ["tenant:acme"] }), idOnly);
    await invalid(await rs.issuer.idToken({ groups: ["tenant:acme"] }), accessOnly);
    // An ID token relabelled "access" (so client_id is looked up instead of aud): no client_id, refused.
    await invalid(rs.signJson(rs.claims({ token_use: "access" })), accessOnly);
  });
});

describe("sub: missing, empty, wrong type", () => {
  it("refuses the token", async () => {
    for (const sub of [undefined, "", 42, null, ["u"]]) {
      const claims = rs.claims({ sub });
      if (sub === undefined) delete (claims as Record<string, unknown>)["sub"];
      await invalid(rs.signJson(claims));
    }
  });
});

describe("claims of the wrong type", () => {
  it("refuses cognito:groups that is not an array of group names", async () => {
    for (const groups of [
      "tenant:acme",
      '["tenant:acme"]',
      [["tenant:acme"]],
      ["tenant:acme", null],
      [null],
      [{ name: "tenant:acme" }],
      { 0: "tenant:acme", length: 1 },
      1,
      true,
      null,
      [""],
      ["x".repeat(129)],
    ]) {
      await invalid(rs.signJson(rs.claims({ "cognito:groups": groups })));
    }
  });
  it("refuses group names with control, separator or format characters", async () => {
    for (const group of ["tenant:acme\n", "tenant:acme\u0000", "tenant:acme\r\nx", "tenant:\u202eemca", "tenant:ac me", "tenant:acme\u200b", "tenant:acme\u007f", "\ttenant:acme"]) {
      await invalid(rs.signJson(rs.claims({ "cognito:groups": [group] })));
    }
  });
  it("refuses cognito:roles as a string and cognito:preferred_role as an array", async () => {
    const arn = "arn:aws:iam::123456789012:role/acme-admins";
    await invalid(rs.signJson(rs.claims({ "cognito:roles": arn })));
    await invalid(rs.signJson(rs.claims({ "cognito:roles": [arn, 1] })));
    await invalid(rs.signJson(rs.claims({ "cognito:roles": ["not-an-arn"] })));
    await invalid(rs.signJson(rs.claims({ "cognito:preferred_role": [arn] })));
    await invalid(rs.signJson(rs.claims({ "cognito:preferred_role": { arn } })));
    await invalid(rs.signJson(rs.claims({ "cognito:preferred_role": "arn:aws:iam::123:role/x" })));
  });
  it("refuses scope, username and client_id of the wrong type", async () => {
    await invalid(await rs.issuer.accessToken({ groups: ["tenant:acme"], claims: { scope: ["openid"] } }));
    await invalid(await rs.issuer.accessToken({ groups: ["tenant:acme"], claims: { username: 7 } }));
    await invalid(rs.signJson(rs.claims({ "cognito:username": ["alice"] })));
  });
});

describe("oversized tokens are refused before any parsing", () => {
  it("refuses maxTokenLength + 1 characters of garbage with the size message (default 96 KiB)", async () => {
    expect(DEFAULT_MAX_TOKEN_LENGTH).toBe(98_304);
    const garbage = "!".repeat(DEFAULT_MAX_TOKEN_LENGTH + 1);
    await expectRefused(() => auth.resolveTenant(garbage), "token_invalid", 401, /larger than accepted/);
    // One character shorter, the same garbage fails the next check instead: the size check came first.
    await expectRefused(() => auth.resolveTenant(garbage.slice(1)), "token_invalid", 401, /not a JWS in compact form/);
  });
  it("refuses a correctly signed token over a configured limit, without parsing JSON", async () => {
    const small = authFor(rs.issuer, { maxTokenLength: 1000 });
    const big = rs.signJson(rs.claims({ pad: "x".repeat(2000) }));
    expect(big.length).toBeGreaterThan(1000);
    const parse = vi.spyOn(JSON, "parse");
    try {
      await expectRefused(() => small.resolveTenant(big), "token_invalid", 401, /larger than accepted/);
      await expectRefused(() => small.resolveTenant(`Bearer ${big}`), "token_invalid", 401, /larger than accepted/);
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
    expect((await authFor(rs.issuer).resolveTenant(big)).tenantId).toBe("acme");
  });
  it("a token of a user in 100 groups of 128 characters fits the default limit", async () => {
    const groups = Array.from({ length: 100 }, (_, i) => `tenant:t${String(i).padStart(3, "0")}:${"r".repeat(128 - 12)}`);
    const roles = Array.from({ length: 100 }, (_, i) => `arn:aws:iam::123456789012:role/tenant-${i}-${"r".repeat(40)}`);
    const token = rs.signJson(rs.claims({ "cognito:groups": groups, "cognito:roles": roles, "cognito:preferred_role": roles[0] }));
    expect(token.length).toBeLessThan(DEFAULT_MAX_TOKEN_LENGTH);
    const p = await auth.resolveTenant(token, { tenantHint: "t042" });
    expect(p.tenantId).toBe("t042");
  });
  it("so does one whose 100 group names are 128 four-byte characters each", async () => {
    const groups = Array.from({ length: 100 }, (_, i) => `tenant:t${String(i).padStart(3, "0")}:${"\u{1F600}".repeat(128 - 12)}`);
    expect([...groups[0]!].length).toBe(128);
    const roles = Array.from({ length: 100 }, (_, i) => `arn:aws:iam::123456789012:role/tenant-${i}-${"r".repeat(40)}`);
    const token = rs.signJson(rs.claims({ "cognito:groups": groups, "cognito:roles": roles, "cognito:preferred_role": roles[0] }));
    expect(token.length).toBeGreaterThan(65_536);
    expect(token.length).toBeLessThan(DEFAULT_MAX_TOKEN_LENGTH);
    expect((await auth.resolveTenant(token, { tenantHint: "t007" })).tenantId).toBe("t007");
  });
  it("refuses a huge Authorization header value quickly and typed", async () => {
    await expectRefused(() => auth.resolveTenant(`Bearer ${"a".repeat(5_000_000)}`), "token_invalid", 401, /larger than accepted/);
  });
});

describe("cross-pool confusion (several pools configured)", () => {
  it("a token claiming pool A's issuer but signed with pool B's key (same kid) is refused", async () => {
    const { generateKeyPairSync: gen } = await import("node:crypto");
    const mk = async (poolId: string) => {
      const { privateKey } = gen("rsa", { modulusLength: 2048 });
      const jwk = { ...(privateKey.export({ format: "jwk" }) as Record<string, unknown>), kid: "shared-kid" };
      const { createTestIssuer } = await import("../../src/testing/index.js");
      return { issuer: await createTestIssuer({ userPoolId: poolId, privateJwk: jwk }), key: privateKey };
    };
    const a = await mk("us-east-1_PoolA");
    const b = await mk("us-east-1_PoolB");
    const both = createTenantAuth({ userPools: [a.issuer.userPool, b.issuer.userPool], tenants: { from: "userPool", tenants: { "us-east-1_PoolA": "acme", "us-east-1_PoolB": "globex" } } });
    expect((await both.resolveTenant(await a.issuer.idToken())).tenantId).toBe("acme");
    expect((await both.resolveTenant(await b.issuer.idToken())).tenantId).toBe("globex");
    // B's key, A's issuer: verified against A's keys, refused.
    const forged = await b.issuer.sign({ ...decodeSegment(await a.issuer.idToken(), 1) }, { signWith: b.key });
    await invalid(forged, both);
    // A's token relabelled with B's issuer (tampering): refused.
    const token = await a.issuer.idToken();
    await invalid(withSegment(token, 1, json64({ ...decodeSegment(token, 1), iss: b.issuer.issuer })), both);
  });
});
