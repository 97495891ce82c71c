/**
 * In mode "withToken" the service reads the token's claims through the STORE's
 * schema, but the decision cache key keeps only what the `schema` OPTION declares. A schema option
 * that lags behind the store (an attribute added to the store later) makes two tokens of one user
 * that differ in a claim a policy reads share one cached decision: no error, no warning.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import type { VerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { startVerifiedPermissionsEmulator } from "../../src/testing/index.js";
import type { Scenario } from "../support/scenario.js";
import { NAMESPACE, POLICIES, SCHEMA, SCHEMA_JSON, object, scenario } from "../support/scenario.js";

const FINANCE_WRITES = `
@id("finance-writes")
permit (principal, action == TenancyDemo::Action::"WriteObject", resource in TenancyDemo::Bucket::"acme-assets")
when { principal has "custom:department" && principal["custom:department"] == "finance" };
`;

// The authorizer's copy of the schema, one attribute behind the store's.
const STALE = structuredClone(SCHEMA_JSON) as { TenancyDemo: { entityTypes: { User: { shape: { attributes: Record<string, unknown> } } } } };
delete STALE.TenancyDemo.entityTypes.User.shape.attributes["custom:department"];

let s: Scenario;
let emulator: VerifiedPermissionsEmulator;

beforeAll(async () => {
  s = await scenario();
  emulator = await startVerifiedPermissionsEmulator({ policies: POLICIES + FINANCE_WRITES, schema: SCHEMA, userPools: [s.issuer.userPool], namespace: NAMESPACE });
});
afterAll(async () => {
  await emulator.close();
});

describe("withToken decision cache with a schema option behind the store's", () => {
  it("a token whose department the policy refuses is not served the other token's ALLOW", async () => {
    const vp = (cache: boolean) =>
      createVerifiedPermissionsAuthorizer({
        policyStoreId: emulator.policyStoreId,
        namespace: NAMESPACE,
        schema: STALE as unknown as Record<string, unknown>,
        mode: "withToken",
        timeoutMs: 10_000,
        clientConfig: emulator.clientConfig,
        ...(cache ? {} : { cache: false }),
      });
    const finance = await s.caller("zoe", ["tenant:acme"], { claims: { "custom:department": "finance" } });
    const sales = await s.caller("zoe", ["tenant:acme"], { claims: { "custom:department": "sales" } });
    const request = (c: typeof finance) => ({ principal: c.principal, token: c.token, action: "WriteObject", resource: object("acme") });

    // The service's own answers: finance may write, sales may not.
    const uncached = vp(false);
    expect((await uncached.isAuthorized(request(finance))).decision).toBe("ALLOW");
    expect((await uncached.isAuthorized(request(sales))).decision).toBe("DENY");

    // With the cache: the sales token must still be refused.
    const cached = vp(true);
    expect((await cached.isAuthorized(request(finance))).decision).toBe("ALLOW");
    expect((await cached.isAuthorized(request(sales))).decision).toBe("DENY");
  });
});
