/**
 * Hono on Node (@hono/node-server): bare, with `tenantAuth`, and with Hono's own `jwk` middleware
 * (hono/jwk), each under autocannon on loopback, with one token reused and with distinct tokens
 * rotated per request. Servers run in one child process, autocannon in this one; rounds interleave.
 *
 *   npx tsx bench/hono.ts [--quick] [--runtime=node|bun|deno]      prints the table
 *
 * bench/run.ts calls {@link honoSection} for docs/benchmarks.md.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { build } from "esbuild";
import type { HonoServerInput } from "./hono-server.js";
import { median, relativeMad } from "./measure.js";
import type { BenchTokens } from "./tokens.js";
import { mintTokens } from "./tokens.js";

interface HonoRow {
  readonly id: string;
  /** The server peer (bench/hono-server.ts). */
  readonly server: string;
  readonly label: string;
  /** Rotate the distinct tokens per request instead of reusing one. */
  readonly rotate: boolean;
}

export const HONO_ROWS: readonly HonoRow[] = [
  { id: "bare", server: "honoBare", label: "Hono, no auth", rotate: false },
  { id: "tenant", server: "honoTenant", label: "Hono + tenantAuth, one token reused", rotate: false },
  { id: "jwk", server: "honoJwk", label: "Hono + hono/jwk, one token reused", rotate: false },
  { id: "tenantFresh", server: "honoTenantNoCache", label: "Hono + tenantAuth (cache: false), distinct tokens", rotate: true },
  { id: "jwkFresh", server: "honoJwk", label: "Hono + hono/jwk, distinct tokens", rotate: true },
];

export interface HonoBenchOptions {
  rounds: number;
  /** Seconds per autocannon run. */
  seconds: number;
  connections: number;
  /** Default `"node"`. */
  runtime?: HonoRuntime;
  log?: (line: string) => void;
}

/** Where the servers run: Node, or Bun or Deno from node_modules/.bin on an esbuild bundle of hono-server.ts. */
export type HonoRuntime = "node" | "bun" | "deno";

async function serverCommand(runtime: HonoRuntime): Promise<{ command: string; args: string[]; cleanup: () => void }> {
  const script = fileURLToPath(new URL("./hono-server.ts", import.meta.url));
  if (runtime === "node") return { command: process.execPath, args: ["--import", "tsx", script], cleanup: () => {} };
  const root = resolve(dirname(script), "..");
  const dir = mkdtempSync(join(root, ".tmp-runtimes-bench-"));
  const outfile = join(dir, "hono-server.mjs");
  await build({
    entryPoints: [script],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "es2022",
    outfile,
    external: ["@cedar-policy/*", "@opentelemetry/api"],
    banner: { js: `import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);` },
    logLevel: "silent",
  });
  const bin = join(root, "node_modules", ".bin", runtime);
  const args = runtime === "bun" ? ["run", outfile] : ["run", "--allow-net=127.0.0.1", "--allow-env", "--allow-read", "--allow-sys", outfile];
  return { command: bin, args, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function startServers(input: HonoServerInput, runtime: HonoRuntime): Promise<{ ports: Record<string, number>; stop: () => void }> {
  const { command, args, cleanup } = await serverCommand(runtime);
  const child = spawn(command, args, {
    env: { ...process.env, NODE_ENV: "production", BENCH_HONO: JSON.stringify(input) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`bench Hono server exited (${code})`)));
  });
  return {
    ports: (JSON.parse(first) as { ports: Record<string, number> }).ports,
    stop: () => {
      child.stdin!.end();
      child.kill();
      cleanup();
    },
  };
}

function load(url: string, tokens: readonly string[], rotate: boolean, seconds: number, connections: number): Promise<autocannon.Result> {
  let next = 0;
  const requests = rotate
    ? [
        {
          setupRequest: (req: autocannon.Request) => {
            const token = tokens[next++ % tokens.length]!;
            return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
          },
        },
      ]
    : undefined;
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, headers: { authorization: `Bearer ${tokens[0]!}` }, ...(requests ? { requests } : {}) }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

export interface HonoResult {
  readonly reqPerSec: Map<string, number[]>;
  readonly p99Ms: Map<string, number[]>;
  readonly failures: Map<string, number>;
}

/** Measure every row of {@link HONO_ROWS}. */
export async function runHono({ issuer, tokens }: BenchTokens, options: HonoBenchOptions): Promise<HonoResult> {
  const servers = await startServers({ userPoolId: issuer.userPoolId, issuer: issuer.issuer, clientId: issuer.clientId, jwks: issuer.jwks as { keys: object[] } }, options.runtime ?? "node");
  const reqPerSec = new Map<string, number[]>(HONO_ROWS.map((r) => [r.id, []]));
  const p99Ms = new Map<string, number[]>(HONO_ROWS.map((r) => [r.id, []]));
  const failures = new Map<string, number>(HONO_ROWS.map((r) => [r.id, 0]));
  try {
    for (const row of HONO_ROWS) {
      const res = await fetch(`http://127.0.0.1:${servers.ports[row.server]}/`, { headers: { authorization: `Bearer ${tokens[0]!}` } });
      if (res.status !== 200) throw new Error(`${row.label} answered ${res.status} to a valid token`);
      await res.arrayBuffer();
    }
    for (const row of HONO_ROWS) await load(`http://127.0.0.1:${servers.ports[row.server]}/`, tokens, row.rotate, 1, options.connections);
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < HONO_ROWS.length; i++) {
        const row = HONO_ROWS[(i + round) % HONO_ROWS.length]!;
        const r = await load(`http://127.0.0.1:${servers.ports[row.server]}/`, tokens, row.rotate, options.seconds, options.connections);
        reqPerSec.get(row.id)!.push(r.requests.total / r.duration);
        p99Ms.get(row.id)!.push(r.latency.p99);
        failures.set(row.id, failures.get(row.id)! + r.non2xx + r.errors + r.timeouts);
      }
      options.log?.(`  hono round ${round + 1}/${options.rounds}: ${HONO_ROWS.map((r) => `${r.id} ${Math.round(median(reqPerSec.get(r.id)!))}`).join(", ")}`);
    }
  } finally {
    servers.stop();
  }
  return { reqPerSec, p99Ms, failures };
}

/** The markdown section for docs/benchmarks.md: one row per measurement, ratios against bare Hono. */
export async function honoSection(bench: BenchTokens, options: HonoBenchOptions): Promise<string[]> {
  const result = await runHono(bench, options);
  const bare = median(result.reqPerSec.get("bare")!);
  const rows = HONO_ROWS.map((row) => {
    const rps = result.reqPerSec.get(row.id)!;
    const m = median(rps);
    return `| ${row.label} | ${Math.round(m).toLocaleString("en-US")} | ±${(relativeMad(rps) * 100).toFixed(1)}% | ${(m / bare).toFixed(2)}x | ${median(result.p99Ms.get(row.id)!).toFixed(1)} | ${result.failures.get(row.id)} |`;
  });
  const tenant = median(result.reqPerSec.get("tenant")!);
  const jwkReused = median(result.reqPerSec.get("jwk")!);
  const runtime = options.runtime ?? "node";
  const server = { node: "@hono/node-server on Node", bun: "Bun.serve on Bun", deno: "Deno.serve on Deno" }[runtime];
  return [
    `### Hono on ${runtime === "node" ? "Node" : runtime === "bun" ? "Bun" : "Deno"}`,
    "",
    `${server} on 127.0.0.1 (load from Node), autocannon with ${options.connections} connections, ${options.rounds} rounds of ${options.seconds} s, interleaved. ` +
      `"Distinct tokens" rotates ${bench.tokens.length} tokens per request (tenantAuth with \`cache: false\`, so every request verifies a signature; hono/jwk has no cache).`,
    "",
    "| server | req/s (median) | noise | vs bare | p99 ms | non-2xx |",
    "|---|---:|---:|---:|---:|---:|",
    ...rows,
    "",
    `tenantAuth ${(tenant / bare).toFixed(2)}x bare Hono, ${(tenant / jwkReused).toFixed(2)}x hono/jwk with a reused token.`,
    "",
  ];
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes("--quick");
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const bench = await mintTokens(quick ? 200 : 500);
  const runtime = (process.argv.find((a) => a.startsWith("--runtime="))?.slice("--runtime=".length) ?? "node") as HonoRuntime;
  const lines = await honoSection(bench, { rounds: quick ? 1 : 5, seconds: quick ? 2 : 5, connections: 10, runtime, log });
  console.log(lines.join("\n"));
}
