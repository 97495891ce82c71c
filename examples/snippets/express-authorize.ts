import { readFileSync } from "node:fs";
import express from "express";
import { createTenantAuth } from "cognito-tenancy";
import { createCedarAuthorizer } from "cognito-tenancy/cedar";
import { authorize, tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";

// Local Cedar here; createVerifiedPermissionsAuthorizer (cognito-tenancy/verified-permissions)
// plugs in the same way, and so does any object with isAuthorized().
const authorizer = createCedarAuthorizer({
  namespace: "TenancyDemo",
  policies: readFileSync("fixtures/policies/tenancy-demo.cedar", "utf8"),
  schema: readFileSync("fixtures/policies/tenancy-demo.cedarschema", "utf8"),
  tenantEntityType: "Tenant",
});
await authorizer.ready();

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_TestPool", clientId: "app-client", tokenUse: "id" }],
});

const app = express();
const tenants = express.Router();
tenants.use("/tenants/:tenantId", tenantAuth(auth, { tenantParam: "tenantId" }));

// DENY answers 403 access_denied; an engine that cannot decide answers 503 authorizer_unavailable.
tenants.get(
  "/tenants/:tenantId/objects/:key",
  authorize(authorizer, {
    action: (req) => (req.method === "GET" ? "ReadObject" : "WriteObject"),
    resource: (req) => {
      const bucket = `${req.tenant!.tenantId}-assets`;
      return {
        type: "Object",
        id: `${bucket}/${String(req.params.key)}`,
        parents: [
          { type: "Bucket", id: bucket },
          { type: "Tenant", id: req.tenant!.tenantId! },
        ],
      };
    },
  }),
  (req, res) => {
    res.json({ key: req.params.key });
  },
);
app.use(tenants);

app.use(tenantAuthErrorHandler());
export default app;
