/**
 * The HTTP peers, served from one child process on 127.0.0.1 (the load generator runs in the
 * parent, so each gets a core of its own). Started by bench/http.ts; prints `{ ports }` as JSON.
 *
 * Input (env BENCH_HTTP): the issuer, the client id, the loopback JWKS URI and the public key PEM.
 */
import type { AddressInfo } from "node:net";
import express from "express";
import { auth as oauth2Bearer } from "express-oauth2-jwt-bearer";
import Fastify from "fastify";
import type { FastifyRequest } from "fastify";
import fastifyJwt from "@fastify/jwt";
import { createTenantAuth } from "../src/index.js";
import type { UserPoolConfig } from "../src/index.js";
import { tenantAuth } from "../src/adapters/express.js";
import { tenantAuthPlugin } from "../src/adapters/fastify.js";

export interface HttpServerInput {
  userPoolId: string;
  issuer: string;
  clientId: string;
  jwksUri: string;
  jwks: { keys: object[] };
  publicKeyPem: string;
  /** The verified-token cache of the fresh-token servers: fewer entries than tokens rotated. */
  freshCacheEntries: number;
}

const input = JSON.parse(process.env["BENCH_HTTP"] ?? "{}") as HttpServerInput;
const userPool: UserPoolConfig = { userPoolId: input.userPoolId, clientId: input.clientId, tokenUse: "id", jwks: input.jwks };
const BARE_SUB = "00000000-0000-4000-8000-000000000000";

type Listen = () => Promise<number>;

function expressApp(setup: (app: express.Express) => void, sub: (req: express.Request) => string): Listen {
  const app = express();
  app.disable("x-powered-by");
  setup(app);
  app.get("/", (req, res) => {
    res.json({ sub: sub(req) });
  });
  // Quiet refusals (a failed request would show as non-2xx in the results anyway).
  app.use((err: { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err.status ?? 500).end();
  });
  return () =>
    new Promise((resolve) => {
      const server = app.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
      server.keepAliveTimeout = 60_000;
    });
}

function fastifyApp(setup: (app: ReturnType<typeof Fastify>) => Promise<void>, sub: (req: unknown) => string): Listen {
  return async () => {
    const app = Fastify({ logger: false });
    await setup(app);
    app.get("/", async (req) => ({ sub: sub(req) }));
    await app.listen({ port: 0, host: "127.0.0.1" });
    return (app.server.address() as AddressInfo).port;
  };
}

const apps: Record<string, Listen> = {
  expressBare: expressApp(
    () => {},
    () => BARE_SUB,
  ),
  expressTenant: expressApp(
    (app) => app.use(tenantAuth(createTenantAuth({ userPools: [userPool] }))),
    (req) => req.tenant!.sub,
  ),
  expressTenantNoCache: expressApp(
    (app) => app.use(tenantAuth(createTenantAuth({ userPools: [userPool], cache: false }))),
    (req) => req.tenant!.sub,
  ),
  // express-oauth2-jwt-bearer offline: issuer + jwksUri (plain http on loopback is accepted when
  // NODE_ENV is not "production") + audience + tokenSigningAlg; no OIDC discovery.
  expressOauth2: expressApp(
    (app) => app.use(oauth2Bearer({ issuer: input.issuer, jwksUri: input.jwksUri, audience: input.clientId, tokenSigningAlg: "RS256" })),
    (req) => String((req as unknown as { auth: { payload: { sub: string } } }).auth.payload.sub),
  ),
  // The fresh-token rows: a verified-token cache smaller than the rotated token pool (bench/http.ts).
  expressTenantFresh: expressApp(
    (app) => app.use(tenantAuth(createTenantAuth({ userPools: [userPool], cache: { maxEntries: input.freshCacheEntries } }))),
    (req) => req.tenant!.sub,
  ),
  fastifyBare: fastifyApp(
    async () => {},
    () => BARE_SUB,
  ),
  fastifyTenantFresh: fastifyApp(
    async (app) => {
      await app.register(tenantAuthPlugin, { auth: createTenantAuth({ userPools: [userPool], cache: { maxEntries: input.freshCacheEntries } }) });
    },
    (req) => (req as { tenant: { sub: string } }).tenant.sub,
  ),
  fastifyTenant: fastifyApp(
    async (app) => {
      await app.register(tenantAuthPlugin, { auth: createTenantAuth({ userPools: [userPool] }) });
    },
    (req) => (req as { tenant: { sub: string } }).tenant.sub,
  ),
  fastifyTenantNoCache: fastifyApp(
    async (app) => {
      await app.register(tenantAuthPlugin, { auth: createTenantAuth({ userPools: [userPool], cache: false }) });
    },
    (req) => (req as { tenant: { sub: string } }).tenant.sub,
  ),
  // @fastify/jwt with the public key PEM, verifying in onRequest as its README shows. fast-jwt's
  // own verified-token cache is off by default; the "cache" row switches it on.
  fastifyJwt: fastifyApp(
    async (app) => {
      await app.register(fastifyJwt, {
        secret: { public: input.publicKeyPem },
        verify: { algorithms: ["RS256"], allowedIss: input.issuer, allowedAud: input.clientId },
      });
      app.addHook("onRequest", async (req: FastifyRequest) => {
        await req.jwtVerify();
      });
    },
    (req) => String((req as { user: { sub: string } }).user.sub),
  ),
  fastifyJwtCache: fastifyApp(
    async (app) => {
      await app.register(fastifyJwt, {
        secret: { public: input.publicKeyPem },
        verify: { algorithms: ["RS256"], allowedIss: input.issuer, allowedAud: input.clientId, cache: true },
      });
      app.addHook("onRequest", async (req: FastifyRequest) => {
        await req.jwtVerify();
      });
    },
    (req) => String((req as { user: { sub: string } }).user.sub),
  ),
};

const ports: Record<string, number> = {};
for (const [name, listen] of Object.entries(apps)) ports[name] = await listen();
process.stdout.write(`${JSON.stringify({ ports })}\n`);
// Stop with the parent.
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
