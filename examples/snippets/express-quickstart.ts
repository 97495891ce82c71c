import express from "express";
import { createTenantAuth } from "cognito-tenancy";
import { tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";

// Once, at start: configuration mistakes throw here, and the key and principal caches live here.
const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }],
});

const app = express();

// Routes registered before tenantAuth are public.
app.get("/health", (_req, res) => {
  res.json({ ok: true });
});

// Every route below needs a valid token and a tenant; req.tenant is the caller.
app.use(tenantAuth(auth));

app.get("/me", (req, res) => {
  const { sub, tenantId, tenantRoles } = req.tenant!;
  res.json({ sub, tenantId, tenantRoles });
});

// Last: refusals answer as { error, error_description } JSON with WWW-Authenticate, quietly.
app.use(tenantAuthErrorHandler());

app.listen(3000);
