import type { APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { isTenantAuthError } from "cognito-tenancy";
import { principalFromApiGatewayClaims } from "cognito-tenancy/lambda";

// The API's own authorizer (HTTP API JWT authorizer, or REST Cognito user pool authorizer) has
// already verified the token. Decode its string claims into the same principal resolveTenant builds.
export async function handler(event: APIGatewayProxyEventV2WithJWTAuthorizer) {
  try {
    const principal = await principalFromApiGatewayClaims(event, {
      tenants: { from: "groups" }, // the same strategy you would give createTenantAuth
      // tenantHint defaults to the x-tenant-id header
    });
    return { statusCode: 200, body: JSON.stringify({ tenant: principal.tenantId, roles: principal.tenantRoles }) };
  } catch (err) {
    if (isTenantAuthError(err)) {
      return { statusCode: err.status, headers: { ...err.headers }, body: JSON.stringify(err) };
    }
    throw err;
  }
}
