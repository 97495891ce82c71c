import { describe, expect, it } from "vitest";
import { principalFromClaims } from "../../src/index.js";
import type { PrincipalFromClaimsOptions } from "../../src/index.js";
import { refusal } from "../support/refusal.js";

const ISS = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1";
const ROLE_A = "arn:aws:iam::123456789012:role/tenants/acme";
const ROLE_G = "arn:aws:iam::123456789012:role/tenants/globex";

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: "u-1", iss: ISS, aud: "client-1", token_use: "id", exp: 2_000_000_000, ...extra };
}
const resolve = (extra: Record<string, unknown>, options: PrincipalFromClaimsOptions = {}) => principalFromClaims(claims(extra), options);

describe("groups strategy (default)", () => {
  it("tenant:<id> and tenant:<id>:<role> make one membership with roles", async () => {
    const p = await resolve({ "cognito:groups": ["tenant:acme", "tenant:acme:admin", "tenant:acme:billing", "beta"] });
    expect(p.tenantId).toBe("acme");
    expect(p.tenantRoles).toEqual(["admin", "billing"]);
    expect(p.tenants).toEqual([{ tenantId: "acme", roles: ["admin", "billing"], groups: ["tenant:acme", "tenant:acme:admin", "tenant:acme:billing"] }]);
    expect(p.groups).toEqual(["tenant:acme", "tenant:acme:admin", "tenant:acme:billing", "beta"]);
  });

  it("groups that do not match stay in groups only", async () => {
    const p = await resolve({ "cognito:groups": ["acme", "tenant:", "tenants:acme", "tenant:a:b:c", "Tenant:acme"] }, { requireTenant: false });
    expect(p.tenants).toEqual([]);
    expect(p.tenantId).toBeUndefined();
  });

  it("a custom pattern with named captures", async () => {
    const pattern = /^org-(?<tenant>[a-z0-9]+)(?:-(?<role>admin|member))?$/g; // g is dropped safely
    const options = { tenants: { from: "groups", pattern } } as const;
    for (let i = 0; i < 3; i++) {
      const p = await resolve({ "cognito:groups": ["org-acme-admin", "tenant:globex"] }, options);
      expect(p.tenantId).toBe("acme");
      expect(p.tenantRoles).toEqual(["admin"]);
    }
  });

  it("a hint selects among several, and must name one of them", async () => {
    const extra = { "cognito:groups": ["tenant:acme", "tenant:globex:admin"] };
    expect((await resolve(extra, { tenantHint: "globex" })).tenantRoles).toEqual(["admin"]);
    const err = await refusal(resolve(extra, { tenantHint: "initech" }));
    expect([err.code, err.status]).toEqual(["tenant_forbidden", 403]);
  });

  it("a hint is compared exactly", async () => {
    const err = await refusal(resolve({ "cognito:groups": ["tenant:acme"] }, { tenantHint: "ACME" }));
    expect(err.code).toBe("tenant_forbidden");
  });

  it("a hint cannot conjure a tenant for a user in none", async () => {
    const err = await refusal(resolve({ "cognito:groups": ["beta"] }, { tenantHint: "acme", requireTenant: false }));
    expect(err.code).toBe("tenant_forbidden");
  });

  it("several tenants and nothing to choose: 400 tenant_ambiguous, or no tenant with requireTenant: false", async () => {
    const extra = { "cognito:groups": ["tenant:acme", "tenant:globex"] };
    const err = await refusal(resolve(extra));
    expect([err.code, err.status]).toEqual(["tenant_ambiguous", 400]);
    const p = await resolve(extra, { requireTenant: false });
    expect(p.tenantId).toBeUndefined();
    expect(p.tenants.map((t) => t.tenantId)).toEqual(["acme", "globex"]);
  });

  it("the preferred role picks the tenant through roleTenants", async () => {
    const extra = { "cognito:groups": ["tenant:acme", "tenant:globex"], "cognito:roles": [ROLE_A, ROLE_G], "cognito:preferred_role": ROLE_G };
    const roleTenants = { [ROLE_A]: "acme", [ROLE_G]: "globex" };
    expect((await resolve(extra, { tenants: { from: "groups", roleTenants } })).tenantId).toBe("globex");
    // A preferred role mapped to a tenant the user is not in selects nothing.
    const stray = await refusal(resolve(extra, { tenants: { from: "groups", roleTenants: { [ROLE_G]: "initech" } } }));
    expect(stray.code).toBe("tenant_ambiguous");
  });

  it("precedence picks the first listed group the user is in", async () => {
    const extra = { "cognito:groups": ["tenant:acme", "tenant:globex"] };
    const tenants = { from: "groups", precedence: ["tenant:initech", "tenant:globex", "tenant:acme"] } as const;
    expect((await resolve(extra, { tenants })).tenantId).toBe("globex");
  });

  it("roleTenants comes before precedence, and a hint before both", async () => {
    const extra = { "cognito:groups": ["tenant:acme", "tenant:globex"], "cognito:preferred_role": ROLE_A };
    const tenants = { from: "groups", roleTenants: { [ROLE_A]: "acme" }, precedence: ["tenant:globex"] } as const;
    expect((await resolve(extra, { tenants })).tenantId).toBe("acme");
    expect((await resolve(extra, { tenants, tenantHint: "globex" })).tenantId).toBe("globex");
  });

  it("no membership: 403 tenant_missing", async () => {
    const err = await refusal(resolve({}));
    expect([err.code, err.status]).toEqual(["tenant_missing", 403]);
  });
});

describe("claim strategy", () => {
  const tenants = { from: "claim", claim: "custom:tenant_id" } as const;
  it("reads a string attribute", async () => {
    const p = await resolve({ "custom:tenant_id": "acme" }, { tenants });
    expect(p.tenantId).toBe("acme");
    expect(p.tenants).toEqual([{ tenantId: "acme", roles: [], groups: [] }]);
  });
  it("reads an array (pre token generation V2 can emit one)", async () => {
    expect((await resolve({ "custom:tenant_id": ["acme", "globex"] }, { tenants, tenantHint: "globex" })).tenantId).toBe("globex");
  });
  it("missing or empty is no tenant", async () => {
    expect((await refusal(resolve({}, { tenants }))).code).toBe("tenant_missing");
    expect((await refusal(resolve({ "custom:tenant_id": "" }, { tenants }))).code).toBe("tenant_missing");
  });
  it.each([[42], [{ id: "acme" }], [["acme", 3]], [["acme", ""]], [true]])("a wrong type (%j) is token_invalid", async (value) => {
    const err = await refusal(resolve({ "custom:tenant_id": value }, { tenants }));
    expect([err.code, err.status]).toEqual(["token_invalid", 401]);
  });
});

describe("userPool strategy", () => {
  const tenants = { from: "userPool", tenants: { "us-east-1_Pool1": "acme", "us-east-1_Pool2": "globex" } } as const;
  it("maps the pool to its tenant", async () => {
    expect((await resolve({}, { tenants })).tenantId).toBe("acme");
    expect((await resolve({}, { tenants, userPoolId: "us-east-1_Pool2" })).tenantId).toBe("globex");
  });
  it("an unmapped pool has no tenant", async () => {
    expect((await refusal(resolve({}, { tenants, userPoolId: "us-east-1_Other" }))).code).toBe("tenant_missing");
  });
  it("inherited object keys are not tenants", async () => {
    expect((await refusal(resolve({}, { tenants, userPoolId: "constructor" }))).code).toBe("tenant_missing");
    expect((await refusal(resolve({}, { tenants, userPoolId: "__proto__" }))).code).toBe("tenant_missing");
  });
});

describe("appClient strategy", () => {
  const tenants = { from: "appClient", tenants: { "client-1": "acme", "client-2": "globex" } } as const;
  it("maps the ID token's aud", async () => {
    expect((await resolve({}, { tenants })).tenantId).toBe("acme");
  });
  it("maps the access token's client_id", async () => {
    const access = { token_use: "access", aud: undefined, client_id: "client-2" };
    const c = claims(access);
    delete c["aud"];
    expect((await principalFromClaims(c, { tenants })).tenantId).toBe("globex");
  });
  it("an unmapped client has no tenant", async () => {
    expect((await refusal(resolve({ aud: "client-9" }, { tenants }))).code).toBe("tenant_missing");
  });
});

describe("custom strategy", () => {
  it("takes ids or memberships, sync or async", async () => {
    const sync = { from: "custom", resolve: () => ["acme"] } as const;
    expect((await resolve({}, { tenants: sync })).tenantId).toBe("acme");
    const async_ = {
      from: "custom",
      resolve: async (c: Readonly<Record<string, unknown>>) => [{ tenantId: String(c["sub"]), roles: ["owner"] }],
    } as const;
    const p = await resolve({}, { tenants: async_ });
    expect(p.tenantId).toBe("u-1");
    expect(p.tenantRoles).toEqual(["owner"]);
  });

  it("a resolver that throws or returns junk fails closed with 503 tenant_unavailable", async () => {
    for (const r of [
      () => {
        throw new Error("db down");
      },
      async () => {
        throw new Error("db down");
      },
      () => "acme",
      () => [{ roles: [] }],
      () => [{ tenantId: "acme", roles: [1] }],
    ]) {
      const err = await refusal(resolve({}, { tenants: { from: "custom", resolve: r as never } }));
      expect([err.code, err.status]).toEqual(["tenant_unavailable", 503]);
    }
  });

  it("a TenantAuthError from the resolver passes through", async () => {
    const { TenantAuthError } = await import("../../src/index.js");
    const r = () => {
      throw new TenantAuthError("tenant_forbidden", "suspended tenant");
    };
    const err = await refusal(resolve({}, { tenants: { from: "custom", resolve: r } }));
    expect(err.code).toBe("tenant_forbidden");
  });

  it("precedence works on the groups a custom membership names", async () => {
    const r = () => [
      { tenantId: "acme", groups: ["g-acme"] },
      { tenantId: "globex", groups: ["g-globex"] },
    ];
    const p = await resolve({}, { tenants: { from: "custom", resolve: r, precedence: ["g-globex"] } });
    expect(p.tenantId).toBe("globex");
  });
});

describe("configuration mistakes fail at start, as TypeErrors", () => {
  it.each([
    [{ from: "nope" }],
    [{ from: "claim", claim: "" }],
    [{ from: "userPool", tenants: { a: "" } }],
    [{ from: "custom", resolve: "x" }],
    [{ from: "groups", pattern: "tenant:(.*)" }],
    [{ from: "groups", precedence: "tenant:acme" }],
  ])("%j", async (tenants) => {
    await expect(resolve({}, { tenants: tenants as never })).rejects.toBeInstanceOf(TypeError);
  });
});

describe("hints", () => {
  it("an empty hint is no hint; a non-string is invalid_request", async () => {
    expect((await resolve({ "cognito:groups": ["tenant:acme"] }, { tenantHint: "" })).tenantId).toBe("acme");
    const err = await refusal(resolve({ "cognito:groups": ["tenant:acme"] }, { tenantHint: ["a", "b"] as never }));
    expect([err.code, err.status]).toEqual(["invalid_request", 400]);
  });
});

describe("the principal", () => {
  it("is frozen plain data that survives JSON", async () => {
    const p = await resolve({ "cognito:groups": ["tenant:acme:admin"], "cognito:preferred_role": ROLE_A, iat: 1_999_990_000 });
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.tenants)).toBe(true);
    expect(Object.isFrozen(p.tenants[0])).toBe(true);
    expect(Object.isFrozen(p.groups)).toBe(true);
    const json = JSON.parse(JSON.stringify(p));
    expect(json.tenantId).toBe("acme");
    expect(json.preferredRole.name).toBe("acme");
    expect(json.expiresAt).toBe(new Date(2_000_000_000_000).toISOString());
    expect(json.claims.sub).toBe("u-1");
    expect(() => {
      (p as { tenantId: string }).tenantId = "globex";
    }).toThrow(TypeError);
  });
});
