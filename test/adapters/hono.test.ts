// The Hono adapter beyond the conformance table: Hono's own request path (app.request) and a real
// server (@hono/node-server on loopback), keys fetched over HTTP, the typed c.get("tenant"),
// option checks at setup, the hooks, and errors of the app's own functions.
import { serve } from "@hono/node-server";
import type { ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { authorize, requireGroups, requireScopes, requireTenantRoles, tenantAuth } from "../../src/adapters/hono.js";
import type { Authorizer, Decision, TenantAuth, TenantPrincipal } from "../../src/index.js";
import { TenantAuthError, createTenantAuth } from "../../src/index.js";
import type { JwksServer, TestIssuer } from "../../src/testing/index.js";
import { createTestIssuer } from "../../src/testing/index.js";

const allow: Decision = { allowed: true, decision: "ALLOW", determiningPolicies: ["p1"], errors: [] };
const engine: Authorizer = {
  async isAuthorized(request) {
    if (request.resource.id === "boom") throw new Error("engine exploded");
    return request.resource.id.startsWith(`${request.principal.tenantId}-`) ? allow : { allowed: false, decision: "DENY", determiningPolicies: [], errors: [] };
  },
};

let issuer: TestIssuer;
let jwks: JwksServer & { readonly userPool: TestIssuer["userPool"] };
let auth: TenantAuth;
let good: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  // Keys fetched over HTTP from a loopback JWKS server, as in production.
  jwks = await issuer.listen();
  auth = createTenantAuth({ userPools: [jwks.userPool] });
  // Two tenants: a request without a hint is ambiguous, so every test below names its tenant.
  good = await issuer.idToken({ sub: "user-1", groups: ["tenant:acme:admin", "tenant:globex:viewer", "staff"] });
});

afterAll(async () => {
  await jwks.close();
});

const bearer = (token: string, extra: Record<string, string> = { "x-tenant-id": "acme" }) => ({ headers: { authorization: `Bearer ${token}`, ...extra } });

describe("tenantAuth", () => {
  it("sets a typed, frozen c.get('tenant') from a token verified with fetched keys", async () => {
    const app = new Hono();
    app.use("/api/*", tenantAuth(auth));
    app.get("/api/me", (c) => {
      const tenant = c.get("tenant");
      expectTypeOf(tenant).toEqualTypeOf<TenantPrincipal | undefined>();
      return c.json({ tenantId: tenant?.tenantId, sub: tenant?.sub, roles: tenant?.tenantRoles, frozen: Object.isFrozen(tenant) });
    });
    const res = await app.request("/api/me", bearer(good, { "x-tenant-id": "globex" }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tenantId: "globex", sub: "user-1", roles: ["viewer"], frozen: true });
    expect(jwks.requestCount).toBeGreaterThanOrEqual(1);
  });

  it("answers a refusal itself: status, WWW-Authenticate and the JSON body, whatever app.onError does", async () => {
    const app = new Hono();
    app.onError((_err, c) => c.text("app error handler", 500));
    app.use(tenantAuth(auth));
    app.get("/", (c) => c.text("never"));
    const res = await app.request("/");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: "token_missing", error_description: "No bearer token was sent" });
  });

  it("reads the tenant from a route parameter of the path it is mounted on", async () => {
    const app = new Hono();
    app.use("/tenants/:tenantId/*", tenantAuth(auth, { tenantParam: "tenantId" }));
    app.get("/tenants/:tenantId/docs", (c) => c.json({ tenantId: c.get("tenant")?.tenantId }));
    expect(await (await app.request("/tenants/globex/docs", bearer(good, {}))).json()).toEqual({ tenantId: "globex" });
    const other = await app.request("/tenants/initech/docs", bearer(good, {}));
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: string }).error).toBe("tenant_forbidden");
  });

  it("hands every refusal, with the cause of a 503, to onError; a throwing onError changes nothing", async () => {
    const heard: unknown[] = [];
    const app = new Hono();
    app.get("/misplaced", tenantAuth(auth, { tenantParam: "tenantId", onError: (err) => heard.push(err) }), (c) => c.text("never"));
    app.get(
      "/loud",
      tenantAuth(auth, {
        onError: () => {
          throw new Error("observer failed");
        },
      }),
      (c) => c.text("never"),
    );
    const res = await app.request("/misplaced", bearer(good));
    expect(res.status).toBe(503);
    expect(heard).toHaveLength(1);
    expect(heard[0]).toBeInstanceOf(TenantAuthError);
    expect(String((heard[0] as TenantAuthError).cause)).toMatch(/tenantParam "tenantId" names no parameter of this route/);
    expect((await app.request("/loud")).status).toBe(401);
  });

  it("refuses a bad option at setup with a TypeError naming it", () => {
    expect(() => tenantAuth(auth, { tenantHeder: "x" } as never)).toThrow(/tenantAuth \(Hono\).*unknown option tenantHeder/);
    expect(() => tenantAuth(auth, { credentialsRequired: "no" } as never)).toThrow(TypeError);
    expect(() => tenantAuth(auth, { tenantHeader: "x-token", tokenHeader: "X-Token" })).toThrow(/tenantHeader and tokenHeader name the same header/);
    expect(() => tenantAuth({} as TenantAuth)).toThrow(/auth must be the object createTenantAuth\(\) returns/);
    expect(() => requireGroups()).toThrow(TypeError);
    expect(() => requireTenantRoles()).toThrow(TypeError);
    expect(() => authorize(engine, { action: "Read" } as never)).toThrow(/authorize needs \{ action, resource \}/);
    expect(() => authorize(engine, { action: "Read", resource: { type: "T", id: "i" }, onDecison: () => {} } as never)).toThrow(/authorize \(Hono\)/);
  });
});

describe("guards and authorize", () => {
  it("a guard without tenantAuth before it refuses, naming the mistake", async () => {
    const app = new Hono();
    app.get("/", requireGroups("staff"), (c) => c.text("never"));
    const res = await app.request("/", bearer(good));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "token_missing", error_description: "The request was not authenticated: mount tenantAuth() before this route's guards" });
  });

  it("groups ({ all }), tenant roles and scopes", async () => {
    const scoped = await issuer.accessToken({ groups: ["tenant:acme:admin"], scopes: ["docs/read"] });
    const app = new Hono();
    app.use(tenantAuth(auth));
    app.get("/all", requireGroups({ all: ["staff", "billing"] }), (c) => c.text("ok"));
    app.get("/admin", requireTenantRoles("admin"), (c) => c.text("ok"));
    app.get("/write", requireScopes("docs/write"), (c) => c.text("ok"));
    expect((await app.request("/all", bearer(good))).status).toBe(403);
    expect((await app.request("/admin", bearer(good))).status).toBe(200);
    expect((await app.request("/admin", bearer(good, { "x-tenant-id": "globex" }))).status).toBe(403);
    const write = await app.request("/write", bearer(scoped));
    expect(write.status).toBe(403);
    expect(write.headers.get("www-authenticate")).toContain('scope="docs/write"');
  });

  it("authorize: onDecision hears ALLOW, onError hears the engine's failure, the app's own error reaches app.onError", async () => {
    const decisions: string[] = [];
    const errors: unknown[] = [];
    const app = new Hono();
    app.onError((err, c) => c.json({ appError: err.message }, 500));
    app.use(tenantAuth(auth));
    const check = authorize(engine, {
      action: "Read",
      resource: (c) => {
        const id = c.req.param("id") ?? "";
        if (id === "own-bug") throw new Error("resource function failed");
        return { type: "Document", id };
      },
      onDecision: (d, c) => decisions.push(`${d.decision} ${c.req.path}`),
      onError: (err) => errors.push(err),
    });
    app.get("/docs/:id", check, (c) => c.json({ tenantId: c.get("tenant")?.tenantId }));
    expect((await app.request("/docs/acme-1", bearer(good))).status).toBe(200);
    expect((await app.request("/docs/globex-1", bearer(good))).status).toBe(403);
    const failed = await app.request("/docs/boom", bearer(good));
    expect(failed.status).toBe(503);
    expect(await failed.json()).toEqual({ error: "authorizer_unavailable", error_description: "The policy engine could not be reached" });
    expect(String((errors.at(-1) as TenantAuthError).cause)).toMatch(/engine exploded/);
    const own = await app.request("/docs/own-bug", bearer(good));
    expect(own.status).toBe(500);
    expect(await own.json()).toEqual({ appError: "resource function failed" });
    expect(decisions).toEqual(["ALLOW /docs/acme-1", "DENY /docs/globex-1"]);
  });
});

describe("on a real server (@hono/node-server, loopback)", () => {
  let server: ServerType;
  let base = "";

  beforeAll(async () => {
    const app = new Hono();
    app.use("/api/*", tenantAuth(auth, { credentialsRequired: false }));
    app.get("/api/me", (c) => c.json({ tenantId: c.get("tenant")?.tenantId ?? null }));
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
        base = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("anonymous, verified and forged requests", async () => {
    const forged = await issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" });
    expect(await (await fetch(`${base}/api/me`)).json()).toEqual({ tenantId: null });
    expect(await (await fetch(`${base}/api/me`, bearer(good))).json()).toEqual({ tenantId: "acme" });
    const res = await fetch(`${base}/api/me`, bearer(forged));
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token", error_description="The token\'s signature is invalid"');
  });
});
