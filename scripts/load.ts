/**
 * Bounded load run on loopback: Express and Fastify apps protected by the adapters, hit
 * by autocannon with a fixed number of requests mixing valid, expired, forged, alg-none,
 * cross-tenant, wrong-client, garbage and missing tokens. Every response is checked against the
 * status (and, for 200s, the tenant) its request must get. Prints a table; exits non-zero on any
 * wrong decision or any 5xx.
 *
 *   npm run load                       # 20000 requests per app, 50 connections
 *   npx tsx scripts/load.ts 50000 100  # requests per app, connections
 *   LOAD_APPS=fastify npm run load     # one app only
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import autocannon from "autocannon";
import express from "express";
import Fastify from "fastify";
import { createTenantAuth } from "../src/index.js";
import type { TenantAuth } from "../src/index.js";
import { tenantAuth, tenantAuthErrorHandler } from "../src/adapters/express.js";
import { tenantAuthPlugin } from "../src/adapters/fastify.js";
import { createTestIssuer } from "../src/testing/index.js";

const AMOUNT = Number(process.argv[2] ?? 20_000);
const CONNECTIONS = Number(process.argv[3] ?? 50);
const DISTINCT = 8; // distinct tokens per kind
const APPS = (process.env["LOAD_APPS"] ?? "express,fastify").split(",");

setFlagsFromString("--expose_gc");
const gc = runInNewContext("gc") as () => void;
const heapMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

interface Case {
  kind: string;
  path: string;
  headers: Record<string, string>;
  status: number;
  tenant?: string;
}

async function buildCases(): Promise<{ auth: () => TenantAuth; cases: Case[] }> {
  const issuer = await createTestIssuer();
  const auth = () => createTenantAuth({ userPools: [{ ...issuer.userPool, tokenUse: "id" }] });
  const cases: Case[] = [];
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  for (let i = 0; i < DISTINCT; i++) {
    const acme = await issuer.idToken({ groups: ["tenant:acme", "tenant:acme:admin"] });
    const dual = await issuer.idToken({ groups: ["tenant:acme", "tenant:globex"] });
    cases.push({ kind: "valid", path: "/tenants/acme/docs", headers: bearer(acme), status: 200, tenant: "acme" });
    cases.push({ kind: "valid (2 tenants)", path: "/tenants/globex/docs", headers: bearer(dual), status: 200, tenant: "globex" });
    cases.push({ kind: "valid (header hint)", path: "/docs", headers: { ...bearer(dual), "x-tenant-id": "acme" }, status: 200, tenant: "acme" });
    cases.push({ kind: "cross-tenant", path: "/tenants/globex/docs", headers: bearer(acme), status: 403 });
    cases.push({ kind: "cross-tenant (header)", path: "/docs", headers: { ...bearer(acme), "x-tenant-id": "initech" }, status: 403 });
    cases.push({ kind: "expired", path: "/tenants/acme/docs", headers: bearer(await issuer.idToken({ groups: ["tenant:acme"], expiresIn: -60 })), status: 401 });
    cases.push({ kind: "forged", path: "/tenants/acme/docs", headers: bearer(await issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" })), status: 401 });
    const [, payload] = acme.split(".");
    cases.push({ kind: "alg none", path: "/tenants/acme/docs", headers: bearer(`${b64({ alg: "none", kid: issuer.kid })}.${payload}.`), status: 401 });
    const tampered = `${acme.split(".")[0]}.${b64({ ...JSON.parse(Buffer.from(payload as string, "base64url").toString()), "cognito:groups": ["tenant:globex"] })}.${acme.split(".")[2]}`;
    cases.push({ kind: "tampered payload", path: "/tenants/globex/docs", headers: bearer(tampered), status: 401 });
    cases.push({ kind: "access token (id required)", path: "/tenants/acme/docs", headers: bearer(await issuer.accessToken({ groups: ["tenant:acme"] })), status: 401 });
    cases.push({ kind: "wrong client", path: "/tenants/acme/docs", headers: bearer(await issuer.idToken({ groups: ["tenant:acme"], clientId: "other" })), status: 401 });
    cases.push({ kind: "no tenant", path: "/docs", headers: bearer(await issuer.idToken({ groups: ["staff"] })), status: 403 });
    cases.push({ kind: "ambiguous tenant", path: "/docs", headers: bearer(dual), status: 400 });
    cases.push({ kind: "garbage", path: "/tenants/acme/docs", headers: bearer(`${"x".repeat(40)}.${"y".repeat(40)}.${i}`), status: 401 });
    cases.push({ kind: "missing", path: "/tenants/acme/docs", headers: {}, status: 401 });
  }
  return { auth, cases };
}

function expressApp(auth: TenantAuth) {
  const app = express();
  const handler = (req: express.Request, res: express.Response) => {
    res.json({ tenant: req.tenant?.tenantId });
  };
  app.get("/tenants/:tenantId/docs", tenantAuth(auth, { tenantParam: "tenantId" }), handler);
  app.get("/docs", tenantAuth(auth), handler);
  app.use(tenantAuthErrorHandler());
  return app;
}

async function fastifyApp(auth: TenantAuth) {
  const app = Fastify({ logger: false });
  await app.register(tenantAuthPlugin, { auth, tenantParam: "tenantId" });
  app.get("/tenants/:tenantId/docs", async (req) => ({ tenant: req.tenant?.tenantId }));
  app.get("/docs", async (req) => ({ tenant: req.tenant?.tenantId }));
  return app;
}

interface Outcome {
  app: string;
  requests: number;
  wrong: number;
  serverErrors: number;
  transportErrors: number;
  rps: number;
  p99: number;
  heapBefore: number;
  heapAfter: number;
  byKind: Map<string, { sent: number; wrong: number; statuses: Map<number, number> }>;
  examples: string[];
}

async function run(app: string, url: string, cases: Case[]): Promise<Outcome> {
  const byKind = new Map<string, { sent: number; wrong: number; statuses: Map<number, number> }>();
  const examples: string[] = [];
  let wrong = 0;
  let serverErrors = 0;
  let answered = 0;
  const requests = cases.map((c) => ({
    method: "GET" as const,
    path: c.path,
    headers: c.headers,
    onResponse: (status: number, body: string) => {
      answered++;
      const row = byKind.get(c.kind) ?? { sent: 0, wrong: 0, statuses: new Map<number, number>() };
      row.sent++;
      row.statuses.set(status, (row.statuses.get(status) ?? 0) + 1);
      if (status >= 500) serverErrors++;
      let ok = status === c.status;
      if (ok && status === 200) {
        try {
          ok = (JSON.parse(body) as { tenant?: string }).tenant === c.tenant;
        } catch {
          ok = false;
        }
      }
      if (!ok) {
        wrong++;
        row.wrong++;
        if (examples.length < 5) examples.push(`${app} ${c.kind} ${c.path}: got ${status} ${body.slice(0, 120)}, expected ${c.status}${c.tenant ? ` (${c.tenant})` : ""}`);
      }
      byKind.set(c.kind, row);
    },
  }));
  // Warm up (JIT, verified-token cache) with one pass over the cases, then measure.
  await autocannon({ url, connections: 1, amount: cases.length, requests });
  byKind.clear();
  wrong = 0;
  serverErrors = 0;
  answered = 0;
  examples.length = 0;
  const heapBefore = heapMb();
  const result = await autocannon({ url, connections: CONNECTIONS, amount: AMOUNT, requests, timeout: 10 });
  const heapAfter = heapMb();
  return {
    app,
    requests: answered,
    wrong,
    serverErrors,
    transportErrors: result.errors + result.timeouts,
    rps: Math.round(result.requests.average),
    p99: result.latency.p99,
    heapBefore,
    heapAfter,
    byKind,
    examples,
  };
}

async function main(): Promise<void> {
  const { auth, cases } = await buildCases();
  const outcomes: Outcome[] = [];

  if (APPS.includes("express")) {
    const server: Server = await new Promise((resolve) => {
      const s = expressApp(auth()).listen(0, "127.0.0.1", () => resolve(s));
    });
    try {
      outcomes.push(await run("express", `http://127.0.0.1:${(server.address() as AddressInfo).port}`, cases));
    } finally {
      await new Promise((r) => server.close(r));
    }
  }

  if (APPS.includes("fastify")) {
    const fastify = await fastifyApp(auth());
    try {
      const url = await fastify.listen({ port: 0, host: "127.0.0.1" });
      outcomes.push(await run("fastify", url, cases));
    } finally {
      await fastify.close();
    }
  }

  console.log(`\nLoad run: ${AMOUNT} requests per app, ${CONNECTIONS} connections, ${cases.length} distinct requests (${DISTINCT} tokens per kind), node ${process.version}`);
  console.log("| app | requests | wrong decisions | 5xx | transport errors | req/s | p99 latency (ms) | heap before (MB) | heap after (MB) |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const o of outcomes) {
    console.log(`| ${o.app} | ${o.requests} | ${o.wrong} | ${o.serverErrors} | ${o.transportErrors} | ${o.rps} | ${o.p99} | ${o.heapBefore.toFixed(1)} | ${o.heapAfter.toFixed(1)} |`);
  }
  console.log("\n| kind | expected | express (sent / wrong) | fastify (sent / wrong) |");
  console.log("|---|---:|---:|---:|");
  const kinds = [...new Set(cases.map((c) => c.kind))];
  for (const kind of kinds) {
    const expected = cases.find((c) => c.kind === kind)?.status;
    const cell = (o: Outcome | undefined) => {
      const r = o?.byKind.get(kind);
      return r ? `${r.sent} / ${r.wrong}` : "0 / 0";
    };
    console.log(`| ${kind} | ${expected} | ${cell(outcomes.find((o) => o.app === "express"))} | ${cell(outcomes.find((o) => o.app === "fastify"))} |`);
  }
  for (const o of outcomes) for (const e of o.examples) console.log(`WRONG: ${e}`);
  const bad = outcomes.length !== APPS.length || outcomes.some((o) => o.wrong > 0 || o.serverErrors > 0 || o.requests < AMOUNT);
  if (bad) {
    console.log("\nFAIL: wrong decisions, 5xx, or missing responses");
    process.exitCode = 1;
  } else {
    console.log("\nOK: zero wrong decisions, zero 5xx");
  }
}

await main();
