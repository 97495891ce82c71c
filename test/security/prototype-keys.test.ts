/**
 * The token decoder parses with a plain JSON.parse and then deletes `__proto__` and `constructor`
 * keys itself, as aws-jwt-verify's reviver did. Outcomes must be exactly those of the reviver:
 * the same refusals, and no such key anywhere in the verified claims.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { decomposeUnverifiedJwt } from "aws-jwt-verify/jwt";
import type { TenantAuth } from "../../src/index.js";
import { authFor, b64url, createRawIssuer, expectRefused, json64 } from "../support/security.js";
import type { RawIssuer } from "../support/security.js";

let rs: RawIssuer;
let auth: TenantAuth;
let lax: TenantAuth;

beforeAll(async () => {
  rs = await createRawIssuer("RS256");
  auth = authFor(rs.issuer);
  lax = authFor(rs.issuer, { requireTenant: false });
});

/** Claims JSON with `injected` spliced in as raw text (JSON.stringify would not write these keys). */
const payloadWith = (claims: Record<string, unknown>, injected: string) => b64url(`${JSON.stringify(claims).slice(0, -1)},${injected}}`);

/** Every object in `value`, at any depth, with the path to it. */
function objects(value: unknown, path = "claims"): [string, object][] {
  if (typeof value !== "object" || value === null) return [];
  const own: [string, object][] = Array.isArray(value) ? [] : [[path, value]];
  return [...own, ...Object.keys(value).flatMap((k) => objects((value as Record<string, unknown>)[k], `${path}.${k}`))];
}

const NESTED = [
  `"__proto__":{"cognito:groups":["tenant:acme:admin"],"polluted":1}`,
  `"constructor":{"prototype":{"cognito:groups":["tenant:acme"],"polluted":1}}`,
  `"profile":{"name":"a","__proto__":{"isAdmin":true},"constructor":{"name":"Object"},"inner":{"__proto__":{"x":1},"keep":2}}`,
  `"list":[{"__proto__":{"isAdmin":true},"keep":1},[{"constructor":1,"keep":2}]]`,
].join(",");

describe("__proto__ and constructor keys nested at any depth", () => {
  it("reach no object of the verified claims, which equal aws-jwt-verify's own decoding", async () => {
    const claims = rs.claims();
    delete (claims as Record<string, unknown>)["cognito:groups"];
    const token = rs.signRaw(json64(rs.header()), payloadWith(claims, NESTED));
    const p = await lax.resolveTenant(token);
    const found = objects(p.claims).filter(([, o]) => Object.hasOwn(o, "__proto__") || Object.hasOwn(o, "constructor"));
    expect(found.map(([path]) => path)).toEqual([]);
    for (const [, o] of objects(p.claims)) expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(p.claims).toStrictEqual(decomposeUnverifiedJwt(token).payload);
    expect(p.claims["profile"]).toStrictEqual({ name: "a", inner: { keep: 2 } });
    expect(p.claims["list"]).toStrictEqual([{ keep: 1 }, [{ keep: 2 }]]);
    expect(p.groups).toEqual([]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("are refused with the same errors as before: groups inside them grant no tenant", async () => {
    const claims = rs.claims();
    delete (claims as Record<string, unknown>)["cognito:groups"];
    const token = rs.signRaw(json64(rs.header()), payloadWith(claims, NESTED));
    await expectRefused(() => auth.resolveTenant(token), "tenant_missing", 403, /^The caller belongs to no tenant$/);
  });

  it("in the header, supply no alg or kid and are refused as before", async () => {
    const kid = rs.issuer.kid;
    const nested = rs.signRaw(b64url(`{"typ":"JWT","x":{"__proto__":{"alg":"RS256"}},"__proto__":{"alg":"RS256","kid":"${kid}"},"constructor":{"kid":"${kid}"}}`), json64(rs.claims()));
    await expectRefused(() => auth.resolveTenant(nested), "token_invalid", 401, /^The token is malformed or not acceptable$/);
    // The same keys beside a real alg and kid are deleted and the token verifies.
    const beside = rs.signRaw(b64url(`{"alg":"RS256","kid":"${kid}","x":[{"__proto__":{"alg":"none"}}],"constructor":{"alg":"none"}}`), json64(rs.claims()));
    expect((await auth.resolveTenant(beside)).tenantId).toBe("acme");
  });
});
