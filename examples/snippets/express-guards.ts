import express from "express";
import { createTenantAuth } from "cognito-tenancy";
import { requireGroups, requireScopes, requireTenantRoles, tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";

// Access tokens carry cognito:groups and scope; ID tokens carry no scopes.
const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "access" }],
});

const app = express();
app.use(tenantAuth(auth)); // guards read req.tenant: mount them after tenantAuth

// Any of these Cognito groups (names compare exactly).
app.get("/reports", requireGroups("analysts", "admins"), (_req, res) => {
  res.json({ reports: [] });
});

// Every one of these groups.
app.post("/billing", requireGroups({ all: ["billing", "mfa-enrolled"] }), (_req, res) => {
  res.status(204).end();
});

// A role in the active tenant: the <role> of a "tenant:<id>:<role>" group.
app.delete("/projects/:id", requireTenantRoles("admin", "owner"), (req, res) => {
  res.json({ deleted: req.params.id, tenant: req.tenant!.tenantId });
});

// Every one of these OAuth scopes; otherwise 403 insufficient_scope with scope="orders/read".
app.get("/orders", requireScopes("orders/read"), (_req, res) => {
  res.json({ orders: [] });
});

app.use(tenantAuthErrorHandler());
export default app;
