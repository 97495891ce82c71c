import express from "express";
import type { TenantAuth } from "cognito-tenancy";
import { requireTenantRoles, tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";

export function createApp(auth: TenantAuth) {
  const app = express();
  app.get("/health", (_req, res) => {
    res.json({ ok: true }); // before tenantAuth: public
  });

  app.use(tenantAuth(auth)); // every route below needs a valid token and a tenant

  app.get("/projects", (req, res) => {
    res.json({ tenant: req.tenant?.tenantId, user: req.tenant?.username });
  });
  app.delete("/projects/:id", requireTenantRoles("admin"), (req, res) => {
    res.json({ deleted: req.params.id, tenant: req.tenant?.tenantId });
  });

  app.use(tenantAuthErrorHandler()); // 401/403/400/503 as JSON, with WWW-Authenticate
  return app;
}
