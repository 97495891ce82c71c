// A NestJS API for the multi-tenant project tracker of the Express and Fastify examples, protected
// by cognito-tenancy/nestjs: the guard global (APP_GUARD), /health public, a delete route for
// tenant admins and a beta route for a group.
//
// appModule(auth) builds the root module and starts nothing (main.ts serves it on either of Nest's
// platforms). `auth` is the resolver from createTenantAuth(): in production, your user pool.
import { Controller, Delete, Get, Inject, Module, NotFoundException, Param } from "@nestjs/common";
import type { Type } from "@nestjs/common";
import { APP_GUARD } from "@nestjs/core";
import type { TenantAuth } from "cognito-tenancy";
import { RequireGroups, RequireTenantRoles, SkipTenantAuth, Tenant, TenantAuthGuard, TenantAuthModule } from "cognito-tenancy/nestjs";
import type { TenantPrincipal } from "cognito-tenancy/nestjs";
import type { Project } from "../shared/tour.js";
import { sampleProjects } from "../shared/tour.js";

const PROJECTS = "PROJECTS";

@Controller()
class ProjectsController {
  // An explicit token: tsx and vitest compile with esbuild, which emits no decorator metadata.
  constructor(@Inject(PROJECTS) private readonly projects: Map<string, Project[]>) {}

  // A public route: the global guard skips it.
  @Get("health")
  @SkipTenantAuth()
  health() {
    return { ok: true };
  }

  @Get("me")
  me(@Tenant() tenant: TenantPrincipal) {
    const { username, tenantId, tenantRoles, tenants } = tenant;
    return { username, tenantId, tenantRoles, tenants: tenants.map((t) => t.tenantId) };
  }

  // Data is always looked up by the active tenant, never by a tenant named in the request body.
  @Get("projects")
  list(@Tenant("tenantId") tenantId: string) {
    return this.projects.get(tenantId) ?? [];
  }

  // Only admins of the active tenant (Cognito group `tenant:<id>:admin`) may delete.
  @Delete("projects/:id")
  @RequireTenantRoles("admin")
  remove(@Tenant("tenantId") tenantId: string, @Param("id") id: string) {
    const list = this.projects.get(tenantId) ?? [];
    const index = list.findIndex((p) => p.id === id);
    if (index < 0) throw new NotFoundException();
    const [removed] = list.splice(index, 1);
    return { deleted: removed };
  }

  // Any tenant's users who are also in the `beta-testers` group.
  @Get("beta/insights")
  @RequireGroups("beta-testers")
  insights(@Tenant("tenantId") tenantId: string) {
    return { tenantId, insights: ["velocity up 12%"] };
  }
}

export function appModule(auth: TenantAuth): Type {
  @Module({
    // The tenant comes from the caller's only tenant, or from the x-tenant-id header (which must
    // name one of theirs). Refusals are answered with their status, WWW-Authenticate challenge and
    // { error, error_description } body by the module's exception filter.
    imports: [TenantAuthModule.forRoot({ auth })],
    controllers: [ProjectsController],
    providers: [
      { provide: APP_GUARD, useClass: TenantAuthGuard },
      { provide: PROJECTS, useFactory: sampleProjects },
    ],
  })
  class AppModule {}
  return AppModule;
}
