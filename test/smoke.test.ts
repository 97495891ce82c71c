import { describe, expect, it } from "vitest";
import { createTenantAuth } from "../src/index.js";
import { createTestIssuer } from "../src/testing/index.js";

describe("smoke", () => {
  it("resolves a tenant from a signed token", async () => {
    const issuer = await createTestIssuer();
    const auth = createTenantAuth({ userPools: [issuer.userPool] });
    const token = await issuer.idToken({ groups: ["tenant:acme:admin", "beta"] });
    const p = await auth.resolveTenant(`Bearer ${token}`);
    expect(p.tenantId).toBe("acme");
    expect(p.tenantRoles).toEqual(["admin"]);
    expect(p.groups).toEqual(["tenant:acme:admin", "beta"]);
    expect(Object.isFrozen(p)).toBe(true);
    const again = await auth.resolveTenant(token);
    expect(again).toBe(p);
  });
});
