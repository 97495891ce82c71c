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
  /** The server to load (default: `id`): fresh-token rows of a peer with no cache reuse its server. */
  readonly server?: string;
  /** Every request carries a token the server has not seen (a fleet of users), not one reused token. */
  readonly fresh?: boolean;
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
  // A fleet of users: every request a token new to the server (see FRESH_TOKENS).
  { id: "expressTenantFresh", label: "Express + tenantAuth, a new token every request", fresh: true },
  { id: "expressOauth2Fresh", label: "Express + express-oauth2-jwt-bearer, a new token every request", server: "expressOauth2", fresh: true },
  { id: "fastifyTenantFresh", label: "Fastify + tenantAuthPlugin, a new token every request", fresh: true },
  { id: "fastifyJwtFresh", label: "Fastify + @fastify/jwt, a new token every request", server: "fastifyJwt", fresh: true },
  // Hono rows plug in here, with their servers in http-server.ts: "honoBare", "honoTenant" and
  // "honoTenantFresh" (ids starting with "hono" are compared with "honoBare" in run.ts).
];

/**
 * Tokens signed for the fresh-token rows, rotated. The servers of those rows keep at most
 * FRESH_CACHE_ENTRIES verified tokens (first in, first out), fewer than there are tokens, so a
 * token has always left the cache before it comes round again: every request is verified.
 */
export const FRESH_TOKENS = 4000;
export const FRESH_CACHE_ENTRIES = 1000;

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

function load(url: string, token: string, seconds: number, connections: number, fleet?: readonly string[]): Promise<autocannon.Result> {
  let next = 0;
  const requests = fleet
    ? [
        {
          setupRequest: (req: { headers?: Record<string, string> }) => {
            req.headers = { ...req.headers, authorization: `Bearer ${fleet[next++ % fleet.length]!}` };
            return req;
          },
        },
      ]
    : undefined;
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, headers: { authorization: `Bearer ${token}` }, ...(requests ? { requests: requests as never } : {}) }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

export async function runHttp({ issuer, tokens }: BenchTokens, options: HttpOptions): Promise<HttpResult> {
  options.log?.(`  signing ${FRESH_TOKENS} tokens for the fresh-token rows`);
  const fleet: string[] = [...tokens];
  for (let i = fleet.length; i < FRESH_TOKENS; i++) {
    fleet.push(await issuer.idToken({ groups: ["tenant:acme", "tenant:acme:admin", "staff"], claims: { email: `user${i}@example.com` }, expiresIn: 3600 }));
  }
  const jwksServer = await issuer.listen();
  const jwk = issuer.jwks.keys[0]!;
  const input: HttpServerInput = {
    userPoolId: issuer.userPoolId,
    issuer: issuer.issuer,
    clientId: issuer.clientId,
    jwksUri: jwksServer.jwksUri,
    jwks: issuer.jwks as { keys: object[] },
    publicKeyPem: createPublicKey({ key: jwk as never, format: "jwk" })
      .export({ type: "spki", format: "pem" })
      .toString(),
    freshCacheEntries: FRESH_CACHE_ENTRIES,
  };
  const servers = await startServers(input);
  const url = (peer: HttpPeer) => `http://127.0.0.1:${servers.ports[peer.server ?? peer.id]}/`;
  const token = tokens[0]!;
  const reqPerSec = new Map<string, number[]>(HTTP_PEERS.map((p) => [p.id, []]));
  const p99Ms = new Map<string, number[]>(HTTP_PEERS.map((p) => [p.id, []]));
  const failures = new Map<string, number>(HTTP_PEERS.map((p) => [p.id, 0]));
  try {
    // Every peer must answer 200 to the token before it is measured.
    for (const peer of HTTP_PEERS) {
      const res = await fetch(url(peer), { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`${peer.label} answered ${res.status} to a valid token`);
      await res.arrayBuffer();
    }
    // Warm-up: JIT, keep-alive, JWKS fetch (express-oauth2-jwt-bearer).
    for (const peer of HTTP_PEERS) await load(url(peer), token, 1, options.connections, peer.fresh ? fleet : undefined);
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < HTTP_PEERS.length; i++) {
        const peer = HTTP_PEERS[(i + round) % HTTP_PEERS.length]!;
        const r = await load(url(peer), token, options.seconds, options.connections, peer.fresh ? fleet : undefined);
        reqPerSec.get(peer.id)!.push(r.requests.total / r.duration);
        p99Ms.get(peer.id)!.push(r.latency.p99);
        failures.set(peer.id, failures.get(peer.id)! + r.non2xx + r.errors + r.timeouts);
      }
      options.log?.(`  http round ${round + 1}/${options.rounds}: ` + HTTP_PEERS.map((p) => `${p.id} ${Math.round(median(reqPerSec.get(p.id)!))}`).join(", "));
    }
  } finally {
    servers.stop();
    await jwksServer.close();
  }
  return { reqPerSec, p99Ms, failures, connections: options.connections, seconds: options.seconds };
}
