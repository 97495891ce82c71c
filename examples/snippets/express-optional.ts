import express from "express";
import { createTenantAuth } from "cognito-tenancy";
import { tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }],
});

const app = express();

// No bearer token: the request goes on with req.tenant undefined.
// A token that is sent must still be valid: a bad one is refused with 401.
app.use(tenantAuth(auth, { credentialsRequired: false }));

app.get("/catalog", (req, res) => {
  res.json({ personalized: req.tenant !== undefined, tenant: req.tenant?.tenantId ?? null });
});

app.use(tenantAuthErrorHandler());
export default app;
