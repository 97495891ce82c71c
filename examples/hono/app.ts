// A Hono API for a multi-tenant project tracker, protected by cognito-tenancy: the same routes as
// the Express and Fastify examples. createApp(auth) builds the app and starts nothing, so it can be
// served on Node (main.ts), Bun, Deno or Cloudflare Workers (`export default createApp(auth)`), or
// tested with app.request().
import { Hono } from "hono";
import type { TenantAuth } from "cognito-tenancy";
import { requireGroups, requireTenantRoles, tenantAuth } from "cognito-tenancy/hono";
import { sampleProjects } from "../shared/tour.js";

export function createApp(auth: TenantAuth): Hono {
  const projects = sampleProjects();
  const app = new Hono();

  // Public routes go before tenantAuth.
  app.get("/health", (c) => c.json({ ok: true }));

  // Every route below needs a valid token and acts for one tenant: the caller's only tenant, or
  // the one the x-tenant-id header names (which must be one of theirs). Refusals are answered
  // here (401, 400, 403, 503) with WWW-Authenticate and { error, error_description }.
  app.use(tenantAuth(auth));

  app.get("/me", (c) => {
    const { username, tenantId, tenantRoles, tenants } = c.get("tenant")!;
    return c.json({ username, tenantId, tenantRoles, tenants: tenants.map((t) => t.tenantId) });
  });

  // Data is always looked up by the active tenant, never by a tenant named in the request body.
  app.get("/projects", (c) => c.json(projects.get(c.get("tenant")!.tenantId!) ?? []));

  // Only admins of the active tenant (Cognito group `tenant:<id>:admin`) may delete.
  app.delete("/projects/:id", requireTenantRoles("admin"), (c) => {
    const list = projects.get(c.get("tenant")!.tenantId!) ?? [];
    const index = list.findIndex((p) => p.id === c.req.param("id"));
    if (index < 0) return c.json({ error: "not_found" }, 404);
    const [removed] = list.splice(index, 1);
    return c.json({ deleted: removed });
  });

  // Any tenant's users who are also in the `beta-testers` group.
  app.get("/beta/insights", requireGroups("beta-testers"), (c) => c.json({ tenantId: c.get("tenant")!.tenantId, insights: ["velocity up 12%"] }));

  return app;
}
