import { readFileSync } from "node:fs";
import { ExpressAuthorizationMiddleware } from "@cedar-policy/authorization-for-expressjs";
import express from "express";
import { createTenantAuth } from "cognito-tenancy";
import { createCedarAuthorizer } from "cognito-tenancy/cedar";
import { principalEntity, toAuthorizationEngine } from "cognito-tenancy/cedar-authorization";
import { tenantAuth } from "cognito-tenancy/express";

const mapping = { namespace: "TenancyDemo", tenantEntityType: "Tenant" };
const auth = createTenantAuth({ userPools: [{ userPoolId: "us-east-1_TestPool", clientId: "app-client", tokenUse: "id" }] });
const authorizer = createCedarAuthorizer({
  ...mapping,
  policies: readFileSync("fixtures/policies/tenancy-demo.cedar", "utf8"),
  schema: readFileSync("fixtures/policies/tenancy-demo.cedarschema", "utf8"),
});

const cedarMiddleware = new ExpressAuthorizationMiddleware({
  // The middleware's own SimpleRest schema (its routing: an action per method and path).
  schema: { type: "jsonString", schema: readFileSync("v4.cedarschema.json", "utf8") },
  authorizationEngine: toAuthorizationEngine(authorizer),
  // The principal is the one tenantAuth verified, mapped as our authorizers map it.
  principalConfiguration: { type: "custom", getPrincipalEntity: async (req) => principalEntity(req.tenant!, mapping) },
});

export const app = express();
app.use(tenantAuth(auth));
app.get(
  "/buckets/:bucket/objects/:key",
  cedarMiddleware.handlerSpecificMiddleware({
    resourceProvider: async (req) => ({
      uid: { type: "TenancyDemo::Object", id: `${req.params["bucket"]}/${req.params["key"]}` },
      attrs: {},
      parents: [{ type: "TenancyDemo::Bucket", id: String(req.params["bucket"]) }],
    }),
  }),
  (_req, res) => {
    res.json({ determiningPolicies: res.locals["authorizerInfo"].determiningPolicies });
  },
);
