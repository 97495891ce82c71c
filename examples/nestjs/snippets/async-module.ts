import { Module } from "@nestjs/common";
import { createTenantAuth } from "cognito-tenancy";
import { TenantAuthModule } from "cognito-tenancy/nestjs";

/** Your configuration, from a ConfigService or the environment. */
class PoolConfig {
  readonly userPoolId = process.env["USER_POOL_ID"] ?? "us-east-1_AbC123";
  readonly clientId = process.env["APP_CLIENT_ID"] ?? "app-client";
}

@Module({ providers: [PoolConfig], exports: [PoolConfig] })
class ConfigModule {}

@Module({
  imports: [
    TenantAuthModule.forRootAsync({
      imports: [ConfigModule],
      inject: [PoolConfig],
      useFactory: (config: PoolConfig) => ({
        auth: createTenantAuth({ userPools: [{ userPoolId: config.userPoolId, clientId: config.clientId, tokenUse: "id" }] }),
        tenantHeader: "x-org-id",
      }),
    }),
  ],
})
export class AppModule {}
