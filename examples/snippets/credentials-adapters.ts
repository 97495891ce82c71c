import express from "express";
import Fastify from "fastify";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { createTenantAuth } from "cognito-tenancy";
import { createTenantCredentials } from "cognito-tenancy/credentials";
import { tenantAuth } from "cognito-tenancy/express";
import { tenantAuthPlugin } from "cognito-tenancy/fastify";
import { withTenant } from "cognito-tenancy/lambda";

const creds = createTenantCredentials({
  identityPool: { identityPoolId: "us-east-1:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" },
  roleForTenant: { acme: "arn:aws:iam::111122223333:role/tenants/acme-assets-reader" },
});
const auth = createTenantAuth({ userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }] });

// Express: the principal is req.tenant.
const app = express();
app.use(tenantAuth(auth));
app.get("/files", async (req, res) => {
  const aws = await creds.forPrincipal(req.tenant!);
  res.json({ role: aws.roleArn });
});

// Fastify: the principal is request.tenant.
const fastify = Fastify();
await fastify.register(tenantAuthPlugin, { auth });
fastify.get("/files", async (request) => ({ role: (await creds.forPrincipal(request.tenant!)).roleArn }));

// Lambda: the principal is the handler's third argument.
export const handler = withTenant(auth, async (_event: APIGatewayProxyEventV2, _context, principal) => {
  const aws = await creds.forPrincipal(principal);
  return { statusCode: 200, body: JSON.stringify({ role: aws.roleArn }) };
});
