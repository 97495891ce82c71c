import express from "express";
import Fastify from "fastify";
import { createTenantAuth, isTenantAuthError } from "cognito-tenancy";
import { tenantAuth } from "cognito-tenancy/express";
import { tenantAuthPlugin } from "cognito-tenancy/fastify";
import { withTenant } from "cognito-tenancy/lambda";

const auth = createTenantAuth({ userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }] });

// The client sees "503 jwks_unavailable"; your logs get what failed.
const logCause = (error: unknown) => {
  if (isTenantAuthError(error) && error.status >= 500) console.error(error.code, error.cause);
};

express().use(tenantAuth(auth, { onError: logCause })); // Express
await Fastify().register(tenantAuthPlugin, { auth, onError: logCause }); // Fastify
export const handler = withTenant(auth, async (_event, _context, principal) => ({ statusCode: 200, body: principal.sub }), {
  onError: logCause, // Lambda (also tenantAuthMiddleware and createAuthorizerHandler)
});
