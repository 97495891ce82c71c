// Run: npx tsx examples/fastify-api/main.ts   (from the repository root; no AWS account needed)
//
// Starts the Fastify API of app.ts on 127.0.0.1 with a test issuer standing in for Cognito, calls
// it as a few users, prints each answer, and exits: 0 when every answer is the expected one, else 1.
import { createTenantAuth } from "cognito-tenancy";
import { createTestIssuer } from "cognito-tenancy/testing";
import { buildApp } from "./app.js";
import { takeTour } from "../shared/tour.js";

// A stand-in for your user pool: real RS256 keys, Cognito-shaped tokens, the JWKS served over HTTP
// on 127.0.0.1. With a real pool, the resolver is instead:
//   createTenantAuth({ userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "<app client id>", tokenUse: "id" }] })
const issuer = await createTestIssuer();
const jwks = await issuer.listen();
const auth = createTenantAuth({ userPools: [jwks.userPool] });

const app = await buildApp(auth);
const base = await app.listen({ port: 0, host: "127.0.0.1" });

let allExpected = false;
try {
  allExpected = await takeTour(base, issuer);
} finally {
  await app.close();
  await jwks.close();
}
process.exitCode = allExpected ? 0 : 1;
