/**
 * HTTP on loopback: Express and Fastify, bare and with each peer's JWT middleware, under
 * autocannon. Servers run in one child process, autocannon in this one; rounds interleave.
 */
import { spawn } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import type { HttpServerInput } from "./http-server.js";
import { median } from "./measure.js";
import type { BenchTokens } from "./tokens.js";

export interface HttpPeer {
  readonly id: string;
  readonly label: string;
}

export const HTTP_PEERS: readonly HttpPeer[] = [
  { id: "expressBare", label: "Express, no auth" },
  { id: "expressTenant", label: "Express + tenantAuth" },
  { id: "expressTenantNoCache", label: "Express + tenantAuth (cache: false)" },
  { id: "expressOauth2", label: "Express + express-oauth2-jwt-bearer" },
  { id: "fastifyBare", label: "Fastify, no auth" },
  { id: "fastifyTenant", label: "Fastify + tenantAuthPlugin" },
  { id: "fastifyTenantNoCache", label: "Fastify + tenantAuthPlugin (cache: false)" },
  { id: "fastifyJwt", label: "Fastify + @fastify/jwt" },
  { id: "fastifyJwtCache", label: "Fastify + @fastify/jwt (fast-jwt cache: true)" },
];

export interface HttpOptions {
  rounds: number;
  /** Seconds per autocannon run. */
  seconds: number;
  connections: number;
  log?: (line: string) => void;
}

export interface HttpResult {
  /** req/s per round, by peer id. */
  readonly reqPerSec: Map<string, number[]>;
  readonly p99Ms: Map<string, number[]>;
  readonly failures: Map<string, number>;
  readonly connections: number;
  readonly seconds: number;
}

async function startServers(input: HttpServerInput): Promise<{ ports: Record<string, number>; stop: () => void }> {
  const script = fileURLToPath(new URL("./http-server.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, NODE_ENV: "development", BENCH_HTTP: JSON.stringify(input) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`bench HTTP server exited (${code})`)));
  });
  const { ports } = JSON.parse(first) as { ports: Record<string, number> };
  return {
    ports,
    stop: () => {
      child.stdin!.end();
      child.kill();
    },
  };
}

function load(url: string, token: string, seconds: number, connections: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, connections, duration: seconds, headers: { authorization: `Bearer ${token}` } },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

export async function runHttp({ issuer, tokens }: BenchTokens, options: HttpOptions): Promise<HttpResult> {
  const jwksServer = await issuer.listen();
  const jwk = issuer.jwks.keys[0]!;
  const input: HttpServerInput = {
    userPoolId: issuer.userPoolId,
    issuer: issuer.issuer,
    clientId: issuer.clientId,
    jwksUri: jwksServer.jwksUri,
    jwks: issuer.jwks as { keys: object[] },
    publicKeyPem: createPublicKey({ key: jwk as never, format: "jwk" }).export({ type: "spki", format: "pem" }).toString(),
  };
  const servers = await startServers(input);
  const token = tokens[0]!;
  const reqPerSec = new Map<string, number[]>(HTTP_PEERS.map((p) => [p.id, []]));
  const p99Ms = new Map<string, number[]>(HTTP_PEERS.map((p) => [p.id, []]));
  const failures = new Map<string, number>(HTTP_PEERS.map((p) => [p.id, 0]));
  try {
    // Every peer must answer 200 to the token before it is measured.
    for (const peer of HTTP_PEERS) {
      const res = await fetch(`http://127.0.0.1:${servers.ports[peer.id]}/`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`${peer.label} answered ${res.status} to a valid token`);
      await res.arrayBuffer();
    }
    // Warm-up: JIT, keep-alive, JWKS fetch (express-oauth2-jwt-bearer).
    for (const peer of HTTP_PEERS) await load(`http://127.0.0.1:${servers.ports[peer.id]}/`, token, 1, options.connections);
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < HTTP_PEERS.length; i++) {
        const peer = HTTP_PEERS[(i + round) % HTTP_PEERS.length]!;
        const r = await load(`http://127.0.0.1:${servers.ports[peer.id]}/`, token, options.seconds, options.connections);
        reqPerSec.get(peer.id)!.push(r.requests.total / r.duration);
        p99Ms.get(peer.id)!.push(r.latency.p99);
        failures.set(peer.id, failures.get(peer.id)! + r.non2xx + r.errors + r.timeouts);
      }
      options.log?.(
        `  http round ${round + 1}/${options.rounds}: ` +
          HTTP_PEERS.map((p) => `${p.id} ${Math.round(median(reqPerSec.get(p.id)!))}`).join(", "),
      );
    }
  } finally {
    servers.stop();
    await jwksServer.close();
  }
  return { reqPerSec, p99Ms, failures, connections: options.connections, seconds: options.seconds };
}
