import { createTenantAuth } from "cognito-tenancy";
import { createAuthorizerHandler } from "cognito-tenancy/lambda";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client-id", tokenUse: "id" }],
});

// REST API TOKEN or REQUEST authorizer (or an HTTP API authorizer with simple responses off).
// Allow: a policy for the whole stage, arn:aws:execute-api:<region>:<account>:<api>/<stage>/*,
// so a cached answer is right for every route. Bad token: throws "Unauthorized" on REST (401), a Deny on HTTP APIs (403).
// Tenant refusals: a Deny (403). Keys unreachable: throws (500). Never an Allow by default.
export const handler = createAuthorizerHandler(auth, {
  response: "iam",
  groups: ["customers", "staff"], // depends only on the caller: safe to cache
  authorizerContext: (_event, principal) => ({ plan: principal.claims["custom:plan"] === "gold" ? "gold" : "standard" }),
});
