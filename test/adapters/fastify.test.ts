// The Fastify adapter against real Fastify 5 and Fastify 4 servers on loopback, real HTTP (global
// fetch) and real signed tokens. Every test runs once per major version.
import type { AddressInfo } from "node:net";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import fastify5 from "fastify";
import fastify4 from "fastify4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantAuthPlugin } from "../../src/adapters/fastify.js";
import type { AuthorizationRequest, Authorizer, Decision } from "../../src/index.js";
import { createTenantAuth, isTenantAuthError } from "../../src/index.js";
import type { TestIssuer } from "../../src/testing/index.js";
import { createTestIssuer } from "../../src/testing/index.js";

type Factory = (options?: FastifyServerOptions) => FastifyInstance;
// The v4 instance is typed with v5's declarations: the plugin and the augmentation target "fastify".
const versions: [string, Factory, string][] = [
  ["fastify 5", fastify5 as unknown as Factory, "5."],
  ["fastify 4", fastify4 as unknown as Factory, "4."],
];

/**
 * A real policy engine in miniature: allows when the resource id starts with `<tenantId>-`,
 * denies otherwise, and fails (throws) on the resource `boom`.
 */
class TenantPrefixAuthorizer implements Authorizer {
  readonly calls: AuthorizationRequest[] = [];
  async isAuthorized(request: AuthorizationRequest): Promise<Decision> {
    this.calls.push(request);
    if (request.resource.id === "boom") throw new Error("engine exploded");
    const allowed = request.principal.tenantId !== undefined && request.resource.id.startsWith(`${request.principal.tenantId}-`);
    return allowed ? { allowed, decision: "ALLOW", determiningPolicies: ["p1"], errors: [] } : { allowed, decision: "DENY", determiningPolicies: [], errors: [] };
  }
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

function bearer(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, ...extra };
}

interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
}

describe.each(versions)("tenantAuthPlugin on %s", (_name, factory, major) => {
  let issuer: TestIssuer;
  let app: FastifyInstance;
  let base: string;
  const authorizer = new TenantPrefixAuthorizer();
  const parsed: string[] = [];
  const handled: string[] = [];

  async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${base}${path}`, { headers });
  }
  async function expectError(res: Response, status: number, code: string, challenge?: string | RegExp): Promise<ErrorBody> {
    const body = (await res.json()) as ErrorBody;
    expect({ status: res.status, code: body.code, statusCode: body.statusCode }).toEqual({ status, code, statusCode: status });
    expect(Object.keys(body).sort()).toEqual(["code", "error", "message", "statusCode"]);
    if (challenge !== undefined) {
      const header = res.headers.get("www-authenticate");
      if (typeof challenge === "string") expect(header).toBe(challenge);
      else expect(header).toMatch(challenge);
    }
    return body;
  }

  beforeAll(async () => {
    issuer = await createTestIssuer();
    const auth = createTenantAuth({ userPools: [issuer.userPool] });
    app = factory({ logger: false });
    expect(app.version.startsWith(major)).toBe(true);
    await app.register(tenantAuthPlugin, { auth, authorizer, tenantParam: "tenantId" });

    // Records every body the server parses: an unauthenticated request must never get here.
    app.addContentTypeParser("application/x-recorded", { parseAs: "string" }, (_request, body, done) => {
      parsed.push(String(body));
      done(null, body);
    });

    app.get("/me", async (request) => ({
      tenantId: request.tenant?.tenantId,
      tenantRoles: request.tenant?.tenantRoles,
      sub: request.tenant?.sub,
      tokenUse: request.tenant?.tokenUse,
    }));
    // No principal is `undefined`, as in every adapter.
    app.get("/public", { config: { tenantAuth: false } }, async (request) => ({ tenant: request.tenant === undefined ? "none" : request.tenant }));
    app.post("/upload", async (request) => {
      handled.push(String(request.body));
      return { ok: true, tenantId: request.tenant?.tenantId };
    });
    app.post("/upload-admin", { config: { tenantAuth: { tenantRoles: ["admin"] } } }, async (request) => {
      handled.push(String(request.body));
      return { ok: true };
    });
    app.get("/staff", { config: { tenantAuth: { groups: ["staff", "ops"] } } }, async () => ({ ok: true }));
    app.get("/staff-and-admin", { config: { tenantAuth: { groups: { all: ["staff", "tenant:acme:admin"] } } } }, async () => ({ ok: true }));
    app.get("/admin", { config: { tenantAuth: { tenantRoles: ["admin", "owner"] } } }, async () => ({ ok: true }));
    app.get("/read", { config: { tenantAuth: { scopes: ["docs/read", "docs/list"] } } }, async () => ({ ok: true }));
    app.get<{ Params: { id: string } }>(
      "/docs/:id",
      {
        config: {
          tenantAuth: {
            authorize: {
              action: "ReadDocument",
              resource: (request) => ({ type: "Document", id: (request.params as { id: string }).id }),
              context: (request, principal) => ({ ip: request.ip, tenant: principal.tenantId ?? "" }),
              entities: [{ uid: { type: "Org", id: "o" }, attrs: {}, parents: [] }],
            },
          },
        },
      },
      async (request) => ({ ok: true, id: request.params.id }),
    );
    app.post(
      "/folders",
      {
        config: {
          tenantAuth: {
            authorize: {
              action: { type: "Action", id: "CreateFolder" },
              resource: async (request) => ({ type: "Folder", id: (request.body as { name: string }).name }),
              context: { source: "upload" },
            },
          },
        },
      },
      async () => ({ created: true }),
    );
    app.get<{ Params: { tenantId: string } }>("/tenants/:tenantId/info", async (request) => ({
      param: request.params.tenantId,
      tenantId: request.tenant?.tenantId,
    }));
    base = await listen(app);
  });

  afterAll(async () => {
    await app?.close();
  });

  it("sets request.tenant for a valid token", async () => {
    const token = await issuer.idToken({ sub: "user-1", groups: ["tenant:acme:admin"] });
    const res = await get("/me", bearer(token));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tenantId: "acme", tenantRoles: ["admin"], sub: "user-1", tokenUse: "id" });
  });

  it("decorates the request at the registering scope (the plugin is not encapsulated)", () => {
    expect(app.hasRequestDecorator("tenant")).toBe(true);
  });

  it("leaves a public route open and request.tenant undefined, even with a bad token", async () => {
    const none = await get("/public");
    expect(none.status).toBe(200);
    expect(await none.json()).toEqual({ tenant: "none" });
    const bad = await get("/public", { authorization: "Bearer not.a.jwt" });
    expect(bad.status).toBe(200);
    expect(await bad.json()).toEqual({ tenant: "none" });
  });

  it("answers 401 token_missing with a bare Bearer challenge and Fastify's error body", async () => {
    const res = await get("/me");
    const body = await expectError(res, 401, "token_missing", "Bearer");
    expect(body.error).toBe("Unauthorized");
    expect(body.message).toBe("No bearer token was sent");
    // Another scheme is no bearer credential at all.
    await expectError(await get("/me", { authorization: "Basic dXNlcjpwYXNz" }), 401, "token_missing", "Bearer");
  });

  it("answers 400 invalid_request for a malformed Authorization header", async () => {
    const res = await get("/me", { authorization: "Bearer a b" });
    const body = await expectError(res, 400, "invalid_request", /^Bearer error="invalid_request"/);
    expect(body.error).toBe("Bad Request");
    await expectError(await get("/me", { authorization: "Bearer" }), 400, "invalid_request", /error="invalid_request"/);
  });

  it("answers 401 invalid_token for a forged or expired token, without echoing it", async () => {
    const forged = await issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" });
    const a = await expectError(await get("/me", bearer(forged)), 401, "token_invalid", /^Bearer error="invalid_token"/);
    expect(a.message).not.toContain(forged);
    const expired = await issuer.idToken({ groups: ["tenant:acme"], expiresIn: -120, issuedAt: Math.floor(Date.now() / 1000) - 3600 });
    await expectError(await get("/me", bearer(expired)), 401, "token_expired", /^Bearer error="invalid_token"/);
    await expectError(await get("/me", bearer("garbage")), 401, "token_invalid", /error="invalid_token"/);
  });

  it("selects the tenant named by the x-tenant-id header, and refuses one the caller is not in", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] });
    const ok = await get("/me", bearer(token, { "x-tenant-id": "globex" }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ tenantId: "globex", tenantRoles: ["viewer"] });
    await expectError(await get("/me", bearer(token, { "x-tenant-id": "initech" })), 403, "tenant_forbidden", /error="insufficient_scope"/);
  });

  it("answers 400 tenant_ambiguous when several tenants and nothing selects one", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] });
    await expectError(await get("/me", bearer(token)), 400, "tenant_ambiguous", /error="invalid_request"/);
  });

  it("answers 403 tenant_missing for a caller in no tenant", async () => {
    const token = await issuer.idToken({ groups: ["staff"] });
    await expectError(await get("/me", bearer(token)), 403, "tenant_missing", /error="insufficient_scope"/);
  });

  it("takes the tenant from the route parameter named by tenantParam", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] });
    const ok = await get("/tenants/globex/info", bearer(token));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ param: "globex", tenantId: "globex" });
    const same = await get("/tenants/acme/info", bearer(token, { "x-tenant-id": "acme" }));
    expect(await same.json()).toEqual({ param: "acme", tenantId: "acme" });
    await expectError(await get("/tenants/initech/info", bearer(token)), 403, "tenant_forbidden");
    // The header and the path disagree: refuse rather than guess.
    await expectError(await get("/tenants/acme/info", bearer(token, { "x-tenant-id": "globex" })), 400, "invalid_request");
  });

  it("enforces groups: any of a list, or all of { all }", async () => {
    const staff = await issuer.idToken({ groups: ["tenant:acme:admin", "staff"] });
    const other = await issuer.idToken({ groups: ["tenant:acme:admin", "sales"] });
    expect((await get("/staff", bearer(staff))).status).toBe(200);
    expect((await get("/staff", bearer(await issuer.idToken({ groups: ["tenant:acme", "ops"] })))).status).toBe(200);
    await expectError(await get("/staff", bearer(other)), 403, "access_denied", /error="insufficient_scope"/);
    expect((await get("/staff-and-admin", bearer(staff))).status).toBe(200);
    const staffViewer = await issuer.idToken({ groups: ["tenant:acme:viewer", "staff"] });
    await expectError(await get("/staff-and-admin", bearer(staffViewer)), 403, "access_denied");
  });

  it("enforces tenant roles in the active tenant", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] });
    expect((await get("/admin", bearer(token, { "x-tenant-id": "acme" }))).status).toBe(200);
    await expectError(await get("/admin", bearer(token, { "x-tenant-id": "globex" })), 403, "access_denied");
    const owner = await issuer.idToken({ groups: ["tenant:acme:owner"] });
    expect((await get("/admin", bearer(owner))).status).toBe(200);
  });

  it("enforces scopes: all of them, else 403 insufficient_scope naming them", async () => {
    const both = await issuer.accessToken({ groups: ["tenant:acme"], scopes: ["docs/read", "docs/list", "openid"] });
    const res = await get("/read", bearer(both));
    expect(res.status).toBe(200);
    const one = await issuer.accessToken({ groups: ["tenant:acme"], scopes: ["docs/read"] });
    const denied = await get("/read", bearer(one));
    await expectError(denied, 403, "insufficient_scope", /^Bearer error="insufficient_scope".*scope="docs\/read docs\/list"$/);
  });

  it("asks the authorizer: allow, deny, and a failing engine is 503, never an allow", async () => {
    const token = await issuer.idToken({ sub: "user-9", groups: ["tenant:acme:admin"] });
    authorizer.calls.length = 0;
    const ok = await get("/docs/acme-1", bearer(token));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, id: "acme-1" });
    expect(authorizer.calls).toHaveLength(1);
    const call = authorizer.calls[0]!;
    expect(call.action).toBe("ReadDocument");
    expect(call.resource).toEqual({ type: "Document", id: "acme-1" });
    expect(call.principal.sub).toBe("user-9");
    expect(call.principal.tenantId).toBe("acme");
    expect(call.context).toEqual({ ip: "127.0.0.1", tenant: "acme" });
    expect(call.entities).toEqual([{ uid: { type: "Org", id: "o" }, attrs: {}, parents: [] }]);

    await expectError(await get("/docs/globex-1", bearer(token)), 403, "access_denied", /error="insufficient_scope"/);

    const failed = await get("/docs/boom", bearer(token));
    expect(failed.headers.get("retry-after")).toBe("5");
    const body = await expectError(failed, 503, "authorizer_unavailable");
    expect(body.message).not.toContain("exploded");

    // No token: refused in onRequest, the engine is never asked.
    authorizer.calls.length = 0;
    await expectError(await get("/docs/acme-1"), 401, "token_missing", "Bearer");
    expect(authorizer.calls).toHaveLength(0);
  });

  it("lets authorize read the parsed body (it runs in preHandler)", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme:admin"] });
    const post = (name: string) => fetch(`${base}/folders`, { method: "POST", headers: bearer(token, { "content-type": "application/json" }), body: JSON.stringify({ name }) });
    const ok = await post("acme-reports");
    expect(ok.status).toBe(200);
    expect(authorizer.calls.at(-1)?.action).toEqual({ type: "Action", id: "CreateFolder" });
    expect(authorizer.calls.at(-1)?.resource).toEqual({ type: "Folder", id: "acme-reports" });
    // A context given as a value, as in every adapter.
    expect(authorizer.calls.at(-1)?.context).toEqual({ source: "upload" });
    await expectError(await post("globex-reports"), 403, "access_denied");
  });

  it("never parses the body of an unauthenticated or refused request", async () => {
    parsed.length = 0;
    handled.length = 0;
    const send = (path: string, headers: Record<string, string>) => fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/x-recorded", ...headers }, body: "payload" });

    await expectError(await send("/upload", {}), 401, "token_missing", "Bearer");
    await expectError(await send("/upload", { authorization: "Bearer bad.to.ken" }), 401, "token_invalid");
    const viewer = await issuer.idToken({ groups: ["tenant:acme:viewer"] });
    await expectError(await send("/upload-admin", bearer(viewer)), 403, "access_denied");
    expect(parsed).toEqual([]);
    expect(handled).toEqual([]);

    // The recorder does record: an authenticated request is parsed and handled.
    const res = await send("/upload", bearer(viewer));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, tenantId: "acme" });
    expect(parsed).toEqual(["payload"]);
    expect(handled).toEqual(["payload"]);
  });

  it("demands a token for unknown routes in the scope it covers (401 before 404)", async () => {
    await expectError(await get("/no-such-route"), 401, "token_missing", "Bearer");
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    const res = await get("/no-such-route", bearer(token));
    expect(res.status).toBe(404);
  });

  it("works the same through inject", async () => {
    const res = await app.inject({ method: "GET", url: "/me" });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toBe("Bearer");
    expect(res.json()).toMatchObject({ statusCode: 401, code: "token_missing", error: "Unauthorized" });
  });
});

describe.each(versions)("tenantAuthPlugin registration on %s", (_name, factory) => {
  let issuer: TestIssuer;
  const apps: FastifyInstance[] = [];
  function make(): FastifyInstance {
    const app = factory({ logger: false });
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    issuer = await createTestIssuer();
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
  });

  it("carries fastify-plugin's metadata", () => {
    const fn = tenantAuthPlugin as unknown as Record<symbol, unknown>;
    expect(fn[Symbol.for("skip-override")]).toBe(true);
    expect(fn[Symbol.for("fastify.display-name")]).toBe("cognito-tenancy");
    expect(fn[Symbol.for("plugin-meta")]).toEqual({ name: "cognito-tenancy", fastify: "4.x || 5.x" });
  });

  it("is known by name to plugins that depend on it", async () => {
    const app = make();
    await app.register(tenantAuthPlugin, { auth: createTenantAuth({ userPools: [issuer.userPool] }) });
    const dependent = Object.assign(async () => {}, {
      [Symbol.for("plugin-meta")]: { name: "needs-tenancy", dependencies: ["cognito-tenancy"], decorators: { request: ["tenant"] } },
    });
    await app.register(dependent);
    await expect(app.ready()).resolves.toBeDefined();
  });

  it("covers only the scope that registers it: a sibling scope and 404s outside stay public", async () => {
    const app = make();
    const auth = createTenantAuth({ userPools: [issuer.userPool] });
    await app.register(async (api) => {
      await api.register(tenantAuthPlugin, { auth, tenantHeader: "X-Org" });
      api.get("/api/me", async (request) => ({ tenantId: request.tenant?.tenantId }));
    });
    app.get("/site", async (request) => ({ tenant: request.tenant ?? "undecorated" }));
    const base = await listen(app);

    expect((await fetch(`${base}/api/me`)).status).toBe(401);
    const token = await issuer.idToken({ groups: ["tenant:acme", "tenant:globex"] });
    // A custom header name, given in any case.
    const res = await fetch(`${base}/api/me`, { headers: bearer(token, { "x-org": "globex" }) });
    expect(await res.json()).toEqual({ tenantId: "globex" });
    const site = await fetch(`${base}/site`);
    expect(site.status).toBe(200);
    expect(await site.json()).toEqual({ tenant: "undecorated" });
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
  });

  it("answers 503 jwks_unavailable when the keys cannot be fetched (fails closed)", async () => {
    const server = await issuer.listen();
    try {
      server.setBehavior("error");
      const app = make();
      await app.register(tenantAuthPlugin, { auth: createTenantAuth({ userPools: [server.userPool] }) });
      app.get("/me", async (request) => ({ tenantId: request.tenant?.tenantId }));
      const base = await listen(app);
      const token = await issuer.idToken({ groups: ["tenant:acme"] });
      const res = await fetch(`${base}/me`, { headers: bearer(token) });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(((await res.json()) as ErrorBody).code).toBe("jwks_unavailable");
    } finally {
      await server.close();
    }
  });

  it("refuses at start a route that asks for authorize when the plugin has no authorizer", async () => {
    const app = make();
    await app.register(tenantAuthPlugin, { auth: createTenantAuth({ userPools: [issuer.userPool] }) });
    // The plugin is loaded (awaited), so its onRoute hook refuses the route as it is declared.
    expect(() => app.get("/x", { config: { tenantAuth: { authorize: { action: "Read", resource: { type: "Doc", id: "1" } } } } }, async () => "ok")).toThrow(/no authorizer/);
  });

  it("refuses at start a malformed route setting", async () => {
    const app = make();
    await app.register(tenantAuthPlugin, { auth: createTenantAuth({ userPools: [issuer.userPool] }) });
    expect(() => app.get("/x", { config: { tenantAuth: { scopes: "docs/read" as unknown as string[] } } }, async () => "ok")).toThrow(/scopes must be a non-empty list/);
    // An empty list would require nothing: refused, not a route open to everyone.
    for (const empty of [{ scopes: [] }, { tenantRoles: [] }, { groups: [] }, { groups: { any: [] } }, { groups: { all: [""] } }]) {
      expect(() => app.get(`/e${JSON.stringify(empty).length}`, { config: { tenantAuth: empty } }, async () => "ok"), JSON.stringify(empty)).toThrow(/non-empty list/);
    }
    expect(() => app.get("/y", { config: { tenantAuth: true as never } }, async () => "ok")).toThrow(/must be false or an object/);
  });

  it("hands its errors to a custom error handler, which can send their headers and toJSON()", async () => {
    const app = make();
    await app.register(tenantAuthPlugin, { auth: createTenantAuth({ userPools: [issuer.userPool] }) });
    app.setErrorHandler((error, _request, reply) => {
      if (isTenantAuthError(error)) return reply.code(error.status).headers(error.headers).send(error.toJSON());
      return reply.send(error);
    });
    app.get("/me", async () => "ok");
    const base = await listen(app);
    const res = await fetch(`${base}/me`, { headers: { authorization: "Bearer x y" } });
    expect(res.status).toBe(400);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_request"/);
    expect(await res.json()).toEqual({ error: "invalid_request", error_description: "The Authorization header must carry exactly one bearer token" });
  });

  it("refuses to register without auth", async () => {
    const app = make();
    await expect(app.register(tenantAuthPlugin, {} as never)).rejects.toThrow(/createTenantAuth/);
  });

  it("authenticates routes declared before the plugin, and fails closed on their authorize", async () => {
    const app = make();
    const auth = createTenantAuth({ userPools: [issuer.userPool] });
    app.get("/early", async (request) => ({ tenantId: request.tenant?.tenantId }));
    app.get("/early-authz", { config: { tenantAuth: { authorize: { action: "Read", resource: { type: "Doc", id: "acme-1" } } } } }, async () => "ok");
    await app.register(tenantAuthPlugin, { auth });
    const base = await listen(app);
    expect((await fetch(`${base}/early`)).status).toBe(401);
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    expect(await (await fetch(`${base}/early`, { headers: bearer(token) })).json()).toEqual({ tenantId: "acme" });
    const res = await fetch(`${base}/early-authz`, { headers: bearer(token) });
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrorBody).code).toBe("authorizer_unavailable");
  });
});
