import { describe, expect, it } from "vitest";
import { extractToken } from "../../src/index.js";
import { refusalSync } from "../helpers/refusal.js";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

describe("extractToken", () => {
  it.each([
    [`Bearer ${JWT}`],
    [`bearer ${JWT}`],
    [`BEARER ${JWT}`],
    [`Bearer   ${JWT}  `],
    [JWT],
    [[`Bearer ${JWT}`]],
  ])("takes the token from %j", (value) => {
    expect(extractToken(value as string)).toBe(JWT);
  });

  it.each([[undefined], [null], [""], ["   "], [[]], ["Basic dXNlcjpwYXNz"], ["Digest abc"]])(
    "no bearer credentials in %j: 401 token_missing with a bare challenge",
    (value) => {
      const err = refusalSync(() => extractToken(value as string));
      expect([err.code, err.status]).toEqual(["token_missing", 401]);
      expect(err.headers["WWW-Authenticate"]).toBe("Bearer");
    },
  );

  it.each([
    ["Bearer"],
    ["Bearer    "],
    [`Bearer ${JWT} ${JWT}`],
    [`Bearer ${JWT}, Bearer ${JWT}`],
    [`Bearer ${JWT}\n`.replace("\n", "\u0000")],
    [[`Bearer ${JWT}`, `Bearer ${JWT}`]],
  ])("malformed %j: 400 invalid_request", (value) => {
    const err = refusalSync(() => extractToken(value as string));
    expect([err.code, err.status]).toEqual(["invalid_request", 400]);
    expect(err.headers["WWW-Authenticate"]).toMatch(/^Bearer error="invalid_request"/);
  });

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
