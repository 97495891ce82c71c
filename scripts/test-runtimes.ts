// The Hono suite on every runtime: the one app of test/runtimes/app.ts, bundled with esbuild, served
// by Node, Node with aws-jwt-verify's Web Crypto build, Bun, Deno and workerd (a Cloudflare Workers
// runtime, without nodejs_compat), each answering the one list of test/runtimes/cases.ts. This
// process is the driver: it signs the tokens, serves the key endpoints on 127.0.0.1 port 0, starts
// each runtime as a child, checks every answer, stops the child. Offline: loopback only.
//
//   npx tsx scripts/test-runtimes.ts [--runtime node,deno,...] [--json]
//
// Exit status 0 when every runtime gave every expected answer.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import type { RuntimeTestConfig } from "../test/runtimes/app.js";
import type { RuntimeCase, TokenName } from "../test/runtimes/cases.js";
import { CASES, CEDAR_CASES, CEDAR_UNAVAILABLE_CASES } from "../test/runtimes/cases.js";
import { createTestIssuer } from "../src/testing/index.js";

const root = resolve(import.meta.dirname, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const APP = join(root, "test", "runtimes", "app.ts");
const START_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
// Each runtime may fetch the good key endpoint a few times (first token, one refetch for the
// unknown kid); more would mean a cache that does not hold or a penalty box that does not work.
const MAX_JWKS_FETCHES = 4;

interface Runtime {
  readonly name: string;
  /** What aws-jwt-verify verifies with there. */
  readonly crypto: string;
  /** Whether local Cedar (cedar-wasm) loads there. */
  readonly cedar: boolean;
  /** The entry module around the app. */
  readonly entry: string;
  readonly bundle: { platform: "node" | "browser" | "neutral"; conditions?: string[] };
  /** Start the runtime on the bundle; resolves with the base URL once it answers. */
  start(file: string, dir: string): Promise<{ child: ChildProcess; url: string }>;
}

const serveEntry = (serve: string) => `import { createApp } from ${JSON.stringify(APP)};
const app = createApp(__RUNTIME_CONFIG__);
${serve}`;

const NODE_ENTRY = serveEntry(`import { serve } from "@hono/node-server";
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => console.log("listening " + info.port));`);

const RUNTIMES: readonly Runtime[] = [
  {
    name: "node",
    crypto: "node:crypto (verifySync)",
    cedar: true,
    entry: NODE_ENTRY,
    bundle: { platform: "node" },
    start: (file) => startPrinting(process.execPath, [file]),
  },
  {
    name: "node-webcrypto",
    crypto: "Web Crypto (aws-jwt-verify's browser build, async verify)",
    cedar: true,
    entry: NODE_ENTRY,
    bundle: { platform: "node", conditions: ["browser"] },
    start: (file) => startPrinting(process.execPath, [file]),
  },
  {
    name: "bun",
    crypto: "node:crypto (verifySync)",
    cedar: true,
    entry: serveEntry(`const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
console.log("listening " + server.port);`),
    bundle: { platform: "node" },
    start: (file) => startPrinting(bin("bun"), ["run", file]),
  },
  {
    name: "deno",
    crypto: "node:crypto (verifySync)",
    cedar: true,
    entry: serveEntry(`Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log("listening " + port) }, app.fetch);`),
    bundle: { platform: "node" },
    start: (file) => startPrinting(bin("deno"), ["run", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", "--allow-sys", file]),
  },
  {
    name: "workerd",
    crypto: "Web Crypto (aws-jwt-verify's browser build, async verify); no nodejs_compat",
    cedar: false,
    entry: serveEntry(`export default { fetch: (request, env, ctx) => app.fetch(request, env, ctx) };`),
    bundle: { platform: "browser", conditions: ["workerd", "worker", "browser"] },
    start: startWorkerd,
  },
];

// ---------------------------------------------------------------- children

function startPrinting(command: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" } });
  return new Promise((resolvePromise, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => fail(new Error(`no "listening" line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    function fail(error: Error): void {
      clearTimeout(timer);
      child.kill();
      reject(new Error(`${error.message}\n--- stdout\n${out}\n--- stderr\n${err}`));
    }
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ child, url: `http://127.0.0.1:${m[1]}` });
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", (e) => fail(e));
    child.on("exit", (code) => fail(new Error(`exited with ${code} before listening`)));
  });
}

/** A port free on 127.0.0.1 now (workerd takes its socket address from the config). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function startWorkerd(file: string, dir: string): Promise<{ child: ChildProcess; url: string }> {
  let lastError: unknown;
  // Another process may take the port between freePort() and workerd's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = join(dir, "config.capnp");
    writeFileSync(
      config,
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # The worker's fetch() goes out through "internet"; the key endpoints are on loopback.
    (name = "internet", network = (allow = ["local", "private", "public"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "${file.split("/").pop()}") ],
  compatibilityDate = "2025-01-01",
);
`,
    );
    const child = spawn(bin("workerd"), ["serve", config, "--verbose"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout!.on("data", (c: Buffer) => (log += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (log += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + START_TIMEOUT_MS;
    let exited = false;
    child.on("exit", () => (exited = true));
    while (!exited && Date.now() < deadline) {
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
        if (res.status === 200) return { child, url };
      } catch (err) {
        lastError = err;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill();
    lastError = new Error(`workerd did not answer on ${url}\n${log}`);
  }
  throw lastError;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      r();
    });
    child.kill();
  });
}

// ---------------------------------------------------------------- key endpoints

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler!);
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

// ---------------------------------------------------------------- checks

interface Result {
  runtime: string;
  crypto: string;
  cedar: string;
  passed: number;
  failures: string[];
  jwksFetches: number;
}

function fill(value: string, tokens: Record<TokenName, string>): string {
  return value.replace(/\{(\w+)\}/g, (_, name: string) => tokens[name as TokenName]);
}

async function check(url: string, c: RuntimeCase, tokens: Record<TokenName, string>): Promise<string | undefined> {
  const headers = Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k, fill(v, tokens)]));
  let res: Response;
  try {
    res = await fetch(`${url}${c.path}`, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    return `${c.name}: request failed: ${String(err)}`;
  }
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  const problems: string[] = [];
  if (res.status !== c.status) problems.push(`status ${res.status}, expected ${c.status}`);
  if (c.body !== undefined && JSON.stringify(body) !== JSON.stringify(c.body)) problems.push(`body ${text}, expected ${JSON.stringify(c.body)}`);
  if (c.error !== undefined && body?.["error"] !== c.error) problems.push(`error ${String(body?.["error"])}, expected ${c.error} (${text.slice(0, 200)})`);
  if (c.challenge !== undefined && res.headers.get("www-authenticate") !== c.challenge) problems.push(`WWW-Authenticate ${res.headers.get("www-authenticate")}, expected ${c.challenge}`);
  if (c.status >= 400 && !/^application\/json/.test(res.headers.get("content-type") ?? "")) problems.push(`content-type ${res.headers.get("content-type")}`);
  return problems.length === 0 ? undefined : `${c.name}: ${problems.join("; ")}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { runtime: { type: "string" }, json: { type: "boolean" } } });
  const only = values.runtime?.split(",");
  const selected = RUNTIMES.filter((r) => only === undefined || only.includes(r.name));
  if (selected.length === 0) throw new Error(`no runtime named ${values.runtime}; known: ${RUNTIMES.map((r) => r.name).join(", ")}`);

  const issuer = await createTestIssuer();
  const longAgo = Math.floor(Date.now() / 1000) - 3600;
  const tokens: Record<TokenName, string> = {
    good: await issuer.idToken({ sub: "user-1", groups: ["tenant:acme:admin", "staff"] }),
    both: await issuer.idToken({ sub: "user-2", groups: ["tenant:acme:admin", "tenant:globex:viewer"] }),
    viewer: await issuer.idToken({ groups: ["tenant:acme:viewer"] }),
    expired: await issuer.idToken({ groups: ["tenant:acme"], expiresIn: -120, issuedAt: longAgo }),
    forged: await issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" }),
    wrongClient: await issuer.idToken({ groups: ["tenant:acme"], clientId: "another-client" }),
    scoped: await issuer.accessToken({ groups: ["tenant:acme:admin"], scopes: ["docs/read"] }),
    unscoped: await issuer.accessToken({ groups: ["tenant:acme:admin"], scopes: ["docs/write"] }),
    unknownKid: await issuer.idToken({ groups: ["tenant:acme"], header: { kid: "not-published" }, signWith: "foreign" }),
  };

  const dir = mkdtempSync(join(root, ".tmp-runtimes-"));
  const servers: Server[] = [];
  const results: Result[] = [];
  try {
    const hanging = await listen(() => {
      // Never answers: the verifier's timeout must end the wait.
    });
    const oversized = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [], padding: "x".repeat(64 * 1024) }));
    });
    servers.push(hanging.server, oversized.server);

    for (const runtime of selected) {
      // A fresh key endpoint per runtime, so its fetch count is that runtime's alone.
      const jwks = await issuer.listen();
      const redirecting = await listen((_req, res) => {
        res.writeHead(302, { location: jwks.jwksUri });
        res.end();
      });
      const config: RuntimeTestConfig = {
        pool: jwks.userPool,
        hangingJwksUri: `${hanging.url}/jwks.json`,
        oversizedJwksUri: `${oversized.url}/jwks.json`,
        redirectingJwksUri: `${redirecting.url}/jwks.json`,
      };
      const file = join(dir, `${runtime.name}.mjs`);
      const result: Result = { runtime: runtime.name, crypto: runtime.crypto, cedar: runtime.cedar ? "loads" : "refused (503 authorizer_unavailable)", passed: 0, failures: [], jwksFetches: 0 };
      results.push(result);
      let child: ChildProcess | undefined;
      try {
        await build({
          stdin: { contents: runtime.entry, resolveDir: root, loader: "ts", sourcefile: `${runtime.name}-entry.ts` },
          bundle: true,
          format: "esm",
          outfile: file,
          platform: runtime.bundle.platform,
          ...(runtime.bundle.conditions ? { conditions: runtime.bundle.conditions } : {}),
          target: "es2022",
          define: { __RUNTIME_CONFIG__: JSON.stringify(config) },
          // cedar-wasm is loaded lazily by a dynamic import; where it cannot load, the authorizer refuses.
          external: ["@cedar-policy/cedar-wasm", "@cedar-policy/cedar-wasm/*", "@opentelemetry/api"],
          // Node built-ins of Node-only packages (the node build of aws-jwt-verify) keep their node: prefix.
          banner: runtime.bundle.platform === "node" ? { js: `import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);` } : {},
          logLevel: "silent",
        });
        // The bundle holds the aws-jwt-verify build this runtime is meant to verify with.
        const webBuild = readFileSync(file, "utf8").includes("Synchronously verifying a JWT signature is not supported");
        if (webBuild !== runtime.crypto.startsWith("Web Crypto")) result.failures.push(`the bundle holds aws-jwt-verify's ${webBuild ? "Web Crypto" : "node:crypto"} build`);
        const started = await runtime.start(file, dir);
        child = started.child;
        const cases = [...CASES, ...(runtime.cedar ? CEDAR_CASES : CEDAR_UNAVAILABLE_CASES)];
        for (const c of cases) {
          const failure = await check(started.url, c, tokens);
          if (failure === undefined) result.passed++;
          else result.failures.push(failure);
        }
        result.jwksFetches = jwks.requestCount;
        if (jwks.requestCount > MAX_JWKS_FETCHES) result.failures.push(`the key endpoint was fetched ${jwks.requestCount} times (at most ${MAX_JWKS_FETCHES})`);
      } catch (err) {
        result.failures.push(`could not run: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        if (child) await stop(child);
        await jwks.close();
        await new Promise<void>((r) => redirecting.server.close(() => r()));
      }
    }
  } finally {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    rmSync(dir, { recursive: true, force: true });
  }

  if (values.json === true) {
    console.log(JSON.stringify(results));
  } else {
    for (const r of results) {
      console.log(
        `${r.failures.length === 0 ? "ok" : "!!"}  ${r.runtime.padEnd(15)} ${String(r.passed).padStart(2)} passed, ${r.failures.length} failed; keys fetched ${r.jwksFetches}x; ${r.crypto}; local Cedar: ${r.cedar}`,
      );
      for (const f of r.failures) console.log(`      ${f}`);
    }
  }
  return results.every((r) => r.failures.length === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
