/**
 * Cache bounds, measured: feed a million distinct tokens through resolveTenant and watch the heap.
 *
 *   npx tsx scripts/cache-bounds.ts [tokens=1000000] [maxEntries=10000]
 *
 * Only verified tokens are cached, so the tokens must be valid: they are minted here, one at a time
 * (never held in an array, which would measure the test rather than the library), signed ES256
 * with node:crypto (a P-256 signature costs tens of microseconds; an RSA-2048 one, a millisecond).
 * Each token is distinct (sub, jti, groups), Cognito-shaped (~0.8 KB), and verified once.
 *
 * Phases: (1) N valid tokens, (2) N forged tokens (right kid, wrong key: refused, never cached),
 * (3) one valid token asked with N distinct tenant hints it is not entitled to (403, never cached).
 * The heap is sampled after a full GC at checkpoints. A flat heap once the cache is full is the
 * bound holding; the figures go in docs/security.md.
 */
import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { TenantAuthError, createTenantAuth } from "../src/index.js";

const N = Number(process.argv[2] ?? 1_000_000);
const MAX_ENTRIES = Number(process.argv[3] ?? 10_000);
const CHECKPOINTS = 10;

setFlagsFromString("--expose_gc");
const gc = runInNewContext("gc") as () => void;
const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
function heap(): { heapUsed: number; rss: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss };
}

const kid = "bounds-es256";
const issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Bounds";
const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const foreign = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
const jwk = { ...(publicKey.export({ format: "jwk" }) as object), kid, alg: "ES256", use: "sig" };
const header = Buffer.from(JSON.stringify({ kid, alg: "ES256" })).toString("base64url");

function mint(i: number, key = privateKey): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    sub: randomUUID(),
    "cognito:groups": [`tenant:t${i % 1000}`, `tenant:t${i % 1000}:member`],
    email_verified: true,
    iss: issuer,
    "cognito:username": `user-${i}`,
    origin_jti: randomUUID(),
    aud: "bounds-client",
    event_id: randomUUID(),
    token_use: "id",
    auth_time: now,
    exp: now + 3600,
    iat: now,
    jti: randomUUID(),
    email: `user-${i}@example.com`,
  };
  const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
  return `${input}.${sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
}

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_Bounds", clientId: "bounds-client", tokenUse: "id", jwks: { keys: [jwk] } }],
  cache: { maxEntries: MAX_ENTRIES },
});

interface Row {
  phase: string;
  done: number;
  heapMb: string;
  rssMb: string;
  deltaMb: string;
  seconds: string;
}
const rows: Row[] = [];
let base = heap();
const start = Date.now();
const record = (phase: string, done: number) => {
  const h = heap();
  rows.push({ phase, done, heapMb: mb(h.heapUsed), rssMb: mb(h.rss), deltaMb: mb(h.heapUsed - base.heapUsed), seconds: ((Date.now() - start) / 1000).toFixed(1) });
  const r = rows[rows.length - 1] as Row;
  console.error(`${r.phase.padEnd(18)} ${String(r.done).padStart(9)}  heap ${r.heapMb.padStart(7)} MB  (+${r.deltaMb} MB)  rss ${r.rssMb} MB  ${r.seconds}s`);
};

async function main(): Promise<void> {
  // Warm up (JIT, key objects) before the baseline.
  for (let i = 0; i < 200; i++) await auth.resolveTenant(mint(i));
  auth.clearCache();
  base = heap();
  record("baseline", 0);

  // Phase 1: N distinct valid tokens.
  let wrong = 0;
  for (let i = 1; i <= N; i++) {
    const p = await auth.resolveTenant(mint(i));
    if (p.tenantId !== `t${i % 1000}`) wrong++;
    if (i === MAX_ENTRIES || i % Math.max(1, Math.floor(N / CHECKPOINTS)) === 0) record("valid tokens", i);
  }
  const afterValid = heap().heapUsed;

  // Phase 2: N forged tokens (refused, so never cached).
  let accepted = 0;
  for (let i = 1; i <= N; i++) {
    try {
      await auth.resolveTenant(mint(i, foreign));
      accepted++;
    } catch (err) {
      if (!(err instanceof TenantAuthError) || err.code !== "token_invalid") throw err;
    }
    if (i % Math.max(1, Math.floor(N / (CHECKPOINTS / 2))) === 0) record("forged tokens", i);
  }

  // Phase 3: one valid token, N distinct hints it is not entitled to (403, nothing kept).
  const token = mint(7);
  await auth.resolveTenant(token);
  for (let i = 1; i <= N; i++) {
    try {
      await auth.resolveTenant(token, { tenantHint: `h${i}` });
      accepted++;
    } catch (err) {
      if (!(err instanceof TenantAuthError) || err.code !== "tenant_forbidden") throw err;
    }
    if (i % Math.max(1, Math.floor(N / (CHECKPOINTS / 2))) === 0) record("foreign hints", i);
  }

  const full = rows.find((r) => r.phase === "valid tokens" && r.done === MAX_ENTRIES);
  const perEntry = full ? (Number(full.deltaMb) * 1024 * 1024) / MAX_ENTRIES : NaN;
  console.log(`\nCache bounds: ${N} distinct tokens per phase, cache.maxEntries ${MAX_ENTRIES}, node ${process.version}`);
  console.log("| phase | requests | heap used (MB) | Δ vs baseline (MB) | rss (MB) | elapsed (s) |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.phase} | ${r.done} | ${r.heapMb} | ${r.deltaMb} | ${r.rssMb} | ${r.seconds} |`);
  console.log(`\n~${Math.round(perEntry)} bytes of heap per cached principal; heap after ${N} valid tokens: ${mb(afterValid)} MB.`);
  console.log(`wrong tenants: ${wrong}; forged or foreign-hint requests accepted: ${accepted}`);
  if (wrong > 0 || accepted > 0) process.exitCode = 1;
}

await main();
