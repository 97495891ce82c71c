import { createTenantAuth } from "cognito-tenancy";
import { createAuthorizerHandler } from "cognito-tenancy/lambda";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client-id", tokenUse: "access" }],
});

// HTTP API Lambda authorizer, payload format 2.0, simple responses on:
// { isAuthorized: true, context } or { isAuthorized: false, context: { error, error_description } }.
export const handler = createAuthorizerHandler(auth, { response: "simple", scopes: ["orders/read"] });
