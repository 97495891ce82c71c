// An Express API for a multi-tenant project tracker, protected by cognito-tenancy.
//
// createApp(auth) builds the app and starts nothing, so it can be served (main.ts), or tested
// (test/examples/express-api.test.ts). `auth` is the resolver from createTenantAuth(): in
// production, your user pool; in main.ts and the tests, a test issuer from cognito-tenancy/testing.
import express from "express";
import type { Express } from "express";
import type { TenantAuth } from "cognito-tenancy";
import { requireGroups, requireTenantRoles, tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";
import { sampleProjects } from "../shared/tour.js";

export function createApp(auth: TenantAuth): Express {
  const projects = sampleProjects();
  const app = express();
  app.disable("x-powered-by");

  // Public routes go before tenantAuth.
  app.get("/health", (_req, res) => {
    res.json({ ok: true });
  });

  // Every route below needs a valid token and acts for one tenant: the caller's only tenant, or
  // the one the x-tenant-id header names (which must be one of theirs). req.tenant is the caller.
  app.use(tenantAuth(auth));

  app.get("/me", (req, res) => {
    const { username, tenantId, tenantRoles, tenants } = req.tenant!;
    res.json({ username, tenantId, tenantRoles, tenants: tenants.map((t) => t.tenantId) });
  });

  // Data is always looked up by the active tenant, never by a tenant named in the request body.
  app.get("/projects", (req, res) => {
    res.json(projects.get(req.tenant!.tenantId!) ?? []);
  });

  // Only admins of the active tenant (Cognito group `tenant:<id>:admin`) may delete.
  app.delete("/projects/:id", requireTenantRoles("admin"), (req, res) => {
    const list = projects.get(req.tenant!.tenantId!) ?? [];
    const index = list.findIndex((p) => p.id === req.params.id);
    if (index < 0) {
      res.status(404).json({ error: "not_found" });
      return;
    }
    const [removed] = list.splice(index, 1);
    res.json({ deleted: removed });
  });

  // Any tenant's users who are also in the `beta-testers` group.
  app.get("/beta/insights", requireGroups("beta-testers"), (req, res) => {
    res.json({ tenantId: req.tenant!.tenantId, insights: ["velocity up 12%"] });
  });

  // Answers TenantAuthErrors (401, 400, 403, 503) with their status, WWW-Authenticate and
  // { error, error_description }, without logging a stack trace for each refused request.
  app.use(tenantAuthErrorHandler());
  return app;
}
