/**
 * The Hono peers of bench/hono.ts, served from one child process on 127.0.0.1 by @hono/node-server
 * on Node, Bun.serve on Bun, Deno.serve on Deno (the load generator runs in the parent, on Node).
 * Prints `{ ports }` as JSON.
 *
 * Input (env BENCH_HONO): the pool (issuer, client id, the JWKS).
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { jwk } from "hono/jwk";
import type { HonoJsonWebKey } from "hono/utils/jwt/jws";
import { tenantAuth } from "../src/adapters/hono.js";
import { createTenantAuth } from "../src/index.js";
import type { UserPoolConfig } from "../src/index.js";

export interface HonoServerInput {
  userPoolId: string;
  issuer: string;
  clientId: string;
  jwks: { keys: object[] };
}

const input = JSON.parse(process.env["BENCH_HONO"] ?? "{}") as HonoServerInput;
const userPool: UserPoolConfig = { userPoolId: input.userPoolId, clientId: input.clientId, tokenUse: "id", jwks: input.jwks, issuer: input.issuer };
const BARE_SUB = "00000000-0000-4000-8000-000000000000";

function app(middleware: MiddlewareHandler | undefined, sub: (c: Parameters<MiddlewareHandler>[0]) => string): Hono {
  const a = new Hono();
  if (middleware) a.use(middleware);
  a.get("/", (c) => c.json({ sub: sub(c) }));
  return a;
}

const peers: Record<string, Hono> = {
  honoBare: app(undefined, () => BARE_SUB),
  honoTenant: app(tenantAuth(createTenantAuth({ userPools: [userPool] })), (c) => c.get("tenant")!.sub),
  honoTenantNoCache: app(tenantAuth(createTenantAuth({ userPools: [userPool], cache: false })), (c) => c.get("tenant")!.sub),
  // Hono's own middleware, with the same keys inline (no fetch): it checks the signature, exp,
  // nbf and iat, not iss, token_use or the client id unless configured to.
  honoJwk: app(jwk({ keys: input.jwks.keys as HonoJsonWebKey[], alg: ["RS256"] }), (c) => (c.get("jwtPayload") as { sub: string }).sub),
};

interface Runtimes {
  Bun?: { serve(options: { hostname: string; port: number; fetch: Hono["fetch"] }): { port: number } };
  Deno?: { serve(options: { hostname: string; port: number; onListen(addr: { port: number }): void }, handler: Hono["fetch"]): unknown };
}
const runtime = globalThis as Runtimes;

/** Each runtime's own server: Bun.serve, Deno.serve, @hono/node-server on Node. */
function listen(peer: Hono): Promise<number> {
  if (runtime.Bun) return Promise.resolve(runtime.Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: peer.fetch }).port);
  const deno = runtime.Deno;
  if (deno) return new Promise((resolve) => deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => resolve(port) }, peer.fetch));
  return new Promise((resolve) => serve({ fetch: peer.fetch, hostname: "127.0.0.1", port: 0 }, (info) => resolve(info.port)));
}

const ports: Record<string, number> = {};
for (const [id, peer] of Object.entries(peers)) ports[id] = await listen(peer);
process.stdout.write(`${JSON.stringify({ ports })}\n`);
// Stop when the parent closes stdin.
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
