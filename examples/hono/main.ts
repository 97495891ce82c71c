// Run: npx tsx examples/hono/main.ts   (from the repository root; no AWS account needed)
//
// Serves the API of app.ts on 127.0.0.1 through @hono/node-server with a test issuer standing in
// for Cognito, calls it as a few users, prints each answer, and exits: 0 when every answer is the
// expected one, else 1.
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { createTenantAuth } from "cognito-tenancy";
import { createTestIssuer } from "cognito-tenancy/testing";
import { createApp } from "./app.js";
import { takeTour } from "../shared/tour.js";

// A stand-in for your user pool: real RS256 keys, Cognito-shaped tokens, the JWKS served over HTTP
// on 127.0.0.1. With a real pool, the resolver is instead:
//   createTenantAuth({ userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "<app client id>", tokenUse: "id" }] })
const issuer = await createTestIssuer();
const jwks = await issuer.listen();
const auth = createTenantAuth({ userPools: [jwks.userPool] });

const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const s = serve({ fetch: createApp(auth).fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
});
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

let allExpected = false;
try {
  allExpected = await takeTour(base, issuer);
} finally {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await jwks.close();
}
process.exitCode = allExpected ? 0 : 1;
