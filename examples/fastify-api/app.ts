// A Fastify API for a multi-tenant project tracker, protected by cognito-tenancy.
//
// buildApp(auth) builds the app and starts nothing, so it can be served (main.ts), or tested with
// app.inject() (test/examples/fastify-api.test.ts). `auth` is the resolver from createTenantAuth():
// in production, your user pool; in main.ts and the tests, a test issuer from cognito-tenancy/testing.
import Fastify from "fastify";
import type { FastifyInstance } from "fastify";
import type { TenantAuth } from "cognito-tenancy";
import { tenantAuthPlugin } from "cognito-tenancy/fastify";
import { sampleProjects } from "../shared/tour.js";

export async function buildApp(auth: TenantAuth): Promise<FastifyInstance> {
  const projects = sampleProjects();
  const app = Fastify();

  // Authenticates every route in onRequest, before the body is parsed; the tenant comes from the
  // caller's only tenant, or from the x-tenant-id header (which must name one of theirs).
  // Refusals reach Fastify's error handler with their status and WWW-Authenticate challenge.
  await app.register(tenantAuthPlugin, { auth });

  // A public route: no token needed, request.tenant stays undefined.
  app.get("/health", { config: { tenantAuth: false } }, async () => ({ ok: true }));

  app.get("/me", async (request) => {
    const { username, tenantId, tenantRoles, tenants } = request.tenant!;
    return { username, tenantId, tenantRoles, tenants: tenants.map((t) => t.tenantId) };
  });

  // Data is always looked up by the active tenant, never by a tenant named in the request body.
  app.get("/projects", async (request) => projects.get(request.tenant!.tenantId!) ?? []);

  // Only admins of the active tenant (Cognito group `tenant:<id>:admin`) may delete.
  app.delete<{ Params: { id: string } }>("/projects/:id", { config: { tenantAuth: { tenantRoles: ["admin"] } } }, async (request, reply) => {
    const list = projects.get(request.tenant!.tenantId!) ?? [];
    const index = list.findIndex((p) => p.id === request.params.id);
    if (index < 0) return reply.code(404).send({ error: "not_found" });
    const [removed] = list.splice(index, 1);
    return { deleted: removed };
  });

  // Any tenant's users who are also in the `beta-testers` group.
  app.get("/beta/insights", { config: { tenantAuth: { groups: ["beta-testers"] } } }, async (request) => ({
    tenantId: request.tenant!.tenantId,
    insights: ["velocity up 12%"],
  }));

  return app;
}
