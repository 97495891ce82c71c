// Type-checked twice by express-types.test.ts: with "express" resolving to @types/express 5 (the
// default) and to @types/express 4. An app written the usual way must compile against either.
import express from "express";
import type { Request, Response } from "express";
import { createTenantAuth } from "cognito-tenancy";
import type { Authorizer, TenantPrincipal } from "cognito-tenancy";
import { authorize, requireGroups, requireScopes, requireTenantRoles, tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";

declare const authorizer: Authorizer;
const auth = createTenantAuth({ userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }] });

const app = express();
app.use(tenantAuth(auth, { credentialsRequired: false }));
app.get("/me", requireGroups("editors"), (req: Request, res: Response) => {
  const tenant: TenantPrincipal | undefined = req.tenant;
  res.json({ tenantId: tenant?.tenantId, roles: req.tenant?.tenantRoles });
});
app.get("/all", requireGroups({ all: ["a", "b"] }), requireTenantRoles("admin"), requireScopes("orders/read"), (req, res) => {
  res.json(req.tenant?.sub);
});
app.get(
  "/documents/:id",
  authorize(authorizer, {
    action: (req) => (req.method === "GET" ? "ReadDocument" : "WriteDocument"),
    resource: (req) => ({ type: "Document", id: String(req.params["id"]) }),
    context: (req) => ({ ip: req.ip ?? "" }),
  }),
  (_req, res) => {
    res.end();
  },
);

const router = express.Router();
router.use("/tenants/:tenantId", tenantAuth(auth, { tenantParam: "tenantId" }));
router.get("/tenants/:tenantId/projects", (req, res) => {
  res.json({ tenant: req.tenant?.tenantId });
});
app.use(router);
app.use(tenantAuthErrorHandler({ onError: (err, req) => void `${err.code} ${req.method}` }));

// A guard before the handler leaves Express's own inference of the route's params in place:
// `req.params.id` stays `string` (with noUncheckedIndexedAccess a dictionary would give `string | undefined`).
app.delete("/projects/:id", tenantAuth(auth), requireTenantRoles("admin"), authorize(authorizer, { action: "Delete", resource: { type: "Project", id: "p" } }), (req, res) => {
  const id: string = req.params.id;
  res.json({ id });
});
