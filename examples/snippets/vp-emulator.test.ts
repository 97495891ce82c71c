import { readFileSync } from "node:fs";
import { VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import { createTenantAuth } from "cognito-tenancy";
import { createTestIssuer, startVerifiedPermissionsEmulator } from "cognito-tenancy/testing";
import { createVerifiedPermissionsAuthorizer } from "cognito-tenancy/verified-permissions";
import { afterAll, expect, it } from "vitest";

const issuer = await createTestIssuer({ userPoolId: "us-east-1_TestPool" });
const emulator = await startVerifiedPermissionsEmulator({
  policies: readFileSync("fixtures/policies/tenancy-demo.cedar", "utf8"),
  schema: readFileSync("fixtures/policies/tenancy-demo.cedarschema", "utf8"),
  userPools: [issuer.userPool], // enables IsAuthorizedWithToken
  namespace: "TenancyDemo",
});
// The real SDK client, pointed at the emulator: your production code path, no AWS account.
const client = new VerifiedPermissionsClient(emulator.clientConfig);
const authorizer = createVerifiedPermissionsAuthorizer({
  policyStoreId: emulator.policyStoreId,
  client,
  namespace: "TenancyDemo",
  schema: readFileSync("fixtures/policies/tenancy-demo.cedarschema.json", "utf8"),
  timeoutMs: 5000,
});
await authorizer.ready(); // load the SDK now, not inside the first decision's timeout
const auth = createTenantAuth({ userPools: [issuer.userPool] });
afterAll(() => emulator.close());

const object = (bucket: string, key: string) => ({ type: "Object", id: `${bucket}/${key}`, parents: [{ type: "Bucket", id: bucket }] });

it("acme reads its bucket, one call a decision, and not globex's", async () => {
  const principal = await auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] }));
  const keys = Array.from({ length: 10 }, (_, i) => `file-${i}`);
  const own = await Promise.all(keys.map((k) => authorizer.isAuthorized({ principal, action: "ReadObject", resource: object("acme-assets", k) })));
  expect(own.every((d) => d.allowed)).toBe(true);
  expect(emulator.calls.IsAuthorized).toBe(10); // the default: no batch (a batch costs what 30 calls cost)
  const other = await authorizer.isAuthorized({ principal, action: "ReadObject", resource: object("globex-assets", "x") });
  expect(other.allowed).toBe(false);
});

it("fails closed when the service hangs", async () => {
  emulator.setBehavior("hang");
  const principal = await auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] }));
  await expect(authorizer.isAuthorized({ principal, action: "ReadObject", resource: object("acme-assets", "new") })).rejects.toMatchObject({
    code: "authorizer_unavailable",
    status: 503,
  });
  emulator.setBehavior("ok");
});
