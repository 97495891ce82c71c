/**
 * Dynamic trust at scale: `resolveUserPool` with 1, 100 and 1,000 pools against the static
 * one-pool figure (warm and cold `resolveTenant`), memory per resolved pool, resolver calls and
 * JWKS fetches per new pool, and a flood of tokens with made-up Cognito issuers.
 *
 *   npx tsx bench/trust.ts [--quick]       print the section
 *   bench/run.ts: `out.push(...(await trustSection(quick, log)));` adds it to docs/benchmarks.md
 *
 * Pools sign with ES256 (a fleet of 1,000 RSA keys takes minutes to generate); every row uses the
 * same algorithm, so the ratios compare like with like.
 */
import { createTenantAuth } from "../src/index.js";
import type { TenantAuth } from "../src/index.js";
import { createTestFleet } from "../src/testing/index.js";
import type { TestFleet } from "../src/testing/index.js";
import { interleave, median, pairedRatio } from "./measure.js";
import type { Candidate } from "./measure.js";

const POOL_COUNTS = [1, 100, 1000] as const;
const TOKENS = 2000;

const fmtUs = (ns: number) => (ns / 1000).toFixed(2);
const fmtX = (x: number) => `${x.toFixed(2)}x`;

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
}

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

interface Setup {
  readonly id: string;
  readonly label: string;
  readonly tokens: readonly string[];
  readonly make: (cache: boolean) => TenantAuth;
}

/** Tokens spread over the first `pools` pools of the fleet, round robin. */
async function tokensOver(fleet: TestFleet, pools: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < TOKENS; i++) out.push(await fleet.pools[i % pools]!.idToken({ sub: `user-${i}`, groups: ["tenant:acme"] }));
  return out;
}

/** Resolve every token once (keys fetched, verifiers built), so the timed rounds measure steady state. */
async function warm(auth: TenantAuth, tokens: readonly string[]): Promise<void> {
  for (const t of tokens) await auth.resolveTenant(t);
}

function candidate(id: string, label: string, auth: TenantAuth, tokens: readonly string[]): Candidate {
  let i = 0;
  return {
    id,
    label,
    maxOps: tokens.length,
    async run(ops) {
      for (let n = 0; n < ops; n++) {
        await auth.resolveTenant(tokens[i]!);
        i = (i + 1) % tokens.length;
      }
    },
  };
}

/** The section's markdown lines. */
export async function trustSection(quick: boolean, log: (line: string) => void = () => {}): Promise<string[]> {
  const rounds = quick ? 5 : 15;
  log("dynamic trust: generating a fleet of 1,000 pools");
  const fleet = await createTestFleet({ pools: 1000 });
  try {
    const resolve = (issuer: string) => fleet.resolveUserPool(issuer);
    const setups: Setup[] = [
      {
        id: "static1",
        label: "static `userPools`, 1 pool",
        tokens: await tokensOver(fleet, 1),
        make: (cache) => createTenantAuth({ userPools: [fleet.pools[0]!.userPool], ...(cache ? {} : { cache: false }) }),
      },
    ];
    for (const n of POOL_COUNTS) {
      setups.push({
        id: `dyn${n}`,
        label: `\`resolveUserPool\`, ${n.toLocaleString("en-US")} pool${n === 1 ? "" : "s"}`,
        tokens: n === 1 ? setups[0]!.tokens : await tokensOver(fleet, n),
        make: (cache) => createTenantAuth({ userPools: [], resolveUserPool: resolve, ...(cache ? {} : { cache: false }) }),
      });
    }

    log("dynamic trust: warm (verified-token cache) and cold (cache off, keys cached) resolveTenant");
    const warmCands: Candidate[] = [];
    const coldCands: Candidate[] = [];
    for (const s of setups) {
      const warmAuth = s.make(true);
      const coldAuth = s.make(false);
      await warm(warmAuth, s.tokens);
      await warm(coldAuth, s.tokens);
      warmCands.push(candidate(s.id, s.label, warmAuth, s.tokens));
      coldCands.push(candidate(s.id, s.label, coldAuth, s.tokens));
    }
    const w = await interleave(warmCands, { rounds, targetMs: quick ? 10 : 30, maxOps: TOKENS });
    const c = await interleave(coldCands, { rounds, targetMs: quick ? 10 : 30, maxOps: TOKENS });

    log("dynamic trust: calls, fetches and memory per new pool");
    let calls = 0;
    const counted = createTenantAuth({
      userPools: [],
      jwks: { timeoutMs: 30_000 },
      resolveUserPool: (issuer) => {
        calls++;
        return fleet.resolveUserPool(issuer);
      },
    });
    const fetchesBefore = fleet.fetchCount;
    const heapBefore = heapMb();
    const first = await Promise.all(fleet.pools.map((p) => p.idToken({ groups: ["tenant:acme"] })));
    // Fifty new pools at a time, five concurrent first requests each.
    for (let i = 0; i < first.length; i += 50) {
      await Promise.all(first.slice(i, i + 50).flatMap((t) => [1, 2, 3, 4, 5].map(() => counted.resolveTenant(t))));
    }
    const heapAfter = heapMb();
    const perPoolKb = ((heapAfter - heapBefore) * 1024) / fleet.pools.length;
    const fetches = fleet.fetchCount - fetchesBefore;

    log("dynamic trust: a flood of 10,000 made-up issuers");
    let floodCalls = 0;
    const flooded = createTenantAuth({
      userPools: [],
      resolveUserPool: (issuer) => {
        floodCalls++;
        return fleet.resolveUserPool(issuer);
      },
    });
    const attacker = fleet.pools[0]!;
    const floodTokens: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      floodTokens.push(await attacker.idToken({ claims: { iss: `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_MadeUp${i % 2000}` } }));
    }
    const floodFetchesBefore = fleet.fetchCount;
    const floodHeapBefore = heapMb();
    for (const t of floodTokens) await flooded.resolveTenant(t).catch(() => undefined);
    const floodHeapAfter = heapMb();

    const ratio = (samples: typeof w, id: string) => pairedRatio(samples.get(id)!.nsPerOp, samples.get("static1")!.nsPerOp);
    const rows = setups.map((s) => [s.label, fmtUs(median(w.get(s.id)!.nsPerOp)), fmtX(ratio(w, s.id)), fmtUs(median(c.get(s.id)!.nsPerOp)), fmtX(ratio(c, s.id))]);
    return [
      "### Dynamic trust: pools found at run time",
      "",
      `${TOKENS.toLocaleString("en-US")} ES256 tokens spread over the pools, ${rounds} interleaved rounds; warm = served from the verified-token cache, cold = cache off, each pool's keys already fetched.`,
      "",
      table(["setup", "warm µs/token", "warm vs static", "cold µs/token", "cold vs static"], rows),
      "",
      table(
        ["measure", "value"],
        [
          ["resolver calls per new pool (1,000 pools, 50 at a time, 5 concurrent first requests each)", (calls / fleet.pools.length).toFixed(2)],
          ["JWKS fetches per new pool", (fetches / fleet.pools.length).toFixed(2)],
          [`heap per resolved pool${(globalThis as { gc?: unknown }).gc ? "" : " (no --expose-gc: rough)"}`, `${perPoolKb.toFixed(1)} KB`],
          ["flood: 10,000 tokens over 2,000 made-up Cognito issuers, resolver calls", floodCalls.toLocaleString("en-US")],
          ["flood: JWKS fetches", String(fleet.fetchCount - floodFetchesBefore)],
          ["flood: heap before → after", `${floodHeapBefore.toFixed(1)} → ${floodHeapAfter.toFixed(1)} MB`],
        ],
      ),
      "",
    ];
  } finally {
    await fleet.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const lines = await trustSection(process.argv.includes("--quick"), (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${lines.join("\n")}\n`);
}
