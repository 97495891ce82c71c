import Fastify from "fastify";
import { createTenantAuth } from "cognito-tenancy";
import { tenantAuthPlugin } from "cognito-tenancy/fastify";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }],
});
const app = Fastify();

// Protect only the API: the plugin covers the scope that registers it and that scope's children.
await app.register(
  async (api) => {
    await api.register(tenantAuthPlugin, { auth });
    api.get("/projects", async (request) => ({ tenantId: request.tenant!.tenantId }));
  },
  { prefix: "/api" },
);

// Outside that scope: no token needed, and unknown URLs answer 404 to anyone.
app.get("/", async () => "welcome");
