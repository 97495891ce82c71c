// With a tenant required (the default), the principal's tenantId is a string in the types, so code
// needs no `!`; where requireTenant may be false it stays string | undefined. The expectTypeOf
// lines are checked by `npm run typecheck`; the rest runs.
import { describe, expect, expectTypeOf, it } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import type { TenantAuth, TenantPrincipal, TenantPrincipalWithTenant } from "../../src/index.js";
import { withTenant } from "../../src/adapters/lambda.js";
import { createTestIssuer } from "../../src/testing/index.js";
import { lambdaContext, loadEvent } from "../support/lambda.js";

describe("the principal's tenantId in the types", () => {
  it("is a string when a tenant is required, string | undefined otherwise", async () => {
    const issuer = await createTestIssuer();
    const token = await issuer.idToken({ groups: ["tenant:acme"] });

    const required = createTenantAuth({ userPools: [issuer.userPool] });
    expectTypeOf(required).toEqualTypeOf<TenantAuth<TenantPrincipalWithTenant>>();
    const p = await required.resolveTenant(token);
    expectTypeOf(p.tenantId).toEqualTypeOf<string>();
    expect(p.tenantId.toUpperCase()).toBe("ACME");

    const explicit = createTenantAuth({ userPools: [issuer.userPool], requireTenant: true });
    expectTypeOf((await explicit.resolveTenant(token)).tenantId).toEqualTypeOf<string>();

    const optional = createTenantAuth({ userPools: [issuer.userPool], requireTenant: false });
    expectTypeOf((await optional.resolveTenant(token)).tenantId).toEqualTypeOf<string | undefined>();

    const flag: boolean = process.env["NEVER_SET_BY_ANYONE"] === "1";
    const either = createTenantAuth({ userPools: [issuer.userPool], requireTenant: flag });
    expectTypeOf((await either.resolveTenant(token)).tenantId).toEqualTypeOf<string | undefined>();

    // A resolver that requires a tenant still fits where any TenantAuth is taken.
    const anyAuth: TenantAuth = required;
    expectTypeOf(anyAuth.resolveTenant).returns.resolves.toEqualTypeOf<TenantPrincipal>();
  });

  it("flows into withTenant's handler", async () => {
    const issuer = await createTestIssuer();
    const auth = createTenantAuth({ userPools: [issuer.userPool] });
    const handler = withTenant(auth, async (_event, _context, principal) => {
      expectTypeOf(principal.tenantId).toEqualTypeOf<string>();
      return { statusCode: 200, body: principal.tenantId };
    });
    const event = loadEvent("http-api-v2.json", await issuer.idToken({ groups: ["tenant:acme", "tenant:globex"] }));
    expect(await handler(event, lambdaContext())).toMatchObject({ statusCode: 200, body: "acme" });
  });
});
