// Every row of fixtures/README.md, against the committed key and tokens with the clock pinned.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTenantAuth } from "../src/index.js";
import { refusal } from "./support/refusal.js";
import { FIXTURE_NOW, ROLE, ROLE_TENANTS, fixtureToken, fixtureUserPool } from "../fixtures/index.js";

beforeAll(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(FIXTURE_NOW);
});
afterAll(() => {
  vi.useRealTimers();
});

const auth = createTenantAuth({ userPools: [fixtureUserPool] });

describe("fixture tokens", () => {
  it.each([
    ["alice-acme.id", "acme", "alice", "id"],
    ["alice-acme.access", "acme", "alice", "access"],
    ["bob-globex.id", "globex", "bob", "id"],
    ["carol-initech.id", "initech", "carol", "id"],
  ] as const)("%s resolves to %s", async (name, tenant, username, tokenUse) => {
    const p = await auth.resolveTenant(fixtureToken(name));
    expect(p.tenantId).toBe(tenant);
    expect(p.username).toBe(username);
    expect(p.tokenUse).toBe(tokenUse);
    expect(p.userPoolId).toBe("us-east-1_TestPool");
    expect(p.clientId).toBe("fixture-test-client");
  });

  it("alice's ID token carries her preferred role, parsed", async () => {
    const p = await auth.resolveTenant(fixtureToken("alice-acme.id"));
    expect(p.preferredRole).toEqual({
      arn: ROLE.acme,
      partition: "aws",
      accountId: "111122223333",
      path: "/tenants/",
      name: "acme-assets-reader",
    });
    expect(p.expiresAt.toISOString()).toBe("2026-01-01T01:00:00.000Z");
  });

  it("alice's access token carries scopes", async () => {
    const p = await auth.resolveTenant(fixtureToken("alice-acme.access"));
    expect(p.scopes).toEqual(["aws.cognito.signin.user.admin", "assets/read"]);
    expect(p.roles).toEqual([]);
  });

  it("dave, in two tenants, is ambiguous without a hint", async () => {
    const err = await refusal(auth.resolveTenant(fixtureToken("dave-acme-globex.id")));
    expect([err.code, err.status]).toEqual(["tenant_ambiguous", 400]);
  });

  it("dave acts for the tenant his hint names, and for no other", async () => {
    expect((await auth.resolveTenant(fixtureToken("dave-acme-globex.id"), { tenantHint: "acme" })).tenantId).toBe("acme");
    expect((await auth.resolveTenant(fixtureToken("dave-acme-globex.id"), { tenantHint: "globex" })).tenantId).toBe("globex");
    const err = await refusal(auth.resolveTenant(fixtureToken("dave-acme-globex.id"), { tenantHint: "initech" }));
    expect([err.code, err.status]).toEqual(["tenant_forbidden", 403]);
  });

  it("dave's preferred role picks globex with roleTenants; his access token needs precedence", async () => {
    const byRole = createTenantAuth({ userPools: [fixtureUserPool], tenants: { from: "groups", roleTenants: ROLE_TENANTS } });
    expect((await byRole.resolveTenant(fixtureToken("dave-acme-globex.id"))).tenantId).toBe("globex");
    const err = await refusal(byRole.resolveTenant(fixtureToken("dave-acme-globex.access")));
    expect(err.code).toBe("tenant_ambiguous");
    const byPrecedence = createTenantAuth({
      userPools: [fixtureUserPool],
      tenants: { from: "groups", precedence: ["tenant:globex", "tenant:acme"] },
    });
    expect((await byPrecedence.resolveTenant(fixtureToken("dave-acme-globex.access"))).tenantId).toBe("globex");
  });

  it("erin is in no tenant", async () => {
    const err = await refusal(auth.resolveTenant(fixtureToken("erin-no-tenant.id")));
    expect([err.code, err.status]).toEqual(["tenant_missing", 403]);
    const lenient = createTenantAuth({ userPools: [fixtureUserPool], requireTenant: false });
    const p = await lenient.resolveTenant(fixtureToken("erin-no-tenant.id"));
    expect(p.tenantId).toBeUndefined();
    expect(p.groups).toEqual(["beta-testers"]);
  });

  it("the expired token is token_expired", async () => {
    const err = await refusal(auth.resolveTenant(fixtureToken("alice-acme-expired.id")));
    expect([err.code, err.status]).toEqual(["token_expired", 401]);
  });

  it("the tampered token is token_invalid", async () => {
    const err = await refusal(auth.resolveTenant(fixtureToken("alice-tampered-to-globex.id")));
    expect([err.code, err.status]).toEqual(["token_invalid", 401]);
    expect(err.message).toMatch(/signature/);
  });
});

describe("fixture tokens against the scenario's Cedar policies", () => {
  it("each tenant reads its own bucket and no other; dave only the bucket of the tenant he acts for", async () => {
    const { readFileSync } = await import("node:fs");
    const { createCedarAuthorizer } = await import("../src/authorizers/cedar.js");
    const authorizer = createCedarAuthorizer({
      namespace: "TenancyDemo",
      policies: readFileSync(new URL("../fixtures/policies/tenancy-demo.cedar", import.meta.url), "utf8"),
      schema: readFileSync(new URL("../fixtures/policies/tenancy-demo.cedarschema", import.meta.url), "utf8"),
      tenantEntityType: "Tenant",
    });
    await authorizer.ready();
    const read = async (name: Parameters<typeof fixtureToken>[0], bucket: string, tenantHint?: string) => {
      const principal = await auth.resolveTenant(fixtureToken(name), { tenantHint });
      const tenant = bucket.replace(/-assets$/, "");
      const decision = await authorizer.isAuthorized({
        principal,
        action: "ReadObject",
        resource: {
          type: "Object",
          id: `${bucket}/report.pdf`,
          parents: [
            { type: "Bucket", id: bucket },
            { type: "Tenant", id: tenant },
          ],
        },
      });
      return decision.decision;
    };
    expect(await read("alice-acme.id", "acme-assets")).toBe("ALLOW");
    expect(await read("bob-globex.id", "globex-assets")).toBe("ALLOW");
    expect(await read("carol-initech.id", "initech-assets")).toBe("ALLOW");
    expect(await read("alice-acme.id", "globex-assets")).toBe("DENY");
    expect(await read("bob-globex.id", "initech-assets")).toBe("DENY");
    expect(await read("dave-acme-globex.id", "acme-assets", "acme")).toBe("ALLOW");
    expect(await read("dave-acme-globex.id", "globex-assets", "acme")).toBe("DENY");
    expect(await read("dave-acme-globex.id", "globex-assets", "globex")).toBe("ALLOW");
  });
});
