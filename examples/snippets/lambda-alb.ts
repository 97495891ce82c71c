import type { ALBEvent } from "aws-lambda";
import { createTenantAuth } from "cognito-tenancy";
import { withTenant } from "cognito-tenancy/lambda";

// The ALB's app client; the ALB forwards that client's access tokens.
const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "alb-app-client", tokenUse: "access" }],
});

export const handler = withTenant(
  auth,
  async (_event: ALBEvent, _context, principal) => ({ statusCode: 200, body: JSON.stringify({ tenant: principal.tenantId }) }),
  { tokenHeader: "x-amzn-oidc-accesstoken" },
);
