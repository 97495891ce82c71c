// Run: npx tsx examples/verified-permissions/main.ts   (from the repository root; no AWS account needed)
//
// The seed scenario's Cedar policies in a local Verified Permissions (the emulator from
// cognito-tenancy/testing, speaking the service's JSON protocol on 127.0.0.1), asked through the
// real @aws-sdk/client-verifiedpermissions client by createVerifiedPermissionsAuthorizer: single
// decisions (IsAuthorized), decisions asked together, the decision cache, and what happens when
// the service does not answer. Exits 0 when every decision is the expected one.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import type { ActionRef, Decision, ResourceRef, TenantPrincipal } from "cognito-tenancy";
import { createTenantAuth, isTenantAuthError } from "cognito-tenancy";
import { createTestIssuer, startVerifiedPermissionsEmulator } from "cognito-tenancy/testing";
import { createVerifiedPermissionsAuthorizer } from "cognito-tenancy/verified-permissions";

const policiesDir = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/policies");
const read = (file: string) => readFileSync(join(policiesDir, file), "utf8");

// A policy store with the scenario's policies and schema (namespace TenancyDemo): each tenant's
// group may read its own bucket; acme's admins may also write to it.
const timeoutMs = 1000; // the default: the longest a decision may take, retries included
const emulator = await startVerifiedPermissionsEmulator({
  policies: read("tenancy-demo.cedar"),
  schema: read("tenancy-demo.cedarschema"),
  namespace: "TenancyDemo",
});

// The real SDK client. Against the service, give your region instead (credentials come from the
// SDK's default chain), and use your policy store's id.
const client = new VerifiedPermissionsClient(emulator.clientConfig);
const authorizer = createVerifiedPermissionsAuthorizer({
  policyStoreId: emulator.policyStoreId,
  client,
  namespace: "TenancyDemo",
  schema: read("tenancy-demo.cedarschema.json"), // send only the claims the store declares
  timeoutMs,
});
await authorizer.ready();

// Callers: tokens from the testing kit (pool us-east-1_TestPool, as the policies name), resolved
// by the core like any request's Authorization header.
const issuer = await createTestIssuer();
const auth = createTenantAuth({ userPools: [issuer.userPool] });
const who = async (username: string, groups: string[], tenantHint?: string) => auth.resolveTenant(await issuer.idToken({ username, groups }), { tenantHint });
const alice = await who("alice", ["tenant:acme"]);
const bob = await who("bob", ["tenant:globex"]);
const ada = await who("ada", ["tenant:acme", "tenant:acme:admin"]);
const dave = await who("dave", ["tenant:acme", "tenant:globex"], "acme");

const object = (path: `${string}/${string}`): ResourceRef => {
  const bucket = path.slice(0, path.indexOf("/"));
  return { type: "Object", id: path, parents: [{ type: "Bucket", id: bucket }] };
};

let unexpected = 0;
function show(principal: TenantPrincipal, action: ActionRef, resource: ResourceRef, decision: Decision, expected: "ALLOW" | "DENY"): void {
  const ok = decision.decision === expected;
  if (!ok) unexpected++;
  const because = decision.determiningPolicies.join(", ") || "no policy permits it";
  const user = `${principal.username} (${principal.groups.join(", ")})`;
  console.log(`${ok ? "ok" : "!!"}  ${decision.decision.padEnd(5)}  ${user.padEnd(36)} ${String(action).padEnd(11)} ${resource.id.padEnd(24)} ${because}${ok ? "" : `  (expected ${expected})`}`);
}

try {
  console.log(`Verified Permissions emulator at ${emulator.endpoint}, policy store ${emulator.policyStoreId}\n`);

  console.log("One decision at a time (IsAuthorized):");
  const singles: [TenantPrincipal, string, `${string}/${string}`, "ALLOW" | "DENY"][] = [
    [alice, "ReadObject", "acme-assets/roadmap.pdf", "ALLOW"],
    [alice, "ReadObject", "globex-assets/plans.txt", "DENY"],
    [bob, "ReadObject", "globex-assets/plans.txt", "ALLOW"],
    [bob, "WriteObject", "globex-assets/plans.txt", "DENY"],
    [ada, "WriteObject", "acme-assets/roadmap.pdf", "ALLOW"],
  ];
  for (const [principal, action, path, expected] of singles) {
    const resource = object(path);
    show(principal, action, resource, await authorizer.isAuthorized({ principal, action, resource }), expected);
  }
  console.log(`  -> emulator calls: ${JSON.stringify(emulator.calls)}\n`);

  // Decisions asked together (e.g. to filter a listing) are one IsAuthorized call each: 4 calls
  // cost $0.00002, where one BatchIsAuthorized call costs $0.00015 however few it carries. Batching
  // (the batch option) pays only for the request quota. The policies see dave's groups, so he may read both his tenants' buckets. To confine a request
  // to the tenant it acts for, add tenantEntityType: "Tenant" (see npm run demo and docs/cedar.md).
  console.log("A listing filtered with concurrent decisions (one IsAuthorized each), dave in acme and globex:");
  emulator.resetCalls();
  const listing: `${string}/${string}`[] = ["acme-assets/roadmap.pdf", "acme-assets/logo.svg", "globex-assets/plans.txt", "initech-assets/tps.xlsx"];
  const decisions = await Promise.all(listing.map((path) => authorizer.isAuthorized({ principal: dave, action: "ReadObject", resource: object(path) })));
  listing.forEach((path, i) => show(dave, "ReadObject", object(path), decisions[i]!, path.startsWith("initech") ? "DENY" : "ALLOW"));
  console.log(`  -> emulator calls: ${JSON.stringify(emulator.calls)}, decisions evaluated: ${emulator.decisionCount}\n`);

  // The same question again is answered from the decision cache (bounded, with a TTL, and only to
  // a principal whose token is valid): no call at all.
  emulator.resetCalls();
  await authorizer.isAuthorized({ principal: alice, action: "ReadObject", resource: object("acme-assets/roadmap.pdf") });
  console.log(`Asked again: answered from the cache, emulator calls: ${emulator.callCount}\n`);
  if (emulator.callCount !== 0) unexpected++;

  // The service hangs: after timeoutMs the decision is authorizer_unavailable (503), never an allow.
  emulator.setBehavior("hang");
  try {
    await authorizer.isAuthorized({ principal: bob, action: "ReadObject", resource: object("globex-assets/new.txt") });
    console.log("!!  the service hung and the authorizer answered anyway");
    unexpected++;
  } catch (err) {
    const code = isTenantAuthError(err) ? `${err.code} (${err.status})` : String(err);
    console.log(`The service hangs: ${code} after ${timeoutMs} ms, never an allow`);
    if (!isTenantAuthError(err) || err.code !== "authorizer_unavailable") unexpected++;
  }
} finally {
  client.destroy();
  await emulator.close();
}
console.log(unexpected === 0 ? "\nall decisions as expected" : `\n${unexpected} unexpected decisions`);
process.exitCode = unexpected === 0 ? 0 : 1;
