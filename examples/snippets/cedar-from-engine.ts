import { readFileSync } from "node:fs";
import { CedarInlineAuthorizationEngine } from "@cedar-policy/cedar-authorization";
import express from "express";
import { createTenantAuth } from "cognito-tenancy";
import { fromAuthorizationEngine } from "cognito-tenancy/cedar-authorization";
import { authorize, tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";

// Any AuthorizationEngine: Cedar's own, an Amazon Verified Permissions engine, yours.
const engine = new CedarInlineAuthorizationEngine({
  staticPolicies: readFileSync("fixtures/policies/tenancy-demo.cedar", "utf8"),
  schema: { type: "cedarFormat", schema: readFileSync("fixtures/policies/tenancy-demo.cedarschema", "utf8") },
});
const authorizer = fromAuthorizationEngine(engine, { namespace: "TenancyDemo", tenantEntityType: "Tenant" });

const auth = createTenantAuth({ userPools: [{ userPoolId: "us-east-1_TestPool", clientId: "app-client", tokenUse: "id" }] });
export const app = express();
app.use(tenantAuth(auth));
app.get(
  "/buckets/:bucket/objects/:key",
  authorize(authorizer, {
    action: "ReadObject",
    resource: (req) => ({ type: "Object", id: `${req.params["bucket"]}/${req.params["key"]}`, parents: [{ type: "Bucket", id: String(req.params["bucket"]) }] }),
  }),
  (req, res) => {
    res.json({ tenantId: req.tenant?.tenantId });
  },
);
app.use(tenantAuthErrorHandler());
