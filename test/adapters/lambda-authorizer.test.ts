import type { APIGatewayRequestAuthorizerEventV2, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import type { Authorizer, TenantAuth, TenantPrincipal } from "../../src/index.js";
import { createAuthorizerHandler, stageWildcardArn } from "../../src/adapters/lambda.js";
import type { IamAuthorizerResult } from "../../src/adapters/lambda.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";
import { loadEvent, setHeader } from "../support/lambda.js";

let issuer: TestIssuer;
let auth: TenantAuth;
let acme: string;
let multi: string;
let noTenant: string;
let expired: string;
let foreign: string;
let server: Awaited<ReturnType<TestIssuer["listen"]>>;
let down: TenantAuth;

const REST_STAGE = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*";
const HTTP_STAGE = "arn:aws:execute-api:us-east-1:123456789012:r3pmxmplak/$default/*";

beforeAll(async () => {
  issuer = await createTestIssuer();
  auth = createTenantAuth({ userPools: [issuer.userPool] });
  acme = await issuer.idToken({ sub: "user-acme", username: "alice", groups: ["tenant:acme:admin", "staff"] });
  multi = await issuer.idToken({ sub: "user-multi", groups: ["tenant:acme", "tenant:globex:viewer"] });
  noTenant = await issuer.idToken({ groups: ["staff"] });
  expired = await issuer.idToken({ groups: ["tenant:acme"], expiresIn: -120, issuedAt: Math.floor(Date.now() / 1000) - 3600 });
  foreign = await issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" });
  server = await issuer.listen();
  server.setBehavior("error");
  down = createTenantAuth({ userPools: [server.userPool], jwks: { timeoutMs: 2000 } });
});
afterAll(async () => {
  await server.close();
});

const tokenEvent = (value: string): APIGatewayTokenAuthorizerEvent => {
  const event = loadEvent<APIGatewayTokenAuthorizerEvent>("authorizer-rest-token.json");
  event.authorizationToken = value;
  return event;
};

function expectFlatContext(context: unknown): void {
  expect(typeof context).toBe("object");
  for (const value of Object.values(context as object)) {
    expect(["string", "number", "boolean"]).toContain(typeof value);
  }
}

function expectPolicy(result: IamAuthorizerResult, effect: "Allow" | "Deny", resource: string): void {
  expect(result.policyDocument).toEqual({
    Version: "2012-10-17",
    Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resource }],
  });
  expectFlatContext(result.context);
}

describe("stageWildcardArn", () => {
  it("keeps region, account, API and stage, and wildcards method and path", () => {
    expect(stageWildcardArn("arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/tenants/acme/orders")).toBe(REST_STAGE);
    expect(stageWildcardArn("arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/")).toBe(REST_STAGE);
    expect(stageWildcardArn("arn:aws-cn:execute-api:cn-north-1:123456789012:api/$default/$default")).toBe("arn:aws-cn:execute-api:cn-north-1:123456789012:api/$default/*");
  });
  it.each([undefined, "", "arn:aws:lambda:us-east-1:123456789012:function:f", "arn:aws:execute-api:us-east-1:123456789012:apionly", "arn:aws:execute-api::123456789012:api/prod/GET/"])(
    "throws for %s",
    (arn) => {
      expect(() => stageWildcardArn(arn)).toThrow(Error);
    },
  );
});

describe("REST TOKEN authorizer (IAM response)", () => {
  const handler = () => createAuthorizerHandler(auth);

  it("allows the whole stage, with the principal in a flat context", async () => {
    const result = await handler()(tokenEvent(`Bearer ${acme}`));
    expect(result.principalId).toBe("user-acme");
    expectPolicy(result, "Allow", REST_STAGE);
    expect(result.context).toMatchObject({
      tenantId: "acme",
      sub: "user-acme",
      username: "alice",
      userPoolId: issuer.userPoolId,
      tokenUse: "id",
      clientId: issuer.clientId,
    });
    expect(JSON.parse(result.context!.groups as string)).toEqual(["tenant:acme:admin", "staff"]);
    expect(JSON.parse(result.context!.tenantRoles as string)).toEqual(["admin"]);
    expect(JSON.parse(result.context!.tenants as string)).toEqual(["acme"]);
    expect(typeof result.context!.expiresAt).toBe("number");
  });

  it("accepts a raw token as well as a Bearer header value", async () => {
    expectPolicy(await handler()(tokenEvent(acme)), "Allow", REST_STAGE);
  });

  it("gives the same policy whatever the route, so a cached Allow means nothing per route", async () => {
    const a = await handler()(tokenEvent(`Bearer ${acme}`));
    const other = tokenEvent(`Bearer ${acme}`);
    other.methodArn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/DELETE/admin/users/42";
    const b = await handler()(other);
    expect(b.policyDocument).toEqual(a.policyDocument);
    expect(b.context).toEqual(a.context);
  });

  it.each([
    ["an empty token", ""],
    ["another scheme", "Basic dXNlcjpwYXNz"],
    ["a malformed header", "Bearer a b"],
    ["garbage", "Bearer not-a-jwt"],
    ["a token signed by another key", `Bearer ${"FOREIGN"}`],
    ["an expired token", `Bearer ${"EXPIRED"}`],
  ])('throws Error("Unauthorized") for %s (401)', async (_name, value) => {
    const token = value.replace("FOREIGN", foreign).replace("EXPIRED", expired);
    const promise = handler()(tokenEvent(token));
    await expect(promise).rejects.toThrow(Error);
    await expect(promise).rejects.toHaveProperty("message", "Unauthorized");
  });

  it("denies (403) a caller with no tenant, and one with several and nothing to choose", async () => {
    const none = await handler()(tokenEvent(`Bearer ${noTenant}`));
    expectPolicy(none, "Deny", REST_STAGE);
    expect(none.context).toMatchObject({ error: "tenant_missing" });
    const ambiguous = await handler()(tokenEvent(`Bearer ${multi}`));
    expectPolicy(ambiguous, "Deny", REST_STAGE);
    expect(ambiguous.context).toMatchObject({ error: "tenant_ambiguous" });
  });

  it("fails closed when the keys cannot be fetched: a thrown error (500), not Unauthorized, never Allow", async () => {
    const promise = createAuthorizerHandler(down)(tokenEvent(`Bearer ${acme}`));
    await expect(promise).rejects.toThrow(/unavailable/);
    await expect(promise).rejects.not.toHaveProperty("message", "Unauthorized");
  });

  it('denies instead when onUnavailable is "deny"', async () => {
    const result = await createAuthorizerHandler(down, { onUnavailable: "deny" })(tokenEvent(`Bearer ${acme}`));
    expectPolicy(result, "Deny", REST_STAGE);
    expect(result.context).toMatchObject({ error: "jwks_unavailable" });
  });

  it("throws (500) for an event without a usable methodArn, even with a good token", async () => {
    const event = tokenEvent(`Bearer ${acme}`);
    event.methodArn = "not-an-arn";
    await expect(handler()(event)).rejects.toThrow(/execute-api ARN/);
  });
});

describe("REST REQUEST authorizer (IAM response)", () => {
  const event = (token: string, tenant?: string | null) => {
    const e = loadEvent("authorizer-rest-request.json", token);
    if (tenant !== undefined) setHeader(e, "x-tenant-id", tenant ?? undefined);
    return e;
  };

  it("reads Authorization and X-Tenant-Id in the client's case", async () => {
    const result = await createAuthorizerHandler(auth)(event(multi, "globex"));
    expectPolicy(result, "Allow", REST_STAGE);
    expect(result.context).toMatchObject({ tenantId: "globex", tenantRoles: '["viewer"]' });
  });

  it("denies a hint naming another tenant (403)", async () => {
    const result = await createAuthorizerHandler(auth)(event(acme, "globex"));
    expectPolicy(result, "Deny", REST_STAGE);
    expect(result.context).toMatchObject({ error: "tenant_forbidden" });
    expect(result.principalId).toBe("unauthorized");
  });

  it("throws Unauthorized with no Authorization header, and for two of them", async () => {
    const none = event(acme);
    setHeader(none, "authorization", undefined);
    await expect(createAuthorizerHandler(auth)(none)).rejects.toHaveProperty("message", "Unauthorized");
    const two = event(acme);
    setHeader(two, "authorization", [`Bearer ${acme}`, `Bearer ${acme}`]);
    await expect(createAuthorizerHandler(auth)(two)).rejects.toHaveProperty("message", "Unauthorized");
  });

  it("runs caller-only guards, which are safe to cache", async () => {
    expectPolicy(await createAuthorizerHandler(auth, { groups: ["staff"], tenantRoles: ["admin"] })(event(acme)), "Allow", REST_STAGE);
    const denied = await createAuthorizerHandler(auth, { groups: ["billing"] })(event(acme));
    expectPolicy(denied, "Deny", REST_STAGE);
    expect(denied.context).toMatchObject({ error: "access_denied" });
  });

  it("merges extra context and refuses values that are not flat", async () => {
    const result = await createAuthorizerHandler(auth, { authorizerContext: (_e, p) => ({ plan: "gold", seats: 5, trial: false, who: p.username }) })(event(acme));
    expect(result.context).toMatchObject({ plan: "gold", seats: 5, trial: false, tenantId: "acme", who: "alice" });
    const bad = createAuthorizerHandler(auth, { authorizerContext: () => ({ nested: { a: 1 } }) as never });
    await expect(bad(event(acme))).rejects.toThrow('createAuthorizerHandler: authorizerContext value "nested" must be a string, number or boolean');
  });

  it("still reads the deprecated context: (principal, event) option without an authorizer, as authorizerContext", async () => {
    const seen: unknown[] = [];
    const legacy = { context: (p: TenantPrincipal, e: unknown) => (seen.push(e), { who: p.username }) };
    const old = await createAuthorizerHandler(auth, legacy as never)(event(acme));
    const current = await createAuthorizerHandler(auth, { authorizerContext: (_e, p) => ({ who: p.username }) })(event(acme));
    expect(old).toEqual(current);
    expect(old.context).toMatchObject({ who: "alice" });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toHaveProperty("methodArn");
  });
});

describe("authorizer with a policy engine", () => {
  const engine = (answer: "ALLOW" | "DENY" | "throw"): Authorizer & { isAuthorized: ReturnType<typeof vi.fn> } => ({
    isAuthorized: vi.fn(async () => {
      if (answer === "throw") throw new Error("timeout");
      return answer === "ALLOW"
        ? { allowed: true as const, decision: answer, determiningPolicies: [], errors: [] }
        : { allowed: false as const, decision: answer, determiningPolicies: [], errors: [] };
    }),
  });
  const options = (authorizer: Authorizer) => ({
    authorizer,
    action: "UseApi",
    resource: (_e: unknown, p: { tenantId: string | undefined }) => ({ type: "Tenant", id: p.tenantId ?? "" }),
  });

  it("allows the stage on ALLOW, denies on DENY, throws when the engine fails", async () => {
    const allow = engine("ALLOW");
    expectPolicy(await createAuthorizerHandler(auth, options(allow))(tokenEvent(`Bearer ${acme}`)), "Allow", REST_STAGE);
    expect(allow.isAuthorized.mock.calls[0]![0]).toMatchObject({ action: "UseApi", resource: { type: "Tenant", id: "acme" } });
    const deny = await createAuthorizerHandler(auth, options(engine("DENY")))(tokenEvent(`Bearer ${acme}`));
    expectPolicy(deny, "Deny", REST_STAGE);
    expect(deny.context).toMatchObject({ error: "access_denied" });
    await expect(createAuthorizerHandler(auth, options(engine("throw")))(tokenEvent(`Bearer ${acme}`))).rejects.toThrow(/authorizer_unavailable/);
  });
});

describe("HTTP API authorizer (payload 2.0)", () => {
  const event = (token: string) => loadEvent<APIGatewayRequestAuthorizerEventV2>("authorizer-http-v2.json", token);

  it("simple response: { isAuthorized: true, context }", async () => {
    const result = await createAuthorizerHandler(auth, { response: "simple" })(event(acme));
    expect(result.isAuthorized).toBe(true);
    expect(result.context).toMatchObject({ tenantId: "acme", sub: "user-acme" });
    expectFlatContext(result.context);
    expect(result).not.toHaveProperty("policyDocument");
  });

  it("simple response: isAuthorized false for a bad token and for tenant refusals", async () => {
    const bad = await createAuthorizerHandler(auth, { response: "simple" })(event(expired));
    expect(bad).toEqual({ isAuthorized: false, context: { error: "token_expired", error_description: expect.any(String) } });
    const forbidden = event(acme);
    setHeader(forbidden, "x-tenant-id", "globex");
    expect(await createAuthorizerHandler(auth, { response: "simple" })(forbidden)).toMatchObject({ isAuthorized: false, context: { error: "tenant_forbidden" } });
  });

  it("simple response: throws when the keys cannot be fetched (never isAuthorized: true)", async () => {
    await expect(createAuthorizerHandler(down, { response: "simple" })(event(acme))).rejects.toThrow(/jwks_unavailable/);
  });

  it("reads the token from the headers only, never from identitySource (which may be a query-string value)", async () => {
    const e = event(multi);
    setHeader(e, "authorization", undefined);
    setHeader(e, "x-tenant-id", "globex");
    expect(await createAuthorizerHandler(auth, { response: "simple" })(e)).toMatchObject({ isAuthorized: false });
    // A token in the URL ($request.querystring.access_token as the identity source) is no credential.
    (e as { queryStringParameters?: Record<string, string> }).queryStringParameters = { access_token: multi };
    (e as { identitySource?: string[] }).identitySource = [multi];
    expect(await createAuthorizerHandler(auth, { response: "simple" })(e)).toMatchObject({ isAuthorized: false });
  });

  it("IAM response from routeArn keeps the $default stage", async () => {
    const result = await createAuthorizerHandler(auth, { response: "iam" })(event(acme));
    expectPolicy(result, "Allow", HTTP_STAGE);
    // An HTTP API answers a thrown error with 500, not 401: a bad token gets a Deny (403).
    const bad = await createAuthorizerHandler(auth)(event(foreign));
    expectPolicy(bad, "Deny", HTTP_STAGE);
    expect(bad.context).toMatchObject({ error: "token_invalid" });
  });

  it("refuses bad options at creation", () => {
    expect(() => createAuthorizerHandler(auth, { response: "other" as "iam" })).toThrow(TypeError);
    expect(() => createAuthorizerHandler(auth, { onUnavailable: "allow" as "deny" })).toThrow(TypeError);
    expect(() => createAuthorizerHandler(auth, { authorizer: { isAuthorized: async () => ({ allowed: true, decision: "ALLOW", determiningPolicies: [], errors: [] }) } })).toThrow(TypeError);
  });
});
