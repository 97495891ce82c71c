import { beforeAll, describe, expect, it } from "vitest";
import { createTenantAuth } from "cognito-tenancy";
import type { TenantAuth } from "cognito-tenancy";
import { createTestIssuer } from "cognito-tenancy/testing";
import type { TestIssuer } from "cognito-tenancy/testing";

let issuer: TestIssuer;
let auth: TenantAuth;

beforeAll(async () => {
  issuer = await createTestIssuer(); // a fresh RSA key pair; no network, no AWS account
  auth = createTenantAuth({ userPools: [issuer.userPool] }); // its keys are preloaded
});

describe("my API's tenancy", () => {
  it("acts for the user's tenant", async () => {
    const token = await issuer.idToken({ username: "alice", groups: ["tenant:acme:admin"] });
    const principal = await auth.resolveTenant(`Bearer ${token}`);
    expect(principal.tenantId).toBe("acme");
    expect(principal.tenantRoles).toEqual(["admin"]);
  });

  it("refuses another tenant's id in x-tenant-id", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    await expect(auth.resolveTenant(token, { tenantHint: "globex" })).rejects.toMatchObject({ status: 403, code: "tenant_forbidden" });
  });

  it("refuses expired and forged tokens", async () => {
    const expired = await issuer.idToken({ groups: ["tenant:acme"], expiresIn: -60 });
    await expect(auth.resolveTenant(expired)).rejects.toMatchObject({ status: 401, code: "token_expired" });
    const forged = await issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" });
    await expect(auth.resolveTenant(forged)).rejects.toMatchObject({ status: 401, code: "token_invalid" });
  });
});
