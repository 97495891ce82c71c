import { describe, expect, it } from "vitest";
import { extractToken } from "../../src/index.js";
import { credentialOf, nodeHeaderValues, readRequest, tenantHintFromHeader } from "../../src/core/extract-token.js";
import { refusalSync } from "../support/refusal.js";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

describe("extractToken", () => {
  it.each([[`Bearer ${JWT}`], [`bearer ${JWT}`], [`BEARER ${JWT}`], [`Bearer   ${JWT}  `], [JWT], [[`Bearer ${JWT}`]]])("takes the token from %j", (value) => {
    expect(extractToken(value as string)).toBe(JWT);
  });

  it.each([[undefined], [null], [""], ["   "], [[]], ["Basic dXNlcjpwYXNz"], ["Digest abc"]])("no bearer credentials in %j: 401 token_missing with a bare challenge", (value) => {
    const err = refusalSync(() => extractToken(value as string));
    expect([err.code, err.status]).toEqual(["token_missing", 401]);
    expect(err.headers["WWW-Authenticate"]).toBe("Bearer");
  });

  it.each([["Bearer"], ["Bearer    "], [`Bearer ${JWT} ${JWT}`], [`Bearer ${JWT}, Bearer ${JWT}`], [`Bearer ${JWT}\n`.replace("\n", "\u0000")], [[`Bearer ${JWT}`, `Bearer ${JWT}`]]])(
    "malformed %j: 400 invalid_request",
    (value) => {
      const err = refusalSync(() => extractToken(value as string));
      expect([err.code, err.status]).toEqual(["invalid_request", 400]);
      expect(err.headers["WWW-Authenticate"]).toMatch(/^Bearer error="invalid_request"/);
    },
  );

  it("a non-string header is invalid_request, not a crash", () => {
    const err = refusalSync(() => extractToken(42 as unknown as string));
    expect(err.code).toBe("invalid_request");
  });

  it("never echoes the token in its message", () => {
    const err = refusalSync(() => extractToken(`Bearer ${JWT} extra`));
    expect(err.message).not.toContain(JWT);
    expect(JSON.stringify(err.headers)).not.toContain(JWT);
  });
});

describe("the request readers every adapter shares", () => {
  const headers = (map: Record<string, readonly unknown[]>) => (name: string) => map[name];

  it("credentialOf: a schemeless Authorization value is a credential only when shaped like a JWT", () => {
    expect(credentialOf(headers({ authorization: [JWT] }))).toBe(JWT);
    expect(credentialOf(headers({ authorization: ["my-api-key"] }))).toBeUndefined();
    expect(credentialOf(headers({ authorization: ["a.b"] }))).toBeUndefined();
    expect(credentialOf(headers({ authorization: ["Basic dXNlcjpwYXNz"] }))).toBe("Basic dXNlcjpwYXNz");
    expect(credentialOf(headers({ authorization: ["Bearer"] }))).toBe("Bearer");
  });

  it("credentialOf: the one Authorization value, or the tokenHeader's", () => {
    expect(credentialOf(headers({ authorization: [`Bearer ${JWT}`] }))).toBe(`Bearer ${JWT}`);
    expect(credentialOf(headers({}))).toBeUndefined();
    expect(credentialOf(headers({ "x-amzn-oidc-accesstoken": [JWT], authorization: ["Bearer other"] }), "x-amzn-oidc-accesstoken")).toBe(JWT);
  });

  it.each([
    [{ authorization: [`Bearer ${JWT}`, "Bearer x"] }, undefined],
    [{ "x-token": [JWT, JWT] }, "x-token"],
    [{ "x-token": [`${JWT},${JWT}`] }, "x-token"],
    [{ authorization: [42] }, undefined],
  ])("credentialOf refuses several or odd values %j (400)", (map, tokenHeader) => {
    const err = refusalSync(() => credentialOf(headers(map as Record<string, unknown[]>), tokenHeader));
    expect([err.code, err.status]).toEqual(["invalid_request", 400]);
  });

  it("tenantHintFromHeader: one tenant, or 400 for several (listed or comma-joined)", () => {
    expect(tenantHintFromHeader(headers({ "x-tenant-id": ["acme"] }), "x-tenant-id")).toBe("acme");
    expect(tenantHintFromHeader(headers({ "x-tenant-id": [""] }), "x-tenant-id")).toBeUndefined();
    for (const values of [["acme", "globex"], ["acme, globex"], ["acme,globex"]]) {
      const err = refusalSync(() => tenantHintFromHeader(headers({ "x-tenant-id": values }), "x-tenant-id"));
      expect([err.code, err.status]).toEqual(["invalid_request", 400]);
    }
  });

  it("readRequest: credential errors first, then the hint; header and parameter must agree", () => {
    const noToken = refusalSync(() => readRequest(headers({ "x-tenant-id": ["a,b"] }), { tenantHeader: "x-tenant-id" }));
    expect(noToken.code).toBe("token_missing");
    const bad = refusalSync(() => readRequest(headers({ authorization: [`Bearer ${JWT}`], "x-tenant-id": ["a,b"] }), { tenantHeader: "x-tenant-id" }));
    expect(bad.code).toBe("invalid_request");
    const differ = refusalSync(() => readRequest(headers({ authorization: [`Bearer ${JWT}`], "x-tenant-id": ["acme"] }), { tenantHeader: "x-tenant-id", tenantParam: "globex" }));
    expect(differ.code).toBe("invalid_request");
    expect(readRequest(headers({ authorization: [`Bearer ${JWT}`], "x-tenant-id": ["acme"] }), { tenantHeader: "x-tenant-id", tenantParam: "acme" })).toEqual({
      credential: `Bearer ${JWT}`,
      tenantHint: "acme",
    });
  });

  it("nodeHeaderValues: duplicates from headersDistinct or rawHeaders, single values from headers", () => {
    const fromDistinct = nodeHeaderValues({ headersDistinct: { authorization: ["a", "b"] } }, { authorization: "a" });
    expect(fromDistinct("authorization")).toEqual(["a", "b"]);
    const fromRaw = nodeHeaderValues({ rawHeaders: ["Authorization", "a", "AUTHORIZATION", "b"] }, { authorization: "a" });
    expect(fromRaw("authorization")).toEqual(["a", "b"]);
    // A value set by earlier middleware (req.headers.authorization from a cookie) is what counts.
    const rewritten = nodeHeaderValues({ headersDistinct: {} }, { authorization: "Bearer from-cookie" });
    expect(rewritten("authorization")).toEqual(["Bearer from-cookie"]);
  });
});
