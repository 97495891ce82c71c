// docs/options.md lists every option of every entry point: each table's first column must equal
// the keys the validator knows, which its unknown-key error names ("...; known: a, b, c").
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import { authorize, tenantAuth, tenantAuthErrorHandler } from "../../src/adapters/express.js";
import { tenantAuthPlugin } from "../../src/adapters/fastify.js";
import * as hono from "../../src/adapters/hono.js";
import { createAuthorizerHandler, tenantAuthMiddleware, withTenant } from "../../src/adapters/lambda.js";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import { createTenantCredentials } from "../../src/credentials/index.js";
import { Authorize, TenantAuthModule } from "../../src/adapters/nestjs.js";
import { fromAuthorizationEngine, toAuthorizationEngine } from "../../src/authorizers/cedar-authorization.js";

const PROBE = "__probe__";
const pool = { userPoolId: "us-east-1_Probe", clientId: null, tokenUse: null };
const auth = createTenantAuth({ userPools: [pool] });
const engine = { isAuthorized: async () => ({ allowed: false as const, decision: "DENY" as const, determiningPolicies: [], errors: [] }) };
const identityPool = { identityPoolId: "us-east-1:00000000-0000-0000-0000-000000000000" };
const vp = { policyStoreId: "PSEXAMPLEabcdefg111111", namespace: "N" };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const any = (o: object) => o as any;

/** Heading in docs/options.md → a call that hands the validator an unknown key in that place. */
const PROBES: Record<string, () => unknown> = {
  "`createTenantAuth`": () => createTenantAuth(any({ userPools: [pool], [PROBE]: 1 })),
  "`createTenantAuth` `jwks`": () => createTenantAuth(any({ userPools: [pool], jwks: { [PROBE]: 1 } })),
  "`createTenantAuth` `userPools[i]`": () => createTenantAuth(any({ userPools: [{ ...pool, [PROBE]: 1 }] })),
  '`createTenantAuth` `tenants: { from: "groups" }`': () => createTenantAuth(any({ userPools: [pool], tenants: { from: "groups", [PROBE]: 1 } })),
  '`createTenantAuth` `tenants: { from: "claim" }`': () => createTenantAuth(any({ userPools: [pool], tenants: { from: "claim", claim: "c", [PROBE]: 1 } })),
  '`createTenantAuth` `tenants: { from: "userPool" }`': () => createTenantAuth(any({ userPools: [pool], tenants: { from: "userPool", tenants: {}, [PROBE]: 1 } })),
  '`createTenantAuth` `tenants: { from: "appClient" }`': () => createTenantAuth(any({ userPools: [pool], tenants: { from: "appClient", tenants: {}, [PROBE]: 1 } })),
  '`createTenantAuth` `tenants: { from: "custom" }`': () => createTenantAuth(any({ userPools: [pool], tenants: { from: "custom", resolve: () => [], [PROBE]: 1 } })),
  "Express `tenantAuth`": () => tenantAuth(auth, any({ [PROBE]: 1 })),
  "Express `authorize`": () => authorize(engine, any({ action: "a", resource: { type: "T", id: "i" }, [PROBE]: 1 })),
  "Express `tenantAuthErrorHandler`": () => tenantAuthErrorHandler(any({ [PROBE]: 1 })),
  "NestJS `TenantAuthModule.forRoot`": () => TenantAuthModule.forRoot(any({ auth, [PROBE]: 1 })),
  "NestJS `TenantAuthModule.forRootAsync`": () => TenantAuthModule.forRootAsync(any({ useFactory: () => ({ auth }), [PROBE]: 1 })),
  "NestJS `@Authorize`": () => Authorize("a", { type: "T", id: "i" }, any({ [PROBE]: 1 })),
  "Hono `tenantAuth`": () => hono.tenantAuth(auth, any({ [PROBE]: 1 })),
  "Hono `authorize`": () => hono.authorize(engine, any({ action: "a", resource: { type: "T", id: "i" }, [PROBE]: 1 })),
  "Lambda `withTenant`": () => withTenant(auth, async () => ({ statusCode: 200 }), any({ [PROBE]: 1 })),
  "Lambda `tenantAuthMiddleware`": () => tenantAuthMiddleware(auth, any({ [PROBE]: 1 })),
  "Lambda `createAuthorizerHandler`": () => createAuthorizerHandler(auth, any({ [PROBE]: 1 })),
  "`createVerifiedPermissionsAuthorizer`": () => createVerifiedPermissionsAuthorizer(any({ ...vp, [PROBE]: 1 })),
  "`createCedarAuthorizer`": () => createCedarAuthorizer(any({ policies: "", namespace: "N", [PROBE]: 1 })),
  "`createCedarAuthorizer` `policyStore`": () => createCedarAuthorizer(any({ policyStore: { policyStoreId: "PS1", [PROBE]: 1 }, namespace: "N" })),
  "`toAuthorizationEngine`": () => toAuthorizationEngine(engine, any({ [PROBE]: 1 })),
  "`fromAuthorizationEngine`": () => fromAuthorizationEngine({ isAuthorized: async () => ({ type: "deny" }) }, any({ namespace: "N", [PROBE]: 1 })),
  "`createTenantCredentials`": () => createTenantCredentials(any({ identityPool, [PROBE]: 1 })),
  "`createTenantCredentials` `identityPool`": () => createTenantCredentials(any({ identityPool: { ...identityPool, [PROBE]: 1 } })),
  "`createTenantCredentials` `assumeRole`": () => createTenantCredentials(any({ assumeRole: { roleArn: "arn:aws:iam::111122223333:role/r", [PROBE]: 1 } })),
};

/** Fastify's are checked when the plugin registers and when a route is declared. */
const ASYNC_PROBES: Record<string, () => Promise<unknown>> = {
  "Fastify `tenantAuthPlugin`": async () => {
    const app = Fastify();
    try {
      await app.register(tenantAuthPlugin, any({ auth, [PROBE]: 1 }));
      await app.ready();
    } finally {
      await app.close();
    }
  },
  "Fastify route `config.tenantAuth`": async () => {
    const app = Fastify();
    try {
      await app.register(tenantAuthPlugin, { auth });
      app.get("/probe", any({ config: { tenantAuth: { [PROBE]: 1 } } }), async () => ({}));
      await app.ready();
    } finally {
      await app.close();
    }
  },
};

function known(error: unknown): string[] {
  const message = error instanceof Error ? error.message : String(error);
  const m = /unknown option \S*__probe__.*; known: (.+)$/.exec(message);
  if (!m) throw new Error(`not an unknown-option error: ${message}`);
  return m[1]!.split(", ").sort();
}

function documented(): Map<string, string[]> {
  const text = readFileSync(resolve(import.meta.dirname, "../../docs/options.md"), "utf8");
  const out = new Map<string, string[]>();
  for (const section of text.split(/^### /m).slice(1)) {
    const heading = section.slice(0, section.indexOf("\n")).trim();
    const rows = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
    out.set(heading, rows.sort());
  }
  return out;
}

describe("docs/options.md", () => {
  const docs = documented();

  it("documents exactly the keys the validator knows, for every entry point", async () => {
    const mismatches: string[] = [];
    const check = (heading: string, keys: string[]) => {
      const rows = docs.get(heading);
      if (rows === undefined) mismatches.push(`${heading}: no section`);
      else if (JSON.stringify(rows) !== JSON.stringify(keys)) mismatches.push(`${heading}: documents ${rows.join(",")} but the validator knows ${keys.join(",")}`);
    };
    for (const [heading, probe] of Object.entries(PROBES)) {
      let thrown: unknown;
      try {
        probe();
      } catch (err) {
        thrown = err;
      }
      check(heading, known(thrown));
    }
    for (const [heading, probe] of Object.entries(ASYNC_PROBES))
      check(
        heading,
        known(
          await probe().then(
            () => undefined,
            (err: unknown) => err,
          ),
        ),
      );
    expect(mismatches).toEqual([]);
  });

  it("has no section the test does not check", () => {
    const probed = new Set([...Object.keys(PROBES), ...Object.keys(ASYNC_PROBES)]);
    expect([...docs.keys()].filter((h) => !probed.has(h))).toEqual([]);
  });
});
