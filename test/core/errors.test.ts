import { describe, expect, it } from "vitest";
import { ERROR_STATUS, TenantAuthError, isTenantAuthError } from "../../src/index.js";
import type { TenantAuthErrorCode } from "../../src/index.js";

// The table in the README's "Errors" section, restated independently so a change to either side fails here.
const TABLE: [TenantAuthErrorCode, number, string | null][] = [
  ["token_missing", 401, null],
  ["invalid_request", 400, "invalid_request"],
  ["token_invalid", 401, "invalid_token"],
  ["token_expired", 401, "invalid_token"],
  ["tenant_missing", 403, "insufficient_scope"],
  ["tenant_forbidden", 403, "insufficient_scope"],
  ["tenant_ambiguous", 400, "invalid_request"],
  ["access_denied", 403, "insufficient_scope"],
  ["insufficient_scope", 403, "insufficient_scope"],
  ["jwks_unavailable", 503, null],
  ["authorizer_unavailable", 503, null],
  ["tenant_unavailable", 503, null],
  ["credentials_unavailable", 503, null],
];

describe("TenantAuthError", () => {
  it.each(TABLE)("%s is %i", (code, status, challenge) => {
    const err = new TenantAuthError(code, "what went wrong");
    expect(err.status).toBe(status);
    expect(err.statusCode).toBe(status);
    expect(err.code).toBe(code);
    expect(err.name).toBe("TenantAuthError");
    expect(err).toBeInstanceOf(Error);
    if (status >= 500) {
      expect(err.headers["WWW-Authenticate"]).toBeUndefined();
      expect(err.headers["Retry-After"]).toBe("5");
      expect(err.expose).toBe(false);
    } else if (challenge === null) {
      expect(err.headers["WWW-Authenticate"]).toBe("Bearer");
    } else {
      expect(err.headers["WWW-Authenticate"]).toBe(`Bearer error="${challenge}", error_description="what went wrong"`);
      expect(err.expose).toBe(true);
    }
  });

  it("covers every code", () => {
    expect(Object.keys(ERROR_STATUS).sort()).toEqual(TABLE.map(([c]) => c).sort());
  });

  it("puts required scopes in the insufficient_scope challenge", () => {
    const err = new TenantAuthError("insufficient_scope", "needs more", { scope: ["assets/read", "assets/write"] });
    expect(err.headers["WWW-Authenticate"]).toBe('Bearer error="insufficient_scope", error_description="needs more", scope="assets/read assets/write"');
  });

  it("escapes quotes and strips control characters in challenge parameters", () => {
    const err = new TenantAuthError("token_invalid", 'bad "x"\r\nSet-Cookie: a=b');
    const header = err.headers["WWW-Authenticate"]!;
    expect(header).not.toMatch(/[\r\n]/);
    expect(header).toContain('\\"x\\"');
  });

  it("keeps the cause and serializes to the RFC 6749 body", () => {
    const cause = new Error("inner");
    const err = new TenantAuthError("jwks_unavailable", "keys down", { cause });
    expect(err.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(err))).toEqual({ error: "jwks_unavailable", error_description: "keys down" });
  });

  it("isTenantAuthError recognises ours and lookalikes from another copy of the package, nothing else", () => {
    expect(isTenantAuthError(new TenantAuthError("token_invalid", "x"))).toBe(true);
    expect(isTenantAuthError(Object.assign(new Error("x"), { name: "TenantAuthError", code: "token_invalid", status: 401 }))).toBe(true);
    expect(isTenantAuthError(new Error("x"))).toBe(false);
    expect(isTenantAuthError(null)).toBe(false);
    expect(isTenantAuthError({ name: "TenantAuthError" })).toBe(false);
  });
});
