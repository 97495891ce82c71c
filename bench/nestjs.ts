/**
 * NestJS on loopback: the cost of `TenantAuthGuard` (global, with `@Tenant()` in the handler) against
 * a bare Nest route, on Nest's Express and Fastify platforms, under autocannon. The four apps run in
 * one child process (this file with BENCH_NEST set), autocannon in this one; rounds interleave.
 *
 *   npx tsx bench/nestjs.ts            standalone: prints the section
 *   npx tsx bench/nestjs.ts --quick    one short round
 *
 * bench/run.ts takes the section with `nestjsReport(bench, { quick, log })`.
 */
import "reflect-metadata";
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Type } from "@nestjs/common";
import autocannon from "autocannon";
import { median, pairedRatio, relativeMad } from "./measure.js";
import type { BenchTokens } from "./tokens.js";
import { mintTokens } from "./tokens.js";

/** The apps measured, by id. */
export const NEST_PEERS = [
  { id: "nestExpressBare", label: "Nest (Express platform), no auth" },
  { id: "nestExpressGuard", label: "Nest (Express platform) + TenantAuthGuard" },
  { id: "nestFastifyBare", label: "Nest (Fastify platform), no auth" },
  { id: "nestFastifyGuard", label: "Nest (Fastify platform) + TenantAuthGuard" },
] as const;

interface ServerInput {
  userPoolId: string;
  clientId: string;
  jwks: { keys: object[] };
}

// ---------------------------------------------------------------- the child: four Nest apps

async function serve(input: ServerInput): Promise<void> {
  const { Controller, Get, Module } = await import("@nestjs/common");
  const { APP_GUARD, NestFactory } = await import("@nestjs/core");
  const { ExpressAdapter } = await import("@nestjs/platform-express");
  const { FastifyAdapter } = await import("@nestjs/platform-fastify");
  const { createTenantAuth } = await import("../src/index.js");
  const { Tenant, TenantAuthGuard, TenantAuthModule } = await import("../src/adapters/nestjs.js");
  const auth = createTenantAuth({ userPools: [{ userPoolId: input.userPoolId, clientId: input.clientId, tokenUse: "id", jwks: input.jwks }] });

  // Nest's decorators applied as functions: the repository compiles without decorator syntax.
  function rootModule(guarded: boolean): Type {
    class BenchController {
      get(tenant?: { sub: string }) {
        return { sub: tenant?.sub ?? "00000000-0000-4000-8000-000000000000" };
      }
    }
    if (guarded) Tenant()(BenchController.prototype, "get", 0);
    const descriptor = Object.getOwnPropertyDescriptor(BenchController.prototype, "get")!;
    Reflect.decorate([Get()], BenchController.prototype, "get", descriptor);
    Controller()(BenchController);
    class BenchModule {}
    Module(
      guarded ? { imports: [TenantAuthModule.forRoot({ auth })], controllers: [BenchController], providers: [{ provide: APP_GUARD, useClass: TenantAuthGuard }] } : { controllers: [BenchController] },
    )(BenchModule);
    return BenchModule;
  }

  const ports: Record<string, number> = {};
  for (const peer of NEST_PEERS) {
    const adapter = peer.id.startsWith("nestExpress") ? new ExpressAdapter() : new FastifyAdapter();
    const app = await NestFactory.create(rootModule(peer.id.endsWith("Guard")), adapter, { logger: false });
    await app.listen(0, "127.0.0.1");
    ports[peer.id] = (app.getHttpServer().address() as AddressInfo).port;
  }
  process.stdout.write(`${JSON.stringify({ ports })}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

// ---------------------------------------------------------------- the parent: load and report

/** req/s and p99 per round, by peer id. */
export interface NestBenchResult {
  readonly reqPerSec: Map<string, number[]>;
  readonly p99Ms: Map<string, number[]>;
  readonly failures: Map<string, number>;
  readonly rounds: number;
  readonly seconds: number;
  readonly connections: number;
}

function load(url: string, token: string, seconds: number, connections: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, headers: { authorization: `Bearer ${token}` } }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

export async function runNestjsBench(bench: BenchTokens, options: { rounds: number; seconds: number; connections: number; log?: (line: string) => void }): Promise<NestBenchResult> {
  const input: ServerInput = { userPoolId: bench.issuer.userPoolId, clientId: bench.issuer.clientId, jwks: bench.issuer.jwks as { keys: object[] } };
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
    env: { ...process.env, NODE_ENV: "development", BENCH_NEST: JSON.stringify(input) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`bench Nest server exited (${code})`)));
  });
  const { ports } = JSON.parse(first) as { ports: Record<string, number> };
  const token = bench.tokens[0]!;
  const reqPerSec = new Map<string, number[]>(NEST_PEERS.map((p) => [p.id, []]));
  const p99Ms = new Map<string, number[]>(NEST_PEERS.map((p) => [p.id, []]));
  const failures = new Map<string, number>(NEST_PEERS.map((p) => [p.id, 0]));
  try {
    for (const peer of NEST_PEERS) {
      const res = await fetch(`http://127.0.0.1:${ports[peer.id]}/`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`${peer.label} answered ${res.status} to a valid token`);
      await res.arrayBuffer();
    }
    for (const peer of NEST_PEERS) await load(`http://127.0.0.1:${ports[peer.id]}/`, token, 1, options.connections);
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < NEST_PEERS.length; i++) {
        const peer = NEST_PEERS[(i + round) % NEST_PEERS.length]!;
        const r = await load(`http://127.0.0.1:${ports[peer.id]}/`, token, options.seconds, options.connections);
        reqPerSec.get(peer.id)!.push(r.requests.total / r.duration);
        p99Ms.get(peer.id)!.push(r.latency.p99);
        failures.set(peer.id, failures.get(peer.id)! + r.non2xx + r.errors + r.timeouts);
      }
      options.log?.(`  nestjs round ${round + 1}/${options.rounds}: ` + NEST_PEERS.map((p) => `${p.id} ${Math.round(median(reqPerSec.get(p.id)!))}`).join(", "));
    }
  } finally {
    child.stdin!.end();
    child.kill();
  }
  return { reqPerSec, p99Ms, failures, rounds: options.rounds, seconds: options.seconds, connections: options.connections };
}

/** The markdown section for docs/benchmarks.md. */
export function nestjsSection(r: NestBenchResult): string[] {
  const rps = (id: string) => r.reqPerSec.get(id)!;
  const rows = NEST_PEERS.map((p) => {
    const bare = p.id.replace("Guard", "Bare");
    const ratio = p.id.endsWith("Guard") ? `${pairedRatio(rps(p.id), rps(bare)).toFixed(2)}x` : "1.00x";
    return `| ${p.label} | ${Math.round(median(rps(p.id)))} | ±${(relativeMad(rps(p.id)) * 100).toFixed(0)}% | ${median(r.p99Ms.get(p.id)!).toFixed(1)} | ${ratio} | ${r.failures.get(p.id)} |`;
  });
  return [
    `### NestJS on loopback`,
    "",
    `NestJS 11, one route answering \`{ sub }\`; the guard global (\`APP_GUARD\`) with \`@Tenant()\` in the handler, the same token on every request (a cached principal). ` +
      `${r.rounds} interleaved rounds of ${r.seconds} s, ${r.connections} connections; medians; the ratio is paired per round against the bare route of the same platform.`,
    "",
    "| app | req/s | noise | p99 ms | vs bare | failed |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
  ];
}

/** Run and report, as bench/run.ts calls it. */
export async function nestjsReport(bench: BenchTokens, options: { quick: boolean; log?: (line: string) => void }): Promise<string[]> {
  const rounds = options.quick ? 1 : 5;
  const seconds = options.quick ? 1 : 2;
  options.log?.(`NestJS on loopback: ${NEST_PEERS.length} apps, ${rounds} rounds of ${seconds} s each, 10 connections`);
  return nestjsSection(await runNestjsBench(bench, { rounds, seconds, connections: 10, ...(options.log ? { log: options.log } : {}) }));
}

if (process.env["BENCH_NEST"] !== undefined) {
  await serve(JSON.parse(process.env["BENCH_NEST"]) as ServerInput);
} else if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bench = await mintTokens(1);
  const lines = await nestjsReport(bench, { quick: process.argv.includes("--quick"), log: (l) => console.error(l) });
  console.log(lines.join("\n"));
}
