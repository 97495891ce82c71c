import Fastify from "fastify";
import { createTenantAuth } from "cognito-tenancy";
import { tenantAuthPlugin } from "cognito-tenancy/fastify";
import { createTestIssuer } from "cognito-tenancy/testing";

// Real signed tokens, no AWS account, no network.
const issuer = await createTestIssuer();
const auth = createTenantAuth({ userPools: [issuer.userPool] });

const app = Fastify();
await app.register(tenantAuthPlugin, { auth });
app.get("/me", async (request) => ({ tenantId: request.tenant!.tenantId }));

const token = await issuer.idToken({ groups: ["tenant:acme:admin"] });
const ok = await app.inject({ url: "/me", headers: { authorization: `Bearer ${token}` } });
console.log(ok.statusCode, ok.json()); // 200 { tenantId: "acme" }

const anonymous = await app.inject({ url: "/me" });
console.log(anonymous.statusCode, anonymous.headers["www-authenticate"]); // 401 Bearer
await app.close();
