// The demo itself, as a function: start everything on 127.0.0.1, send the requests of cases.ts,
// print the table, close everything. demo/run.ts is the command line around it; the tests call it
// too (test/examples/demo.test.ts).
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Authorizer, Decision } from "cognito-tenancy";
import type { TenantCredentials } from "cognito-tenancy/credentials";
import { createTenantAuth } from "cognito-tenancy";
import { createCedarAuthorizer } from "cognito-tenancy/cedar";
import { createTestIssuer, startVerifiedPermissionsEmulator } from "cognito-tenancy/testing";
import { createVerifiedPermissionsAuthorizer } from "cognito-tenancy/verified-permissions";
import { BUCKET, ROLE_TENANTS } from "../fixtures/scenario.js";
import { createDemoApi, observed } from "./api.js";
import { IDENTITY_POOL_ID, ROLE_POLICY, bucketsReadableBy, startCredentials } from "./credentials.js";
import type { Case, UserName } from "./cases.js";
import { CASES, USERS, describeUser, mint } from "./cases.js";
import type { Cell } from "./table.js";
import { renderTable, styleFor } from "./table.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const POLICY_FILE = "fixtures/policies/tenancy-demo.cedar";
const readRepoFile = (path: string) => readFileSync(join(root, path), "utf8");

export type EngineName = "cedar" | "verified-permissions" | "policy-sync";

export interface DemoOptions {
  /**
   * `"cedar"` (default): local Cedar in process. `"verified-permissions"`: the SDK client and the
   * emulator. `"policy-sync"`: local Cedar with the policies and schema synced from the emulator's store.
   */
  readonly engine?: EngineName;
  /** Where the report goes; default `process.stdout`. Colours only when it is a terminal. */
  readonly out?: NodeJS.WritableStream & { isTTY?: boolean };
  /** The requests; default the scenario's (cases.ts). */
  readonly cases?: readonly Case[];
}

/** Run the demo; resolves `true` when every request had its expected outcome. Closes every server it started. */
export async function runDemo(options: DemoOptions = {}): Promise<boolean> {
  const out = options.out ?? process.stdout;
  const cases = options.cases ?? CASES;
  const style = styleFor(out);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const issuer = await createTestIssuer(); // pool us-east-1_TestPool, as the policies name it
    const jwks = await issuer.listen();
    cleanups.push(() => jwks.close());

    const engine = await startEngine(options.engine ?? "cedar");
    cleanups.push(engine.close);

    // AWS credentials per request: an identity pool (emulator) asked for the role of the tenant the
    // request acts for. Started before any token is resolved, so principals keep their ID token.
    const credentials = await startCredentials(jwks.userPool, issuer.clientId);
    cleanups.push(credentials.close);

    // The core: keys fetched over HTTP from the JWKS server (plain http: is allowed on loopback),
    // tenants from `tenant:<id>` groups; a caller in several tenants who sends no x-tenant-id acts
    // for the tenant whose group's role Cognito chose as cognito:preferred_role.
    const auth = createTenantAuth({
      userPools: [jwks.userPool],
      tenants: { from: "groups", roleTenants: ROLE_TENANTS },
    });

    // Requests are sent one at a time, so the last decision seen is the current request's.
    let seen: Seen | undefined;
    let decisions = 0;
    const authorizer = observed(engine.authorizer, (decision, tenantId) => {
      seen = { decision, tenantId };
      decisions++;
    });
    // Requests are sent one at a time, so the last credentials seen are the current request's.
    let issued: TenantCredentials | undefined;
    let served = 0;
    const server = createServer(
      createDemoApi(auth, authorizer, {
        source: credentials.source,
        onCredentials: (c) => {
          issued = c;
          served++;
        },
      }),
    );
    const api = await listen(server);
    cleanups.push(() => closeServer(server));

    out.write(`${style.bold("cognito-tenancy demo")}: tenants acme, globex and initech, each reading only its own bucket\n\n`);
    const info: [string, string][] = [
      ["issuer", `${issuer.issuer} (test keys; JWKS served at ${jwks.jwksUri})`],
      ["api", `${api}  GET /buckets/:bucket/objects/:key  (Express: tenantAuth, authorize ReadObject)`],
      ["policies", `${POLICY_FILE} (namespace TenancyDemo)`],
      ["engine", engine.description],
      ["aws", `identity pool ${IDENTITY_POOL_ID} (emulator at ${credentials.emulator.endpoint}, Token role mapping) via createTenantCredentials`],
    ];
    for (const [k, v] of info) out.write(`  ${style.dim(k.padEnd(8))}  ${v}\n`);
    out.write("\n");

    const users = (Object.keys(USERS) as UserName[]).map((name) => {
      const { groups, preferredRole } = describeUser(name);
      return [name, groups.join(", "), preferredRole?.replace(/^arn:aws:iam::\d+:role\//, "") ?? "-"];
    });
    out.write(renderTable(["user", "cognito:groups", "cognito:preferred_role"], users, style) + "\n\n");

    const rows: (string | Cell)[][] = [];
    const awsRows: (string | Cell)[][] = [];
    let failures = 0;
    for (const c of cases) {
      const token = await mint(issuer, c);
      const headers: Record<string, string> = {};
      if (token !== undefined) headers["authorization"] = `Bearer ${token}`;
      if (c.tenantHeader !== undefined) headers["x-tenant-id"] = c.tenantHeader;
      seen = undefined;
      issued = undefined;
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
      // Assigned by the handler's callback, which TypeScript's narrowing does not see.
      const got = issued as TenantCredentials | undefined;
      if (got !== undefined) {
        // What the identity pool issued these credentials for, and what that role's policy lets it read.
        const role = credentials.emulator.issued(got.accessKeyId)?.roleArn ?? "?";
        const readable = bucketsReadableBy(role);
        const own = BUCKET[outcome.tenant as keyof typeof BUCKET];
        const scoped = role === got.roleArn && readable.length === 1 && readable[0] === own;
        if (!scoped) failures++;
        const preferred = c.user === undefined ? undefined : describeUser(c.user).preferredRole;
        awsRows.push([
          c.what,
          c.user ?? "-",
          c.tenantHeader ?? "-",
          outcome.tenant,
          roleName(preferred),
          roleName(role),
          readable.join(", ") || "-",
          scoped ? { text: "ok", paint: style.green } : { text: `MISMATCH: expected a role reading only ${own ?? "?"}`, paint: style.red },
        ]);
      }
    }
    out.write(renderTable(["case", "user", "x-tenant-id", "object", "status", "tenant", "decision", "reason", "check"], rows, style) + "\n\n");

    const verdict = failures === 0 ? style.green(`all ${cases.length} requests as expected`) : style.red(`${failures} of ${cases.length} requests NOT as expected`);
    out.write(`${verdict}; ${decisions} policy decisions by ${engine.summary(decisions)}\n\n`);

    // The second part: the AWS credentials each served request got, and the bucket they can read.
    const roles = Object.keys(ROLE_POLICY).map((arn) => [roleName(arn), bucketsReadableBy(arn).join(", ")]);
    out.write(renderTable(["IAM role", "s3:GetObject on (its policy document)"], roles, style) + "\n\n");
    out.write(renderTable(["served request", "user", "x-tenant-id", "tenant", "preferred role", "credentials role", "can read", "check"], awsRows, style) + "\n\n");
    const calls = credentials.emulator.calls;
    out.write(
      `${served} requests served, each with credentials for its tenant's role; identity pool (emulator): ` +
        `${calls.GetId} GetId, ${calls.GetCredentialsForIdentity} GetCredentialsForIdentity, ${served - calls.GetCredentialsForIdentity} from the credentials cache\n`,
    );
    return failures === 0;
  } finally {
    // Last started, first closed. A server that fails to close is an error, not a shrug.
    const errors: unknown[] = [];
    for (const close of cleanups.reverse()) await close().catch((err: unknown) => errors.push(err));
    // A server that could not close fails the demo even after a good run, on purpose.
    // eslint-disable-next-line no-unsafe-finally
    if (errors.length > 0) throw new AggregateError(errors, "demo: could not close every server");
  }
}

/** `tenants/acme-assets-reader` from its ARN; `-` for none. */
function roleName(arn: string | undefined): string {
  return arn === undefined ? "-" : arn.replace(/^arn:aws:iam::\d+:role\//, "");
}

interface Seen {
  decision: Decision;
  tenantId: string | undefined;
}

interface Outcome {
  readonly status: number;
  readonly tenant: string;
  readonly decision: string;
  readonly reason: string;
}

/** What the table shows for one response. */
function describe(status: number, body: { tenant?: string; error?: string }, seen: Seen | undefined): Outcome {
  if (seen !== undefined) {
    // The policy engine decided: its decision and the policies that determined it.
    const policies = seen.decision.determiningPolicies.join(", ");
    return { status, tenant: seen.tenantId ?? "-", decision: seen.decision.decision, reason: policies || (seen.decision.allowed ? "?" : "no permit") };
  }
  // Refused before the policy engine was asked: the error code says why.
  return { status, tenant: body.tenant ?? "-", decision: "-", reason: body.error ?? `HTTP ${status}` };
}

interface Engine {
  readonly authorizer: Authorizer;
  readonly description: string;
  /** Who made `decisions` decisions, and how. */
  readonly summary: (decisions: number) => string;
  readonly close: () => Promise<void>;
}

async function startEngine(name: EngineName): Promise<Engine> {
  const policies = readRepoFile(POLICY_FILE);
  const schema = readRepoFile("fixtures/policies/tenancy-demo.cedarschema");
  if (name === "cedar") {
    const authorizer = createCedarAuthorizer({ namespace: "TenancyDemo", policies, schema, tenantEntityType: "Tenant" });
    await authorizer.ready(); // load cedar-wasm, parse and validate the policies once
    return {
      authorizer,
      description: "local Cedar (@cedar-policy/cedar-wasm, in process)",
      summary: () => "local Cedar, in process",
      close: async () => {},
    };
  }
  // The SDK warns once, on stderr, that its releases after January 2027 need Node 22: true, but about
  // the machine rather than the demo. Set the variable to "false" yourself to see it.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const emulator = await startVerifiedPermissionsEmulator({ policies, schema, namespace: "TenancyDemo" });
  if (name === "policy-sync") {
    // The store is the source: policies and schema are pulled through the SDK, decisions made in process.
    const authorizer = createCedarAuthorizer({
      namespace: "TenancyDemo",
      policyStore: { policyStoreId: emulator.policyStoreId, clientConfig: emulator.clientConfig, refreshMs: 60_000 },
      tenantEntityType: "Tenant",
    });
    await authorizer.ready(); // the first load: ListPolicies, GetSchema, BatchGetPolicy
    return {
      authorizer,
      description: `local Cedar (in process), policies synced from Verified Permissions: @aws-sdk/client-verifiedpermissions -> emulator at ${emulator.endpoint} (policy store ${emulator.policyStoreId})`,
      summary: () => {
        const calls = Object.entries(emulator.calls)
          .filter(([, n]) => n > 0)
          .map(([op, n]) => `${n} ${op}`);
        return `local Cedar synced from Verified Permissions (emulator): ${calls.join(", ")}; ${emulator.callCount} authorization calls`;
      },
      close: async () => {
        authorizer.close();
        await emulator.close();
      },
    };
  }
  // The real SDK client, pointed at the emulator; against the service, drop endpoint and credentials.
  // (Imported here: the default, local Cedar, needs no AWS SDK.)
  const { VerifiedPermissionsClient } = await import("@aws-sdk/client-verifiedpermissions");
  const client = new VerifiedPermissionsClient(emulator.clientConfig);
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
    summary: (decisions) => {
      // The decision calls; ready()'s reads of the store (GetPolicyStore, ...) are not decisions.
      const calls = Object.entries(emulator.calls)
        .filter(([op, n]) => n > 0 && op.includes("IsAuthorized"))
        .map(([op, n]) => `${n} ${op}`);
      const cached = decisions - emulator.decisionCount;
      return `Verified Permissions (emulator): ${calls.join(", ") || "no calls"}${cached > 0 ? `, ${cached} from the authorizer's decision cache` : ""}`;
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
  server.closeAllConnections(); // fetch keeps connections alive: do not wait for them to time out
  await closed;
}
