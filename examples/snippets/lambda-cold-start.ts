import { readFileSync } from "node:fs";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { authorizeOrThrow, createTenantAuth } from "cognito-tenancy";
import { createCedarAuthorizer } from "cognito-tenancy/cedar";
import { withTenant } from "cognito-tenancy/lambda";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client-id", tokenUse: "id" }],
});
const cedar = createCedarAuthorizer({
  namespace: "TenancyDemo",
  policies: readFileSync(new URL("./policies.cedar", import.meta.url), "utf8"),
});

// In the init phase, not in the first request: fetch the pool's keys, load cedar-wasm and parse
// the policies. If either fails, the init fails and Lambda tries a fresh one on the next request.
await Promise.all([auth.hydrate(), cedar.ready()]);

export const handler = withTenant(auth, async (event: APIGatewayProxyEventV2, _context, principal) => {
  await authorizeOrThrow(cedar, { principal, action: "ListObjects", resource: { type: "Bucket", id: `${principal.tenantId}-assets` } });
  return { statusCode: 200, body: JSON.stringify({ tenant: principal.tenantId, path: event.rawPath }) };
});
