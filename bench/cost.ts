/**
 * What Verified Permissions costs on a workload, counted at the emulator through the real SDK
 * client (no timing: calls, decisions, dollars).
 *
 * Workload: 3 tenants, 300 users (100 a tenant, each in its tenant's group), 2,000 objects (a third
 * each tenant's) asked with Zipf popularity (s = 1; 95% of a user's requests about its own
 * tenant's objects, 5% about another's, which are denied), 1-4 distinct decisions a request (asked
 * together, as a listing would), `hours` simulated hours with a new token for every user every hour
 * (the hourly refresh of a Cognito session), served by 1, 10 or 50 concurrent workers. The same
 * seeded workload for every row. A simulated hour takes seconds, so entries live across the
 * refresh within the cache's TTL, as they do on a busy service around each user's refresh.
 *
 * Prices (AWS price list, 2025 on): IsAuthorized / IsAuthorizedWithToken $0.000005 a call;
 * BatchIsAuthorized / BatchIsAuthorizedWithToken $0.00015 a call (first 40M a month), whatever it
 * carries (at most 30 decisions).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AuthorizationRequest, TenantPrincipal } from "../src/index.js";
import { createTenantAuth } from "../src/index.js";
import { createTestIssuer } from "../src/testing/index.js";

const root = resolve(import.meta.dirname, "..");

export const PRICE_SINGLE = 0.000005;
export const PRICE_BATCH = 0.00015;

export interface CostRow {
  readonly row: string;
  readonly concurrency: number;
  readonly refresh: boolean;
  readonly decisions: number;
  readonly requests: number;
  readonly singleCalls: number;
  readonly batchCalls: number;
  /** Decisions answered without a service evaluation of their own (cache hits, shared in-flight). */
  readonly hitRatio: number;
  readonly dollars: number;
}

export interface CostResult {
  readonly rows: CostRow[];
  readonly hours: number;
  readonly requestsPerHour: number;
  readonly decisions: number;
}

const TENANTS = ["acme", "globex", "initech"] as const;
const USERS = 300;
const RESOURCES = 2000;

/** A small seeded PRNG (mulberry32): the same workload for every row. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Zipf (s = 1) over `n` ranks: the cumulative distribution, sampled by binary search. */
function zipf(n: number, random: () => number): () => number {
  const cdf: number[] = [];
  let sum = 0;
  for (let k = 1; k <= n; k++) cdf.push((sum += 1 / k));
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface Planned {
  readonly hour: number;
  readonly user: number;
  readonly objects: readonly string[];
}

function plan(hours: number, requestsPerHour: number): Planned[] {
  const random = prng(20251130);
  // Each tenant's objects in a shuffled popularity order, so rank is not id.
  const byTenant = TENANTS.map((t) => {
    const ids = Array.from({ length: Math.ceil(RESOURCES / TENANTS.length) }, (_, i) => `${t}-assets/object-${i}`).slice(0, t === "initech" ? RESOURCES - 2 * Math.ceil(RESOURCES / 3) : undefined);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    return { ids, draw: zipf(ids.length, random) };
  });
  const out: Planned[] = [];
  for (let hour = 0; hour < hours; hour++) {
    for (let r = 0; r < requestsPerHour; r++) {
      const user = Math.floor(random() * USERS);
      const own = user % TENANTS.length;
      const count = 1 + Math.floor(random() * 4);
      const objects = new Set<string>();
      while (objects.size < count) {
        const tenant = random() < 0.95 ? own : (own + 1 + Math.floor(random() * 2)) % TENANTS.length;
        const t = byTenant[tenant]!;
        objects.add(t.ids[t.draw()]!);
      }
      out.push({ hour, user, objects: [...objects] });
    }
  }
  return out;
}

const objectRef = (id: string) => {
  const bucket = id.slice(0, id.indexOf("/"));
  return { type: "Object", id, parents: [{ type: "Bucket", id: bucket }] };
};

export async function runCost(options: { hours: number; requestsPerHour: number; log: (line: string) => void }): Promise<CostResult> {
  const { startVerifiedPermissionsEmulator } = await import("../src/testing/vp-emulator.js");
  const { createVerifiedPermissionsAuthorizer } = await import("../src/authorizers/verified-permissions.js");
  const { toAttributeRecord, toCedarRequest, toEntityIdentifier, toEntityList } = await import("../src/core/cedar-entities.js");
  const { IsAuthorizedCommand, VerifiedPermissionsClient } = await import("@aws-sdk/client-verifiedpermissions");
  const policies = readFileSync(join(root, "fixtures/policies/tenancy-demo.cedar"), "utf8");
  const schema = JSON.parse(readFileSync(join(root, "fixtures/policies/tenancy-demo.cedarschema.json"), "utf8")) as Record<string, unknown>;
  const namespace = "TenancyDemo";

  const workload = plan(options.hours, options.requestsPerHour);
  const decisions = workload.reduce((n, r) => n + r.objects.length, 0);

  // Tokens: a new one per user per simulated hour; principals resolved once, as a server would.
  const issuer = await createTestIssuer({ userPoolId: "us-east-1_TestPool", alg: "ES256" });
  const auth = createTenantAuth({ userPools: [issuer.userPool], requireTenant: false });
  const now = Math.floor(Date.now() / 1000);
  const principals: TenantPrincipal[][] = [];
  for (let hour = 0; hour < options.hours; hour++) {
    const row: TenantPrincipal[] = [];
    for (let u = 0; u < USERS; u++) {
      const token = await issuer.idToken({
        sub: `user-${u}`,
        username: `user${u}`,
        groups: [`tenant:${TENANTS[u % TENANTS.length]}`],
        claims: { email: `user${u}@example.com` },
        issuedAt: now - (options.hours - 1 - hour) * 60,
        expiresIn: 7200,
      });
      row.push(await auth.resolveTenant(token));
    }
    principals.push(row);
  }

  const emulator = await startVerifiedPermissionsEmulator({ policies, schema, namespace });
  const client = new VerifiedPermissionsClient({ ...emulator.clientConfig, maxAttempts: 1 });
  // A store without a schema: every claim reaches the policies, so every claim is in the cache key.
  const bare = await startVerifiedPermissionsEmulator({ policies, namespace });
  const bareClient = new VerifiedPermissionsClient({ ...bare.clientConfig, maxAttempts: 1 });
  try {
    type Decide = (r: AuthorizationRequest) => Promise<unknown>;
    // Naive: one IsAuthorized call per decision, no cache, no sharing.
    const naive: Decide = (r) => {
      const c = toCedarRequest(r, { namespace, schema });
      return client.send(
        new IsAuthorizedCommand({
          policyStoreId: emulator.policyStoreId,
          principal: toEntityIdentifier(c.principal),
          action: { actionType: c.action.type, actionId: c.action.id },
          resource: toEntityIdentifier(c.resource),
          entities: { entityList: toEntityList(c.entities) as never },
          ...(Object.keys(c.context).length > 0 ? { context: { contextMap: toAttributeRecord(c.context as never) as never } } : {}),
        }),
      );
    };
    const ours = (extra: object): Decide => {
      const a = createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, client, namespace, schema, timeoutMs: 30_000, ...extra });
      return (r) => a.isAuthorized(r);
    };
    const oursWithoutSchema = (): Decide => {
      const a = createVerifiedPermissionsAuthorizer({ policyStoreId: bare.policyStoreId, client: bareClient, namespace, timeoutMs: 30_000 });
      return (r) => a.isAuthorized(r);
    };
    const configs: { row: string; make: () => Decide; refresh: boolean[]; store?: typeof bare }[] = [
      { row: "naive: one IsAuthorized per decision, no cache", make: () => naive, refresh: [true] },
      { row: "our defaults (single calls, cache)", make: () => ours({}), refresh: [true, false] },
      { row: "our defaults, store and authorizer without a schema", make: oursWithoutSchema, refresh: [true], store: bare },
      { row: "`batch: true` (full batches of 30 only)", make: () => ours({ batch: true }), refresh: [true] },
      { row: "`batch: { minSize: 2 }` (the old default)", make: () => ours({ batch: { minSize: 2 } }), refresh: [true] },
    ];

    const rows: CostRow[] = [];
    for (const concurrency of [1, 10, 50]) {
      for (const config of configs) {
        for (const refresh of config.refresh) {
          const decide = config.make();
          const store = config.store ?? emulator;
          store.resetCalls();
          for (let hour = 0; hour < options.hours; hour++) {
            const queue = workload.filter((r) => r.hour === hour);
            let next = 0;
            const worker = async () => {
              while (next < queue.length) {
                const r = queue[next++]!;
                const principal = principals[refresh ? hour : 0]![r.user]!;
                await Promise.all(r.objects.map((id) => decide({ principal, action: "ReadObject", resource: objectRef(id) })));
              }
            };
            await Promise.all(Array.from({ length: concurrency }, worker));
          }
          const singleCalls = store.calls.IsAuthorized + store.calls.IsAuthorizedWithToken;
          const batchCalls = store.calls.BatchIsAuthorized + store.calls.BatchIsAuthorizedWithToken;
          const row: CostRow = {
            row: config.row,
            concurrency,
            refresh,
            decisions,
            requests: workload.length,
            singleCalls,
            batchCalls,
            hitRatio: 1 - store.decisionCount / decisions,
            dollars: singleCalls * PRICE_SINGLE + batchCalls * PRICE_BATCH,
          };
          rows.push(row);
          options.log(
            `  c=${concurrency} ${config.row}${refresh ? "" : " (tokens never refresh)"}: ${singleCalls} single + ${batchCalls} batch calls, ` +
              `hit ratio ${(row.hitRatio * 100).toFixed(1)}%, $${((row.dollars / decisions) * 1e6).toFixed(2)} per million decisions`,
          );
        }
      }
    }
    return { rows, hours: options.hours, requestsPerHour: options.requestsPerHour, decisions };
  } finally {
    client.destroy();
    bareClient.destroy();
    await emulator.close();
    await bare.close();
  }
}

/** The report's table: one line per row and concurrency. */
export function costTable(result: CostResult, table: (header: string[], rows: string[][]) => string): string {
  return table(
    ["workload row", "concurrency", "calls per 1,000 decisions", "cache hit ratio", "$ per million decisions", "$ per million API requests"],
    result.rows.map((r) => [
      `${r.row}${r.refresh ? "" : ", tokens never refresh"}`,
      String(r.concurrency),
      `${(((r.singleCalls + r.batchCalls) / r.decisions) * 1000).toFixed(1)}${r.batchCalls > 0 ? ` (${r.batchCalls} batch)` : ""}`,
      `${(r.hitRatio * 100).toFixed(1)}%`,
      `$${((r.dollars / r.decisions) * 1e6).toFixed(2)}`,
      `$${((r.dollars / r.requests) * 1e6).toFixed(2)}`,
    ]),
  );
}
