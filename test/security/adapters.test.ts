/**
 * The attack classes over HTTP, through the Express and Fastify adapters on loopback: every bad
 * request gets its typed status, an RFC 6750 challenge, and a JSON body that names the error and
 * never echoes the token; none gets a 500, none reaches the handler, and the process survives
 * (an unhandled rejection would fail the run).
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import express from "express";
import Fastify from "fastify";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import { tenantAuth, tenantAuthErrorHandler } from "../../src/adapters/express.js";
import { tenantAuthPlugin } from "../../src/adapters/fastify.js";
import { b64url, createRawIssuer, json64 } from "../support/security.js";
import type { RawIssuer } from "../support/security.js";

let rs: RawIssuer;
let attacker: RawIssuer;
let expressServer: Server;
let fastify: FastifyInstance;
const urls: Record<string, string> = {};
let handlerCalls = 0;

beforeAll(async () => {
  rs = await createRawIssuer("RS256");
  attacker = await createRawIssuer("RS256");
  const auth = createTenantAuth({ userPools: [{ ...rs.issuer.userPool, tokenUse: "id" }] });

  const app = express();
  const handler = (req: express.Request, res: express.Response) => {
    handlerCalls++;
    res.json({ tenant: req.tenant?.tenantId });
  };
  app.get("/tenants/:tenantId/docs", tenantAuth(auth, { tenantParam: "tenantId" }), handler);
  app.get("/docs", tenantAuth(auth), handler);
  app.use(tenantAuthErrorHandler());
  expressServer = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  urls["express"] = `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`;

  fastify = Fastify({ logger: false });
  await fastify.register(tenantAuthPlugin, { auth, tenantParam: "tenantId" });
  fastify.get("/tenants/:tenantId/docs", async (req) => {
    handlerCalls++;
    return { tenant: req.tenant?.tenantId };
  });
  fastify.get("/docs", async (req) => {
    handlerCalls++;
    return { tenant: req.tenant?.tenantId };
  });
  urls["fastify"] = await fastify.listen({ port: 0, host: "127.0.0.1" });
});

afterAll(async () => {
  await new Promise((r) => expressServer.close(r));
  await fastify.close();
});

interface Attack {
  name: string;
  path: string;
  headers: () => Record<string, string>;
  status: number;
  code: string;
}

const now = () => Math.floor(Date.now() / 1000);
const attacks: Attack[] = [
  { name: "no credentials", path: "/tenants/acme/docs", headers: () => ({}), status: 401, code: "token_missing" },
  { name: "another scheme", path: "/tenants/acme/docs", headers: () => ({ authorization: "Basic dXNlcjpwYXNz" }), status: 401, code: "token_missing" },
  { name: "Bearer without a token", path: "/tenants/acme/docs", headers: () => ({ authorization: "Bearer" }), status: 400, code: "invalid_request" },
  { name: "two tokens", path: "/tenants/acme/docs", headers: () => ({ authorization: `Bearer ${rs.signJson(rs.claims())} ${rs.signJson(rs.claims())}` }), status: 400, code: "invalid_request" },
  { name: "alg none", path: "/tenants/acme/docs", headers: () => ({ authorization: `Bearer ${json64({ alg: "none" })}.${json64(rs.claims())}.` }), status: 401, code: "token_invalid" },
  { name: "forged signature", path: "/tenants/acme/docs", headers: () => ({ authorization: `Bearer ${attacker.signJson(rs.claims(), rs.header())}` }), status: 401, code: "token_invalid" },
  { name: "crit header", path: "/tenants/acme/docs", headers: () => ({ authorization: `Bearer ${rs.signJson(rs.claims(), rs.header({ crit: ["x"] }))}` }), status: 401, code: "token_invalid" },
  { name: "padded segments", path: "/tenants/acme/docs", headers: () => ({ authorization: `Bearer ${rs.signJson(rs.claims())}=` }), status: 401, code: "token_invalid" },
  { name: "expired", path: "/tenants/acme/docs", headers: () => ({ authorization: `Bearer ${rs.signJson(rs.claims({ exp: now() - 10 }))}` }), status: 401, code: "token_expired" },
  { name: "nbf in the future", path: "/tenants/acme/docs", headers: () => ({ authorization: `Bearer ${rs.signJson(rs.claims({ nbf: now() + 600 }))}` }), status: 401, code: "token_expired" },
  {
    name: "access token where ID required",
    path: "/tenants/acme/docs",
    headers: () => ({ authorization: `Bearer ${rs.signJson(rs.claims({ token_use: "access", client_id: rs.issuer.clientId }))}` }),
    status: 401,
    code: "token_invalid",
  },
  {
    name: "groups as a string",
    path: "/tenants/acme/docs",
    headers: () => ({ authorization: `Bearer ${rs.signJson(rs.claims({ "cognito:groups": "tenant:acme" }))}` }),
    status: 401,
    code: "token_invalid",
  },
  {
    name: "invalid UTF-8",
    path: "/tenants/acme/docs",
    headers: () => ({
      authorization: `Bearer ${rs.signRaw(json64(rs.header()), b64url(Buffer.concat([Buffer.from(JSON.stringify(rs.claims()).slice(0, -1) + ',"x":"'), Buffer.from([0xff]), Buffer.from('"}')])))}`,
    }),
    status: 401,
    code: "token_invalid",
  },
  { name: "cross-tenant (URL)", path: "/tenants/globex/docs", headers: () => ({ authorization: `Bearer ${rs.signJson(rs.claims())}` }), status: 403, code: "tenant_forbidden" },
  { name: "cross-tenant (header)", path: "/docs", headers: () => ({ authorization: `Bearer ${rs.signJson(rs.claims())}`, "x-tenant-id": "globex" }), status: 403, code: "tenant_forbidden" },
  {
    name: "header and URL disagree",
    path: "/tenants/acme/docs",
    headers: () => ({ authorization: `Bearer ${rs.signJson(rs.claims())}`, "x-tenant-id": "globex" }),
    status: 400,
    code: "invalid_request",
  },
  { name: "__proto__ tenant", path: "/tenants/__proto__/docs", headers: () => ({ authorization: `Bearer ${rs.signJson(rs.claims())}` }), status: 403, code: "tenant_forbidden" },
  { name: "no tenant", path: "/docs", headers: () => ({ authorization: `Bearer ${rs.signJson(rs.claims({ "cognito:groups": ["staff"] }))}` }), status: 403, code: "tenant_missing" },
  { name: "oversized token", path: "/tenants/acme/docs", headers: () => ({ authorization: `Bearer ${"a".repeat(12_000)}.${"b".repeat(1000)}.c` }), status: 401, code: "token_invalid" },
];

describe.each(["express", "fastify"])("attack classes over HTTP through %s", (app) => {
  it("baseline: a valid token reaches the handler with its tenant", async () => {
    const res = await fetch(`${urls[app]}/tenants/acme/docs`, { headers: { authorization: `Bearer ${rs.signJson(rs.claims())}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tenant: "acme" });
  });

  for (const attack of attacks) {
    it(`${attack.name}: ${attack.status} ${attack.code}`, async () => {
      const before = handlerCalls;
      const headers = attack.headers();
      const res = await fetch(`${urls[app]}${attack.path}`, { headers });
      const text = await res.text();
      // Express (tenantAuthErrorHandler): { error, error_description }; Fastify's own error
      // serializer: { statusCode, code, error: <reason phrase>, message }.
      const body = JSON.parse(text) as { error?: string; code?: string };
      expect({ status: res.status, code: app === "express" ? body.error : body.code }).toEqual({ status: attack.status, code: attack.code });
      if (attack.status === 401 || attack.status === 403) expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const token = headers["authorization"]?.split(" ")[1];
      if (token) expect(text).not.toContain(token.slice(0, 40));
      expect(handlerCalls).toBe(before);
    });
  }

  it("an oversized header is refused by Node itself (431), never a 500", async () => {
    const res = await fetch(`${urls[app]}/tenants/acme/docs`, { headers: { authorization: `Bearer ${"a".repeat(70_000)}` } });
    expect(res.status).toBe(431);
  });
});
