// `npm run demo`: the seed's three-tenant scenario end to end, on 127.0.0.1, with no AWS account.
//
//   npm run demo                              # policies evaluated by local Cedar (cedar-wasm)
//   npm run demo -- --verified-permissions    # the real AWS SDK client against the local emulator
//
// It starts a test issuer serving its JWKS over HTTP, the Express API of demo/api.ts, and the policy
// engine; sends a request per row of CASES below; prints what happened; checks each row against
// its expected outcome (exit 1 on any mismatch, so the demo is also an end-to-end test); and
// closes every server it started.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import type { Authorizer, Decision } from "cognito-tenancy";
import { createTenantAuth } from "cognito-tenancy";
import { createCedarAuthorizer } from "cognito-tenancy/cedar";
import { createTestIssuer, startVerifiedPermissionsEmulator } from "cognito-tenancy/testing";
import type { TestIssuer, TestTokenOptions, VerifiedPermissionsEmulator } from "cognito-tenancy/testing";
import { createVerifiedPermissionsAuthorizer } from "cognito-tenancy/verified-permissions";
import { ROLE_TENANTS, SCENARIO } from "../fixtures/scenario.js";
import { createDemoApi, observed } from "./api.js";
import type { Cell } from "./table.js";
import { renderTable, styleFor } from "./table.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const policyFile = "fixtures/policies/tenancy-demo.cedar";
const readRepoFile = (path: string) => readFileSync(join(root, path), "utf8");

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log("usage: npm run demo [-- --verified-permissions]\n\n" +
    "  (default)                 evaluate the scenario's Cedar policies in process (cedar-wasm)\n" +
    "  --verified-permissions    ask through @aws-sdk/client-verifiedpermissions, against a local emulator");
  process.exit(0);
}
const unknown = args.filter((a) => a !== "--verified-permissions");
if (unknown.length > 0) {
  console.error(`demo: unknown option ${unknown.join(" ")} (try --help)`);
  process.exit(2);
}
const useVerifiedPermissions = args.includes("--verified-permissions");

// ---------------------------------------------------------------------------------------------
// The users: the seed's tenants as Cognito groups, with each group's preferred IAM role
// (fixtures/scenario.ts). dave is in acme and globex; globex's group has the higher precedence,
// so Cognito puts globex's role in his cognito:preferred_role. erin is in no tenant.
// ---------------------------------------------------------------------------------------------
type UserName = "alice" | "bob" | "carol" | "dave" | "erin";
const USERS: Record<UserName, keyof typeof SCENARIO> = {
  alice: "alice-acme.id",
  bob: "bob-globex.id",
  carol: "carol-initech.id",
  dave: "dave-acme-globex.id",
  erin: "erin-no-tenant.id",
};

function tokenOptions(name: keyof typeof SCENARIO): TestTokenOptions {
  const spec = SCENARIO[name]!;
  return {
    sub: spec.sub,
    username: spec.username,
    groups: spec.groups,
    ...(spec.roles ? { roles: spec.roles } : {}),
    ...(spec.preferredRole ? { preferredRole: spec.preferredRole } : {}),
    ...(spec.scopes ? { scopes: spec.scopes } : {}),
  };
}

type TokenKind = "id" | "access" | "expired" | "forged" | "none";

async function mint(issuer: TestIssuer, user: UserName | undefined, kind: TokenKind): Promise<string | undefined> {
  if (kind === "none" || user === undefined) return undefined;
  const options = tokenOptions(USERS[user]);
  switch (kind) {
    case "id":
      return issuer.idToken(options);
    case "access":
      return issuer.accessToken(tokenOptions(`${user}-acme-globex.access` as keyof typeof SCENARIO));
    case "expired": // issued two hours ago, lived one hour
      return issuer.idToken({ ...options, issuedAt: Math.floor(Date.now() / 1000) - 7200, expiresIn: 3600 });
    case "forged": // the same claims, signed with a key the JWKS does not hold (same kid)
      return issuer.idToken({ ...options, signWith: "foreign" });
  }
}

// ---------------------------------------------------------------------------------------------
// The requests, each with the outcome it must have. `reason` is the determining policy (ALLOW,
// or a DENY decided by a forbid), "no permit" (DENY with no policy), or the error code.
// ---------------------------------------------------------------------------------------------
interface Case {
  readonly what: string;
  readonly user?: UserName;
  readonly token: TokenKind;
  readonly tenantHeader?: string;
  readonly object: `${string}/${string}`;
  readonly expect: { readonly status: number; readonly reason: string };
}

const CASES: readonly Case[] = [
  { what: "own bucket", user: "alice", token: "id", object: "acme-assets/roadmap.pdf", expect: { status: 200, reason: "acme-reads-own-bucket" } },
  { what: "own bucket", user: "bob", token: "id", object: "globex-assets/plans.txt", expect: { status: 200, reason: "globex-reads-own-bucket" } },
  { what: "own bucket", user: "carol", token: "id", object: "initech-assets/tps.xlsx", expect: { status: 200, reason: "initech-reads-own-bucket" } },
  { what: "two tenants, header picks acme", user: "dave", token: "id", tenantHeader: "acme", object: "acme-assets/roadmap.pdf", expect: { status: 200, reason: "acme-reads-own-bucket" } },
  { what: "two tenants, header picks globex", user: "dave", token: "id", tenantHeader: "globex", object: "globex-assets/plans.txt", expect: { status: 200, reason: "globex-reads-own-bucket" } },
  { what: "no header: preferred role", user: "dave", token: "id", object: "globex-assets/plans.txt", expect: { status: 200, reason: "globex-reads-own-bucket" } },
  { what: "acting for acme, reads globex", user: "dave", token: "id", tenantHeader: "acme", object: "globex-assets/plans.txt", expect: { status: 403, reason: "active-tenant-only" } },
  { what: "header names a tenant not his", user: "dave", token: "id", tenantHeader: "initech", object: "initech-assets/tps.xlsx", expect: { status: 403, reason: "tenant_forbidden" } },
  { what: "access token: no role to pick", user: "dave", token: "access", object: "acme-assets/roadmap.pdf", expect: { status: 400, reason: "tenant_ambiguous" } },
  { what: "cross-tenant read", user: "alice", token: "id", object: "globex-assets/plans.txt", expect: { status: 403, reason: "active-tenant-only" } },
  { what: "cross-tenant, via the header", user: "alice", token: "id", tenantHeader: "globex", object: "globex-assets/plans.txt", expect: { status: 403, reason: "tenant_forbidden" } },
  { what: "in no tenant", user: "erin", token: "id", object: "acme-assets/roadmap.pdf", expect: { status: 403, reason: "tenant_missing" } },
  { what: "expired token", user: "alice", token: "expired", object: "acme-assets/roadmap.pdf", expect: { status: 401, reason: "token_expired" } },
  { what: "forged token (foreign key)", user: "alice", token: "forged", object: "acme-assets/roadmap.pdf", expect: { status: 401, reason: "token_invalid" } },
  { what: "no token", token: "none", object: "acme-assets/roadmap.pdf", expect: { status: 401, reason: "token_missing" } },
];

// ---------------------------------------------------------------------------------------------

interface Outcome {
  readonly status: number;
  readonly tenant: string;
  readonly decision: string;
  readonly reason: string;
}

interface Engine {
  readonly authorizer: Authorizer;
  readonly description: string;
  readonly summary: () => string;
  readonly close: () => Promise<void>;
}

async function startEngine(): Promise<Engine> {
  const policies = readRepoFile(policyFile);
  if (!useVerifiedPermissions) {
    const authorizer = createCedarAuthorizer({
      namespace: "TenancyDemo",
      policies,
      schema: readRepoFile("fixtures/policies/tenancy-demo.cedarschema"),
      tenantEntityType: "Tenant",
    });
    await authorizer.ready(); // load cedar-wasm, parse and validate the policies once
    return {
      authorizer,
      description: "local Cedar (@cedar-policy/cedar-wasm, in process)",
      summary: () => "local Cedar, in process",
      close: async () => {},
    };
  }
  // The SDK warns once, on stderr, that its releases after January 2027 need Node 22: true, but about
  // the machine rather than the demo. Set the variable yourself to "false" to see it.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const emulator: VerifiedPermissionsEmulator = await startVerifiedPermissionsEmulator({
    policies,
    schema: readRepoFile("fixtures/policies/tenancy-demo.cedarschema"),
    namespace: "TenancyDemo",
  });
  // The real SDK client, pointed at the emulator; in production, drop `endpoint` and `credentials`.
  const client = new VerifiedPermissionsClient({
    endpoint: emulator.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "demo", secretAccessKey: "demo" },
  });
  const authorizer = createVerifiedPermissionsAuthorizer({
    policyStoreId: emulator.policyStoreId,
    client,
    namespace: "TenancyDemo",
    schema: readRepoFile("fixtures/policies/tenancy-demo.cedarschema.json"),
    tenantEntityType: "Tenant",
    timeoutMs: 3000,
  });
  await authorizer.ready();
  return {
    authorizer,
    description: `Amazon Verified Permissions API: @aws-sdk/client-verifiedpermissions -> emulator at ${emulator.endpoint} (policy store ${emulator.policyStoreId})`,
    summary: () => {
      const calls = Object.entries(emulator.calls).filter(([, n]) => n > 0).map(([op, n]) => `${n} ${op}`);
      return `Verified Permissions emulator, ${calls.join(", ") || "no calls"}`;
    },
    close: async () => {
      client.destroy();
      await emulator.close();
    },
  };
}

async function listen(server: Server): Promise<string> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  server.closeAllConnections(); // fetch keeps connections alive; do not wait for them to time out
  await closed;
}

async function main(): Promise<boolean> {
  const out = process.stdout;
  const style = styleFor(out);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const issuer = await createTestIssuer(); // pool us-east-1_TestPool, as the policies expect
    const jwks = await issuer.listen();
    cleanups.push(() => jwks.close());

    const engine = await startEngine();
    cleanups.push(engine.close);

    // The core: keys fetched over HTTP from the JWKS server (plain http: is allowed on loopback),
    // tenants from `tenant:<id>` groups; a caller in several tenants and no x-tenant-id acts for
    // the tenant whose group's role Cognito chose as cognito:preferred_role.
    const auth = createTenantAuth({
      userPools: [jwks.userPool],
      tenants: { from: "groups", roleTenants: ROLE_TENANTS },
    });

    let seen: { decision: Decision; tenantId: string | undefined } | undefined;
    const authorizer = observed(engine.authorizer, (decision, tenantId) => {
      seen = { decision, tenantId };
    });
    const server = createServer(createDemoApi(auth, authorizer));
    const api = await listen(server);
    cleanups.push(() => closeServer(server));

    out.write(`${style.bold("cognito-tenancy demo")}: tenants acme, globex and initech, each reading only its own bucket\n\n`);
    const info: [string, string][] = [
      ["issuer", `${issuer.issuer} (test keys; JWKS served at ${jwks.jwksUri})`],
      ["api", `${api}  GET /buckets/:bucket/objects/:key  (Express: tenantAuth, authorize ReadObject)`],
      ["policies", `${policyFile} (namespace TenancyDemo)`],
      ["engine", engine.description],
    ];
    for (const [k, v] of info) out.write(`  ${style.dim(k.padEnd(8))}  ${v}\n`);
    out.write("\n");

    const users = (Object.keys(USERS) as UserName[]).map((u) => {
      const spec = SCENARIO[USERS[u]]!;
      return [u, spec.groups.join(", "), spec.preferredRole?.replace(/^arn:aws:iam::\d+:role\//, "") ?? "-"];
    });
    out.write(renderTable(["user", "cognito:groups", "cognito:preferred_role"], users, style) + "\n\n");

    const rows: (string | Cell)[][] = [];
    let failures = 0;
    for (const c of CASES) {
      const token = await mint(issuer, c.user, c.token);
      const headers: Record<string, string> = {};
      if (token !== undefined) headers["authorization"] = `Bearer ${token}`;
      if (c.tenantHeader !== undefined) headers["x-tenant-id"] = c.tenantHeader;
      seen = undefined;
      const res = await fetch(`${api}/buckets/${c.object.replace("/", "/objects/")}`, { headers, signal: AbortSignal.timeout(10_000) });
      const body = (await res.json().catch(() => ({}))) as { tenant?: string; error?: string };
      const outcome = describe(res.status, body, seen);
      const ok = outcome.status === c.expect.status && outcome.reason === c.expect.reason;
      if (!ok) failures++;
      const statusPaint = res.status < 300 ? style.green : res.status >= 500 ? style.red : style.yellow;
      rows.push([
        c.what,
        c.user === undefined ? "-" : c.token === "access" ? `${c.user} (access)` : c.user,
        c.tenantHeader ?? "-",
        c.object,
        { text: String(outcome.status), paint: statusPaint },
        outcome.tenant,
        { text: outcome.decision, paint: outcome.decision === "ALLOW" ? style.green : outcome.decision === "DENY" ? style.red : style.dim },
        outcome.reason,
        ok ? { text: "ok", paint: style.green } : { text: `MISMATCH: expected ${c.expect.status} ${c.expect.reason}`, paint: style.red },
      ]);
    }
    out.write(renderTable(["case", "user", "x-tenant-id", "object", "status", "tenant", "decision", "reason", "check"], rows, style) + "\n\n");

    const passed = CASES.length - failures;
    const verdict = failures === 0 ? style.green(`all ${CASES.length} requests as expected`) : style.red(`${failures} of ${CASES.length} requests NOT as expected`);
    out.write(`${verdict} (${passed}/${CASES.length}); engine: ${engine.summary()}\n`);
    return failures === 0;
  } finally {
    // Last started, first closed; a failure to close is reported, not hidden.
    for (const close of cleanups.reverse()) {
      await close().catch((err: unknown) => {
        console.error("demo: failed to close a server:", err);
        process.exitCode = 1;
      });
    }
  }
}

/** What the table shows for one response. */
function describe(status: number, body: { tenant?: string; error?: string }, seen: { decision: Decision; tenantId: string | undefined } | undefined): Outcome {
  if (seen !== undefined) {
    // The policy engine decided: show its decision and the policies that determined it.
    const policies = seen.decision.determiningPolicies.join(", ");
    return {
      status,
      tenant: seen.tenantId ?? "-",
      decision: seen.decision.decision,
      reason: policies || (seen.decision.allowed ? "?" : "no permit"),
    };
  }
  // Refused before the policy engine was asked: the error code says why.
  return { status, tenant: body.tenant ?? "-", decision: "-", reason: body.error ?? `HTTP ${status}` };
}

main().then(
  (ok) => {
    if (!ok) process.exitCode = 1;
  },
  (err: unknown) => {
    console.error("demo: failed:", err);
    process.exitCode = 1;
  },
);
