// The example apps' factories, imported and tested in process, as a user would test their own app.
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createTenantAuth } from "cognito-tenancy";
import { createTestIssuer } from "cognito-tenancy/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../examples/express-api/app.js";
import { buildApp } from "../../examples/fastify-api/app.js";
import { createApp as createHonoApp } from "../../examples/hono/app.js";

const issuer = await createTestIssuer();
const auth = createTenantAuth({ userPools: [issuer.userPool] });
const admin = await issuer.idToken({ username: "ada", groups: ["tenant:acme", "tenant:acme:admin"] });
const member = await issuer.idToken({ username: "bob", groups: ["tenant:globex"] });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("examples/express-api createApp", () => {
  let base = "";
  const server = createServer(createApp(auth));
  beforeAll(async () => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("serves a tenant only its own projects", async () => {
    const res = await fetch(`${base}/projects`, { headers: bearer(member) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([{ id: "g1", name: "Doomsday device" }]);
  });

  it("lets an admin delete in their tenant, and refuses a member with a challenge", async () => {
    const refused = await fetch(`${base}/projects/g1`, { method: "DELETE", headers: bearer(member) });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer error="insufficient_scope"/);
    expect(await refused.json()).toMatchObject({ error: "access_denied" });
    const deleted = await fetch(`${base}/projects/a1`, { method: "DELETE", headers: bearer(admin) });
    expect(deleted.status).toBe(200);
  });

  it("keeps /health public and everything else closed", async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const anonymous = await fetch(`${base}/me`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
  });
});

describe("examples/hono createApp, through app.request()", () => {
  const app = createHonoApp(auth);

  it("serves a tenant only its own projects, lets an admin delete, refuses a member with a challenge", async () => {
    expect(await (await app.request("/projects", { headers: bearer(member) })).json()).toEqual([{ id: "g1", name: "Doomsday device" }]);
    const refused = await app.request("/projects/g1", { method: "DELETE", headers: bearer(member) });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer error="insufficient_scope"/);
    expect(await refused.json()).toMatchObject({ error: "access_denied" });
    expect((await app.request("/projects/a1", { method: "DELETE", headers: bearer(admin) })).status).toBe(200);
  });

  it("keeps /health public and everything else closed", async () => {
    expect((await app.request("/health")).status).toBe(200);
    const anonymous = await app.request("/me");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
  });
});

describe("examples/fastify-api buildApp", () => {
  it("answers with request.tenant, the tenant roles and the refusals", async () => {
    const app = await buildApp(auth);
    try {
      const me = await app.inject({ url: "/me", headers: bearer(admin) });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toEqual({ username: "ada", tenantId: "acme", tenantRoles: ["admin"], tenants: ["acme"] });
      const refused = await app.inject({ method: "DELETE", url: "/projects/g1", headers: bearer(member) });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ code: "access_denied" });
      const forbidden = await app.inject({ url: "/projects", headers: { ...bearer(member), "x-tenant-id": "acme" } });
      expect(forbidden.statusCode).toBe(403);
      expect(forbidden.json()).toMatchObject({ code: "tenant_forbidden" });
      expect((await app.inject({ url: "/health" })).statusCode).toBe(200);
      expect((await app.inject({ url: "/me" })).statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });
});
