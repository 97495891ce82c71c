import { readFileSync } from "node:fs";
import { authorizeOrThrow, createTenantAuth } from "cognito-tenancy";
import { createVerifiedPermissionsAuthorizer } from "cognito-tenancy/verified-permissions";

const authorizer = createVerifiedPermissionsAuthorizer({
  policyStoreId: "PSEXAMPLEabcdefg111111",
  region: "us-east-1", // the SDK client is created (and the SDK imported) on the first decision
  namespace: "TenancyDemo",
  // The store's schema as JSON: claims it does not declare (jti, origin_jti, ...) are not sent,
  // as the service's identity source does; requests pass strict validation, and cache keys stay stable.
  schema: readFileSync("fixtures/policies/tenancy-demo.cedarschema.json", "utf8"),
  cache: { maxEntries: 10_000, ttlMs: 60_000 }, // or false
  // Default: one IsAuthorized call per decision, the cheapest. `batch: true` sends full batches of
  // 30 as BatchIsAuthorized (same price as 30 single calls, 1/30 of the requests): for the quota.
  batch: false,
  timeoutMs: 1000, // then authorizer_unavailable (503); throttling and 500s are retried inside it
});
await authorizer.ready(); // at start: import the SDK, check the store, read its identity source

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_TestPool", clientId: "app-client", tokenUse: "id" }],
});

export async function listReadable(authorization: string, keys: readonly string[]) {
  const principal = await auth.resolveTenant(authorization);
  const bucket = `${principal.tenantId}-assets`;
  // Concurrent decisions: one IsAuthorized call each (identical ones share a call; hits make none).
  const decisions = await Promise.all(
    keys.map((key) =>
      authorizer.isAuthorized({
        principal,
        action: "ReadObject",
        resource: { type: "Object", id: `${bucket}/${key}`, parents: [{ type: "Bucket", id: bucket }] },
      }),
    ),
  );
  return keys.filter((_, i) => decisions[i]!.allowed);
}

export async function readOne(authorization: string, key: string) {
  const principal = await auth.resolveTenant(authorization);
  const bucket = `${principal.tenantId}-assets`;
  await authorizeOrThrow(authorizer, {
    principal,
    action: "ReadObject",
    resource: { type: "Object", id: `${bucket}/${key}`, parents: [{ type: "Bucket", id: bucket }] },
  });
}
