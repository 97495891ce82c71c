/**
 * Authorization: local Cedar decisions (policies and schema parsed once, at ready()).
 * Verified Permissions calls per decision are counted at the emulator once it exists
 * (src/testing/vp-emulator.ts); until then the report shows TODO rows.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createTenantAuth } from "../src/index.js";
import type { TenantPrincipal } from "../src/index.js";
import { createCedarAuthorizer } from "../src/authorizers/cedar.js";
import type { Candidate } from "./measure.js";
import type { BenchTokens } from "./tokens.js";

const root = resolve(import.meta.dirname, "..");

export async function acmePrincipal({ issuer, tokens }: BenchTokens): Promise<TenantPrincipal> {
  const auth = createTenantAuth({ userPools: [issuer.userPool] });
  return auth.resolveTenant(tokens[0]!);
}

export async function cedarCandidates(bench: BenchTokens): Promise<Candidate[]> {
  const principal = await acmePrincipal(bench);
  const cedar = createCedarAuthorizer({
    policies: readFileSync(join(root, "fixtures/policies/tenancy-demo.cedar"), "utf8"),
    schema: readFileSync(join(root, "fixtures/policies/tenancy-demo.cedarschema"), "utf8"),
    namespace: "TenancyDemo",
  });
  await cedar.ready();
  const allow = {
    principal,
    action: "ReadObject",
    resource: { type: "Object", id: "acme-assets/report.pdf", parents: [{ type: "Bucket", id: "acme-assets" }] },
  };
  const deny = { ...allow, resource: { type: "Object", id: "globex-assets/plan.pdf", parents: [{ type: "Bucket", id: "globex-assets" }] } };
  if (!(await cedar.isAuthorized(allow)).allowed || (await cedar.isAuthorized(deny)).allowed) {
    throw new Error("the Cedar bench requests do not decide as expected (ALLOW acme, DENY globex)");
  }
  return [
    {
      id: "cedar",
      label: "local Cedar isAuthorized (pre-parsed, ALLOW/DENY alternating)",
      // cedar-wasm needs about a thousand decisions before its code is optimized (tier-up).
      warmupOps: 3000,
      async run(ops) {
        for (let i = 0; i < ops; i++) await cedar.isAuthorized(i % 2 === 0 ? allow : deny);
      },
    },
  ];
}

/** Whether the Verified Permissions authorizer and its emulator have landed. */
export function verifiedPermissionsAvailable(): boolean {
  return existsSync(join(root, "src/authorizers/verified-permissions.ts")) && existsSync(join(root, "src/testing/vp-emulator.ts"));
}

export interface VerifiedPermissionsResult {
  /** Calls the emulator saw for 30 concurrent decisions of one principal (30 resources), cold cache, `batch: true`. */
  callsFor30: number;
  /** Decisions those calls carried. */
  decisionsFor30: number;
  /** Calls for the same 30 decisions again (decision-cache hits). */
  callsOnHit: number;
  /** Calls for 30 concurrent decisions with batching and caching off (the baseline). */
  callsUnbatched: number;
  /** Median ms for a burst of 30 concurrent decisions, cold cache, batched. */
  msPer30: number;
}

/** The demo's policies and schema in the Verified Permissions emulator, with an SDK client pointed at it. */
async function demoStore() {
  const { startVerifiedPermissionsEmulator } = await import("../src/testing/vp-emulator.js");
  const { createVerifiedPermissionsAuthorizer } = await import("../src/authorizers/verified-permissions.js");
  const { VerifiedPermissionsClient } = await import("@aws-sdk/client-verifiedpermissions");
  const policies = readFileSync(join(root, "fixtures/policies/tenancy-demo.cedar"), "utf8");
  const schemaJson = JSON.parse(readFileSync(join(root, "fixtures/policies/tenancy-demo.cedarschema.json"), "utf8"));
  const emulator = await startVerifiedPermissionsEmulator({ policies, schema: schemaJson, namespace: "TenancyDemo" });
  const client = new VerifiedPermissionsClient({
    endpoint: emulator.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    maxAttempts: 1,
  });
  return { emulator, client, schemaJson, createVerifiedPermissionsAuthorizer };
}

export async function runVerifiedPermissions(bench: BenchTokens, rounds: number): Promise<VerifiedPermissionsResult> {
  const { emulator, client, schemaJson, createVerifiedPermissionsAuthorizer } = await demoStore();
  try {
    const make = (extra: object) => createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, client, namespace: "TenancyDemo", schema: schemaJson, timeoutMs: 10_000, ...extra });
    const principal = await acmePrincipal(bench);
    const requests = Array.from({ length: 30 }, (_, i) => ({
      principal,
      action: "ReadObject",
      resource: { type: "Object", id: `acme-assets/file-${i}.pdf`, parents: [{ type: "Bucket", id: "acme-assets" }] },
    }));
    const burst = async (a: { isAuthorized: (r: (typeof requests)[number]) => Promise<{ allowed: boolean }> }) => {
      const decisions = await Promise.all(requests.map((r) => a.isAuthorized(r)));
      if (!decisions.every((d) => d.allowed)) throw new Error("Verified Permissions bench: expected every decision to ALLOW");
    };

    const batched = make({ batch: true });
    await burst(make({ batch: true })); // warm the SDK client and the emulator
    emulator.resetCalls();
    await burst(batched);
    const callsFor30 = emulator.callCount;
    const decisionsFor30 = emulator.decisionCount;
    emulator.resetCalls();
    await burst(batched);
    const callsOnHit = emulator.callCount;

    const plain = make({ batch: false, cache: false });
    emulator.resetCalls();
    await burst(plain);
    const callsUnbatched = emulator.callCount;

    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const a = make({ batch: true });
      const t = performance.now();
      await burst(a);
      times.push(performance.now() - t);
    }
    times.sort((x, y) => x - y);
    return { callsFor30, decisionsFor30, callsOnHit, callsUnbatched, msPer30: times[times.length >> 1]! };
  } finally {
    await emulator.close();
  }
}

/**
 * A Verified Permissions decision served from the decision cache (no call), against a warm
 * `resolveTenant` (the same token again), timed in the same interleaved rounds. The requests are
 * those of the burst above, cached before timing; with the store's schema, as an app would run it.
 */
export async function decisionCacheCandidates(bench: BenchTokens): Promise<{ candidates: Candidate[]; close(): Promise<void> }> {
  const { emulator, client, schemaJson, createVerifiedPermissionsAuthorizer } = await demoStore();
  const auth = createTenantAuth({ userPools: [bench.issuer.userPool] });
  const header = `Bearer ${bench.tokens[0]!}`;
  const principal = await auth.resolveTenant(header);
  const authorizer = createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, client, namespace: "TenancyDemo", schema: schemaJson, timeoutMs: 10_000 });
  const requests = Array.from({ length: 30 }, (_, i) => ({
    principal,
    action: "ReadObject",
    resource: { type: "Object", id: `acme-assets/file-${i}.pdf`, parents: [{ type: "Bucket", id: "acme-assets" }] },
  }));
  for (const r of requests) if (!(await authorizer.isAuthorized(r)).allowed) throw new Error("decision-cache bench: expected ALLOW");
  emulator.resetCalls();
  let sink: unknown;
  return {
    candidates: [
      {
        id: "warmResolve",
        label: "resolveTenant warm (same token again)",
        async run(ops) {
          for (let i = 0; i < ops; i++) sink = await auth.resolveTenant(header);
        },
      },
      {
        id: "vpHit",
        label: "Verified Permissions isAuthorized, decision-cache hit (30 resources, no call)",
        async run(ops) {
          for (let i = 0; i < ops; i++) sink = await authorizer.isAuthorized(requests[i % 30]!);
          if (emulator.callCount !== 0) throw new Error("decision-cache bench: a timed decision reached the emulator");
        },
      },
    ],
    async close() {
      void sink;
      client.destroy();
      await emulator.close();
    },
  };
}
