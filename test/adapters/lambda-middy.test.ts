import { readFileSync, readdirSync } from "node:fs";
import middy from "@middy/core";
import type { ALBEvent, ALBResult, APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { beforeAll, describe, expect, expectTypeOf, it, vi } from "vitest";
import { assertTenantRoles, createTenantAuth } from "../../src/index.js";
import type { TenantAuth, TenantPrincipal } from "../../src/index.js";
import { tenantAuthMiddleware } from "../../src/adapters/lambda.js";
import type { TenantContext } from "../../src/adapters/lambda.js";
import { createTestIssuer } from "../../src/testing/index.js";
import { bodyOf, lambdaContext, loadEvent, setHeader } from "../support/lambda.js";

// Middy types the wrapped handler's context as TenantContext (the middleware adds `tenant`); the
// Lambda runtime passes a plain context, which is what `before` then completes.
const tenantContext = () => lambdaContext() as TenantContext;

let auth: TenantAuth;
let acme: string;
let expired: string;

beforeAll(async () => {
  const issuer = await createTestIssuer();
  auth = createTenantAuth({ userPools: [issuer.userPool] });
  acme = await issuer.idToken({ sub: "user-acme", groups: ["tenant:acme:member"] });
  expired = await issuer.idToken({ groups: ["tenant:acme"], expiresIn: -60, issuedAt: Math.floor(Date.now() / 1000) - 3600 });
});

describe("tenantAuthMiddleware with middy()", () => {
  it("puts the principal on context.tenant and leaves the event alone", async () => {
    const seen = vi.fn();
    const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
      .use(tenantAuthMiddleware(auth))
      .handler(async (event, context) => {
        expectTypeOf(context.tenant).toEqualTypeOf<TenantPrincipal>();
        seen(event, context.tenant);
        return { statusCode: 200, body: JSON.stringify({ tenantId: context.tenant.tenantId }) };
      });
    const event = loadEvent<APIGatewayProxyEventV2>("http-api-v2.json", acme);
    const before = JSON.stringify(event);
    const response = await handler(event, tenantContext());
    expect(response).toEqual({ statusCode: 200, body: '{"tenantId":"acme"}' });
    expect(JSON.stringify(seen.mock.calls[0]![0])).toBe(before);
    expect((seen.mock.calls[0]![1] as TenantPrincipal).sub).toBe("user-acme");
  });

  it("answers a missing token with 401 in the REST format, without running the handler", async () => {
    const inner = vi.fn(async () => ({ statusCode: 200, body: "" }));
    const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>().use(tenantAuthMiddleware(auth)).handler(inner);
    const event = setHeader(loadEvent<APIGatewayProxyEvent>("rest-v1.json", acme), "authorization", undefined);
    const response = await handler(event, tenantContext());
    expect(response.statusCode).toBe(401);
    expect(response.headers).toMatchObject({ "WWW-Authenticate": "Bearer" });
    expect(bodyOf(response)).toMatchObject({ error: "token_missing" });
    expect(inner).not.toHaveBeenCalled();
  });

  it("answers an expired token on an ALB multi-value event with multiValueHeaders and statusDescription", async () => {
    const handler = middy<ALBEvent, ALBResult>()
      .use(tenantAuthMiddleware(auth))
      .handler(async () => ({ statusCode: 200 }));
    const response = await handler(loadEvent<ALBEvent>("alb-multi.json", expired), tenantContext());
    expect(response.statusCode).toBe(401);
    expect(response.statusDescription).toBe("401 Unauthorized");
    expect(response.headers).toBeUndefined();
    expect(response.multiValueHeaders?.["WWW-Authenticate"]?.[0]).toMatch(/error="invalid_token"/);
    expect(bodyOf(response)).toMatchObject({ error: "token_expired" });
  });

  it("answers a forbidden tenant hint with 403", async () => {
    const handler = middy()
      .use(tenantAuthMiddleware(auth))
      .handler(async () => ({ statusCode: 200 }));
    const event = setHeader(loadEvent("http-api-v2.json", acme), "x-tenant-id", "globex");
    expect(await handler(event, tenantContext())).toMatchObject({ statusCode: 403 });
  });

  it("answers a TenantAuthError the handler throws, and lets other errors through", async () => {
    const guarded = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, TenantContext>()
      .use(tenantAuthMiddleware(auth))
      .handler(async (_event, context) => {
        assertTenantRoles(context.tenant, ["admin"]);
        return { statusCode: 200 };
      });
    const response = await guarded(loadEvent("http-api-v2.json", acme), tenantContext());
    expect(response).toMatchObject({ statusCode: 403 });
    expect(bodyOf(response)).toMatchObject({ error: "access_denied" });

    const bug = new RangeError("handler bug");
    const broken = middy()
      .use(tenantAuthMiddleware(auth))
      .handler(async () => {
        throw bug;
      });
    await expect(broken(loadEvent("http-api-v2.json", acme), tenantContext())).rejects.toBe(bug);
  });

  it("runs the options' guards in before", async () => {
    const handler = middy()
      .use(tenantAuthMiddleware(auth, { groups: ["billing"] }))
      .handler(async () => ({ statusCode: 200 }));
    const response = await handler(loadEvent("alb-single.json", acme), tenantContext());
    expect(response).toMatchObject({ statusCode: 403, statusDescription: "403 Forbidden" });
  });

  it("never imports @middy/core at run time", () => {
    for (const file of ["src/adapters/lambda.ts", ...readdirSync("src/adapters/lambda").map((f) => `src/adapters/lambda/${f}`)]) {
      expect(readFileSync(file, "utf8")).not.toMatch(/from\s+["']@middy\//);
    }
  });

  it("is a plain object: before, onError and a name", () => {
    const mw = tenantAuthMiddleware(auth);
    expect(Object.keys(mw).sort()).toEqual(["before", "name", "onError"]);
    expect(() => tenantAuthMiddleware({} as TenantAuth)).toThrow(TypeError);
  });
});
