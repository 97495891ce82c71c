import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { assertGroups, createTenantAuth } from "cognito-tenancy";
import { tenantAuthMiddleware } from "cognito-tenancy/lambda";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client-id", tokenUse: "id" }],
});

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(tenantAuthMiddleware(auth, { tenantHeader: "x-tenant-id" }))
  .handler(async (event, context) => {
    // context.tenant is the TenantPrincipal, typed by the middleware.
    if (event.requestContext.http.method !== "GET") assertGroups(context.tenant, ["editors"]); // 403 via onError
    return { statusCode: 200, body: JSON.stringify({ tenant: context.tenant.tenantId }) };
  });
