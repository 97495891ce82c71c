import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { createTenantAuth } from "cognito-tenancy";
import { withTenant } from "cognito-tenancy/lambda";
import { createTestIssuer } from "cognito-tenancy/testing";
import { expect, it } from "vitest";

it("answers 200 for a member of the tenant and 403 for another tenant", async () => {
  const issuer = await createTestIssuer();
  const auth = createTenantAuth({ userPools: [issuer.userPool] });
  const handler = withTenant(auth, async (_event: APIGatewayProxyEventV2, _context, principal) => ({
    statusCode: 200,
    body: principal.tenantId ?? "",
  }));
  const token = await issuer.idToken({ groups: ["tenant:acme:admin"] });
  const event = (tenant: string) =>
    ({
      version: "2.0",
      routeKey: "GET /orders",
      rawPath: "/orders",
      rawQueryString: "",
      headers: { authorization: `Bearer ${token}`, "x-tenant-id": tenant },
      requestContext: { http: { method: "GET" } },
      isBase64Encoded: false,
    }) as unknown as APIGatewayProxyEventV2;

  const ok = (await handler(event("acme"), {} as Context)) as APIGatewayProxyStructuredResultV2;
  expect(ok).toMatchObject({ statusCode: 200, body: "acme" });
  const refused = (await handler(event("globex"), {} as Context)) as APIGatewayProxyStructuredResultV2;
  expect(refused.statusCode).toBe(403);
  expect(JSON.parse(refused.body!)).toMatchObject({ error: "tenant_forbidden" });
});
