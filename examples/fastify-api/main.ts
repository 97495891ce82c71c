// Run: npx tsx examples/fastify-api/main.ts   (from the repository root; no AWS account needed)
//
// Starts the Fastify API of app.ts on 127.0.0.1 with a test issuer standing in for Cognito, calls
// it as a few users, prints each answer, and exits: 0 when every answer is the expected one, else 1.
import { createTenantAuth } from "cognito-tenancy";
import { createTestIssuer } from "cognito-tenancy/testing";
import { buildApp } from "./app.js";

// A stand-in for your user pool: real RS256 keys, Cognito-shaped tokens, the JWKS served over HTTP
// on 127.0.0.1. With a real pool, the resolver is instead:
//   createTenantAuth({ userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "<app client id>", tokenUse: "id" }] })
const issuer = await createTestIssuer();
const jwks = await issuer.listen();
const auth = createTenantAuth({ userPools: [jwks.userPool] });

const app = await buildApp(auth);
const base = await app.listen({ port: 0, host: "127.0.0.1" });

// Users: tenants are Cognito groups `tenant:<id>`, roles in a tenant `tenant:<id>:<role>`.
const tokens = {
  alice: await issuer.idToken({ username: "alice", groups: ["tenant:acme", "tenant:acme:admin"] }),
  bob: await issuer.idToken({ username: "bob", groups: ["tenant:globex"] }),
  dave: await issuer.idToken({ username: "dave", groups: ["tenant:acme", "tenant:globex", "beta-testers"] }),
  expired: await issuer.idToken({ username: "alice", groups: ["tenant:acme"], issuedAt: Math.floor(Date.now() / 1000) - 7200 }),
};

interface Call {
  method: "GET" | "DELETE";
  path: string;
  as?: keyof typeof tokens;
  tenant?: string;
  expect: number;
}

const calls: Call[] = [
  { method: "GET", path: "/health", expect: 200 },
  { method: "GET", path: "/me", as: "alice", expect: 200 },
  { method: "GET", path: "/projects", as: "bob", expect: 200 },
  { method: "GET", path: "/projects", as: "dave", expect: 400 }, // two tenants, none chosen: tenant_ambiguous
  { method: "GET", path: "/projects", as: "dave", tenant: "globex", expect: 200 },
  { method: "GET", path: "/projects", as: "bob", tenant: "acme", expect: 403 }, // not his tenant: tenant_forbidden
  { method: "DELETE", path: "/projects/a2", as: "alice", expect: 200 }, // admin of acme
  { method: "DELETE", path: "/projects/g1", as: "bob", expect: 403 }, // not an admin: access_denied
  { method: "GET", path: "/beta/insights", as: "dave", tenant: "acme", expect: 200 },
  { method: "GET", path: "/beta/insights", as: "alice", expect: 403 }, // not a beta tester
  { method: "GET", path: "/me", as: "expired", expect: 401 }, // token_expired
  { method: "GET", path: "/me", expect: 401 }, // no token: token_missing
];

let unexpected = 0;
try {
  for (const call of calls) {
    const headers: Record<string, string> = {};
    if (call.as) headers["authorization"] = `Bearer ${tokens[call.as]}`;
    if (call.tenant) headers["x-tenant-id"] = call.tenant;
    const res = await fetch(base + call.path, { method: call.method, headers, signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    const ok = res.status === call.expect;
    if (!ok) unexpected++;
    const who = `${call.as ?? "(no token)"}${call.tenant ? ` x-tenant-id: ${call.tenant}` : ""}`;
    console.log(`${ok ? "ok " : "!! "} ${res.status}  ${`${call.method} ${call.path}`.padEnd(22)} ${who.padEnd(28)} ${body}${ok ? "" : `   (expected ${call.expect})`}`);
  }
} finally {
  await app.close();
  await jwks.close();
}
console.log(unexpected === 0 ? `\nall ${calls.length} answers as expected` : `\n${unexpected} unexpected answers`);
process.exitCode = unexpected === 0 ? 0 : 1;
