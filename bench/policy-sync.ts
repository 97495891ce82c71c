/**
 * Policy sync: decisions through `createCedarAuthorizer({ policyStore })` (policies and schema
 * synced from the Verified Permissions emulator through the real SDK client) against the same
 * policies loaded from files, interleaved; and the management calls a refresh costs, counted at the
 * emulator, for an unchanged store and after one policy change, as calls per hour at a 60 s refresh.
 *
 * bench/run.ts calls it with one line, e.g. `out.push(...(await policySyncReport(bench, { rounds, quick })));`
 * (it also runs alone: `npx tsx bench/policy-sync.ts`).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { CreatePolicyCommand, VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import { createCedarAuthorizer } from "../src/authorizers/cedar.js";
import type { CedarAuthorizer } from "../src/authorizers/cedar.js";
import { startVerifiedPermissionsEmulator } from "../src/testing/index.js";
import { acmePrincipal } from "./authz.js";
import { interleave, median, pairedRatio, relativeMad } from "./measure.js";
import type { Candidate } from "./measure.js";
import { mintTokens } from "./tokens.js";
import type { BenchTokens } from "./tokens.js";

const root = resolve(import.meta.dirname, "..");
/** Price of one policy management request (Verified Permissions price list); `BatchGetPolicy` is metered per policy returned. */
const MANAGEMENT_PRICE = 0.00004;
/** Price of one `IsAuthorized` call. */
const DECISION_PRICE = 0.000005;
const REFRESH_MS = 60_000;

export interface PolicySyncResult {
  /** ns per decision, per round. */
  readonly files: number[];
  readonly synced: number[];
  /** Management calls of one refresh of an unchanged store, by operation. */
  readonly unchanged: Readonly<Record<string, number>>;
  /** Management calls of the refresh after one new policy, by operation. */
  readonly changed: Readonly<Record<string, number>>;
  /** Management calls of the first load, by operation. */
  readonly first: Readonly<Record<string, number>>;
  /** Authorization calls the emulator saw during the timed decisions. */
  readonly authorizationCalls: number;
}

const nonZero = (calls: Readonly<Record<string, number>>) => Object.fromEntries(Object.entries(calls).filter(([, n]) => n > 0));
const total = (calls: Readonly<Record<string, number>>) => Object.values(calls).reduce((a, b) => a + b, 0);

export async function runPolicySync(bench: BenchTokens, options: { rounds: number; quick: boolean }): Promise<PolicySyncResult> {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const policies = readFileSync(join(root, "fixtures/policies/tenancy-demo.cedar"), "utf8");
  const schema = readFileSync(join(root, "fixtures/policies/tenancy-demo.cedarschema"), "utf8");
  const emulator = await startVerifiedPermissionsEmulator({ policies, schema, namespace: "TenancyDemo" });
  let synced: CedarAuthorizer | undefined;
  const admin = new VerifiedPermissionsClient({ ...emulator.clientConfig, maxAttempts: 1 });
  try {
    const files = createCedarAuthorizer({ policies, schema, namespace: "TenancyDemo" });
    synced = createCedarAuthorizer({ namespace: "TenancyDemo", policyStore: { policyStoreId: emulator.policyStoreId, clientConfig: emulator.clientConfig, refreshMs: REFRESH_MS } });
    await files.ready();
    emulator.resetCalls();
    await synced.ready();
    const first = nonZero(emulator.calls);

    const principal = await acmePrincipal(bench);
    const allow = { principal, action: "ReadObject", resource: { type: "Object", id: "acme-assets/report.pdf", parents: [{ type: "Bucket", id: "acme-assets" }] } };
    const deny = { ...allow, resource: { type: "Object", id: "globex-assets/plan.pdf", parents: [{ type: "Bucket", id: "globex-assets" }] } };
    for (const a of [files, synced]) {
      if (!(await a.isAuthorized(allow)).allowed || (await a.isAuthorized(deny)).allowed) throw new Error("the policy sync bench requests do not decide as expected (ALLOW acme, DENY globex)");
    }
    const s = synced;
    const alternate = (a: CedarAuthorizer) => async (ops: number) => {
      for (let i = 0; i < ops; i++) await a.isAuthorized(i % 2 === 0 ? allow : deny);
    };
    // cedar-wasm needs about a thousand decisions before its code is optimized (tier-up).
    const candidates: Candidate[] = [
      { id: "files", label: "local Cedar, policies from files", warmupOps: 3000, run: alternate(files) },
      { id: "synced", label: "local Cedar, policies synced from Verified Permissions", warmupOps: 3000, run: alternate(s) },
    ];
    emulator.resetCalls();
    const samples = await interleave(candidates, { rounds: options.rounds, targetMs: options.quick ? 10 : 30, maxOps: 1_000_000 });
    const authorizationCalls = emulator.callCount;

    emulator.resetCalls();
    await synced.refresh();
    const unchanged = nonZero(emulator.calls);
    await admin.send(
      new CreatePolicyCommand({
        policyStoreId: emulator.policyStoreId,
        definition: {
          static: {
            statement: 'permit (principal in TenancyDemo::UserGroup::"us-east-1_TestPool|tenant:globex", action == TenancyDemo::Action::"ListBucket", resource in TenancyDemo::Bucket::"acme-assets");',
          },
        },
      }),
    );
    emulator.resetCalls();
    await synced.refresh();
    const changed = nonZero(emulator.calls);
    return { files: samples.get("files")!.nsPerOp, synced: samples.get("synced")!.nsPerOp, unchanged, changed, first, authorizationCalls };
  } finally {
    synced?.close();
    admin.destroy();
    await emulator.close();
  }
}

const list = (calls: Readonly<Record<string, number>>) =>
  Object.entries(calls)
    .map(([op, n]) => `${n} ${op}`)
    .join(", ") || "none";

/** The report section (markdown lines). */
export function policySyncSection(r: PolicySyncResult): string[] {
  const ms = (ns: readonly number[]) => (median(ns) / 1e6).toFixed(3);
  const perHour = total(r.unchanged) * (3_600_000 / REFRESH_MS);
  const perMonth = perHour * 24 * 30;
  const dollars = perMonth * MANAGEMENT_PRICE;
  return [
    "### Policy sync (Verified Permissions as the source, decisions local)",
    "",
    "| | ms a decision (median) | spread | vs files |",
    "|---|---|---|---|",
    `| local Cedar, policies from files | ${ms(r.files)} | ${(relativeMad(r.files) * 100).toFixed(1)} % | 1.00x |`,
    `| local Cedar, policies synced from Verified Permissions (emulator) | ${ms(r.synced)} | ${(relativeMad(r.synced) * 100).toFixed(1)} % | ${pairedRatio(r.synced, r.files).toFixed(2)}x |`,
    "",
    `Authorization calls during the timed decisions: ${r.authorizationCalls}. Management calls (counted at the emulator, the seed's 5 policies, no templates): ` +
      `first load ${list(r.first)}; a refresh of an unchanged store ${list(r.unchanged)}; the refresh after one new policy ${list(r.changed)}.`,
    "",
    `At a ${REFRESH_MS / 1000} s refresh an unchanged store costs ${perHour} management calls an hour per instance, ${perMonth.toLocaleString("en-US")} a month, ` +
      `$${dollars.toFixed(2)} at $${MANAGEMENT_PRICE} a call: the price of ${Math.round(dollars / DECISION_PRICE).toLocaleString("en-US")} \`IsAuthorized\` calls a month.`,
    "",
  ];
}

/** One call for bench/run.ts: measure and return the section. */
export async function policySyncReport(bench: BenchTokens, options: { rounds: number; quick: boolean }): Promise<string[]> {
  return policySyncSection(await runPolicySync(bench, options));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const quick = process.argv.includes("--quick");
  const bench = await mintTokens(quick ? 200 : 500);
  console.log((await policySyncReport(bench, { rounds: quick ? 7 : 25, quick })).join("\n"));
}
