import { readFileSync } from "node:fs";
import { authorizeOrThrow, createTenantAuth } from "cognito-tenancy";
import { createCedarAuthorizer } from "cognito-tenancy/cedar";

const authorizer = createCedarAuthorizer({
  namespace: "TenancyDemo",
  policies: readFileSync("fixtures/policies/tenancy-demo.cedar", "utf8"),
  schema: readFileSync("fixtures/policies/tenancy-demo.cedarschema", "utf8"),
  tenantEntityType: "Tenant", // optional: tenants as entities, the active one as context.tenant
});
// Loads cedar-wasm, parses and validates once. A bad policy throws here (CedarPolicyError,
// with Cedar's message and line:column), not on the first request.
await authorizer.ready();

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_TestPool", clientId: "app-client", tokenUse: "id" }],
});

export async function readObject(authorization: string, tenantHint: string, key: string) {
  const principal = await auth.resolveTenant(authorization, { tenantHint });
  // Throws access_denied (403) on DENY, authorizer_unavailable (503) if Cedar cannot decide.
  await authorizeOrThrow(authorizer, {
    principal,
    action: "ReadObject", // TenancyDemo::Action::"ReadObject"
    resource: {
      type: "Object", // TenancyDemo::Object
      id: `${tenantHint}-assets/${key}`,
      parents: [
        { type: "Bucket", id: `${tenantHint}-assets` },
        { type: "Tenant", id: tenantHint },
      ],
    },
  });
}
