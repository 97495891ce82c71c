import Fastify from "fastify";
import { createTenantAuth, isTenantAuthError } from "cognito-tenancy";
import { tenantAuthPlugin } from "cognito-tenancy/fastify";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }],
});
const app = Fastify();
await app.register(tenantAuthPlugin, { auth });

// Only needed for a body of your own: Fastify's default handler already sends the status,
// the WWW-Authenticate header and { statusCode, code, error, message }.
app.setErrorHandler((error, _request, reply) => {
  if (isTenantAuthError(error)) {
    return reply.code(error.status).headers(error.headers).send(error.toJSON()); // { error, error_description }
  }
  return reply.send(error);
});
