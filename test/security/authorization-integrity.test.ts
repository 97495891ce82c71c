/**
 * Authorization integrity: what a policy reads is exactly what the verified token and the caller
 * said, nothing replaced, nothing silently left out. Every case runs against local Cedar and
 * against Verified Permissions (the real SDK client and the testing kit's emulator).
 *
 * - the context derived from the token (`context.tenant`, `context.token`) cannot be replaced by
 *   `request.context`, nor supplied by it when the token gives none;
 * - values Cedar cannot represent are refused (TypeError → 503 from the caller, token_invalid 401
 *   from a token), never dropped, so a `forbid` that reads them still applies;
 * - static entities describing a mapped group or tenant are merged, not a duplicate-entity error;
 *   caller entities cannot take a mapped group's tenant parents away;
 * - a `cognito` claim beside `cognito:` claims is refused, as the service refuses it.
 */
import { VerifiedPermissionsClient, IsAuthorizedWithTokenCommand } from "@aws-sdk/client-verifiedpermissions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantAuthError, authorizeOrThrow, createTenantAuth } from "../../src/index.js";
import type { AuthorizationRequest, Authorizer, TenantAuth, TenantPrincipal } from "../../src/index.js";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import { createTestIssuer, startVerifiedPermissionsEmulator } from "../../src/testing/index.js";
import type { TestIssuer, VerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { expectRefused } from "../support/security.js";

const NAMESPACE = "Sec";
const POOL = "us-east-1_TestPool";
const POLICIES = `
@id("same-tenant")
permit (principal, action == Sec::Action::"Read", resource)
when { context has tenant && resource has tenant && context.tenant == resource.tenant };

@id("scoped")
permit (principal, action == Sec::Action::"Scoped", resource)
when { context has token && context.token has scope && context.token.scope.contains("admin") };

@id("pay")
permit (principal, action == Sec::Action::"Pay", resource);

@id("cap-context")
forbid (principal, action == Sec::Action::"Pay", resource)
when { context has amount && context.amount > 100 };

@id("cap-resource")
forbid (principal, action == Sec::Action::"Pay", resource)
when { resource has limit && resource.limit > 100 };

@id("cap-ledger")
forbid (principal, action == Sec::Action::"Pay", resource)
when { context has ledger && context.ledger has amount && context.ledger.amount > 100 };

@id("cap-claim")
forbid (principal, action == Sec::Action::"Pay", resource)
when { principal has risk && principal.risk > 100 };

@id("role-read")
permit (principal in Sec::Role::"reader", action == Sec::Action::"RoleRead", resource);

@id("gold")
permit (principal, action == Sec::Action::"GoldRead", resource)
when { context has tenant && context.tenant has plan && context.tenant.plan == "gold" };

@id("withdraw")
permit (principal, action == Sec::Action::"Withdraw", resource);

@id("acme-frozen")
forbid (principal in Sec::Tenant::"acme", action == Sec::Action::"Withdraw", resource);

@id("any")
permit (principal, action == Sec::Action::"Any", resource);
`;

/** What the app configures once: a group with a parent role, a tenant with attributes. */
const STATIC_ENTITIES = [
  { uid: { type: "Sec::UserGroup", id: `${POOL}|tenant:acme` }, attrs: {}, parents: [{ type: "Sec::Role", id: "reader" }] },
  { uid: { type: "Sec::Tenant", id: "acme" }, attrs: { plan: "gold" }, parents: [] },
];

let issuer: TestIssuer;
let auth: TenantAuth;
let emulator: VerifiedPermissionsEmulator;
let client: VerifiedPermissionsClient;
let acme: TenantPrincipal;
let globex: TenantPrincipal;
let untenanted: TenantPrincipal;
let acmeAccess: TenantPrincipal;

beforeAll(async () => {
  issuer = await createTestIssuer();
  auth = createTenantAuth({ userPools: [issuer.userPool], requireTenant: false });
  acme = await auth.resolveTenant(await issuer.idToken({ sub: "acme-user", groups: ["tenant:acme"] }));
  globex = await auth.resolveTenant(await issuer.idToken({ sub: "globex-user", groups: ["tenant:globex"] }));
  untenanted = await auth.resolveTenant(await issuer.idToken({ sub: "staff-user", groups: ["staff"] }));
  acmeAccess = await auth.resolveTenant(await issuer.accessToken({ sub: "acme-access", groups: ["tenant:acme"], scopes: ["openid"] }));
  emulator = await startVerifiedPermissionsEmulator({ policies: POLICIES, namespace: NAMESPACE, userPools: [issuer.userPool] });
  client = new VerifiedPermissionsClient(emulator.clientConfig);
});
afterAll(async () => {
  client.destroy();
  await emulator.close();
});

interface Engine {
  readonly name: string;
  make(options?: { entities?: readonly unknown[] }): Authorizer;
}

const ENGINES: readonly Engine[] = [
  {
    name: "local Cedar",
    make: (o = {}) => createCedarAuthorizer({ namespace: NAMESPACE, policies: POLICIES, tenantEntityType: "Tenant", ...(o.entities ? { entities: o.entities } : {}) }),
  },
  {
    name: "Verified Permissions",
    make: (o = {}) =>
      createVerifiedPermissionsAuthorizer({
        policyStoreId: emulator.policyStoreId,
        client,
        namespace: NAMESPACE,
        tenantEntityType: "Tenant",
        timeoutMs: 10_000,
        ...(o.entities ? { entities: o.entities } : {}),
      }),
  },
];

const tenantRef = (id: string) => ({ __entity: { type: "Sec::Tenant", id } });
const doc = (tenant: string, extra: Record<string, unknown> = {}) => ({ type: "Doc", id: `${tenant}/report`, attributes: { tenant: tenantRef(tenant), ...extra } });

/** The decision, or the refusal's code and the class of its cause. */
async function outcome(authorizer: Authorizer, request: AuthorizationRequest): Promise<string> {
  try {
    const d = await authorizer.isAuthorized(request);
    return d.decision;
  } catch (err) {
    if (!(err instanceof TenantAuthError)) throw err;
    return `${err.code}${err.cause instanceof Error ? `:${err.cause.name}` : ""}`;
  }
}

describe.each(ENGINES)("$name", (engine) => {
  describe("the context derived from the token cannot be replaced", () => {
    it("baseline: acme acting for acme reads acme's document, not globex's", async () => {
      const a = engine.make();
      expect(await outcome(a, { principal: acme, action: "Read", resource: doc("acme") })).toBe("ALLOW");
      expect(await outcome(a, { principal: acme, action: "Read", resource: doc("globex") })).toBe("DENY");
    });

    it("context.tenant from the caller: an acme user never reads globex's document", async () => {
      const a = engine.make();
      const request = { principal: acme, action: "Read", resource: doc("globex"), context: { tenant: tenantRef("globex") } };
      expect(await outcome(a, request)).toBe("DENY");
      await expectRefused(() => authorizeOrThrow(a, request), "access_denied", 403);
      // Still acme's own document: the verified tenant is what the policy reads.
      expect(await outcome(a, { ...request, resource: doc("acme") })).toBe("ALLOW");
    });

    it("context.tenant from the caller when the token makes no tenant active: ignored too", async () => {
      const a = engine.make();
      expect(await outcome(a, { principal: untenanted, action: "Read", resource: doc("globex"), context: { tenant: tenantRef("globex") } })).toBe("DENY");
    });

    it("context.token from the caller: neither beside an ID token nor over an access token's claims", async () => {
      const a = engine.make();
      const forged = { token: { scope: ["admin"], client_id: "x" } };
      expect(await outcome(a, { principal: acme, action: "Scoped", resource: doc("acme"), context: forged })).toBe("DENY");
      expect(await outcome(a, { principal: acmeAccess, action: "Scoped", resource: doc("acme"), context: forged })).toBe("DENY");
    });

    it("other context keys still reach the policies", async () => {
      const a = engine.make();
      expect(await outcome(a, { principal: acme, action: "Pay", resource: doc("acme"), context: { amount: 101 } })).toBe("DENY");
      expect(await outcome(a, { principal: acme, action: "Pay", resource: doc("acme"), context: { amount: 100 } })).toBe("ALLOW");
    });
  });

  describe("values Cedar cannot represent are refused, never dropped", () => {
    const bad: readonly [string, unknown][] = [
      ["a fraction", 150.5],
      ["1e21", 1e21],
      ["2^64", 2 ** 64],
      ["NaN", Number.NaN],
      ["Infinity", Number.POSITIVE_INFINITY],
      ["a bigint", 150n],
      ["null", null],
      ["a function", () => 150],
      ["a symbol", Symbol("150")],
      ["undefined in an array", [undefined]],
      ["a fraction in an array", [150.5]],
      ["a Date", new Date(0)],
      ["a fraction nested in a record", { value: 150.5 }],
    ];

    it.each(bad)("context value %s: 503 with a TypeError cause, never an allow", async (_label, value) => {
      const a = engine.make();
      const err = await expectRefused(() => a.isAuthorized({ principal: acme, action: "Pay", resource: doc("acme"), context: { amount: value } }), "authorizer_unavailable", 503);
      expect(err.cause).toBeInstanceOf(TypeError);
    });

    it.each(bad)("resource attribute %s: refused", async (_label, value) => {
      const a = engine.make();
      const err = await expectRefused(() => a.isAuthorized({ principal: acme, action: "Pay", resource: doc("acme", { limit: value }) }), "authorizer_unavailable", 503);
      expect(err.cause).toBeInstanceOf(TypeError);
    });

    it.each(bad)("attribute %s of a request entity: refused", async (_label, value) => {
      const a = engine.make();
      const ledger = { __entity: { type: "Sec::Ledger", id: "main" } };
      const err = await expectRefused(
        () =>
          a.isAuthorized({
            principal: acme,
            action: "Pay",
            resource: doc("acme"),
            context: { ledger },
            entities: [{ uid: { type: "Sec::Ledger", id: "main" }, attrs: { amount: value }, parents: [] }],
          }),
        "authorizer_unavailable",
        503,
      );
      expect(err.cause).toBeInstanceOf(TypeError);
    });

    it("a context or attributes that are not plain objects, malformed attrs or parents: refused, not read as empty", async () => {
      const a = engine.make();
      const cases: AuthorizationRequest[] = [
        { principal: acme, action: "Pay", resource: doc("acme"), context: new Map([["amount", 150]]) as unknown as Record<string, unknown> },
        { principal: acme, action: "Pay", resource: { type: "Doc", id: "d", attributes: new Map([["limit", 150]]) as unknown as Record<string, unknown> } },
        { principal: acme, action: "Pay", resource: doc("acme"), entities: [{ uid: { type: "Sec::Ledger", id: "main" }, attrs: [150], parents: [] }] },
        { principal: acme, action: "Pay", resource: doc("acme"), entities: [{ uid: { type: "Sec::Ledger", id: "main" }, attrs: {}, parents: { type: "Sec::Ledger", id: "x" } }] },
        { principal: acme, action: "Pay", resource: doc("acme"), context: { ledger: { __entity: { type: "Sec::Ledger" } } } },
      ];
      for (const request of cases) {
        const err = await expectRefused(() => a.isAuthorized(request), "authorizer_unavailable", 503);
        expect(err.cause).toBeInstanceOf(TypeError);
      }
    });

    it("a static entity with such a value: TypeError at setup", () => {
      expect(() => engine.make({ entities: [{ uid: { type: "Sec::Ledger", id: "main" }, attrs: { amount: 150.5 }, parents: [] }] })).toThrow(TypeError);
    });

    it("the forbid still denies representable values", async () => {
      const a = engine.make();
      expect(await outcome(a, { principal: acme, action: "Pay", resource: doc("acme", { limit: 150 }) })).toBe("DENY");
      expect(
        await outcome(a, {
          principal: acme,
          action: "Pay",
          resource: doc("acme"),
          context: { ledger: { __entity: { type: "Sec::Ledger", id: "main" } } },
          entities: [{ uid: { type: "Sec::Ledger", id: "main" }, attrs: { amount: 2 ** 60 }, parents: [] }],
        }),
      ).toBe("DENY");
    });

    it("a verified claim Cedar cannot represent: token_invalid (401), not left out", async () => {
      const a = engine.make();
      const risky = await auth.resolveTenant(await issuer.idToken({ sub: "risky", groups: ["tenant:acme"], claims: { risk: 150.5 } }));
      await expectRefused(() => a.isAuthorized({ principal: risky, action: "Pay", resource: doc("acme") }), "token_invalid", 401);
      const nulls = await auth.resolveTenant(await issuer.idToken({ sub: "nulls", groups: ["tenant:acme"], claims: { nickname: null } }));
      await expectRefused(() => a.isAuthorized({ principal: nulls, action: "Pay", resource: doc("acme") }), "token_invalid", 401);
      const fine = await auth.resolveTenant(await issuer.idToken({ sub: "fine", groups: ["tenant:acme"], claims: { risk: 150 } }));
      expect(await outcome(a, { principal: fine, action: "Pay", resource: doc("acme") })).toBe("DENY");
    });
  });

  describe("entities describing a mapped group or tenant are merged", () => {
    it("static entities: a group with a parent role and a tenant with attributes decide, and policies read them", async () => {
      const a = engine.make({ entities: STATIC_ENTITIES });
      expect(await outcome(a, { principal: acme, action: "RoleRead", resource: doc("acme") })).toBe("ALLOW");
      expect(await outcome(a, { principal: acme, action: "GoldRead", resource: doc("acme") })).toBe("ALLOW");
      // The mapped tenant parent of the group survives the static description of the group.
      expect(await outcome(a, { principal: acme, action: "Withdraw", resource: doc("acme") })).toBe("DENY");
      expect(await outcome(a, { principal: acme, action: "Read", resource: doc("acme") })).toBe("ALLOW");
      // Another tenant's user is not in the role and its tenant has no plan.
      expect(await outcome(a, { principal: globex, action: "RoleRead", resource: doc("globex") })).toBe("DENY");
      expect(await outcome(a, { principal: globex, action: "GoldRead", resource: doc("globex") })).toBe("DENY");
      expect(await outcome(a, { principal: globex, action: "Withdraw", resource: doc("globex") })).toBe("ALLOW");
    });

    it("request entities cannot take a mapped group's tenant parent away", async () => {
      const a = engine.make();
      const request = {
        principal: acme,
        action: "Withdraw",
        resource: doc("acme"),
        entities: [{ uid: { type: "Sec::UserGroup", id: `${POOL}|tenant:acme` }, attrs: {}, parents: [] }],
      };
      expect(await outcome(a, request)).toBe("DENY");
    });

    it("request entities cannot make the principal a member of anything", async () => {
      const a = engine.make();
      const request = {
        principal: globex,
        action: "RoleRead",
        resource: doc("globex"),
        entities: [{ uid: { type: "Sec::User", id: `${POOL}|globex-user` }, attrs: {}, parents: [{ type: "Sec::Role", id: "reader" }] }],
      };
      expect(await outcome(a, request)).toBe("DENY");
    });

    it("one attribute described twice with different values: refused", async () => {
      const a = engine.make({ entities: STATIC_ENTITIES });
      const err = await expectRefused(
        () => a.isAuthorized({ principal: acme, action: "GoldRead", resource: doc("acme"), entities: [{ uid: { type: "Sec::Tenant", id: "acme" }, attrs: { plan: "free" }, parents: [] }] }),
        "authorizer_unavailable",
        503,
      );
      expect(err.cause).toBeInstanceOf(TypeError);
    });
  });

  describe("a claim named cognito beside cognito: claims", () => {
    it("is refused as token_invalid (401) when mapped, as the service refuses it", async () => {
      const a = engine.make();
      const principal = await auth.resolveTenant(await issuer.idToken({ sub: "ns-clash", groups: ["tenant:acme"], claims: { cognito: "x" } }));
      await expectRefused(() => a.isAuthorized({ principal, action: "Any", resource: doc("acme") }), "token_invalid", 401, /cognito/);
      const access = await auth.resolveTenant(await issuer.accessToken({ sub: "ns-clash-a", groups: ["tenant:acme"], claims: { cognito: { groups: [] } } }));
      await expectRefused(() => a.isAuthorized({ principal: access, action: "Any", resource: doc("acme") }), "token_invalid", 401);
      // Without cognito: claims the name is free.
      const alone = await auth.resolveTenant(await issuer.accessToken({ sub: "alone", claims: { cognito: "x" } }));
      expect(await outcome(a, { principal: alone, action: "Any", resource: doc("acme") })).toBe("ALLOW");
    });
  });
});

describe("Verified Permissions specifics", () => {
  it("the emulator's IsAuthorizedWithToken refuses such a token (ValidationException), as the service does", async () => {
    const token = await issuer.idToken({ sub: "ns-clash", groups: ["tenant:acme"], claims: { cognito: "x" } });
    await expect(
      client.send(
        new IsAuthorizedWithTokenCommand({
          policyStoreId: emulator.policyStoreId,
          identityToken: token,
          action: { actionType: "Sec::Action", actionId: "Any" },
          resource: { entityType: "Sec::Doc", entityId: "x" },
        }),
      ),
    ).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("mode withToken: refused locally before any call", async () => {
    const a = createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, client, namespace: NAMESPACE, mode: "withToken", timeoutMs: 10_000 });
    const token = await issuer.idToken({ sub: "ns-clash-2", groups: ["tenant:acme"], claims: { cognito: "x" } });
    const principal = await auth.resolveTenant(token);
    const before = emulator.callCount;
    await expectRefused(() => a.isAuthorized({ principal, action: "Any", resource: doc("acme"), token }), "token_invalid", 401);
    expect(emulator.callCount).toBe(before);
  });
});
