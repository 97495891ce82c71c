import { Hono } from "hono";
import { createTenantAuth } from "cognito-tenancy";
import { authorize, requireTenantRoles, tenantAuth } from "cognito-tenancy/hono";
import type { Authorizer } from "cognito-tenancy";

// Once, at start: configuration mistakes throw here, and the key and principal caches live here.
const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }],
});
declare const authorizer: Authorizer; // createCedarAuthorizer(...) or createVerifiedPermissionsAuthorizer(...)

const app = new Hono();

// Routes outside /api are public.
app.get("/health", (c) => c.json({ ok: true }));

// Every /api route needs a valid token and a tenant; c.get("tenant") is the caller, typed.
app.use("/api/*", tenantAuth(auth));

app.get("/api/me", (c) => {
  const { sub, tenantId, tenantRoles } = c.get("tenant")!;
  return c.json({ sub, tenantId, tenantRoles });
});

app.delete("/api/projects/:id", requireTenantRoles("admin"), (c) => c.body(null, 204));

app.get(
  "/api/documents/:id",
  authorize(authorizer, { action: "ReadDocument", resource: (c) => ({ type: "Document", id: c.req.param("id") ?? "" }) }),
  (c) => c.json({ id: c.req.param("id") }),
);

// Node: serve(app) from @hono/node-server; Bun and Deno: export default app / Deno.serve(app.fetch);
// Cloudflare Workers: export default app.
export default app;
