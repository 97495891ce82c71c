import { describe, expect, it } from "vitest";
import { createTenantAuth, isTenantAuthError } from "../../src/index.js";
import type { TenantPrincipal } from "../../src/index.js";
import { decodeApiGatewayClaims, decodeListClaim, decodeNumericDate, principalFromApiGatewayClaims } from "../../src/adapters/lambda.js";
import type { ApiGatewayClaimsEvent } from "../../src/adapters/lambda.js";
import { createTestIssuer } from "../../src/testing/index.js";
import { loadEvent, setHeader } from "../support/lambda.js";

const SUB = "7d8ca528-4931-4254-9273-ea5ee853f271";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function claimsOf(event: any): Record<string, unknown> {
  return event.requestContext.authorizer.jwt?.claims ?? event.requestContext.authorizer.claims;
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
  try {
    await promise;
  } catch (err) {
    if (isTenantAuthError(err)) return { code: err.code, status: err.status };
    throw err;
  }
  throw new Error("expected a rejection");
}

describe("principalFromApiGatewayClaims on each encoding", () => {
  const cases = [
    { fixture: "claims-http-jwt-brackets.json", groups: ["tenant:acme:admin", "users"], exp: 4070952000 },
    { fixture: "claims-http-jwt-json-array.json", groups: ["tenant:acme:admin", "users"], exp: 4070952000 },
    { fixture: "claims-rest-cognito-comma.json", groups: ["tenant:acme:admin", "users"], exp: 1795698000 },
    { fixture: "claims-rest-cognito-single.json", groups: ["tenant:acme:admin"], exp: 1795698000 },
    { fixture: "claims-rest-cognito-date-exp.json", groups: ["tenant:acme:admin", "users"], exp: Date.UTC(2099, 0, 1, 12) / 1000 },
  ];

  it.each(cases)("$fixture", async ({ fixture, groups, exp }) => {
    const event = loadEvent<ApiGatewayClaimsEvent>(fixture);
    const principal = await principalFromApiGatewayClaims(event);
    expect(principal.sub).toBe(SUB);
    expect(principal.username).toBe("alice");
    expect(principal.groups).toEqual(groups);
    expect(principal.tenantId).toBe("acme");
    expect(principal.tenantRoles).toEqual(["admin"]);
    expect(principal.userPoolId).toBe("us-east-1_TestPool");
    expect(principal.clientId).toBe("test-client-id");
    expect(principal.expiresAt.getTime()).toBe(exp * 1000);
    expect(principal.issuedAt?.getTime()).toBe(1795694400 * 1000);
    expect(principal.claims["email_verified"]).toBe(true);
    expect(Object.isFrozen(principal)).toBe(true);
    // The event's own claims are left as API Gateway sent them.
    expect(Object.isFrozen(claimsOf(event))).toBe(false);
    expect(typeof claimsOf(event)["cognito:groups"]).toBe("string");
  });

  it("decodes REST comma-separated cognito:roles, even with a comma in a role name", async () => {
    const event = loadEvent("claims-rest-cognito-comma.json");
    const principal = await principalFromApiGatewayClaims(event);
    expect(principal.roles.map((r) => r.name)).toEqual(["acme-admins", "users"]);
    expect(principal.preferredRole?.name).toBe("acme-admins");
    claimsOf(event)["cognito:roles"] = "arn:aws:iam::123456789012:role/a,b,arn:aws:iam::123456789012:role/c";
    expect((await principalFromApiGatewayClaims(event)).roles.map((r) => r.name)).toEqual(["a,b", "c"]);
    claimsOf(event)["cognito:roles"] = "[arn:aws:iam::123456789012:role/a arn:aws:iam::123456789012:role/c]";
    expect((await principalFromApiGatewayClaims(event)).roles.map((r) => r.name)).toEqual(["a", "c"]);
  });

  it("builds the same principal resolveTenant builds from the token", async () => {
    const issuer = await createTestIssuer();
    const auth = createTenantAuth({ userPools: [issuer.userPool] });
    const token = await issuer.idToken({ sub: SUB, username: "alice", groups: ["tenant:acme:admin", "users"] });
    const fromToken = await auth.resolveTenant(`Bearer ${token}`);
    const claims = Object.fromEntries(Object.entries(fromToken.claims).map(([k, v]) => [k, Array.isArray(v) ? `[${v.join(" ")}]` : String(v)]));
    const event = loadEvent("claims-http-jwt-brackets.json");
    event.requestContext.authorizer.jwt.claims = claims;
    const fromClaims = await principalFromApiGatewayClaims(event);
    const pick = (p: TenantPrincipal) => ({ ...p, claims: undefined });
    expect(pick(fromClaims)).toEqual(pick(fromToken));
    expect(fromClaims.claims).toEqual(fromToken.claims);
  });
});

describe("principalFromApiGatewayClaims tenant selection", () => {
  it("reads the tenant header by default, and an explicit hint wins over it", async () => {
    const event = loadEvent("claims-http-jwt-brackets.json");
    claimsOf(event)["cognito:groups"] = "[tenant:acme tenant:globex:viewer]";
    setHeader(event, "x-tenant-id", "globex");
    expect((await principalFromApiGatewayClaims(event)).tenantId).toBe("globex");
    expect((await principalFromApiGatewayClaims(event, { tenantHint: "acme" })).tenantId).toBe("acme");
    setHeader(event, "x-tenant-id", undefined);
    expect(await rejection(principalFromApiGatewayClaims(event))).toEqual({ code: "tenant_ambiguous", status: 400 });
    expect((await principalFromApiGatewayClaims(event, { tenants: { from: "groups", precedence: ["tenant:globex:viewer"] } })).tenantId).toBe("globex");
  });

  it("refuses a hint naming another tenant, and a caller with no tenant unless allowed", async () => {
    expect(await rejection(principalFromApiGatewayClaims(loadEvent("claims-rest-cognito-single.json"), { tenantHint: "globex" }))).toEqual({ code: "tenant_forbidden", status: 403 });
    const event = loadEvent("claims-rest-cognito-single.json");
    claimsOf(event)["cognito:groups"] = "users";
    expect(await rejection(principalFromApiGatewayClaims(event, { tenantHint: null }))).toEqual({ code: "tenant_missing", status: 403 });
    const free = await principalFromApiGatewayClaims(event, { requireTenant: false, tenantHint: null });
    expect(free.tenantId).toBeUndefined();
    expect(free.groups).toEqual(["users"]);
  });

  it("reads tenantParam from the path, and refuses (503) an event whose route has no such parameter", async () => {
    const event = loadEvent("claims-http-jwt-brackets.json");
    claimsOf(event)["cognito:groups"] = "[tenant:acme tenant:globex:viewer]";
    setHeader(event, "x-tenant-id", undefined);
    event.pathParameters = { tenantId: "globex" };
    expect((await principalFromApiGatewayClaims(event, { tenantParam: "tenantId" })).tenantId).toBe("globex");
    // As in every adapter: never a silent fallback to the header.
    setHeader(event, "x-tenant-id", "acme");
    event.pathParameters = null;
    expect(await rejection(principalFromApiGatewayClaims(event, { tenantParam: "tenantId" }))).toEqual({ code: "tenant_unavailable", status: 503 });
  });

  it("uses the tenant strategy it is given", async () => {
    const event = loadEvent("claims-rest-cognito-single.json");
    claimsOf(event)["custom:tenant_id"] = "initech";
    const principal = await principalFromApiGatewayClaims(event, { tenants: { from: "claim", claim: "custom:tenant_id" }, tenantHint: null });
    expect(principal.tenantId).toBe("initech");
  });
});

describe("principalFromApiGatewayClaims refusals", () => {
  it("is token_missing when no API Gateway authorizer left claims", async () => {
    expect(await rejection(principalFromApiGatewayClaims(loadEvent("rest-v1.json")))).toEqual({ code: "token_missing", status: 401 });
    expect(await rejection(principalFromApiGatewayClaims(loadEvent("http-api-v2.json")))).toEqual({ code: "token_missing", status: 401 });
  });

  it.each([
    ["exp", "tomorrow"],
    ["exp", "Fri Jan 01 12:00:00 UTC 2099"], // 1 Jan 2099 is a Thursday
    ["exp", "Thu Feb 31 12:00:00 UTC 2099"],
    ["exp", "Thu Jan 01 12:00:00 PST 2099"],
    ["exp", "1e10"],
    ["exp", ""],
    ["iat", "yesterday"],
    ["cognito:groups", '["tenant:acme", 1]'],
    ["cognito:groups", '["tenant:acme"'],
    ["cognito:groups", "tenant:acme,,users"],
    ["cognito:groups", 42],
    ["cognito:roles", "not-an-arn"],
    ["token_use", "refresh"],
  ])("is token_invalid when %s is %j", async (claim, value) => {
    const event = loadEvent("claims-rest-cognito-comma.json");
    claimsOf(event)[claim] = value;
    expect(await rejection(principalFromApiGatewayClaims(event))).toEqual({ code: "token_invalid", status: 401 });
  });

  it("is token_invalid without exp", async () => {
    const event = loadEvent("claims-http-jwt-brackets.json");
    delete claimsOf(event)["exp"];
    expect(await rejection(principalFromApiGatewayClaims(event))).toEqual({ code: "token_invalid", status: 401 });
  });
});

describe("claim decoders", () => {
  it("decodeListClaim handles every API Gateway form", () => {
    expect(decodeListClaim("[a b]", "g")).toEqual(["a", "b"]);
    expect(decodeListClaim("[a]", "g")).toEqual(["a"]);
    expect(decodeListClaim("[1]", "g")).toEqual(["1"]);
    expect(decodeListClaim("[]", "g")).toEqual([]);
    expect(decodeListClaim('["a","b c"]', "g")).toEqual(["a", "b c"]);
    expect(decodeListClaim("a,b", "g")).toEqual(["a", "b"]);
    expect(decodeListClaim("a", "g")).toEqual(["a"]);
    expect(decodeListClaim("", "g")).toEqual([]);
    expect(decodeListClaim(["x"], "g")).toEqual(["x"]);
    expect(decodeListClaim(undefined, "g")).toBeUndefined();
  });

  it("decodeNumericDate accepts numbers, numeric strings, Java and ISO UTC dates only", () => {
    expect(decodeNumericDate(1795694400, "exp")).toBe(1795694400);
    expect(decodeNumericDate("1795694400", "exp")).toBe(1795694400);
    expect(decodeNumericDate("Thu Nov 26 12:00:00 UTC 2026", "exp")).toBe(1795694400);
    expect(decodeNumericDate("Thu Nov 26 12:00:00 GMT 2026", "exp")).toBe(1795694400);
    expect(decodeNumericDate("2026-11-26T12:00:00Z", "exp")).toBe(1795694400);
    expect(() => decodeNumericDate("26 Nov 2026", "exp")).toThrow(/exp/);
    expect(() => decodeNumericDate(true, "exp")).toThrow();
  });

  it("decodeApiGatewayClaims returns a new object and keeps unknown claims as they are", () => {
    const input = { "custom:plan": "[gold]", exp: "1795694400", phone_number_verified: "false" };
    const out = decodeApiGatewayClaims(input);
    expect(out).toEqual({ "custom:plan": "[gold]", exp: 1795694400, phone_number_verified: false });
    expect(input.exp).toBe("1795694400");
  });
});
