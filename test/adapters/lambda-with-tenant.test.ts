import type { ALBEvent, ALBResult, APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TenantAuthError, assertGroups, createTenantAuth } from "../../src/index.js";
import type { Authorizer, TenantAuth, TenantPrincipal } from "../../src/index.js";
import { detectEventKind, withTenant } from "../../src/adapters/lambda.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";
import { bodyOf, lambdaContext, loadEvent, setHeader } from "../support/lambda.js";

let issuer: TestIssuer;
let auth: TenantAuth;
let acme: string; // tenant:acme:admin
let multi: string; // acme and globex
let noTenant: string;
let expired: string;
let foreign: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  auth = createTenantAuth({ userPools: [issuer.userPool] });
  acme = await issuer.idToken({ sub: "user-acme", groups: ["tenant:acme:admin", "staff"] });
  multi = await issuer.idToken({ sub: "user-multi", groups: ["tenant:acme", "tenant:globex:viewer"] });
  noTenant = await issuer.idToken({ groups: ["staff"] });
  expired = await issuer.idToken({ groups: ["tenant:acme"], expiresIn: -120, issuedAt: Math.floor(Date.now() / 1000) - 3600 });
  foreign = await issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" });
});

const ok = async (_event: unknown, _context: unknown, principal: TenantPrincipal) => ({
  statusCode: 200,
  body: JSON.stringify({ tenantId: principal.tenantId, sub: principal.sub, roles: principal.tenantRoles }),
});

// Each HTTP event kind, with how its responses must look.
const kinds = [
  { fixture: "rest-v1.json", kind: "v1" },
  { fixture: "http-api-v2.json", kind: "v2" },
  { fixture: "alb-single.json", kind: "alb" },
  { fixture: "alb-multi.json", kind: "alb" },
] as const;

type AnyResult = APIGatewayProxyResult & ALBResult;

function headersOf(response: AnyResult): Record<string, string> {
  if (response.multiValueHeaders) {
    return Object.fromEntries(
      Object.entries(response.multiValueHeaders).map(([k, v]) => {
        expect(v).toHaveLength(1);
        return [k, String(v[0])];
      }),
    );
  }
  return response.headers as Record<string, string>;
}

function expectError(response: unknown, fixture: string, status: number, code: string): Record<string, string> {
  const r = response as AnyResult;
  expect(r.statusCode).toBe(status);
  expect(bodyOf(r)).toEqual({ error: code, error_description: expect.any(String) });
  if (fixture.startsWith("alb")) {
    expect(r.statusDescription).toBe(`${status} ${{ 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable" }[status]}`);
    expect(r.isBase64Encoded).toBe(false);
  } else {
    expect(r.statusDescription).toBeUndefined();
  }
  if (fixture === "alb-multi.json") {
    // ALB with multi-value headers on ignores `headers`: answer with multiValueHeaders only.
    expect(r.headers).toBeUndefined();
    expect(r.multiValueHeaders).toBeDefined();
  } else {
    expect(r.multiValueHeaders).toBeUndefined();
  }
  const headers = headersOf(r);
  expect(headers["Content-Type"]).toBe("application/json");
  return headers;
}

describe("detectEventKind", () => {
  it("tells REST, HTTP API and ALB events apart", () => {
    expect(detectEventKind(loadEvent("rest-v1.json"))).toBe("v1");
    expect(detectEventKind(loadEvent("http-api-v2.json"))).toBe("v2");
    expect(detectEventKind(loadEvent("alb-single.json"))).toBe("alb");
    expect(detectEventKind(loadEvent("alb-multi.json"))).toBe("alb");
    expect(detectEventKind({ version: "1.0", headers: {} })).toBe("v1");
    expect(detectEventKind(null)).toBe("v1");
  });
});

describe.each(kinds)("withTenant on $fixture", ({ fixture }) => {
  it("passes event, context and the principal to the handler and returns its response", async () => {
    const handler = vi.fn(ok);
    const wrapped = withTenant(auth, handler);
    const event = loadEvent(fixture, acme);
    const context = lambdaContext();
    const response = (await wrapped(event, context)) as AnyResult;
    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toEqual({ tenantId: "acme", sub: "user-acme", roles: ["admin"] });
    expect(handler).toHaveBeenCalledTimes(1);
    expect(handler.mock.calls[0]![0]).toBe(event);
    expect(handler.mock.calls[0]![1]).toBe(context);
  });

  it("reads the tenant header to choose among several tenants", async () => {
    const event = setHeader(loadEvent(fixture, multi), "x-tenant-id", "globex");
    const response = (await withTenant(auth, ok)(event, lambdaContext())) as AnyResult;
    expect(bodyOf(response)).toMatchObject({ tenantId: "globex", roles: ["viewer"] });
  });

  const failures: [string, (e: unknown) => unknown, number, string][] = [
    ["no Authorization header", (e) => setHeader(e, "authorization", undefined), 401, "token_missing"],
    ["another scheme", (e) => setHeader(e, "authorization", "Basic dXNlcjpwYXNz"), 401, "token_missing"],
    ["a malformed Authorization header", (e) => setHeader(e, "authorization", "Bearer a b"), 400, "invalid_request"],
    ["two Authorization values", (e) => setHeader(e, "authorization", [`Bearer ${acme}`, `Bearer ${acme}`]), 400, "invalid_request"],
    ["a token that is not a JWT", (e) => setHeader(e, "authorization", "Bearer not-a-jwt"), 401, "token_invalid"],
    ["a token signed by another key", (e) => setHeader(e, "authorization", `Bearer ${foreign}`), 401, "token_invalid"],
    ["an expired token", (e) => setHeader(e, "authorization", `Bearer ${expired}`), 401, "token_expired"],
    ["a hint naming another tenant", (e) => setHeader(e, "x-tenant-id", "globex"), 403, "tenant_forbidden"],
    ["several tenants and no hint", (e) => setHeader(setHeader(e, "authorization", `Bearer ${multi}`), "x-tenant-id", undefined), 400, "tenant_ambiguous"],
    ["no tenant", (e) => setHeader(setHeader(e, "authorization", `Bearer ${noTenant}`), "x-tenant-id", undefined), 403, "tenant_missing"],
  ];

  it.each(failures)("answers %s in the event's format without calling the handler", async (name, mutate, status, code) => {
    // ALB with multi-value headers off passes only the last value of a repeated header: nothing to detect.
    if (fixture === "alb-single.json" && name === "two Authorization values") return;
    const handler = vi.fn(ok);
    const event = loadEvent(fixture, acme);
    mutate(event);
    const response = await withTenant(auth, handler)(event, lambdaContext());
    const headers = expectError(response, fixture, status, code);
    expect(handler).not.toHaveBeenCalled();
    if (code === "token_missing") expect(headers["WWW-Authenticate"]).toBe("Bearer");
    else if (status === 401) expect(headers["WWW-Authenticate"]).toMatch(/^Bearer error="invalid_token"/);
    else if (status === 403) expect(headers["WWW-Authenticate"]).toMatch(/^Bearer error="insufficient_scope"/);
    else expect(headers["WWW-Authenticate"]).toMatch(/^Bearer error="invalid_request"/);
  });

  it("answers a TenantAuthError thrown by the handler (a guard) in the event's format", async () => {
    const wrapped = withTenant(auth, async (_e, _c, principal) => {
      assertGroups(principal, ["billing"]);
      return { statusCode: 200, body: "" };
    });
    expectError(await wrapped(loadEvent(fixture, acme), lambdaContext()), fixture, 403, "access_denied");
  });

  it("lets any other error from the handler propagate", async () => {
    const bug = new TypeError("handler bug");
    const wrapped = withTenant(auth, async () => {
      throw bug;
    });
    await expect(wrapped(loadEvent(fixture, acme), lambdaContext())).rejects.toBe(bug);
  });
});

describe("withTenant header handling", () => {
  it("finds REST headers in any case, also with no multiValueHeaders", async () => {
    const event = loadEvent<APIGatewayProxyEvent>("rest-v1.json", acme);
    (event as { multiValueHeaders: unknown }).multiValueHeaders = null;
    setHeader(event, "AUTHORIZATION", `bearer ${acme}`);
    setHeader(event, "x-TENANT-id", "acme");
    const response = (await withTenant(auth, ok)(event, lambdaContext())) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(200);
  });

  it("refuses an Authorization header sent under two spellings (REST keeps client case)", async () => {
    const event = loadEvent<APIGatewayProxyEvent>("rest-v1.json", acme);
    event.multiValueHeaders["authorization"] = [`Bearer ${acme}`];
    const response = await withTenant(auth, ok)(event, lambdaContext());
    expectError(response, "rest-v1.json", 400, "invalid_request");
  });

  it("refuses two tenant headers in an ALB multi-value event", async () => {
    const event = setHeader(loadEvent<ALBEvent>("alb-multi.json", multi), "x-tenant-id", ["acme", "globex"]);
    expectError(await withTenant(auth, ok)(event, lambdaContext()), "alb-multi.json", 400, "invalid_request");
  });

  it("answers 401, not 400, when the token is missing and the tenant header is bad", async () => {
    const event = setHeader(setHeader(loadEvent("alb-multi.json", acme), "authorization", undefined), "x-tenant-id", ["a", "b"]);
    expectError(await withTenant(auth, ok)(event, lambdaContext()), "alb-multi.json", 401, "token_missing");
  });

  it("uses another tenant header when told, and none with false", async () => {
    const custom = setHeader(setHeader(loadEvent("http-api-v2.json", multi), "x-tenant-id", undefined), "x-org", "globex");
    expect(bodyOf(await withTenant(auth, ok, { tenantHeader: "X-Org" })(custom, lambdaContext()))).toMatchObject({ tenantId: "globex" });
    const ignored = setHeader(loadEvent("http-api-v2.json", multi), "x-tenant-id", "globex");
    expectError(await withTenant(auth, ok, { tenantHeader: false })(ignored, lambdaContext()), "http-api-v2.json", 400, "tenant_ambiguous");
  });

  it("reads the tenant from a path parameter, and refuses a header that disagrees", async () => {
    const event = setHeader(loadEvent<APIGatewayProxyEventV2>("http-api-v2.json", multi), "x-tenant-id", undefined);
    event.pathParameters = { tenantId: "globex" };
    expect(bodyOf(await withTenant(auth, ok, { tenantParam: "tenantId" })(event, lambdaContext()))).toMatchObject({ tenantId: "globex" });
    setHeader(event, "x-tenant-id", "acme");
    expectError(await withTenant(auth, ok, { tenantParam: "tenantId" })(event, lambdaContext()), "http-api-v2.json", 400, "invalid_request");
  });
});

describe("withTenant guards and authorizer", () => {
  it("runs groups, tenantRoles and scopes guards", async () => {
    const event = () => loadEvent("http-api-v2.json", acme);
    expect((await withTenant(auth, ok, { groups: ["staff"], tenantRoles: ["admin"] })(event(), lambdaContext())) as AnyResult).toMatchObject({ statusCode: 200 });
    expectError(await withTenant(auth, ok, { groups: ["billing"] })(event(), lambdaContext()), "http-api-v2.json", 403, "access_denied");
    expectError(await withTenant(auth, ok, { tenantRoles: ["owner"] })(event(), lambdaContext()), "http-api-v2.json", 403, "access_denied");
    const scoped = await withTenant(auth, ok, { scopes: ["orders/read"] })(event(), lambdaContext());
    const headers = expectError(scoped, "http-api-v2.json", 403, "insufficient_scope");
    expect(headers["WWW-Authenticate"]).toContain('scope="orders/read"');
  });

  function fakeAuthorizer(answer: "ALLOW" | "DENY" | "throw"): Authorizer & { isAuthorized: ReturnType<typeof vi.fn> } {
    return {
      isAuthorized: vi.fn(async () => {
        if (answer === "throw") throw new Error("connect ECONNREFUSED");
        return answer === "ALLOW"
          ? { allowed: true as const, decision: answer, determiningPolicies: [], errors: [] }
          : { allowed: false as const, decision: answer, determiningPolicies: [], errors: [] };
      }),
    };
  }

  it("asks the authorizer with the action and resource computed from the event", async () => {
    const authorizer = fakeAuthorizer("ALLOW");
    const wrapped = withTenant<APIGatewayProxyEventV2>(auth, ok, {
      authorizer,
      action: (event) => (event.requestContext.http.method === "GET" ? "ReadOrders" : "WriteOrders"),
      resource: (event, principal) => ({ type: "Tenant", id: `${principal.tenantId}:${event.rawPath}` }),
      context: (event, principal) => ({ ip: event.requestContext.http.sourceIp, tenant: principal.tenantId ?? "" }),
      entities: [{ uid: { type: "Org", id: "o" }, attrs: {}, parents: [] }],
    });
    const response = (await wrapped(loadEvent("http-api-v2.json", acme), lambdaContext())) as AnyResult;
    expect(response.statusCode).toBe(200);
    expect(authorizer.isAuthorized).toHaveBeenCalledTimes(1);
    const request = authorizer.isAuthorized.mock.calls[0]![0];
    expect(request).toMatchObject({ action: "ReadOrders", resource: { type: "Tenant", id: "acme:/tenants/acme/orders" }, context: { tenant: "acme" } });
    expect(request.entities).toEqual([{ uid: { type: "Org", id: "o" }, attrs: {}, parents: [] }]);
    expect(request.principal.tenantId).toBe("acme");
  });

  it("still accepts the deprecated authorizationContext as context, and refuses both at once", async () => {
    const asked = async (options: object) => {
      const authorizer = fakeAuthorizer("ALLOW");
      const base = { authorizer, action: "Read", resource: { type: "Order", id: "1" } };
      const response = (await withTenant(auth, ok, { ...base, ...options })(loadEvent("alb-single.json", acme), lambdaContext())) as AnyResult;
      expect(response.statusCode).toBe(200);
      return authorizer.isAuthorized.mock.calls[0]![0].context;
    };
    expect(await asked({ authorizationContext: { ip: "203.0.113.10" } })).toEqual(await asked({ context: { ip: "203.0.113.10" } }));
    expect(await asked({ authorizationContext: { ip: "203.0.113.10" } })).toEqual({ ip: "203.0.113.10" });
    expect(() => withTenant(auth, ok, { authorizer: fakeAuthorizer("ALLOW"), action: "Read", resource: { type: "Order", id: "1" }, context: {}, authorizationContext: {} })).toThrow(
      "withTenant: authorizationContext is the deprecated name of context; give only context",
    );
    expect(() => withTenant(auth, ok, { authorizationContext: {} })).toThrow("withTenant: context is given without authorizer");
  });

  it("answers 403 on DENY and 503 when the engine fails, never calling the handler", async () => {
    const handler = vi.fn(ok);
    const denied = await withTenant(auth, handler, { authorizer: fakeAuthorizer("DENY"), action: "Read", resource: { type: "Order", id: "1" } })(loadEvent("alb-single.json", acme), lambdaContext());
    expectError(denied, "alb-single.json", 403, "access_denied");
    const failed = await withTenant(auth, handler, { authorizer: fakeAuthorizer("throw"), action: "Read", resource: { type: "Order", id: "1" } })(loadEvent("alb-single.json", acme), lambdaContext());
    const headers = expectError(failed, "alb-single.json", 503, "authorizer_unavailable");
    expect(headers["Retry-After"]).toBeDefined();
    expect(handler).not.toHaveBeenCalled();
  });

  it("refuses an authorizer without action or resource at creation", () => {
    expect(() => withTenant(auth, ok, { authorizer: fakeAuthorizer("ALLOW"), action: "Read" })).toThrow(TypeError);
    expect(() => withTenant(auth, ok, { tenantHeader: "" })).toThrow(TypeError);
    expect(() => withTenant({} as TenantAuth, ok)).toThrow(TypeError);
  });
});

describe("withTenant when the keys cannot be fetched", () => {
  let server: Awaited<ReturnType<TestIssuer["listen"]>>;
  beforeAll(async () => {
    server = await issuer.listen();
  });
  afterAll(async () => {
    await server.close();
  });

  it.each(kinds)("answers 503 jwks_unavailable on $fixture", async ({ fixture }) => {
    server.setBehavior("error");
    const down = createTenantAuth({ userPools: [server.userPool], jwks: { timeoutMs: 2000 } });
    const handler = vi.fn(ok);
    const response = await withTenant(down, handler)(loadEvent(fixture, acme), lambdaContext());
    const headers = expectError(response, fixture, 503, "jwks_unavailable");
    expect(headers["Retry-After"]).toBe("5");
    expect(headers["WWW-Authenticate"]).toBeUndefined();
    expect(handler).not.toHaveBeenCalled();
  });

  it("recovers once the keys are back", async () => {
    server.setBehavior("ok");
    const up = createTenantAuth({ userPools: [server.userPool] });
    expect(((await withTenant(up, ok)(loadEvent("rest-v1.json", acme), lambdaContext())) as AnyResult).statusCode).toBe(200);
  });
});

it("is a TenantAuthError the handler may throw itself", async () => {
  const wrapped = withTenant(auth, async () => {
    throw new TenantAuthError("tenant_forbidden", "Not this tenant");
  });
  const response = (await wrapped(loadEvent("http-api-v2.json", acme), lambdaContext())) as AnyResult;
  expect(response.statusCode).toBe(403);
  expect(bodyOf(response)).toEqual({ error: "tenant_forbidden", error_description: "Not this tenant" });
});

describe("requirements are checked at setup", () => {
  it("an empty groups, tenantRoles or scopes list is a TypeError, not a handler open to everyone", async () => {
    const { withTenant } = await import("../../src/adapters/lambda.js");
    const { createTenantAuth } = await import("../../src/index.js");
    const { createTestIssuer } = await import("../../src/testing/index.js");
    const auth = createTenantAuth({ userPools: [(await createTestIssuer()).userPool] });
    const ok = async () => ({ statusCode: 200, body: "" });
    for (const empty of [{ scopes: [] }, { tenantRoles: [] }, { groups: [] }, { groups: { any: [] } }]) {
      expect(() => withTenant(auth, ok, empty), JSON.stringify(empty)).toThrow(TypeError);
    }
    expect(() => withTenant(auth, ok, { groups: ["staff"], scopes: ["a/read"] })).not.toThrow();
  });
});
