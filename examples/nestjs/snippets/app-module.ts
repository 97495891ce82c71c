import { Module } from "@nestjs/common";
import { APP_GUARD } from "@nestjs/core";
import { createTenantAuth } from "cognito-tenancy";
import { createCedarAuthorizer } from "cognito-tenancy/cedar";
import { TenantAuthGuard, TenantAuthModule } from "cognito-tenancy/nestjs";
import { DocumentsController } from "./documents.controller.js";

const auth = createTenantAuth({ userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }] });
const authorizer = createCedarAuthorizer({ policies: "permit (principal, action, resource);", namespace: "Docs" });

@Module({
  imports: [TenantAuthModule.forRoot({ auth, authorizer })],
  controllers: [DocumentsController],
  // Every route of the app is guarded; @SkipTenantAuth() exempts one.
  providers: [{ provide: APP_GUARD, useClass: TenantAuthGuard }],
})
export class AppModule {}
