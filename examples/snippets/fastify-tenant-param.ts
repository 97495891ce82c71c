import Fastify from "fastify";
import { createTenantAuth } from "cognito-tenancy";
import { tenantAuthPlugin } from "cognito-tenancy/fastify";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }],
});
const app = Fastify();

// The tenant comes from `X-Org` (instead of `x-tenant-id`), or from `:tenantId` on routes that have it.
await app.register(tenantAuthPlugin, { auth, tenantHeader: "x-org", tenantParam: "tenantId" });

// GET /tenants/globex/users acts for globex (403 tenant_forbidden if the caller is not a member;
// 400 invalid_request if an X-Org header names another tenant).
app.get("/tenants/:tenantId/users", async (request) => ({ tenantId: request.tenant!.tenantId }));
