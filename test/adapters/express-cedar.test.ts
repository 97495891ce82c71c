// authorize() with the real local Cedar authorizer and the seed policies
// (fixtures/policies/tenancy-demo.*), behind tenantParam, on Express 4 and 5.
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import express5 from "express";
import type { Request, Response } from "express";
import express4 from "express4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import type { ResourceRef, TenantAuth } from "../../src/index.js";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import { authorize, tenantAuth, tenantAuthErrorHandler } from "../../src/adapters/express.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";

interface RouterLike {
  use(...args: unknown[]): unknown;
  get(path: string, ...handlers: unknown[]): unknown;
  put(path: string, ...handlers: unknown[]): unknown;
}
interface ExpressLike {
  (): RouterLike & { listen(port: number, host: string, callback: () => void): Server };
  Router(): RouterLike;
}

const root = resolve(import.meta.dirname, "../..");
let issuer: TestIssuer;
let auth: TenantAuth;
let authorizer: ReturnType<typeof createCedarAuthorizer>;
const servers: Server[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer(); // pool us-east-1_TestPool, as the policies expect
  auth = createTenantAuth({ userPools: [issuer.userPool] });
  authorizer = createCedarAuthorizer({
    namespace: "TenancyDemo",
    policies: readFileSync(join(root, "fixtures/policies/tenancy-demo.cedar"), "utf8"),
    schema: readFileSync(join(root, "fixtures/policies/tenancy-demo.cedarschema"), "utf8"),
    tenantEntityType: "Tenant",
  });
  await authorizer.ready();
}, 60_000);

afterAll(async () => {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((done) => {
          s.close(() => done());
          s.closeAllConnections();
        }),
    ),
  );
});

function objectOf(req: Request): ResourceRef {
  const tenant = req.tenant!.tenantId!;
  // ?bucket= lets the test aim at another tenant's bucket: the policies must refuse it.
  const bucket = typeof req.query["bucket"] === "string" ? req.query["bucket"] : `${tenant}-assets`;
  const owner = bucket.replace(/-assets$/, "");
  return {
    type: "Object",
    id: `${bucket}/${String(req.params["key"])}`,
    parents: [
      { type: "Bucket", id: bucket },
      { type: "Tenant", id: owner },
    ],
  };
}

describe.each([
  ["Express 4", express4 as unknown as ExpressLike],
  ["Express 5", express5 as unknown as ExpressLike],
])("%s with the Cedar authorizer", (_name, express) => {
  let base: string;

  beforeAll(async () => {
    const app = express();
    const tenants = express.Router();
    tenants.use("/tenants/:tenantId", tenantAuth(auth, { tenantParam: "tenantId" }));
    const objects = authorize(authorizer, {
      action: (req) => (req.method === "GET" ? "ReadObject" : "WriteObject"),
      resource: objectOf,
    });
    const done = (req: Request, res: Response) => {
      res.json({ tenant: req.tenant!.tenantId, key: req.params["key"] });
    };
    tenants.get("/tenants/:tenantId/objects/:key", objects, done);
    tenants.put("/tenants/:tenantId/objects/:key", objects, done);
    app.use(tenants);
    app.use(tenantAuthErrorHandler());
    const server = app.listen(0, "127.0.0.1", () => undefined);
    await new Promise((r) => server.once("listening", r));
    servers.push(server);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  async function call(path: string, token: string, method = "GET") {
    const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it("allows reading the active tenant's bucket, for each tenant the user is in", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme", "tenant:globex"] });
    expect(await call("/tenants/acme/objects/a.txt", token)).toEqual({ status: 200, body: { tenant: "acme", key: "a.txt" } });
    expect(await call("/tenants/globex/objects/a.txt", token)).toEqual({ status: 200, body: { tenant: "globex", key: "a.txt" } });
  });

  it("denies another tenant's bucket, even to a member of both tenants acting for one (403)", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme", "tenant:globex"] });
    const r = await call("/tenants/acme/objects/a.txt?bucket=globex-assets", token);
    expect(r).toEqual({ status: 403, body: { error: "access_denied", error_description: "The policy does not allow this request" } });
  });

  it("refuses a tenant in the URL the user is not in before asking Cedar (403 tenant_forbidden)", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    expect((await call("/tenants/initech/objects/a.txt", token)).body["error"]).toBe("tenant_forbidden");
  });

  it("lets tenant admins write, and only them", async () => {
    const viewer = await issuer.idToken({ groups: ["tenant:acme"] });
    expect((await call("/tenants/acme/objects/a.txt", viewer, "PUT")).status).toBe(403);
    const admin = await issuer.idToken({ groups: ["tenant:acme", "tenant:acme:admin"] });
    expect((await call("/tenants/acme/objects/a.txt", admin, "PUT")).status).toBe(200);
  });
});
