import express from "express";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { createTenantAuth } from "cognito-tenancy";
import { createTenantCredentials, roleTenantsFrom } from "cognito-tenancy/credentials";
import { tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";

// One map, both directions: tenant → role for the credentials, role → tenant for the tenant choice.
const roleForTenant = {
  acme: "arn:aws:iam::111122223333:role/tenants/acme-assets-reader",
  globex: "arn:aws:iam::111122223333:role/tenants/globex-assets-reader",
  initech: "arn:aws:iam::111122223333:role/tenants/initech-assets-reader",
};

// Created at start-up, before requests are resolved: from then on, every principal
// resolveTenant serves brings its ID token along (identity pools need it).
const creds = createTenantCredentials({
  identityPool: { identityPoolId: "us-east-1:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" },
  roleForTenant,
});

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }],
  tenants: { from: "groups", roleTenants: roleTenantsFrom(roleForTenant) },
});

const app = express();
app.use(tenantAuth(auth));

app.get("/whoami-in-aws", async (req, res, next) => {
  try {
    // Any AWS SDK v3 client takes the provider: new S3Client({ credentials: creds.provider(req.tenant!) }).
    const sts = new STSClient({ region: "us-east-1", credentials: creds.provider(req.tenant!) });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    res.json({ tenant: req.tenant!.tenantId, arn: me.Arn }); // ...:assumed-role/<the tenant's role>/...
  } catch (err) {
    next(err); // 403 before any AWS call when the token lacks the tenant's role; 503 when AWS fails
  }
});

app.use(tenantAuthErrorHandler());
app.listen(3000);
