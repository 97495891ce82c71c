import type { APIGatewayProxyEvent } from "aws-lambda";
import { assertTenantRoles, createTenantAuth } from "cognito-tenancy";
import { createVerifiedPermissionsAuthorizer } from "cognito-tenancy/verified-permissions";
import { withTenant } from "cognito-tenancy/lambda";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client-id", tokenUse: "id" }],
});
const authorizer = createVerifiedPermissionsAuthorizer({ policyStoreId: "ps-0123456789abcdef", namespace: "Orders", region: "us-east-1" });

// REST API route /tenants/{tenantId}/orders/{orderId}
export const handler = withTenant(
  auth,
  async (event: APIGatewayProxyEvent, _context, principal) => {
    if (event.httpMethod === "DELETE") assertTenantRoles(principal, ["admin"]); // a refusal becomes a 403 response
    return { statusCode: 200, body: JSON.stringify({ order: event.pathParameters?.["orderId"], tenant: principal.tenantId }) };
  },
  {
    tenantParam: "tenantId", // the tenant comes from the path; an x-tenant-id header must agree
    groups: ["customers", "staff"], // any of
    authorizer, // asked per request, after the tenant is resolved
    action: (event) => (event.httpMethod === "GET" ? "ReadOrder" : "WriteOrder"),
    resource: (event, principal) => ({
      type: "Order",
      id: event.pathParameters?.["orderId"] ?? "",
      attributes: { tenantId: principal.tenantId ?? "" },
    }),
  },
);
