import express from "express";
import { createTenantAuth } from "cognito-tenancy";
import { tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";

// The ALB's app client; the ALB forwards that client's access tokens.
const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "alb-app-client", tokenUse: "access" }],
});

const app = express();
app.use(tenantAuth(auth, { tokenHeader: "x-amzn-oidc-accesstoken" }));
app.get("/me", (req, res) => {
  res.json({ tenant: req.tenant?.tenantId });
});
app.use(tenantAuthErrorHandler());
