import express from "express";
import type { NextFunction, Request, Response } from "express";
import { createTenantAuth } from "cognito-tenancy";
import { tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }],
});

const app = express();
app.use(tenantAuth(auth));
app.get("/me", (req, res) => {
  res.json({ tenant: req.tenant!.tenantId });
});

// Our refusals: status, WWW-Authenticate (or Retry-After on 503) and a JSON body, no stack logged.
// onError is optional, e.g. to count refusals by code.
let refused = 0;
app.use(
  tenantAuthErrorHandler({
    onError: (err) => {
      if (err.status === 401) refused++;
    },
  }),
);

// Every other error is passed on untouched, to your own handler or Express's.
app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
  console.error(err);
  res.status(500).json({ error: "internal_error" });
});

export { app, refused };
