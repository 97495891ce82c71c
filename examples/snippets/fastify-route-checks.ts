import Fastify from "fastify";
import { createTenantAuth } from "cognito-tenancy";
import { tenantAuthPlugin } from "cognito-tenancy/fastify";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: null }],
});
const app = Fastify();
await app.register(tenantAuthPlugin, { auth });

// Any of these groups (403 access_denied otherwise).
app.get("/ops/queue", { config: { tenantAuth: { groups: ["ops", "support"] } } }, async () => []);

// Every one of these groups.
app.get("/ops/danger", { config: { tenantAuth: { groups: { all: ["ops", "break-glass"] } } } }, async () => "ok");

// A role in the active tenant: group `tenant:<tenantId>:admin` (403 access_denied otherwise).
app.delete("/projects/:id", { config: { tenantAuth: { tenantRoles: ["admin", "owner"] } } }, async () => null);

// Access-token scopes, all of them (403 with a `WWW-Authenticate: Bearer error="insufficient_scope"` challenge).
app.get("/reports", { config: { tenantAuth: { scopes: ["reports/read"] } } }, async () => []);
