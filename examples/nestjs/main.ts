// Run: npx tsx --tsconfig examples/nestjs/tsconfig.json examples/nestjs/main.ts
//      (from the repository root; no AWS account needed. The tsconfig turns on decorators.)
//
// Serves the NestJS API of app.ts on 127.0.0.1 with a test issuer standing in for Cognito, on
// Nest's Express platform and then on its Fastify platform, calls it as a few users, prints each
// answer, and exits: 0 when every answer is the expected one, else 1.
import "reflect-metadata";
import { NestFactory } from "@nestjs/core";
import { ExpressAdapter } from "@nestjs/platform-express";
import { FastifyAdapter } from "@nestjs/platform-fastify";
import { createTenantAuth } from "cognito-tenancy";
import { createTestIssuer } from "cognito-tenancy/testing";
import { appModule } from "./app.js";
import { takeTour } from "../shared/tour.js";

// A stand-in for your user pool: real RS256 keys, Cognito-shaped tokens, the JWKS served over HTTP
// on 127.0.0.1. With a real pool, the resolver is instead:
//   createTenantAuth({ userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "<app client id>", tokenUse: "id" }] })
const issuer = await createTestIssuer();
const jwks = await issuer.listen();
const auth = createTenantAuth({ userPools: [jwks.userPool] });

let allExpected = true;
try {
  for (const [platform, adapter] of [
    ["Express", new ExpressAdapter()],
    ["Fastify", new FastifyAdapter()],
  ] as const) {
    console.log(`\nNestJS on the ${platform} platform`);
    const app = await NestFactory.create(appModule(auth), adapter, { logger: false });
    await app.listen(0, "127.0.0.1");
    try {
      allExpected = (await takeTour(await app.getUrl(), issuer)) && allExpected;
    } finally {
      await app.close();
    }
  }
} finally {
  await jwks.close();
}
process.exitCode = allExpected ? 0 : 1;
