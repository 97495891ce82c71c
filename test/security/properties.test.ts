/**
 * Property-based tests (fast-check) of the normalizer and tenant resolution:
 * - for any claims object, the result is a principal or a TenantAuthError, nothing else;
 * - a tenant is only ever one that a group, claim, pool or client of the token names;
 * - a hint can only narrow: the result's tenant is the hint, or the call is refused.
 * Runs are bounded (numRuns 300) and seeded by fast-check as usual (failures print the seed).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_GROUP_PATTERN, TenantAuthError, principalFromClaims } from "../../src/index.js";
import type { TenantAuth, TenantPrincipal, TenantStrategy } from "../../src/index.js";
import { authFor, createRawIssuer } from "../support/security.js";
import type { RawIssuer } from "../support/security.js";

const NUM_RUNS = 300;
const ISS = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Prop";
const POOL = "us-east-1_Prop";
const now = Math.floor(Date.now() / 1000);

const tenantIds = fc.constantFrom("acme", "globex", "initech", "ácme", "東京", "__proto__", "constructor", "a:b", "", " ");
const groupName = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(tenantIds, fc.option(fc.constantFrom("admin", "reader", "", "x:y"), { nil: undefined })).map(([t, r]) => (r === undefined ? `tenant:${t}` : `tenant:${t}:${r}`)) },
  { weight: 1, arbitrary: fc.constantFrom("admin", "Tenant:acme", "tenant:", "tenant::admin", "tenant:acme\n", "tenant:acme ", "x".repeat(129)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const anyValue = fc.anything({ maxDepth: 3, withNullPrototype: true, withObjectString: true });

/** Mostly well-formed Cognito claims, each field sometimes replaced by anything at all. */
const claimsArb = fc
  .record(
    {
      sub: fc.oneof({ weight: 5, arbitrary: fc.uuid() }, { weight: 1, arbitrary: anyValue }),
      iss: fc.oneof({ weight: 5, arbitrary: fc.constant(ISS) }, { weight: 1, arbitrary: anyValue }),
      token_use: fc.oneof({ weight: 5, arbitrary: fc.constantFrom("id", "access") }, { weight: 1, arbitrary: anyValue }),
      exp: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: now + 60, max: now + 7200 }) }, { weight: 1, arbitrary: fc.oneof(anyValue, fc.double()) }),
      iat: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: now - 60, max: now }) }, { weight: 1, arbitrary: anyValue }),
      aud: fc.oneof({ weight: 4, arbitrary: fc.constantFrom("client-a", "client-b") }, { weight: 1, arbitrary: anyValue }),
      client_id: fc.oneof({ weight: 4, arbitrary: fc.constantFrom("client-a", "client-b") }, { weight: 1, arbitrary: anyValue }),
      "cognito:groups": fc.oneof({ weight: 6, arbitrary: fc.array(groupName, { maxLength: 6 }) }, { weight: 1, arbitrary: anyValue }),
      "cognito:roles": fc.oneof({ weight: 8, arbitrary: fc.constant(["arn:aws:iam::123456789012:role/acme"]) }, { weight: 1, arbitrary: anyValue }),
      "cognito:preferred_role": fc.oneof({ weight: 8, arbitrary: fc.constant("arn:aws:iam::123456789012:role/acme") }, { weight: 1, arbitrary: anyValue }),
      scope: fc.oneof({ weight: 8, arbitrary: fc.constant("openid profile") }, { weight: 1, arbitrary: anyValue }),
      "custom:tenant_id": fc.oneof({ weight: 3, arbitrary: tenantIds }, { weight: 2, arbitrary: fc.array(tenantIds, { maxLength: 3 }) }, { weight: 1, arbitrary: anyValue }),
      "cognito:username": fc.oneof({ weight: 8, arbitrary: fc.string() }, { weight: 1, arbitrary: anyValue }),
    },
    { requiredKeys: ["sub", "iss", "token_use", "exp"] },
  )
  .chain((claims) =>
    // Sometimes add hostile keys as own properties, the way JSON.parse makes them.
    fc.option(fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty"), { nil: undefined, freq: 4 }).map((key) => {
      if (key === undefined) return claims as Record<string, unknown>;
      const text = JSON.stringify(claims, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v));
      if (text === undefined) return claims as Record<string, unknown>;
      const parsed = JSON.parse(text.length > 2 ? `{"${key}":{"cognito:groups":["tenant:evil"],"polluted":true},${text.slice(1)}` : `{"${key}":{"polluted":true}}`) as Record<string, unknown>;
      return parsed;
    }),
  );

/**
 * Well-formed claims only, so that the hint property is not vacuous: with claimsArb alone a run
 * of 300 honoured a hint about 3 times, and now and then never.
 */
const wellFormedClaimsArb = fc.record({
  sub: fc.uuid(),
  iss: fc.constant(ISS),
  token_use: fc.constantFrom("id", "access"),
  exp: fc.integer({ min: now + 60, max: now + 7200 }),
  aud: fc.constantFrom("client-a", "client-b"),
  client_id: fc.constantFrom("client-a", "client-b"),
  "cognito:groups": fc.array(
    fc
      .tuple(fc.constantFrom("acme", "globex", "initech", "ácme", "東京"), fc.option(fc.constantFrom("admin", "reader"), { nil: undefined }))
      .map(([t, r]) => (r === undefined ? `tenant:${t}` : `tenant:${t}:${r}`)),
    { maxLength: 4 },
  ),
  "custom:tenant_id": fc.oneof(fc.constantFrom("acme", "globex"), fc.array(fc.constantFrom("acme", "globex", "initech"), { minLength: 1, maxLength: 3 })),
}) as fc.Arbitrary<Record<string, unknown>>;

/** Claims and a hint: half the time a tenant the claims' groups or claim name, else anything. */
const claimsWithHint = fc.oneof(claimsArb, wellFormedClaimsArb).chain((claims) => {
  const own = (k: string) => (Object.prototype.hasOwnProperty.call(claims, k) ? claims[k] : undefined);
  const candidates: string[] = ["pool-tenant", "tenant-a", "tenant-b"];
  const groups = own("cognito:groups");
  if (Array.isArray(groups)) for (const g of groups) if (typeof g === "string") candidates.push(DEFAULT_GROUP_PATTERN.exec(g)?.groups?.["tenant"] ?? g);
  const claim = own("custom:tenant_id");
  if (typeof claim === "string") candidates.push(claim);
  const others = fc.oneof(tenantIds, fc.constantFrom("pool-tenant", "tenant-a", "tenant-b", "evil"), fc.string({ maxLength: 8 }));
  return fc.tuple(fc.constant(claims), fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...candidates) }, { weight: 1, arbitrary: others }));
});

const strategies: [string, TenantStrategy][] = [
  ["groups", { from: "groups" }],
  ["claim", { from: "claim", claim: "custom:tenant_id" }],
  ["userPool", { from: "userPool", tenants: { [POOL]: "pool-tenant" } }],
  ["appClient", { from: "appClient", tenants: { "client-a": "tenant-a", "client-b": "tenant-b" } }],
];

/** Every tenant id the claims name under a strategy: the only ids a principal may carry. */
function namedTenants(strategy: TenantStrategy, claims: Record<string, unknown>, principal: TenantPrincipal): Set<string> {
  const named = new Set<string>();
  const own = (k: string) => (Object.prototype.hasOwnProperty.call(claims, k) ? claims[k] : undefined);
  switch (strategy.from) {
    case "groups": {
      const groups = own("cognito:groups");
      if (Array.isArray(groups)) {
        for (const g of groups) {
          const t = typeof g === "string" ? DEFAULT_GROUP_PATTERN.exec(g)?.groups?.["tenant"] : undefined;
          if (t) named.add(t);
        }
      }
      break;
    }
    case "claim": {
      const v = own(strategy.claim);
      if (typeof v === "string") named.add(v);
      if (Array.isArray(v)) for (const x of v) if (typeof x === "string") named.add(x);
      break;
    }
    case "userPool":
      if (principal.userPoolId === POOL) named.add("pool-tenant");
      break;
    case "appClient": {
      const client = own(own("token_use") === "id" ? "aud" : "client_id");
      if (client === "client-a") named.add("tenant-a");
      if (client === "client-b") named.add("tenant-b");
      break;
    }
    default:
      break;
  }
  return named;
}

async function outcome(claims: Record<string, unknown>, strategy: TenantStrategy, hint?: string): Promise<TenantPrincipal | TenantAuthError> {
  try {
    return await principalFromClaims(claims, { tenants: strategy, userPoolId: POOL, ...(hint === undefined ? {} : { tenantHint: hint }) });
  } catch (err) {
    if (err instanceof TenantAuthError) return err;
    throw new Error(`principalFromClaims threw something other than a TenantAuthError: ${String((err as Error)?.stack ?? err)}`, { cause: err });
  }
}

describe("properties of the normalizer and tenant resolution", () => {
  for (const [name, strategy] of strategies) {
    it(`${name}: any claims object gives a principal or a TenantAuthError, and only a named tenant`, async () => {
      let resolved = 0;
      await fc.assert(
        fc.asyncProperty(fc.oneof(claimsArb, wellFormedClaimsArb), async (claims) => {
          const result = await outcome(claims, strategy);
          expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
          if (result instanceof TenantAuthError) {
            expect(result.status).toBeGreaterThanOrEqual(400);
            expect(result.status).toBeLessThan(500);
            return;
          }
          resolved++;
          const named = namedTenants(strategy, claims, result);
          expect(result.tenantId).toBeDefined();
          expect(named.has(result.tenantId as string)).toBe(true);
          for (const m of result.tenants) expect(named.has(m.tenantId)).toBe(true);
          expect(result.tenants.some((m) => m.tenantId === result.tenantId)).toBe(true);
          expect(result.tenantId).not.toBe("evil");
        }),
        { numRuns: NUM_RUNS },
      );
      // Non-vacuous: a fair share of the generated claims do resolve.
      expect(resolved).toBeGreaterThanOrEqual(3);
    });

    it(`${name}: a hint only narrows (the result is the hint, or a refusal)`, async () => {
      let honoured = 0;
      await fc.assert(
        fc.asyncProperty(claimsWithHint, async ([claims, hint]) => {
          const result = await outcome(claims, strategy, hint);
          if (result instanceof TenantAuthError) return;
          if (hint === "") return; // an empty hint means "no hint"
          honoured++;
          expect(result.tenantId).toBe(hint);
          expect(namedTenants(strategy, claims, result).has(hint)).toBe(true);
        }),
        { numRuns: NUM_RUNS },
      );
      expect(honoured).toBeGreaterThan(0);
    });
  }
});

describe("properties through the whole pipeline (signed tokens, resolveTenant)", () => {
  let es: RawIssuer;
  let auth: TenantAuth;
  beforeAll(async () => {
    es = await createRawIssuer("ES256");
    auth = authFor(es.issuer, { cache: { maxEntries: 50 } });
  });
  it("any signed groups claim gives a principal or a TenantAuthError, and only a tenant its groups name", async () => {
    let resolved = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 6, arbitrary: fc.array(groupName, { maxLength: 6 }) }, { weight: 1, arbitrary: anyValue }),
        fc.option(tenantIds, { nil: undefined }),
        async (groups, hint) => {
          const claims = es.claims({ "cognito:groups": groups });
          let text: string;
          try {
            text = JSON.stringify(claims);
          } catch {
            return; // not JSON-serializable (a bigint): not a token anyone can send
          }
          const token = es.signRaw(Buffer.from(JSON.stringify(es.header())).toString("base64url"), Buffer.from(text).toString("base64url"));
          let result: TenantPrincipal | TenantAuthError;
          try {
            result = await auth.resolveTenant(token, { tenantHint: hint });
          } catch (err) {
            if (!(err instanceof TenantAuthError)) throw err;
            expect(err.status).toBeLessThan(500);
            return;
          }
          resolved++;
          const parsed = JSON.parse(text) as Record<string, unknown>;
          const named = namedTenants({ from: "groups" }, parsed, result);
          expect(named.has(result.tenantId as string)).toBe(true);
          if (hint !== undefined && hint !== "") expect(result.tenantId).toBe(hint);
        },
      ),
      { numRuns: 200 },
    );
    expect(resolved).toBeGreaterThan(0);
  });
});
