// The Lambda adapters on real API Gateway (REST v1, HTTP API v2) and ALB event shapes: several
// tenant hints, a token in another header (ALB with Cognito: x-amzn-oidc-accesstoken), the option
// checks at setup, and the Allow resource of the REST and HTTP API authorizers.
import type { APIGatewayRequestAuthorizerEventV2, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import middy from "@middy/core";
import { beforeAll, describe, expect, it } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import type { Authorizer, TenantAuth, TenantPrincipal } from "../../src/index.js";
import { createAuthorizerHandler, stageWildcardArn, tenantAuthMiddleware, withTenant } from "../../src/adapters/lambda.js";
import type { IamAuthorizerResult, LambdaHttpEvent, TenantContext } from "../../src/adapters/lambda.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";
import { bodyOf, lambdaContext, loadEvent, setHeader } from "../support/lambda.js";

let issuer: TestIssuer;
let auth: TenantAuth;
let acme: string;
let both: string;
let access: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  auth = createTenantAuth({ userPools: [{ ...issuer.userPool, tokenUse: null }] });
  acme = await issuer.idToken({ groups: ["tenant:acme"] });
  both = await issuer.idToken({ groups: ["tenant:acme", "tenant:globex"] });
  access = await issuer.accessToken({ groups: ["tenant:acme"] });
});

const fixtures = ["rest-v1.json", "http-api-v2.json", "alb-single.json", "alb-multi.json"] as const;
const ok = async (_event: unknown, _context: unknown, principal: TenantPrincipal) => ({ statusCode: 200, body: JSON.stringify({ tenant: principal.tenantId }) });

// withTenant and the Middy middleware answer the same; both are run for every case.
async function run(event: LambdaHttpEvent, options: Parameters<typeof withTenant>[2] = {}): Promise<{ statusCode: number; body: unknown }[]> {
  const a = (await withTenant(auth, ok, options)(event, lambdaContext())) as { statusCode: number; body: string };
  const handler = middy<LambdaHttpEvent, unknown, Error, TenantContext>()
    .use(tenantAuthMiddleware(auth, options))
    .handler(async (_e, context) => ({ statusCode: 200, body: JSON.stringify({ tenant: context.tenant.tenantId }) }));
  const b = (await handler(structuredClone(event), lambdaContext() as TenantContext)) as { statusCode: number; body: string };
  return [a, b].map((r) => ({ statusCode: r.statusCode, body: bodyOf(r) }));
}

describe.each(fixtures)("%s: several tenant hints", (fixture) => {
  it("one tenant header: the tenant it names", async () => {
    const event = setHeader(loadEvent(fixture, both), "x-tenant-id", "globex");
    for (const r of await run(event)) expect(r).toEqual({ statusCode: 200, body: { tenant: "globex" } });
  });

  it("two tenant headers (joined with a comma by HTTP API 2.0): 400 invalid_request, not 403", async () => {
    const event = setHeader(loadEvent(fixture, both), "x-tenant-id", ["acme", "globex"]);
    // ALB with multi-value headers off passes only the last value: the duplicate never reaches us.
    const expected = fixture === "alb-single.json" ? { statusCode: 200, body: { tenant: "globex" } } : { statusCode: 400, body: { error: "invalid_request" } };
    for (const r of await run(event)) expect(r).toMatchObject(expected);
  });

  it("one tenant header naming two tenants: 400 invalid_request", async () => {
    const event = setHeader(loadEvent(fixture, both), "x-tenant-id", "acme, globex");
    for (const r of await run(event)) expect(r).toMatchObject({ statusCode: 400, body: { error: "invalid_request" } });
  });
});

describe.each(fixtures)("%s: tokenHeader", (fixture) => {
  const alb = { tokenHeader: "x-amzn-oidc-accesstoken" };
  const event = (token: string | string[] | undefined) => {
    const e = loadEvent(fixture, "unused");
    setHeader(e, "authorization", undefined);
    return setHeader(e, "x-amzn-oidc-accesstoken", token);
  };

  it("reads the raw access token an ALB forwards", async () => {
    for (const r of await run(event(access), alb)) expect(r).toEqual({ statusCode: 200, body: { tenant: "acme" } });
  });

  it("refuses two values of it (400), and reads no Authorization header instead of it (401)", async () => {
    // ALB with multi-value headers off passes only the last value (here a forged one: 401).
    const expected = fixture === "alb-single.json" ? { statusCode: 401, body: { error: "token_invalid" } } : { statusCode: 400, body: { error: "invalid_request" } };
    for (const r of await run(event([access, "forged"]), alb)) expect(r).toMatchObject(expected);
    const withBearer = setHeader(event(undefined), "authorization", `Bearer ${acme}`);
    for (const r of await run(withBearer, alb)) expect(r).toMatchObject({ statusCode: 401, body: { error: "token_missing" } });
  });
});

describe("Lambda options are checked at setup", () => {
  const engine: Authorizer = { isAuthorized: async () => ({ allowed: true, decision: "ALLOW", determiningPolicies: [], errors: [] }) };
  const setups: [string, (options: object) => unknown][] = [
    ["withTenant", (o) => withTenant(auth, ok, o)],
    ["tenantAuthMiddleware", (o) => tenantAuthMiddleware(auth, o)],
    ["createAuthorizerHandler", (o) => createAuthorizerHandler(auth, o)],
  ];

  it.each(setups)("%s: unknown keys name the likely option", (where, make) => {
    expect(() => make({ tenantheader: "x-org" })).toThrow(new RegExp(`${where}: unknown option tenantheader \\(did you mean tenantHeader\\?\\)`));
    expect(() => make({ tenantRole: ["admin"] })).toThrow(/did you mean tenantRoles\?/);
    expect(() => make({ group: ["staff"] })).toThrow(/did you mean groups\?/);
  });

  it.each(setups)("%s: action and resource without authorizer are refused (no policy would be checked)", (_where, make) => {
    expect(() => make({ action: "Read", resource: { type: "Doc", id: "1" } })).toThrow(/action is given without authorizer/);
    expect(() => make({ resource: { type: "Doc", id: "1" } })).toThrow(/resource is given without authorizer/);
    expect(() => make({ authorizer: engine, action: "Read", resource: { type: "Doc", id: "1" } })).not.toThrow();
  });

  it.each(setups)("%s: header names and types", (_where, make) => {
    expect(() => make({ tenantHeader: "x org" })).toThrow(/tenantHeader .*must be a header name/);
    expect(() => make({ tokenHeader: "x-amzn oidc" })).toThrow(/tokenHeader must be a header name/);
    expect(() => make({ tenantParam: 7 })).toThrow(/tenantParam must be a non-empty string/);
    expect(() => make({ tenantHeader: false })).not.toThrow();
  });

  it("createAuthorizerHandler: its own options too", () => {
    expect(() => createAuthorizerHandler(auth, { respons: "simple" } as never)).toThrow(/did you mean response\?/);
    expect(() => createAuthorizerHandler(auth, { response: "other" as "iam" })).toThrow(/response must be one of/);
  });
});

describe("stageWildcardArn: only well-formed parts reach the Allow", () => {
  it.each([
    ["arn:aws:execute-api:*:123456789012:abcdef1234/prod/GET/pets", "region"],
    ["arn:aws:execute-api:us-east-?:123456789012:abcdef1234/prod/GET/pets", "region"],
    ["arn:aws:execute-api:us-east-1:*:abcdef1234/prod/GET/pets", "account"],
    ["arn:aws:execute-api:us-east-1:12345678901?:abcdef1234/prod/GET/pets", "account"],
    ["arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/pets", "API id"],
    ["arn:aws:execute-api:us-east-1:123456789012:abc*/prod/GET/pets", "API id"],
    ["arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/GET/pets", "stage"],
    ["arn:aws:execute-api:us-east-1:123456789012:abcdef1234/pr?d/GET/pets", "stage"],
    ["arn:*:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets", "partition"],
  ])("refuses %s (wildcard in the %s)", (arn) => {
    expect(() => stageWildcardArn(arn)).toThrow(/well-formed execute-api ARN/);
  });

  it("an authorizer never allows for such an ARN", async () => {
    const event = loadEvent<APIGatewayTokenAuthorizerEvent>("authorizer-rest-token.json");
    event.authorizationToken = `Bearer ${acme}`;
    event.methodArn = "arn:aws:execute-api:us-east-1:123456789012:*/*/GET/pets";
    await expect(createAuthorizerHandler(auth)(event)).rejects.toThrow(/well-formed/);
  });

  // An IAM resource with `*` (any characters, `/` included) and `?` (one character), as IAM matches it.
  const covers = (pattern: string, arn: string): boolean =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\/]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".")}$`,
    ).test(arn);

  it.each([
    ["$default route", "arn:aws:execute-api:us-east-1:123456789012:r3pmxmplak/$default/$default"],
    ["ANY /{proxy+}", "arn:aws:execute-api:us-east-1:123456789012:r3pmxmplak/$default/ANY/{proxy+}"],
    ["GET /tenants/{tenantId}/orders", "arn:aws:execute-api:us-east-1:123456789012:r3pmxmplak/$default/GET/tenants/acme/orders"],
    ["a named stage", "arn:aws:execute-api:us-east-1:123456789012:r3pmxmplak/prod/$default"],
  ])("HTTP API IAM Allow covers the route it was asked for: %s", async (_name, routeArn) => {
    const event = loadEvent<APIGatewayRequestAuthorizerEventV2>("authorizer-http-v2.json", acme);
    event.routeArn = routeArn;
    const result = (await createAuthorizerHandler(auth)(event)) as IamAuthorizerResult;
    const statement = result.policyDocument.Statement[0] as { Effect: string; Resource: string };
    expect(statement.Effect).toBe("Allow");
    expect(covers(statement.Resource, routeArn)).toBe(true);
    // ... and nothing outside its API and stage.
    const stage = routeArn.split("/")[1] as string;
    expect(covers(statement.Resource, routeArn.replace("r3pmxmplak", "otherapi00"))).toBe(false);
    expect(covers(statement.Resource, routeArn.replace(`/${stage}/`, "/other/"))).toBe(false);
  });

  it("HTTP API IAM: a bad token is a Deny (403), not a thrown error (which an HTTP API answers with 500)", async () => {
    const event = loadEvent<APIGatewayRequestAuthorizerEventV2>("authorizer-http-v2.json", "not-a-jwt");
    const result = (await createAuthorizerHandler(auth)(event)) as IamAuthorizerResult;
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: "Deny" });
    expect(result.context).toMatchObject({ error: "token_invalid" });
  });
});
