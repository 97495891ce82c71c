// The Express adapter against real Express 4 and Express 5 servers on loopback, real HTTP and
// real signed tokens. The same suite runs on both versions side by side.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express5 from "express";
import type { NextFunction, Request, Response } from "express";
import express4 from "express4";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import type { AuthorizationRequest, Authorizer, Decision, TenantAuth } from "../../src/index.js";
import { authorize, requireGroups, requireScopes, requireTenantRole, requireTenantRoles, tenantAuth, tenantAuthErrorHandler } from "../../src/adapters/express.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";

// The two versions' type packages cannot both describe one app in one program (their Request
// types differ), so the apps are built through this neutral shape; express-types.test.ts checks
// the adapter against each version's own types.
interface RouterLike {
  use(...args: unknown[]): unknown;
  get(path: string, ...handlers: unknown[]): unknown;
  delete(path: string, ...handlers: unknown[]): unknown;
}
interface AppLike extends RouterLike {
  set(setting: string, value: unknown): unknown;
  listen(port: number, host: string, callback: () => void): Server;
}
interface ExpressLike {
  (): AppLike;
  Router(): RouterLike;
}

/** A tiny real policy engine: documents belong to a tenant; deleting needs the admin role. */
class TenantDocumentAuthorizer implements Authorizer {
  readonly seen: AuthorizationRequest[] = [];
  async isAuthorized(request: AuthorizationRequest): Promise<Decision> {
    this.seen.push(request);
    const owner = request.resource.attributes?.["tenant"];
    let allowed = request.resource.type === "Document" && owner === request.principal.tenantId;
    if (request.action === "DeleteDocument") allowed &&= request.principal.tenantRoles.includes("admin");
    else if (request.action !== "ReadDocument") allowed = false;
    return allowed ? { allowed, decision: "ALLOW", determiningPolicies: ["owner"], errors: [] } : { allowed, decision: "DENY", determiningPolicies: [], errors: [] };
  }
}

class UnreachableAuthorizer implements Authorizer {
  async isAuthorized(): Promise<Decision> {
    throw new Error("connect ECONNREFUSED 127.0.0.1:1");
  }
}

function principalJson(req: Request, res: Response): void {
  const t = req.tenant;
  res.json(
    t === undefined
      ? { anonymous: true }
      : {
          sub: t.sub,
          username: t.username,
          userPoolId: t.userPoolId,
          clientId: t.clientId,
          tokenUse: t.tokenUse,
          tenantId: t.tenantId,
          tenantRoles: t.tenantRoles,
          groups: t.groups,
          scopes: t.scopes,
          frozen: Object.isFrozen(t),
          param: req.params["tenantId"] ?? req.params["org"],
        },
  );
}

const ok = (_req: Request, res: Response): void => {
  res.json({ ok: true });
};

function buildApp(express: ExpressLike, auth: TenantAuth, authorizer: TenantDocumentAuthorizer, quiet: boolean): AppLike {
  const app = express();
  // "development" makes Express's default handler log stacks; the quiet app must not reach it for our errors.
  app.set("env", quiet ? "development" : "test");

  app.get("/me", tenantAuth(auth), principalJson);
  app.get("/optional", tenantAuth(auth, { credentialsRequired: false }), principalJson);
  app.get("/custom-header", tenantAuth(auth, { tenantHeader: "X-Org" }), principalJson);

  // tenantParam on a router path: the parameter exists for middleware mounted there.
  const tenants = express.Router();
  tenants.use("/tenants/:tenantId", tenantAuth(auth, { tenantParam: "tenantId" }));
  tenants.get("/tenants/:tenantId/docs", principalJson);
  app.use(tenants);
  // ...and per route.
  app.get("/orgs/:org/info", tenantAuth(auth, { tenantParam: "org" }), principalJson);
  // ...and mounted at app level, where no route parameter exists yet: a configuration error.
  app.use("/misplaced", tenantAuth(auth, { tenantParam: "tenantId" }));
  app.get("/misplaced/:tenantId", principalJson);

  app.get("/groups/any", tenantAuth(auth), requireGroups("editors", "admins"), ok);
  app.get("/groups/all", tenantAuth(auth), requireGroups({ all: ["editors", "reviewers"] }), ok);
  app.get("/role", tenantAuth(auth), requireTenantRoles("admin", "owner"), ok);
  // The deprecated singular name: the same guard.
  app.get("/role-deprecated", tenantAuth(auth), requireTenantRole("admin", "owner"), ok);
  app.get("/scopes", tenantAuth(auth), requireScopes("orders/read", "orders/write"), ok);

  // Guards without tenantAuth before them: they must refuse, never allow.
  app.get("/unguarded/groups", requireGroups("editors"), ok);
  app.get("/unguarded/role", requireTenantRoles("admin"), ok);
  app.get("/unguarded/scopes", requireScopes("orders/read"), ok);
  app.get("/unguarded/authorize", authorize(authorizer, { action: "ReadDocument", resource: { type: "Document", id: "x" } }), ok);
  app.get("/optional/groups", tenantAuth(auth, { credentialsRequired: false }), requireGroups("editors"), ok);

  const documentOf = (req: Request) => ({
    type: "Document",
    id: String(req.params["id"]),
    attributes: { tenant: String(req.query["owner"]) },
  });
  const documents = authorize(authorizer, {
    action: (req) => (req.method === "DELETE" ? "DeleteDocument" : "ReadDocument"),
    resource: documentOf,
    context: (req, principal) => ({ path: req.path, tenant: principal.tenantId ?? "" }),
  });
  app.get("/documents/:id", tenantAuth(auth), documents, ok);
  app.delete("/documents/:id", tenantAuth(auth), documents, ok);
  app.get("/async-resource/:id", tenantAuth(auth), authorize(authorizer, { action: "ReadDocument", resource: async (req) => documentOf(req) }), ok);
  app.get("/broken", tenantAuth(auth), authorize(new UnreachableAuthorizer(), { action: "ReadDocument", resource: documentOf }), ok);
  app.get(
    "/bad-resource",
    tenantAuth(auth),
    authorize(authorizer, {
      action: "ReadDocument",
      resource: () => {
        throw new Error("database down");
      },
    }),
    ok,
  );

  app.get("/boom", tenantAuth(auth), (_req: Request, _res: Response, next: NextFunction) => {
    next(Object.assign(new Error("teapot"), { status: 418 }));
  });

  if (quiet) {
    app.use(tenantAuthErrorHandler());
    // Whatever tenantAuthErrorHandler passed on lands here.
    app.use((err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
      res.status(err.status ?? 500).json({ passedOn: err.message });
    });
  }
  return app;
}

interface Reply {
  status: number;
  challenge: string | null;
  headers: Headers;
  text: string;
  json: () => Record<string, unknown>;
}

async function call(base: string, path: string, options: { token?: string; authorization?: string; headers?: Record<string, string>; method?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.authorization !== undefined) headers["authorization"] = options.authorization;
  else if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
  // A safeguard, not a timing assertion: a middleware that never calls next() fails instead of hanging.
  const response = await fetch(base + path, { method: options.method ?? "GET", headers, signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  return {
    status: response.status,
    challenge: response.headers.get("www-authenticate"),
    headers: response.headers,
    text,
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

async function listen(app: AppLike): Promise<{ server: Server; base: string }> {
  return new Promise((resolve) => {
    const server: Server = app.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, base: `http://127.0.0.1:${port}` });
    });
  });
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

let issuer: TestIssuer;
let auth: TenantAuth;
const servers: Server[] = [];

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  issuer = await createTestIssuer();
  auth = createTenantAuth({ userPools: [issuer.userPool] });
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
});

const VERSIONS: [string, ExpressLike][] = [
  ["Express 4", express4 as unknown as ExpressLike],
  ["Express 5", express5 as unknown as ExpressLike],
];

describe.each(VERSIONS)("%s", (_name, express) => {
  let plain: string; // Express's own error handler answers
  let quiet: string; // tenantAuthErrorHandler answers
  const authorizer = new TenantDocumentAuthorizer();

  beforeAll(async () => {
    const a = await listen(buildApp(express, auth, authorizer, false));
    const b = await listen(buildApp(express, auth, authorizer, true));
    servers.push(a.server, b.server);
    plain = a.base;
    quiet = b.base;
  });

  describe("tenantAuth", () => {
    it("sets req.tenant from a valid token", async () => {
      const token = await issuer.idToken({ sub: "user-1", username: "alice", groups: ["tenant:acme:admin", "editors"] });
      for (const base of [plain, quiet]) {
        const r = await call(base, "/me", { token });
        expect(r.status).toBe(200);
        expect(r.json()).toEqual({
          sub: "user-1",
          username: "alice",
          userPoolId: issuer.userPoolId,
          clientId: issuer.clientId,
          tokenUse: "id",
          tenantId: "acme",
          tenantRoles: ["admin"],
          groups: ["tenant:acme:admin", "editors"],
          scopes: [],
          frozen: true,
        });
      }
    });

    it("refuses a request without a token: 401 and a bare Bearer challenge", async () => {
      const r = await call(plain, "/me");
      expect(r.status).toBe(401);
      expect(r.challenge).toBe("Bearer");
      const q = await call(quiet, "/me");
      expect(q.status).toBe(401);
      expect(q.challenge).toBe("Bearer");
      expect(q.headers.get("content-type")).toMatch(/^application\/json/);
      expect(q.json()).toEqual({ error: "token_missing", error_description: "No bearer token was sent" });
    });

    it("refuses a malformed Authorization header with 400 invalid_request", async () => {
      for (const authorization of ["Bearer", "Bearer a b"]) {
        const r = await call(plain, "/me", { authorization });
        expect(r.status).toBe(400);
        expect(r.challenge).toMatch(/^Bearer error="invalid_request"/);
        const q = await call(quiet, "/me", { authorization });
        expect(q.status).toBe(400);
        expect(q.json()["error"]).toBe("invalid_request");
      }
    });

    it("refuses a bad signature with 401 invalid_token", async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" });
      const r = await call(plain, "/me", { token });
      expect(r.status).toBe(401);
      expect(r.challenge).toMatch(/^Bearer error="invalid_token"/);
      const q = await call(quiet, "/me", { token });
      expect(q.status).toBe(401);
      expect(q.json()["error"]).toBe("token_invalid");
      expect(q.text).not.toContain(token);
    });

    it("refuses an expired token with 401 invalid_token", async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme"], expiresIn: -60 });
      const r = await call(plain, "/me", { token });
      expect(r.status).toBe(401);
      expect(r.challenge).toMatch(/^Bearer error="invalid_token"/);
      const q = await call(quiet, "/me", { token });
      expect(q.json()["error"]).toBe("token_expired");
    });

    it("selects the tenant named by x-tenant-id, and refuses one the user is not in (403)", async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] });
      const ambiguous = await call(quiet, "/me", { token });
      expect(ambiguous.status).toBe(400);
      expect(ambiguous.json()["error"]).toBe("tenant_ambiguous");
      expect(ambiguous.challenge).toMatch(/^Bearer error="invalid_request"/);

      const globex = await call(quiet, "/me", { token, headers: { "X-Tenant-Id": "globex" } });
      expect(globex.status).toBe(200);
      expect(globex.json()).toMatchObject({ tenantId: "globex", tenantRoles: ["viewer"] });

      const forbidden = await call(plain, "/me", { token, headers: { "x-tenant-id": "initech" } });
      expect(forbidden.status).toBe(403);
      expect(forbidden.challenge).toMatch(/^Bearer error="insufficient_scope"/);
      const q = await call(quiet, "/me", { token, headers: { "x-tenant-id": "initech" } });
      expect(q.json()["error"]).toBe("tenant_forbidden");
    });

    it("reads the hint from the configured header only", async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] });
      const r = await call(quiet, "/custom-header", { token, headers: { "x-org": "globex" } });
      expect(r.status).toBe(200);
      expect(r.json()["tenantId"]).toBe("globex");
      const ignored = await call(quiet, "/custom-header", { token, headers: { "x-tenant-id": "globex" } });
      expect(ignored.json()["error"]).toBe("tenant_ambiguous");
    });

    it("refuses a caller with no tenant: 403 tenant_missing", async () => {
      const token = await issuer.idToken({ groups: ["editors"] });
      const r = await call(plain, "/me", { token });
      expect(r.status).toBe(403);
      expect(r.challenge).toMatch(/^Bearer error="insufficient_scope"/);
      expect((await call(quiet, "/me", { token })).json()["error"]).toBe("tenant_missing");
    });

    describe("credentialsRequired: false", () => {
      it("lets a request without a bearer token through anonymously", async () => {
        for (const options of [{}, { authorization: "Basic dXNlcjpwYXNz" }, { authorization: "my-api-key" }, { headers: { "x-tenant-id": "acme" } }]) {
          const r = await call(quiet, "/optional", options);
          expect(r.status).toBe(200);
          expect(r.json()).toEqual({ anonymous: true });
        }
      });

      it("still resolves a good token, with the Bearer scheme or raw as API Gateway's Cognito authorizer takes it", async () => {
        const token = await issuer.idToken({ groups: ["tenant:acme"] });
        const r = await call(quiet, "/optional", { token });
        expect(r.json()["tenantId"]).toBe("acme");
        expect((await call(quiet, "/optional", { authorization: token })).json()["tenantId"]).toBe("acme");
      });

      it("still refuses a bad token, a malformed header and a forbidden tenant", async () => {
        const bad = await issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" });
        expect((await call(plain, "/optional", { token: bad })).status).toBe(401);
        expect((await call(quiet, "/optional", { authorization: "Bearer a b" })).json()["error"]).toBe("invalid_request");
        const good = await issuer.idToken({ groups: ["tenant:acme"] });
        const r = await call(quiet, "/optional", { token: good, headers: { "x-tenant-id": "globex" } });
        expect(r.status).toBe(403);
        expect(r.json()["error"]).toBe("tenant_forbidden");
      });

      it("an anonymous request still fails a guard: 401", async () => {
        const r = await call(plain, "/optional/groups");
        expect(r.status).toBe(401);
        expect(r.challenge).toBe("Bearer");
      });
    });

    describe("tenantParam", () => {
      it("reads the tenant from a router path parameter", async () => {
        const token = await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] });
        const r = await call(quiet, "/tenants/globex/docs", { token });
        expect(r.status).toBe(200);
        expect(r.json()).toMatchObject({ tenantId: "globex", tenantRoles: ["viewer"], param: "globex" });
        const acme = await call(quiet, "/tenants/acme/docs", { token });
        expect(acme.json()).toMatchObject({ tenantId: "acme", tenantRoles: ["admin"] });
      });

      it("reads the tenant from a route parameter", async () => {
        const token = await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] });
        const r = await call(quiet, "/orgs/globex/info", { token });
        expect(r.status).toBe(200);
        expect(r.json()).toMatchObject({ tenantId: "globex", param: "globex" });
      });

      it("refuses a URL naming a tenant the user is not in (403)", async () => {
        const token = await issuer.idToken({ groups: ["tenant:acme:admin"] });
        const r = await call(plain, "/tenants/initech/docs", { token });
        expect(r.status).toBe(403);
        expect((await call(quiet, "/tenants/initech/docs", { token })).json()["error"]).toBe("tenant_forbidden");
      });

      it("accepts a header that agrees with the URL and refuses one that does not (400)", async () => {
        const token = await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] });
        const same = await call(quiet, "/tenants/acme/docs", { token, headers: { "x-tenant-id": "acme" } });
        expect(same.status).toBe(200);
        expect(same.json()["tenantId"]).toBe("acme");
        const differ = await call(plain, "/tenants/acme/docs", { token, headers: { "x-tenant-id": "globex" } });
        expect(differ.status).toBe(400);
        expect(differ.challenge).toMatch(/^Bearer error="invalid_request"/);
        const q = await call(quiet, "/tenants/acme/docs", { token, headers: { "x-tenant-id": "globex" } });
        expect(q.json()["error"]).toBe("invalid_request");
      });

      it("fails closed (503 tenant_unavailable) where the parameter does not exist, instead of ignoring the URL", async () => {
        const token = await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] });
        const r = await call(quiet, "/misplaced/globex", { token, headers: { "x-tenant-id": "acme" } });
        expect(r.status).toBe(503);
        expect(r.json()).toEqual({ error: "tenant_unavailable", error_description: "The tenant could not be resolved" });
        // Credential errors first, as everywhere: no token is a 401.
        expect((await call(quiet, "/misplaced/globex", {})).status).toBe(401);
      });
    });
  });

  describe("guards", () => {
    it("requireGroups (any of): allows a member of one, refuses a member of none", async () => {
      const admin = await issuer.idToken({ groups: ["tenant:acme", "admins"] });
      expect((await call(quiet, "/groups/any", { token: admin })).status).toBe(200);
      const outsider = await issuer.idToken({ groups: ["tenant:acme", "viewers"] });
      const r = await call(plain, "/groups/any", { token: outsider });
      expect(r.status).toBe(403);
      expect(r.challenge).toMatch(/^Bearer error="insufficient_scope"/);
      expect((await call(quiet, "/groups/any", { token: outsider })).json()["error"]).toBe("access_denied");
    });

    it("requireGroups({ all }): allows a member of all, refuses a member of some", async () => {
      const both = await issuer.idToken({ groups: ["tenant:acme", "editors", "reviewers"] });
      expect((await call(quiet, "/groups/all", { token: both })).status).toBe(200);
      const one = await issuer.idToken({ groups: ["tenant:acme", "editors"] });
      const r = await call(quiet, "/groups/all", { token: one });
      expect(r.status).toBe(403);
      expect(r.json()["error"]).toBe("access_denied");
    });

    it("requireTenantRoles: role in the active tenant only", async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] });
      const acme = await call(quiet, "/role", { token, headers: { "x-tenant-id": "acme" } });
      expect(acme.status).toBe(200);
      const globex = await call(quiet, "/role", { token, headers: { "x-tenant-id": "globex" } });
      expect(globex.status).toBe(403);
      expect(globex.json()["error"]).toBe("access_denied");
      expect(globex.challenge).toMatch(/^Bearer error="insufficient_scope"/);
    });

    it("requireTenantRole, the deprecated name, answers as requireTenantRoles", async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] });
      for (const tenant of ["acme", "globex"]) {
        const current = await call(quiet, "/role", { token, headers: { "x-tenant-id": tenant } });
        const deprecated = await call(quiet, "/role-deprecated", { token, headers: { "x-tenant-id": tenant } });
        expect([deprecated.status, deprecated.json(), deprecated.challenge]).toEqual([current.status, current.json(), current.challenge]);
      }
      expect(() => requireTenantRole()).toThrow("requireTenantRole: tenantRoles must be a non-empty list");
    });

    it("requireScopes: every scope; 403 insufficient_scope naming the scopes", async () => {
      const full = await issuer.accessToken({ groups: ["tenant:acme"], scopes: ["orders/read", "orders/write"] });
      expect((await call(quiet, "/scopes", { token: full })).status).toBe(200);
      const partial = await issuer.accessToken({ groups: ["tenant:acme"], scopes: ["orders/read"] });
      const r = await call(plain, "/scopes", { token: partial });
      expect(r.status).toBe(403);
      expect(r.challenge).toMatch(/^Bearer error="insufficient_scope"/);
      expect(r.challenge).toContain('scope="orders/read orders/write"');
      const q = await call(quiet, "/scopes", { token: partial });
      expect(q.json()["error"]).toBe("insufficient_scope");
      expect(q.challenge).toContain('scope="orders/read orders/write"');
    });

    it("a guard without tenantAuth before it refuses with 401, even with a valid token", async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme:admin", "editors"], scopes: ["orders/read"] });
      for (const path of ["/unguarded/groups", "/unguarded/role", "/unguarded/scopes", "/unguarded/authorize"]) {
        const r = await call(plain, path, { token });
        expect(r.status, path).toBe(401);
        expect(r.challenge, path).toBe("Bearer");
        const body = (await call(quiet, path, { token })).json();
        expect(body["error"], path).toBe("token_missing");
        // The message says what is wrong: the app, not the caller's token.
        expect(body["error_description"], path).toMatch(/mount tenantAuth\(\) before/);
      }
    });
  });

  describe("authorize", () => {
    it("allows what the authorizer allows, with action, resource and context from the request", async () => {
      const token = await issuer.idToken({ sub: "reader", groups: ["tenant:acme:viewer"] });
      const r = await call(quiet, "/documents/d1?owner=acme", { token });
      expect(r.status).toBe(200);
      const asked = authorizer.seen.find((s) => s.principal.sub === "reader");
      expect(asked).toMatchObject({
        action: "ReadDocument",
        resource: { type: "Document", id: "d1", attributes: { tenant: "acme" } },
        context: { path: "/documents/d1", tenant: "acme" },
      });
      expect(asked?.principal.tenantId).toBe("acme");
    });

    it("refuses what the authorizer denies: 403 access_denied", async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme:viewer"] });
      const other = await call(plain, "/documents/d1?owner=globex", { token });
      expect(other.status).toBe(403);
      expect(other.challenge).toMatch(/^Bearer error="insufficient_scope"/);
      expect((await call(quiet, "/documents/d1?owner=globex", { token })).json()["error"]).toBe("access_denied");
    });

    it("computes the action from the request", async () => {
      const viewer = await issuer.idToken({ groups: ["tenant:acme:viewer"] });
      const admin = await issuer.idToken({ groups: ["tenant:acme:admin"] });
      expect((await call(quiet, "/documents/d1?owner=acme", { token: viewer, method: "DELETE" })).status).toBe(403);
      expect((await call(quiet, "/documents/d1?owner=acme", { token: admin, method: "DELETE" })).status).toBe(200);
    });

    it("awaits an async resource function", async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme:viewer"] });
      expect((await call(quiet, "/async-resource/d2?owner=acme", { token })).status).toBe(200);
      expect((await call(quiet, "/async-resource/d2?owner=globex", { token })).status).toBe(403);
    });

    it("answers 503 authorizer_unavailable when the authorizer throws: never an allow", async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme:admin"] });
      const r = await call(plain, "/broken?owner=acme", { token });
      expect(r.status).toBe(503);
      expect(r.headers.get("retry-after")).toBe("5");
      const q = await call(quiet, "/broken?owner=acme", { token });
      expect(q.status).toBe(503);
      expect(q.headers.get("retry-after")).toBe("5");
      expect(q.json()).toEqual({ error: "authorizer_unavailable", error_description: "The policy engine could not be reached" });
    });

    it("passes an error of the app's own resource function on unchanged", async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme:admin"] });
      const r = await call(quiet, "/bad-resource", { token });
      expect(r.status).toBe(500);
      expect(r.json()).toEqual({ passedOn: "database down" });
    });
  });

  describe("error handling", () => {
    it("tenantAuthErrorHandler passes other errors on", async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme"] });
      const r = await call(quiet, "/boom", { token });
      expect(r.status).toBe(418);
      expect(r.json()).toEqual({ passedOn: "teapot" });
      expect((await call(plain, "/boom", { token })).status).toBe(418);
    });

    it("tenantAuthErrorHandler logs nothing", async () => {
      const spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
      try {
        const bad = await issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" });
        expect((await call(quiet, "/me", { token: bad })).status).toBe(401);
        expect((await call(quiet, "/me")).status).toBe(401);
        expect(spy).not.toHaveBeenCalled();
      } finally {
        spy.mockRestore();
      }
    });
  });
});

describe("setup errors", () => {
  it("refuses guards that would allow everyone", () => {
    expect(() => requireGroups()).toThrow(TypeError);
    expect(() => requireGroups({ all: [] })).toThrow(TypeError);
    expect(() => requireGroups({ any: [] })).toThrow(TypeError);
    expect(() => requireGroups("")).toThrow(TypeError);
    expect(() => requireTenantRoles()).toThrow(TypeError);
    expect(() => requireScopes()).toThrow(TypeError);
  });

  it("refuses bad tenantAuth and authorize options", () => {
    expect(() => tenantAuth(undefined as unknown as TenantAuth)).toThrow(TypeError);
    expect(() => tenantAuth(auth, { tenantHeader: "x tenant" })).toThrow(TypeError);
    expect(() => tenantAuth(auth, { tenantParam: "" })).toThrow(TypeError);
    expect(() => authorize({} as Authorizer, { action: "a", resource: { type: "T", id: "1" } })).toThrow(TypeError);
    expect(() => authorize(new UnreachableAuthorizer(), { action: "a" } as never)).toThrow(TypeError);
  });
});

describe("no unhandled rejections", () => {
  it("none was raised by any request above, on either version", () => {
    expect(unhandled).toEqual([]);
  });
});
