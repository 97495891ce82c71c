import { Body, Controller, Delete, Get, Param, Post } from "@nestjs/common";
import { Authorize, RequireGroups, RequireScopes, RequireTenantRoles, SkipTenantAuth, Tenant } from "cognito-tenancy/nestjs";
import type { TenantPrincipal, TenantRequest } from "cognito-tenancy/nestjs";

@Controller("documents")
export class DocumentsController {
  @Get("health")
  @SkipTenantAuth()
  health() {
    return { ok: true };
  }

  // The caller and the tenant it acts for (x-tenant-id, or its only tenant).
  @Get()
  list(@Tenant() tenant: TenantPrincipal) {
    return { tenantId: tenant.tenantId, roles: tenant.tenantRoles };
  }

  // The policy engine decides: Docs::Action::"ReadDocument" on Docs::Document::"<id>".
  @Get(":id")
  @Authorize("ReadDocument", (request: TenantRequest) => ({ type: "Document", id: request.params["id"]! }))
  read(@Param("id") id: string, @Tenant("tenantId") tenantId: string) {
    return { id, tenantId };
  }

  // Admins of the active tenant (Cognito group tenant:<id>:admin) only.
  @Delete(":id")
  @RequireTenantRoles("admin")
  remove(@Param("id") id: string) {
    return { deleted: id };
  }

  // An access token with this scope, from a caller in the editors group.
  @Post()
  @RequireScopes("docs/write")
  @RequireGroups("editors")
  create(@Body() body: { title: string }) {
    return { created: body.title };
  }
}
