/**
 * The API Gateway claims path (claims an API Gateway authorizer already verified, passed as
 * strings): for any claims map, REST or HTTP API shape, `principalFromApiGatewayClaims` yields a
 * principal or a TenantAuthError, nothing else; a resolved tenant is one the groups claim names;
 * a hint only narrows.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TenantAuthError } from "../../src/index.js";
import type { TenantPrincipal } from "../../src/index.js";
import { principalFromApiGatewayClaims } from "../../src/adapters/lambda.js";
import type { ApiGatewayClaimsEvent } from "../../src/adapters/lambda.js";

const now = Math.floor(Date.now() / 1000);
const tenant = fc.oneof({ weight: 4, arbitrary: fc.constantFrom("acme", "globex") }, { weight: 1, arbitrary: fc.constantFrom("__proto__", "a,b", "x y", "[acme]") });
const group = fc.oneof(
  { weight: 6, arbitrary: tenant.map((t) => `tenant:${t}`) },
  { weight: 2, arbitrary: fc.constantFrom("admin", "tenant:acme:admin", "tenant:") },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const groupsClaim = fc.oneof(
  { weight: 3, arbitrary: fc.array(group, { minLength: 1, maxLength: 3 }).map((g) => `[${g.join(" ")}]`) }, // HTTP API JWT authorizer
  { weight: 3, arbitrary: fc.array(group, { minLength: 1, maxLength: 3 }).map((g) => g.join(",")) }, // REST Cognito authorizer
  { weight: 2, arbitrary: fc.array(group, { minLength: 1, maxLength: 3 }).map((g) => JSON.stringify(g)) }, // a JSON array string
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);
const dateClaim = fc.oneof(
  { weight: 4, arbitrary: fc.constant(String(now + 600)) },
  { weight: 2, arbitrary: fc.constant(new Date((now + 600) * 1000).toUTCString()) },
  { weight: 1, arbitrary: fc.constant("Thu Jan 01 00:00:00 UTC 1970") },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const claimsArb = fc.record(
  {
    sub: fc.oneof({ weight: 4, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }),
    iss: fc.oneof({ weight: 6, arbitrary: fc.constant("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Lambda") }, { weight: 1, arbitrary: fc.constantFrom("", "x") }),
    token_use: fc.oneof({ weight: 6, arbitrary: fc.constantFrom("id", "access") }, { weight: 1, arbitrary: fc.constantFrom("", "refresh") }),
    exp: dateClaim,
    iat: dateClaim,
    aud: fc.constantFrom("client", ""),
    client_id: fc.constantFrom("client", ""),
    "cognito:groups": groupsClaim,
    "cognito:roles": fc.oneof({ weight: 4, arbitrary: fc.constant("arn:aws:iam::123456789012:role/r") }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
    scope: fc.string({ maxLength: 20 }),
  },
  { requiredKeys: ["sub", "iss", "token_use", "exp", "cognito:groups"] },
);

function event(shape: "rest" | "http", claims: Record<string, string>): ApiGatewayClaimsEvent {
  if (shape === "rest") {
    return { headers: {}, pathParameters: null, requestContext: { authorizer: { claims } } } as unknown as ApiGatewayClaimsEvent;
  }
  return { version: "2.0", headers: {}, requestContext: { authorizer: { jwt: { claims, scopes: [] } } } } as unknown as ApiGatewayClaimsEvent;
}

describe("principalFromApiGatewayClaims properties", () => {
  it("a principal or a TenantAuthError; only a tenant the groups claim names; a hint only narrows", async () => {
    let resolved = 0;
    await fc.assert(
      fc.asyncProperty(claimsArb, fc.constantFrom("rest" as const, "http" as const), fc.option(tenant, { nil: undefined }), async (claims, shape, hint) => {
        let p: TenantPrincipal;
        try {
          p = await principalFromApiGatewayClaims(event(shape, claims as Record<string, string>), hint === undefined ? {} : { tenantHint: hint });
        } catch (err) {
          if (!(err instanceof TenantAuthError)) throw new Error(`threw a non-TenantAuthError: ${String((err as Error)?.stack ?? err)}`, { cause: err });
          expect(err.status).toBeLessThan(500);
          return;
        }
        resolved++;
        expect(p.tenantId).toBeDefined();
        expect(String(claims["cognito:groups"])).toContain(`tenant:${p.tenantId as string}`);
        if (hint !== undefined) expect(p.tenantId).toBe(hint);
        expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
      }),
      { numRuns: 400 },
    );
    expect(resolved).toBeGreaterThanOrEqual(5);
  });
});
