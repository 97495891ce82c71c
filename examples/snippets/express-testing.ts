import type { AddressInfo } from "node:net";
import express from "express";
import { createTenantAuth } from "cognito-tenancy";
import { tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";
import { createTestIssuer } from "cognito-tenancy/testing";

// Real signed tokens, no AWS account, no network beyond loopback.
const issuer = await createTestIssuer();
const auth = createTenantAuth({ userPools: [issuer.userPool] });

const app = express();
app.use(tenantAuth(auth));
app.get("/me", (req, res) => {
  res.json({ tenantId: req.tenant!.tenantId });
});
app.use(tenantAuthErrorHandler());

const server = app.listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const token = await issuer.idToken({ groups: ["tenant:acme:admin"] });
const ok = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } });
console.log(ok.status, await ok.json()); // 200 { tenantId: "acme" }

const anonymous = await fetch(`${base}/me`);
console.log(anonymous.status, anonymous.headers.get("www-authenticate"), await anonymous.json());
// 401 Bearer { error: "token_missing", error_description: "No bearer token was sent" }

server.close();
