// Every adapter hands its refusals and failures to an onError hook, cause included, so the reason
// for a 503 reaches the app's logs; a hook that throws changes no answer.
import type { AddressInfo } from "node:net";
import middy from "@middy/core";
import express from "express";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantAuthError, createTenantAuth } from "../../src/index.js";
import type { TenantAuth } from "../../src/index.js";
import { tenantAuth, tenantAuthErrorHandler } from "../../src/adapters/express.js";
import { tenantAuthPlugin } from "../../src/adapters/fastify.js";
import { createAuthorizerHandler, tenantAuthMiddleware, withTenant } from "../../src/adapters/lambda.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { JwksServer, TestIssuer } from "../../src/testing/index.js";
import { lambdaContext, loadEvent } from "../support/lambda.js";

let issuer: TestIssuer;
let server: JwksServer & { readonly userPool: Parameters<typeof createTenantAuth>[0]["userPools"][number] };
let auth: TenantAuth;
let token: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  server = await issuer.listen();
  server.setBehavior("error"); // every key fetch fails: 503 jwks_unavailable with the fetch error as cause
  auth = createTenantAuth({ userPools: [server.userPool], jwks: { failureCooldownMs: 0 } });
  token = await issuer.idToken({ groups: ["tenant:acme"] });
});
afterAll(() => server.close());

interface Seen {
  code: string | undefined;
  cause: boolean;
}
const record = (seen: Seen[]) => (error: unknown) => {
  seen.push({ code: error instanceof TenantAuthError ? error.code : undefined, cause: error instanceof TenantAuthError && error.cause !== undefined });
};
const explode = () => {
  throw new Error("a logging hook that fails");
};

async function listen(app: { listen: (port: number, host: string) => import("node:http").Server }) {
  const s = app.listen(0, "127.0.0.1");
  await new Promise((r) => s.once("listening", r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, close: () => s.close() };
}

describe("Express tenantAuth({ onError })", () => {
  it("sees the 503 with its cause and the 401; a throwing hook changes nothing", async () => {
    const seen: Seen[] = [];
    const app = express();
    app.get("/a", tenantAuth(auth, { onError: record(seen) }), (_req, res) => res.json({ ok: true }));
    app.get("/b", tenantAuth(auth, { onError: explode }), (_req, res) => res.json({ ok: true }));
    app.use(tenantAuthErrorHandler());
    const { url, close } = await listen(app);
    try {
      expect((await fetch(`${url}/a`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(503);
      expect((await fetch(`${url}/a`)).status).toBe(401);
      expect(seen).toEqual([
        { code: "jwks_unavailable", cause: true },
        { code: "token_missing", cause: false },
      ]);
      expect((await fetch(`${url}/b`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(503);
    } finally {
      close();
    }
  });
});

describe("Fastify tenantAuthPlugin({ onError })", () => {
  it("sees the 503 with its cause and the 401; a throwing hook changes nothing", async () => {
    for (const [hook, expected] of [
      [record, true],
      [() => explode, false],
    ] as const) {
      const seen: Seen[] = [];
      const app = Fastify();
      await app.register(tenantAuthPlugin, { auth, onError: expected ? (hook as typeof record)(seen) : explode });
      app.get("/a", async () => ({ ok: true }));
      try {
        expect((await app.inject({ url: "/a", headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(503);
        expect((await app.inject({ url: "/a" })).statusCode).toBe(401);
        if (expected)
          expect(seen).toEqual([
            { code: "jwks_unavailable", cause: true },
            { code: "token_missing", cause: false },
          ]);
      } finally {
        await app.close();
      }
    }
  });
});

describe("Lambda: withTenant, Middy and createAuthorizerHandler({ onError })", () => {
  it("withTenant sees the 503 with its cause; a throwing hook changes nothing", async () => {
    const seen: Seen[] = [];
    const handler = withTenant(auth, async () => ({ statusCode: 200, body: "ok" }), { onError: record(seen) });
    expect((await handler(loadEvent("http-api-v2.json", token), lambdaContext())).statusCode).toBe(503);
    expect(seen).toEqual([{ code: "jwks_unavailable", cause: true }]);
    const quiet = withTenant(auth, async () => ({ statusCode: 200, body: "ok" }), { onError: explode });
    expect((await quiet(loadEvent("http-api-v2.json", token), lambdaContext())).statusCode).toBe(503);
  });

  it("the Middy middleware sees it too", async () => {
    const seen: Seen[] = [];
    const handler = middy(async () => ({ statusCode: 200, body: "ok" })).use(tenantAuthMiddleware(auth, { onError: record(seen) }));
    expect((await handler(loadEvent("rest-v1.json", token), lambdaContext() as never)).statusCode).toBe(503);
    expect(seen).toEqual([{ code: "jwks_unavailable", cause: true }]);
  });

  it("createAuthorizerHandler reports before it answers or throws", async () => {
    const seen: Seen[] = [];
    const handler = createAuthorizerHandler(auth, { onError: record(seen) });
    await expect(handler(loadEvent("authorizer-rest-token.json", token))).rejects.toThrow(/Authorizer unavailable/);
    expect(seen).toEqual([{ code: "jwks_unavailable", cause: true }]);
  });

  it("onError of the wrong type is a TypeError at setup, in every adapter", () => {
    expect(() => withTenant(auth, async () => ({ statusCode: 200 }), { onError: "log" as never })).toThrow(/onError must be a function/);
    expect(() => tenantAuth(auth, { onError: {} as never })).toThrow(/onError must be a function/);
  });
});
