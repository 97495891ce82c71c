import { describe, expect, it } from "vitest";
import { isValidGroupName, normalizeClaims, parseIamRoleArn } from "../../src/index.js";
import { refusalSync } from "../support/refusal.js";

const ISS = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool1";

function idClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: "u-1", iss: ISS, aud: "client-1", token_use: "id", "cognito:username": "alice", exp: 2_000_000_000, iat: 1_999_996_400, ...extra };
}
function accessClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: "u-1", iss: ISS, client_id: "client-1", token_use: "access", username: "alice", scope: "a b", exp: 2_000_000_000, ...extra };
}

describe("parseIamRoleArn", () => {
  it.each([
    ["arn:aws:iam::123456789012:role/Reader", "aws", "/", "Reader"],
    ["arn:aws-cn:iam::123456789012:role/team/a/Reader", "aws-cn", "/team/a/", "Reader"],
    ["arn:aws-us-gov:iam::123456789012:role/service-role/My+Role=,.@-_1", "aws-us-gov", "/service-role/", "My+Role=,.@-_1"],
  ])("parses %s", (arn, partition, path, name) => {
    expect(parseIamRoleArn(arn)).toEqual({ arn, partition, accountId: "123456789012", path, name });
  });

  it.each([
    "arn:aws:iam::12345678901:role/Short",
    "arn:aws:iam::123456789012:user/NotARole",
    "arn:aws:s3:::bucket",
    "arn:aws:iam:us-east-1:123456789012:role/Regional",
    "arn:AWS:iam::123456789012:role/Upper",
    "arn:aws:iam::123456789012:role/",
    "arn:aws:iam::123456789012:role/a//b",
    "arn:aws:iam::123456789012:role/name with space",
    "arn:aws:iam::123456789012:role/" + "x".repeat(65),
    "not an arn",
    "",
  ])("refuses %j", (arn) => {
    expect(parseIamRoleArn(arn)).toBeUndefined();
  });
});

describe("isValidGroupName", () => {
  it.each(["tenant:acme", "Admins", "グループ", "a".repeat(128), "ü-ß_1.2@x", "😀".repeat(128)])("accepts %j", (name) => {
    expect(isValidGroupName(name)).toBe(true);
  });
  it.each(["", "a".repeat(129), "😀".repeat(129), "with space", "tab\tname", "nl\n", "nul\u0000", "bidi\u202e", 7, null])("refuses %j", (name) => {
    expect(isValidGroupName(name)).toBe(false);
  });
  // ASCII names skip the Unicode pattern (it costs ICU data at start-up): the shortcut must agree
  // with Cognito's pattern on every ASCII character, alone and beside a non-ASCII one.
  it("agrees with Cognito's pattern on every ASCII character", () => {
    const cognito = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u;
    for (let code = 0; code < 128; code++) {
      const c = String.fromCharCode(code);
      expect(isValidGroupName(c), `U+${code.toString(16)}`).toBe(cognito.test(c));
      expect(isValidGroupName(`é${c}`), `é + U+${code.toString(16)}`).toBe(cognito.test(`é${c}`));
    }
  });
});

describe("normalizeClaims", () => {
  it("reads an ID token", () => {
    const n = normalizeClaims(
      idClaims({
        "cognito:groups": ["tenant:acme", "Admins"],
        "cognito:roles": ["arn:aws:iam::123456789012:role/a/Acme"],
        "cognito:preferred_role": "arn:aws:iam::123456789012:role/a/Acme",
      }),
    );
    expect(n).toMatchObject({
      sub: "u-1",
      username: "alice",
      userPoolId: "eu-west-1_Pool1",
      issuer: ISS,
      clientId: "client-1",
      tokenUse: "id",
      groups: ["tenant:acme", "Admins"],
      scopes: [],
    });
    expect(n.roles.map((r) => r.name)).toEqual(["Acme"]);
    expect(n.preferredRole?.path).toBe("/a/");
    expect(n.expiresAt.toISOString()).toBe(new Date(2_000_000_000_000).toISOString());
    expect(n.issuedAt?.getTime()).toBe(1_999_996_400_000);
  });

  it("reads an access token", () => {
    const n = normalizeClaims(accessClaims({ scope: "  a  b c " }));
    expect(n.tokenUse).toBe("access");
    expect(n.clientId).toBe("client-1");
    expect(n.username).toBe("alice");
    expect(n.scopes).toEqual(["a", "b", "c"]);
    expect(n.groups).toEqual([]);
  });

  it("falls back to sub for the username, and takes the pool id it is given", () => {
    const n = normalizeClaims(idClaims({ "cognito:username": undefined }), { userPoolId: "local_pool" });
    expect(n.username).toBe("u-1");
    expect(n.userPoolId).toBe("local_pool");
  });

  it("keeps group names exactly: no case folding, no Unicode normalization; drops exact duplicates", () => {
    const composed = "tenant:caf\u00e9";
    const decomposed = "tenant:cafe\u0301";
    const n = normalizeClaims(idClaims({ "cognito:groups": ["Admins", "admins", composed, decomposed, "Admins"] }));
    expect(n.groups).toEqual(["Admins", "admins", composed, decomposed]);
  });

  it("deep-freezes the claims", () => {
    const n = normalizeClaims(idClaims({ "cognito:groups": ["g"], nested: { a: [1] } }));
    expect(Object.isFrozen(n.claims)).toBe(true);
    expect(Object.isFrozen(n.claims["cognito:groups"])).toBe(true);
    expect(Object.isFrozen((n.claims["nested"] as { a: number[] }).a)).toBe(true);
  });

  it.each([
    ["cognito:groups as a string", { "cognito:groups": "tenant:acme" }],
    ["cognito:groups nested", { "cognito:groups": [["tenant:acme"]] }],
    ["cognito:groups with null", { "cognito:groups": ["a", null] }],
    ["cognito:groups as an object", { "cognito:groups": { 0: "tenant:acme" } }],
    ["a group with a control character", { "cognito:groups": ["tenant:acme\u0007"] }],
    ["an empty group name", { "cognito:groups": [""] }],
    ["cognito:roles as a string", { "cognito:roles": "arn:aws:iam::123456789012:role/A" }],
    ["cognito:roles with a non-ARN", { "cognito:roles": ["admin"] }],
    ["cognito:preferred_role as an array", { "cognito:preferred_role": ["arn:aws:iam::123456789012:role/A"] }],
    ["cognito:preferred_role not an ARN", { "cognito:preferred_role": "admin" }],
    ["no exp", { exp: undefined }],
    ["exp as a string", { exp: "2000000000" }],
    ["iat as a string", { iat: "now" }],
    ["nbf as an object", { nbf: {} }],
    ["no sub", { sub: undefined }],
    ["empty sub", { sub: "" }],
    ["sub as a number", { sub: 7 }],
    ["no token_use", { token_use: undefined }],
    ["unknown token_use", { token_use: "refresh" }],
    ["aud as an array", { aud: ["client-1", "client-2"] }],
    ["cognito:username as a number", { "cognito:username": 5 }],
    ["no iss", { iss: undefined }],
  ])("%s is token_invalid", (_label, extra) => {
    const claims = idClaims();
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) delete claims[k];
      else claims[k] = v;
    }
    const err = refusalSync(() => normalizeClaims(claims));
    expect([err.code, err.status]).toEqual(["token_invalid", 401]);
  });

  it.each([
    ["scope as an array", { scope: ["a"] }],
    ["client_id as a number", { client_id: 1 }],
    ["username as an array", { username: ["alice"] }],
  ])("access token: %s is token_invalid", (_label, extra) => {
    const err = refusalSync(() => normalizeClaims(accessClaims(extra)));
    expect(err.code).toBe("token_invalid");
  });

  it("refuses a payload that is not an object", () => {
    expect(refusalSync(() => normalizeClaims([] as never)).code).toBe("token_invalid");
    expect(refusalSync(() => normalizeClaims(null as never)).code).toBe("token_invalid");
  });
});
