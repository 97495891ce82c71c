/**
 * Property (fast-check): two authorization requests that differ in anything a policy can read
 * (the principal's attributes, groups or active tenant, the action, the resource's type, id,
 * attributes or parents, any context value however deeply nested, the entities) never share a
 * Verified Permissions cached decision: after the first is decided (and cached), the second still
 * reaches the service. Counted at the emulator, which the real SDK client calls.
 *
 * Pairs are a request and a one-field mutation of it (near misses: "1" against 1, 150.5 against
 * 151.5, a nested value, one parent more), or two independent requests. "Differ" is judged on the
 * requests as written, so a value the mapping would drop (it used to drop 150.5) counts as a
 * difference: the second request must then get its own decision or be refused. Local Cedar has no
 * decision cache (every decision is evaluated), so it has no such property to check.
 */
import { VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantAuthError, createTenantAuth } from "../../src/index.js";
import type { AuthorizationRequest, TenantPrincipal } from "../../src/index.js";
import { canonicalJson } from "../../src/core/cedar-entities.js";
import type { CedarEntity } from "../../src/core/cedar-entities.js";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import type { VerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import { createTestIssuer, startVerifiedPermissionsEmulator } from "../../src/testing/index.js";
import type { VerifiedPermissionsEmulator } from "../../src/testing/index.js";

const NUM_RUNS = 300;
const NAMESPACE = "P";

let emulator: VerifiedPermissionsEmulator;
let client: VerifiedPermissionsClient;
let authorizer: VerifiedPermissionsAuthorizer;
let principals: TenantPrincipal[] = [];

beforeAll(async () => {
  const issuer = await createTestIssuer();
  const auth = createTenantAuth({ userPools: [issuer.userPool], requireTenant: false });
  const both = await issuer.idToken({ sub: "both", groups: ["tenant:acme", "tenant:globex"] });
  principals = [
    await auth.resolveTenant(await issuer.idToken({ sub: "a", groups: ["tenant:acme"], claims: { email: "a@example.com" } })),
    // Same user, another token: attributes differ (email, jti, ...), groups and tenant do not.
    await auth.resolveTenant(await issuer.idToken({ sub: "a", groups: ["tenant:acme"], claims: { email: "a2@example.com" } })),
    // Same user, one group more.
    await auth.resolveTenant(await issuer.idToken({ sub: "a", groups: ["tenant:acme", "tenant:acme:admin"] })),
    await auth.resolveTenant(await issuer.idToken({ sub: "g", groups: ["tenant:globex"] })),
    // One token, two active tenants: only context.tenant differs.
    await auth.resolveTenant(both, { tenantHint: "acme" }),
    await auth.resolveTenant(both, { tenantHint: "globex" }),
    await auth.resolveTenant(await issuer.accessToken({ sub: "a", groups: ["tenant:acme"], scopes: ["openid"] })),
    await auth.resolveTenant(await issuer.accessToken({ sub: "a", groups: ["tenant:acme"], scopes: ["openid", "admin"] })),
  ];
  emulator = await startVerifiedPermissionsEmulator({ policies: "permit (principal, action, resource);", namespace: NAMESPACE });
  client = new VerifiedPermissionsClient(emulator.clientConfig);
  authorizer = createVerifiedPermissionsAuthorizer({
    policyStoreId: emulator.policyStoreId,
    client,
    namespace: NAMESPACE,
    tenantEntityType: "Tenant",
    cache: { maxEntries: 100_000, ttlMs: 600_000 },
    batch: false,
    timeoutMs: 30_000,
  });
  await authorizer.ready();
});
afterAll(async () => {
  client.destroy();
  await emulator.close();
});

// ---- generators -------------------------------------------------------------------------------

const key = fc.constantFrom("a", "b", "amount", "nested", "tags", "__proto__", "a.b", "");
const scalar = fc.oneof(
  { weight: 10, arbitrary: fc.string({ maxLength: 4 }) },
  { weight: 10, arbitrary: fc.boolean() },
  { weight: 10, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 10, arbitrary: fc.constantFrom(0, 1, -1, 2 ** 53, 2 ** 60, -(2 ** 62), "1", "true", "0", "") },
  // Values Cedar cannot represent: refused, so they cannot make two requests look alike.
  { weight: 1, arbitrary: fc.constantFrom(150.5, 151.5, 2 ** 64, 1e21, null) },
);
const entityRef = fc.record({ __entity: fc.record({ type: fc.constantFrom("P::Tag", "P::Tenant"), id: fc.constantFrom("x", "acme", "globex") }) });
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, entityRef, fc.array(tie("v"), { maxLength: 3 }), fc.dictionary(key, tie("v"), { maxKeys: 3 })),
})).v;
const record = fc.dictionary(key, value, { maxKeys: 3 });
const uid = fc.record({ type: fc.constantFrom("Folder", "Tenant", "Tag"), id: fc.constantFrom("f1", "acme", "globex", "x") });
// Cedar refuses a cycle in the entity hierarchy: an entity is never its own parent here.
const entity = fc
  .record({
    uid: fc.record({ type: fc.constantFrom("P::Tag", "P::Folder"), id: fc.constantFrom("x", "y", "f1") }),
    attrs: record,
    parents: fc.uniqueArray(fc.record({ type: fc.constantFrom("P::Folder", "P::Tenant"), id: fc.constantFrom("f1", "acme") }), { maxLength: 2, selector: (p) => `${p.type}/${p.id}` }),
  })
  .map((e) => ({ ...e, parents: e.parents.filter((p) => p.type !== e.uid.type || p.id !== e.uid.id) }));

interface Req {
  principal: number;
  action: string | { type: string; id: string };
  resource: { type: string; id: string; attributes?: Record<string, unknown>; parents?: { type: string; id: string }[] };
  context?: Record<string, unknown>;
  entities?: unknown[];
}

const requestArb: fc.Arbitrary<Req> = fc.record(
  {
    principal: fc.nat({ max: 7 }),
    action: fc.oneof(fc.constantFrom("Read", "Write"), fc.constant({ type: "Admin::Action", id: "Read" })),
    resource: fc.record(
      {
        type: fc.constantFrom("Doc", "Folder"),
        id: fc.constantFrom("1", "2", "a/b"),
        attributes: record,
        parents: fc.uniqueArray(uid, { maxLength: 2, selector: (p) => `${p.type}/${p.id}` }),
      },
      { requiredKeys: ["type", "id"] },
    ),
    context: record,
    entities: fc.uniqueArray(entity, { maxLength: 2, selector: (e) => `${e.uid.type}/${e.uid.id}` }),
  },
  { requiredKeys: ["principal", "action", "resource"] },
);

type Mutation = { kind: string; apply(r: Req): Req };
const clone = (r: Req): Req => structuredClone(r);
/** A change in one place: where a policy can read it, and (most of the time) a real difference. */
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat({ max: 7 }).map((p) => ({ kind: "principal", apply: (r: Req) => ({ ...clone(r), principal: p }) })),
  fc.constantFrom<Req["action"]>("Read", "Write", { type: "Admin::Action", id: "Read" }).map((a) => ({ kind: "action", apply: (r: Req) => ({ ...clone(r), action: a }) })),
  fc.constantFrom("Doc", "Folder", "Tag").map((t) => ({
    kind: "resource type",
    apply: (r: Req) => {
      const c = clone(r);
      c.resource.type = t;
      return c;
    },
  })),
  fc.constantFrom("1", "2", "3").map((id) => ({
    kind: "resource id",
    apply: (r: Req) => {
      const c = clone(r);
      c.resource.id = id;
      return c;
    },
  })),
  fc.tuple(key, value).map(([k, v]) => ({
    kind: "resource attribute",
    apply: (r: Req) => {
      const c = clone(r);
      c.resource.attributes = { ...c.resource.attributes };
      Object.defineProperty(c.resource.attributes, k, { value: v, enumerable: true, writable: true, configurable: true });
      return c;
    },
  })),
  uid.map((p) => ({
    kind: "resource parent",
    apply: (r: Req) => {
      const c = clone(r);
      c.resource.parents = [...(c.resource.parents ?? []), p];
      return c;
    },
  })),
  fc.tuple(key, value).map(([k, v]) => ({
    kind: "context value",
    apply: (r: Req) => {
      const c = clone(r);
      c.context = { ...c.context };
      Object.defineProperty(c.context, k, { value: v, enumerable: true, writable: true, configurable: true });
      return c;
    },
  })),
  fc.tuple(key, scalar).map(([k, v]) => ({
    kind: "nested context value",
    apply: (r: Req) => {
      const c = clone(r);
      c.context = { ...c.context, nested: { deep: { [k]: [v] } } };
      return c;
    },
  })),
  fc.constantFrom<[unknown, unknown]>([1, "1"], [true, "true"], [0, false], [[1], 1], [{ a: 1 }, [1]], [2 ** 53, 2 ** 53 + 2], [150.5, 151.5], [1e21, 2e21]).map(([x, y]) => ({
    kind: "near-miss value",
    apply: (r: Req) => {
      const c = clone(r);
      c.context = { ...c.context, amount: c.context?.["amount"] === x ? y : x };
      return c;
    },
  })),
  entity.map((e) => ({
    kind: "entities",
    apply: (r: Req) => {
      const c = clone(r);
      c.entities = [...(c.entities ?? []).filter((x) => canonicalJson((x as CedarEntity).uid) !== canonicalJson(e.uid)), e];
      return c;
    },
  })),
);

const pairArb = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(requestArb, mutationArb).map(([a, m]) => ({ kind: m.kind, a, b: m.apply(a) })) },
  { weight: 1, arbitrary: fc.tuple(requestArb, requestArb).map(([a, b]) => ({ kind: "independent", a, b })) },
);

function toRequest(r: Req): AuthorizationRequest {
  return {
    principal: principals[r.principal]!,
    action: r.action,
    resource: r.resource,
    ...(r.context !== undefined ? { context: r.context } : {}),
    ...(r.entities !== undefined ? { entities: r.entities } : {}),
  };
}

/**
 * What a policy can read, judged on the request as the caller wrote it (not on the library's
 * mapping, which is what is under test): the principal's uid, claims and active tenant, the action,
 * the resource, the context and the entities, with entities and parents in one order and absent
 * context or entities the same as empty ones. The generators never use what the mapping ignores by
 * design (the context keys token and tenant, an entity with the principal's uid).
 */
function readable(r: Req): string {
  const p = principals[r.principal]!;
  const byUid = (x: { type: string; id: string }) => `${x.type}\u0000${x.id}`;
  const sortUids = <T extends { type: string; id: string }>(xs: readonly T[]) => [...xs].sort((x, y) => (byUid(x) < byUid(y) ? -1 : 1));
  const entities = ((r.entities ?? []) as { uid: { type: string; id: string }; attrs: unknown; parents: { type: string; id: string }[] }[])
    .map((e) => ({ uid: e.uid, attrs: e.attrs, parents: sortUids(e.parents) }))
    .sort((x, y) => (byUid(x.uid) < byUid(y.uid) ? -1 : 1));
  return canonicalJson({
    principal: { pool: p.userPoolId, sub: p.sub, claims: p.claims, tenant: p.tenantId ?? null },
    action: r.action,
    resource: { type: r.resource.type, id: r.resource.id, attributes: r.resource.attributes ?? null, parents: r.resource.parents ? sortUids(r.resource.parents) : null },
    context: r.context ?? {},
    entities,
  });
}

/** The decision, or "refused" when the request is refused (a value Cedar cannot represent). */
async function decide(r: AuthorizationRequest): Promise<"decided" | "refused"> {
  try {
    await authorizer.isAuthorized(r);
    return "decided";
  } catch (err) {
    if (err instanceof TenantAuthError && err.code === "authorizer_unavailable" && err.cause instanceof TypeError) return "refused";
    throw err;
  }
}

describe("Verified Permissions decision cache", () => {
  it("requests that differ in anything a policy reads never share a cached decision", async () => {
    const differing = new Map<string, number>();
    let same = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(pairArb, async ({ kind, a, b }) => {
        const ra = toRequest(a);
        const rb = toRequest(b);
        const differ = readable(a) !== readable(b);
        authorizer.clearCache();
        if ((await decide(ra)) === "refused") {
          refused++;
          return;
        }
        // The first decision is now cached: asking it again costs no call.
        const afterFirst = emulator.decisionCount;
        await decide(ra);
        expect(emulator.decisionCount).toBe(afterFirst);
        const second = await decide(rb);
        if (differ) {
          // Its own decision: a call of its own, or a refusal; never the first one's cache entry.
          if (second === "decided") expect(emulator.decisionCount, `${kind}: the second request was answered from the first one's cache entry`).toBe(afterFirst + 1);
          differing.set(kind, (differing.get(kind) ?? 0) + 1);
        } else {
          same++;
        }
      }),
      { numRuns: NUM_RUNS },
    );
    // Non-vacuous: most pairs differ, and every kind of difference was checked several times.
    const total = [...differing.values()].reduce((x, y) => x + y, 0);
    expect(total).toBeGreaterThanOrEqual(200);
    for (const kind of [
      "principal",
      "action",
      "resource type",
      "resource id",
      "resource attribute",
      "resource parent",
      "context value",
      "nested context value",
      "near-miss value",
      "entities",
      "independent",
    ]) {
      expect(differing.get(kind) ?? 0, `pairs differing by ${kind}`).toBeGreaterThanOrEqual(3);
    }
    expect(same + refused).toBeLessThan(NUM_RUNS / 3);
  }, 600_000);
});
