import Fastify from "fastify";
import { createTenantAuth } from "cognito-tenancy";
import { tenantAuthPlugin } from "cognito-tenancy/fastify";

// Once, at start: configuration mistakes throw here, and the key and principal caches live here.
const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }],
});

const app = Fastify({ logger: true });
await app.register(tenantAuthPlugin, { auth });

// Every route is authenticated before its body is parsed; request.tenant is the caller.
app.get("/me", async (request) => {
  const { sub, tenantId, tenantRoles } = request.tenant!;
  return { sub, tenantId, tenantRoles };
});

// A public route: no token needed, request.tenant stays undefined.
app.get("/health", { config: { tenantAuth: false } }, async () => ({ ok: true }));

await app.listen({ port: 3000 });
