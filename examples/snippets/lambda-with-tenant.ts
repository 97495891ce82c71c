import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { createTenantAuth } from "cognito-tenancy";
import { withTenant } from "cognito-tenancy/lambda";

// Create once, outside the handler: keys and verified tokens stay cached between invocations.
const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client-id", tokenUse: "id" }],
});

// The same wrapper serves API Gateway REST, HTTP API (payload 1.0 or 2.0) and ALB events.
export const handler = withTenant(auth, async (event: APIGatewayProxyEventV2, _context, principal) => {
  return {
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tenant: principal.tenantId, user: principal.username, roles: principal.tenantRoles, path: event.rawPath }),
  };
});
