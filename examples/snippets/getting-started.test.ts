import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTenantAuth } from "cognito-tenancy";
import { createTestIssuer } from "cognito-tenancy/testing";
import type { TestIssuer } from "cognito-tenancy/testing";
import { createApp } from "./getting-started-app.js";

let issuer: TestIssuer;
let server: Server;
let url: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  const app = createApp(createTenantAuth({ userPools: [issuer.userPool] }));
  server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const get = async (path: string, token?: string, method = "GET") =>
  fetch(`${url}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });

it("serves the caller's tenant", async () => {
  const token = await issuer.idToken({ username: "alice", groups: ["tenant:acme"] });
  expect(await (await get("/projects", token)).json()).toEqual({ tenant: "acme", user: "alice" });
});

it("answers 401 with a challenge when there is no token", async () => {
  const res = await get("/projects");
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toBe("Bearer");
  expect(await res.json()).toMatchObject({ error: "token_missing" });
});

it("needs the admin role in the tenant to delete", async () => {
  const member = await issuer.idToken({ groups: ["tenant:acme"] });
  expect((await get("/projects/p1", member, "DELETE")).status).toBe(403);
  const admin = await issuer.idToken({ groups: ["tenant:acme:admin"] });
  expect(await (await get("/projects/p1", admin, "DELETE")).json()).toEqual({ deleted: "p1", tenant: "acme" });
});

it("keeps public routes public", async () => {
  expect((await get("/health")).status).toBe(200);
});
