import express from "express";
import { createTenantAuth } from "cognito-tenancy";
import { tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }],
});

const app = express();

// Express fills req.params only where the path declares the parameter: mount tenantAuth on the
// router path (or the route) that has :tenantId, not with a bare app.use().
const tenants = express.Router();
tenants.use("/tenants/:tenantId", tenantAuth(auth, { tenantParam: "tenantId" }));
tenants.get("/tenants/:tenantId/projects", (req, res) => {
  // The user is a member of the tenant in the URL, else the request was refused with 403.
  res.json({ tenant: req.tenant!.tenantId, roles: req.tenant!.tenantRoles });
});
app.use(tenants);

// Or per route:
app.get("/orgs/:org/settings", tenantAuth(auth, { tenantParam: "org" }), (req, res) => {
  res.json({ tenant: req.tenant!.tenantId });
});

app.use(tenantAuthErrorHandler());
export default app;
