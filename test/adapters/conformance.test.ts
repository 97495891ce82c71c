// The adapter conformance table: ONE list of requests and the answer every adapter must give
// (status, error code, WWW-Authenticate, JSON body), run through Express 5 and 4, Fastify 5 and 4
// (real servers on loopback, the requests written raw on a socket so duplicate headers reach the
// server as sent), Hono on @hono/node-server, Lambda withTenant on REST v1, HTTP API v2 and ALB events,
// the Middy middleware, and NestJS 11 on its Express and Fastify platforms. A new adapter joins by
// adding a driver below, not tests.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { serve } from "@hono/node-server";
import type { ServerType } from "@hono/node-server";
import middy from "@middy/core";
import express5 from "express";
import type { Request, Response } from "express";
import express4 from "express4";
import type { FastifyInstance } from "fastify";
import fastify5 from "fastify";
import fastify4 from "fastify4";
import { Hono } from "hono";
import type { Context } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorize, requireGroups, requireScopes, requireTenantRoles, tenantAuth, tenantAuthErrorHandler } from "../../src/adapters/express.js";
import type { TenantRouteOptions } from "../../src/adapters/fastify.js";
import { tenantAuthPlugin } from "../../src/adapters/fastify.js";
import * as honoAdapter from "../../src/adapters/hono.js";
import type { EventAuthOptions, LambdaHttpEvent } from "../../src/adapters/lambda.js";
import { tenantAuthMiddleware, withTenant } from "../../src/adapters/lambda.js";
import type { AuthorizationRequest, Authorizer, Decision, TenantAuth } from "../../src/index.js";
import { createTenantAuth } from "../../src/index.js";
import { createTestIssuer } from "../../src/testing/index.js";
import { lambdaContext, loadEvent, setHeader } from "../support/lambda.js";
import { Authorize, RequireGroups, RequireScopes, RequireTenantRoles, TenantAuthModule } from "../../src/adapters/nestjs.js";
import type { TenantRequest } from "../../src/adapters/nestjs.js";
import type { NestPlatform, StartedNest } from "../support/nestjs.js";
import { startNest, testController, testModule } from "../support/nestjs.js";

/** Allows a resource whose id starts with `<tenantId>-`, denies others, fails on `boom`. */
const engine: Authorizer = {
  async isAuthorized(request: AuthorizationRequest): Promise<Decision> {
    if (request.resource.id === "boom") throw new Error("engine exploded");
    const allowed = request.principal.tenantId !== undefined && request.resource.id.startsWith(`${request.principal.tenantId}-`);
    return allowed ? { allowed: true, decision: "ALLOW", determiningPolicies: [], errors: [] } : { allowed: false, decision: "DENY", determiningPolicies: [], errors: [] };
  },
};

/**
 * The routes every driver serves, each configured the same way in every adapter:
 * `plain` (defaults), `param` (`tenantParam: "tenantId"` on a route with `:tenantId`), `misplaced`
 * (`tenantParam` on a route without it), `groups`/`roles`/`scopes` (one guard each), `authz` (the
 * engine above, on the resource named by `:doc`), `optional` (`credentialsRequired: false`; with
 * the group guard too: `optionalGuarded`) and
 * `alb` (`tokenHeader: "x-amzn-oidc-accesstoken"`).
 */
type Route = "plain" | "param" | "misplaced" | "groups" | "roles" | "scopes" | "authz" | "optional" | "optionalGuarded" | "alb";

const GROUPS = ["staff"];
const ROLES = ["admin"];
const SCOPES = ["docs/read"];
const TOKEN_HEADER = "x-amzn-oidc-accesstoken";

type TokenName = "good" | "both" | "viewer" | "expired" | "forged" | "wrongClient" | "scoped" | "unscoped";

interface Row {
  name: string;
  route: Route;
  /** Header lines in order; `{good}` and the like are replaced by that token. */
  headers: [string, string][];
  /** Route parameters (`tenantId`, `doc`). */
  params?: Record<string, string>;
  status: number;
  /** The `WWW-Authenticate` value; `null` for none. */
  challenge: string | null;
  /** The JSON body: the handler's `{ tenantId }`, or `{ error, error_description }`. */
  body: Record<string, unknown>;
  /**
   * The answer where the platform joins duplicate headers with a comma before the handler sees
   * them (HTTP API payload 2.0): the same status and code, the description of the joined value.
   */
  joined?: { challenge: string; body: Record<string, unknown> };
}

const denied = (error: string, description: string) => ({ error, error_description: description });
const MISSING = denied("token_missing", "No bearer token was sent");
const INVALID_TOKEN = `Bearer error="invalid_token", error_description="The token's signature is invalid"`;
const FORGED = denied("token_invalid", "The token's signature is invalid");

const rows: Row[] = [
  { name: "no token", route: "plain", headers: [], status: 401, challenge: "Bearer", body: MISSING },
  {
    name: "malformed Authorization header",
    route: "plain",
    headers: [["authorization", "Bearer a b"]],
    status: 400,
    challenge: 'Bearer error="invalid_request", error_description="The Authorization header must carry exactly one bearer token"',
    body: denied("invalid_request", "The Authorization header must carry exactly one bearer token"),
  },
  {
    name: "two Authorization headers",
    route: "plain",
    headers: [
      ["authorization", "Bearer {good}"],
      ["authorization", "Bearer {good}"],
    ],
    status: 400,
    challenge: 'Bearer error="invalid_request", error_description="Several Authorization header values were sent"',
    body: denied("invalid_request", "Several Authorization header values were sent"),
    joined: {
      challenge: 'Bearer error="invalid_request", error_description="The Authorization header must carry exactly one bearer token"',
      body: denied("invalid_request", "The Authorization header must carry exactly one bearer token"),
    },
  },
  {
    name: "expired token",
    route: "plain",
    headers: [["authorization", "Bearer {expired}"]],
    status: 401,
    challenge: 'Bearer error="invalid_token", error_description="The token has expired"',
    body: denied("token_expired", "The token has expired"),
  },
  { name: "forged token", route: "plain", headers: [["authorization", "Bearer {forged}"]], status: 401, challenge: INVALID_TOKEN, body: FORGED },
  {
    name: "token of another app client",
    route: "plain",
    headers: [["authorization", "Bearer {wrongClient}"]],
    status: 401,
    challenge: 'Bearer error="invalid_token", error_description="The token was not issued to an accepted app client"',
    body: denied("token_invalid", "The token was not issued to an accepted app client"),
  },
  { name: "good token", route: "plain", headers: [["authorization", "Bearer {good}"]], status: 200, challenge: null, body: { tenantId: "acme" } },
  {
    name: "header selects one of the caller's tenants",
    route: "plain",
    headers: [
      ["authorization", "Bearer {both}"],
      ["x-tenant-id", "globex"],
    ],
    status: 200,
    challenge: null,
    body: { tenantId: "globex" },
  },
  {
    name: "hint names a tenant the caller is not in",
    route: "plain",
    headers: [
      ["authorization", "Bearer {good}"],
      ["x-tenant-id", "initech"],
    ],
    status: 403,
    challenge: 'Bearer error="insufficient_scope", error_description="The requested tenant is not one the caller belongs to"',
    body: denied("tenant_forbidden", "The requested tenant is not one the caller belongs to"),
  },
  {
    name: "two tenant headers",
    route: "plain",
    headers: [
      ["authorization", "Bearer {both}"],
      ["x-tenant-id", "acme"],
      ["x-tenant-id", "globex"],
    ],
    status: 400,
    challenge: 'Bearer error="invalid_request", error_description="Several x-tenant-id header values were sent"',
    body: denied("invalid_request", "Several x-tenant-id header values were sent"),
    joined: {
      challenge: 'Bearer error="invalid_request", error_description="The x-tenant-id header names several tenants"',
      body: denied("invalid_request", "The x-tenant-id header names several tenants"),
    },
  },
  {
    name: "a comma in the tenant header",
    route: "plain",
    headers: [
      ["authorization", "Bearer {both}"],
      ["x-tenant-id", "acme,globex"],
    ],
    status: 400,
    challenge: 'Bearer error="invalid_request", error_description="The x-tenant-id header names several tenants"',
    body: denied("invalid_request", "The x-tenant-id header names several tenants"),
  },
  { name: "path names the tenant", route: "param", params: { tenantId: "globex" }, headers: [["authorization", "Bearer {both}"]], status: 200, challenge: null, body: { tenantId: "globex" } },
  {
    name: "header and path name different tenants",
    route: "param",
    params: { tenantId: "globex" },
    headers: [
      ["authorization", "Bearer {both}"],
      ["x-tenant-id", "acme"],
    ],
    status: 400,
    challenge: 'Bearer error="invalid_request", error_description="The tenant header and the URL name different tenants"',
    body: denied("invalid_request", "The tenant header and the URL name different tenants"),
  },
  { name: "no token, header a, path b", route: "param", params: { tenantId: "globex" }, headers: [["x-tenant-id", "acme"]], status: 401, challenge: "Bearer", body: MISSING },
  {
    name: "tenantParam on a route without it",
    route: "misplaced",
    headers: [["authorization", "Bearer {good}"]],
    status: 503,
    challenge: null,
    body: denied("tenant_unavailable", "The tenant could not be resolved"),
  },
  { name: "tenantParam on a route without it, no token", route: "misplaced", headers: [], status: 401, challenge: "Bearer", body: MISSING },
  {
    name: "group guard fails",
    route: "groups",
    headers: [["authorization", "Bearer {viewer}"]],
    status: 403,
    challenge: 'Bearer error="insufficient_scope", error_description="The caller is not in a group this route requires"',
    body: denied("access_denied", "The caller is not in a group this route requires"),
  },
  { name: "group guard passes", route: "groups", headers: [["authorization", "Bearer {good}"]], status: 200, challenge: null, body: { tenantId: "acme" } },
  {
    name: "tenant-role guard fails",
    route: "roles",
    headers: [["authorization", "Bearer {viewer}"]],
    status: 403,
    challenge: 'Bearer error="insufficient_scope", error_description="The caller does not hold a tenant role this route requires"',
    body: denied("access_denied", "The caller does not hold a tenant role this route requires"),
  },
  { name: "tenant-role guard passes", route: "roles", headers: [["authorization", "Bearer {good}"]], status: 200, challenge: null, body: { tenantId: "acme" } },
  {
    name: "scope guard fails",
    route: "scopes",
    headers: [["authorization", "Bearer {unscoped}"]],
    status: 403,
    challenge: 'Bearer error="insufficient_scope", error_description="The token lacks a scope this route requires", scope="docs/read"',
    body: denied("insufficient_scope", "The token lacks a scope this route requires"),
  },
  { name: "scope guard passes", route: "scopes", headers: [["authorization", "Bearer {scoped}"]], status: 200, challenge: null, body: { tenantId: "acme" } },
  {
    name: "authorizer DENY",
    route: "authz",
    params: { doc: "globex-1" },
    headers: [["authorization", "Bearer {good}"]],
    status: 403,
    challenge: 'Bearer error="insufficient_scope", error_description="The policy does not allow this request"',
    body: denied("access_denied", "The policy does not allow this request"),
  },
  { name: "authorizer ALLOW", route: "authz", params: { doc: "acme-1" }, headers: [["authorization", "Bearer {good}"]], status: 200, challenge: null, body: { tenantId: "acme" } },
  {
    name: "authorizer fails",
    route: "authz",
    params: { doc: "boom" },
    headers: [["authorization", "Bearer {good}"]],
    status: 503,
    challenge: null,
    body: denied("authorizer_unavailable", "The policy engine could not be reached"),
  },
  { name: "optional credentials, no token", route: "optional", headers: [["x-tenant-id", "acme"]], status: 200, challenge: null, body: { tenantId: null } },
  { name: "optional credentials, another scheme", route: "optional", headers: [["authorization", "Basic dXNlcjpwYXNz"]], status: 200, challenge: null, body: { tenantId: null } },
  { name: "optional credentials, good token", route: "optional", headers: [["authorization", "Bearer {good}"]], status: 200, challenge: null, body: { tenantId: "acme" } },
  { name: "optional credentials, forged token", route: "optional", headers: [["authorization", "Bearer {forged}"]], status: 401, challenge: INVALID_TOKEN, body: FORGED },
  { name: "optional credentials, no token, a guard", route: "optionalGuarded", headers: [], status: 401, challenge: "Bearer", body: MISSING },
  { name: "tokenHeader carries the raw token", route: "alb", headers: [[TOKEN_HEADER, "{scoped}"]], status: 200, challenge: null, body: { tenantId: "acme" } },
  { name: "tokenHeader absent", route: "alb", headers: [["authorization", "Bearer {good}"]], status: 401, challenge: "Bearer", body: MISSING },
  {
    name: "tokenHeader sent twice",
    route: "alb",
    headers: [
      [TOKEN_HEADER, "{scoped}"],
      [TOKEN_HEADER, "{scoped}"],
    ],
    status: 400,
    challenge: `Bearer error="invalid_request", error_description="Several ${TOKEN_HEADER} header values were sent"`,
    body: denied("invalid_request", `Several ${TOKEN_HEADER} header values were sent`),
  },
];

/** What a driver observed. */
interface Outcome {
  status: number;
  challenge: string | null;
  body: Record<string, unknown>;
}

/** One adapter: start it, send a row's request to a route, stop it. */
interface Driver {
  name: string;
  /** Rows this adapter answers differently by design, with the reason (documented in its guide). */
  skip?: Record<string, string>;
  /** The platform joins duplicate headers with a comma (HTTP API payload 2.0). */
  joinsDuplicates?: boolean;
  start(auth: TenantAuth): Promise<void>;
  send(route: Route, headers: [string, string][], params: Record<string, string>): Promise<Outcome>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- HTTP servers (Express, Fastify)

/** Send a GET with these header lines exactly as given (duplicates included) over a raw socket. */
function rawGet(port: number, path: string, headers: [string, string][]): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const [statusLine, ...lines] = text.slice(0, split).split("\r\n");
      const head: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        head[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = text.slice(split + 4);
      if (/chunked/i.test(head["transfer-encoding"] ?? "")) body = body.split("\r\n")[1] ?? "";
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? "")?.[1]), headers: head, body });
    });
    const lines = [`GET ${path} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close", ...headers.map(([k, v]) => `${k}: ${v}`)];
    socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  });
}

function pathOf(route: Route, params: Record<string, string>): string {
  if (route === "param") return `/tenants/${params["tenantId"] ?? "none"}/param`;
  if (route === "authz") return `/authz/${params["doc"] ?? "none"}`;
  if (route === "misplaced") return "/misplaced/x";
  return `/${route}`;
}

interface ExpressApp {
  use(...args: unknown[]): unknown;
  get(path: string, ...handlers: unknown[]): unknown;
  listen(port: number, host: string, callback: () => void): Server;
}

function expressDriver(name: string, express: () => ExpressApp): Driver {
  let server: Server | undefined;
  let port = 0;
  return {
    name,
    async start(auth) {
      const app = express();
      const reply = (req: Request, res: Response) => res.json({ tenantId: req.tenant?.tenantId ?? null });
      const auth0 = tenantAuth(auth);
      app.get("/plain", auth0, reply);
      app.get("/tenants/:tenantId/param", tenantAuth(auth, { tenantParam: "tenantId" }), reply);
      app.get("/misplaced/:other", tenantAuth(auth, { tenantParam: "tenantId" }), reply);
      app.get("/groups", auth0, requireGroups(...GROUPS), reply);
      app.get("/roles", auth0, requireTenantRoles(...ROLES), reply);
      app.get("/scopes", auth0, requireScopes(...SCOPES), reply);
      app.get("/authz/:doc", auth0, authorize(engine, { action: "Read", resource: (req) => ({ type: "Document", id: String(req.params["doc"]) }) }), reply);
      app.get("/optional", tenantAuth(auth, { credentialsRequired: false }), reply);
      app.get("/optionalGuarded", tenantAuth(auth, { credentialsRequired: false }), requireGroups(...GROUPS), reply);
      app.get("/alb", tenantAuth(auth, { tokenHeader: TOKEN_HEADER }), reply);
      app.use(tenantAuthErrorHandler());
      server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, "127.0.0.1", () => resolve(s));
      });
      port = (server.address() as AddressInfo).port;
    },
    async send(route, headers, params) {
      const r = await rawGet(port, pathOf(route, params), headers);
      return { status: r.status, challenge: r.headers["www-authenticate"] ?? null, body: JSON.parse(r.body) as Record<string, unknown> };
    },
    async stop() {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}

type FastifyFactory = (options?: object) => FastifyInstance;

function fastifyDriver(name: string, factory: FastifyFactory): Driver {
  let app: FastifyInstance | undefined;
  let port = 0;
  return {
    name,
    skip: {
      "tenantParam on a route without it": "the plugin covers a whole scope: tenantParam applies to the routes that declare it",
    },
    async start(auth) {
      const f = factory({ logger: false });
      const reply = async (request: { tenant: { tenantId?: string } | undefined }) => ({ tenantId: request.tenant?.tenantId ?? null });
      const route = (tenantAuthConfig: TenantRouteOptions) => ({ config: { tenantAuth: tenantAuthConfig } });
      await f.register(async (scope) => {
        await scope.register(tenantAuthPlugin, { auth, authorizer: engine });
        scope.get("/plain", reply);
        scope.get("/groups", route({ groups: GROUPS }), reply);
        scope.get("/roles", route({ tenantRoles: ROLES }), reply);
        scope.get("/scopes", route({ scopes: SCOPES }), reply);
        scope.get("/authz/:doc", route({ authorize: { action: "Read", resource: (request) => ({ type: "Document", id: (request.params as { doc: string }).doc }) } }), reply);
      });
      await f.register(async (scope) => {
        await scope.register(tenantAuthPlugin, { auth, tenantParam: "tenantId" });
        scope.get("/tenants/:tenantId/param", reply);
        scope.get("/misplaced/:other", reply);
      });
      await f.register(async (scope) => {
        await scope.register(tenantAuthPlugin, { auth, credentialsRequired: false });
        scope.get("/optional", reply);
        scope.get("/optionalGuarded", route({ groups: GROUPS }), reply);
      });
      await f.register(async (scope) => {
        await scope.register(tenantAuthPlugin, { auth, tokenHeader: TOKEN_HEADER });
        scope.get("/alb", reply);
      });
      await f.listen({ host: "127.0.0.1", port: 0 });
      app = f;
      port = (f.server.address() as AddressInfo).port;
    },
    async send(route, headers, params) {
      const r = await rawGet(port, pathOf(route, params), headers);
      const json = JSON.parse(r.body) as Record<string, unknown>;
      // Fastify's default error body is { statusCode, code, error, message }: map it onto ours.
      const body = "code" in json ? denied(String(json["code"]), String(json["message"])) : json;
      if ("code" in json) expect(json["statusCode"]).toBe(r.status);
      return { status: r.status, challenge: r.headers["www-authenticate"] ?? null, body };
    },
    async stop() {
      await app?.close();
    },
  };
}

// ---------------------------------------------------------------- NestJS (Express and Fastify platforms)

/**
 * One Nest app per set of module options (the module's options cover the whole app, as the
 * Fastify plugin's cover a scope): the guard global (APP_GUARD) in the first, per controller
 * (@UseGuards) in the others.
 */
function nestDriver(name: string, platform: NestPlatform): Driver {
  const apps: StartedNest[] = [];
  const portOf: Partial<Record<Route, number>> = {};
  return {
    name,
    skip: {
      "tenantParam on a route without it": "the module's options cover every route: tenantParam applies to the routes that declare it",
    },
    async start(auth) {
      const serve = async (routes: Route[], options: Omit<Parameters<typeof TenantAuthModule.forRoot>[0], "auth">, controller: Parameters<typeof testController>[1], global: boolean) => {
        const module = testModule(TenantAuthModule.forRoot({ auth, ...options }), [testController("", controller, { guarded: !global })], { globalGuard: global });
        const started = await startNest(platform, module);
        apps.push(started);
        for (const r of routes) portOf[r] = started.port;
      };
      await serve(
        ["plain", "groups", "roles", "scopes", "authz"],
        { authorizer: engine },
        [
          { path: "plain" },
          { path: "groups", decorators: [RequireGroups(...GROUPS)] },
          { path: "roles", decorators: [RequireTenantRoles(...ROLES)] },
          { path: "scopes", decorators: [RequireScopes(...SCOPES)] },
          { path: "authz/:doc", decorators: [Authorize("Read", (request: TenantRequest) => ({ type: "Document", id: String(request.params["doc"]) }))] },
        ],
        true,
      );
      await serve(["param", "misplaced"], { tenantParam: "tenantId" }, [{ path: "tenants/:tenantId/param" }, { path: "misplaced/:other" }], false);
      await serve(["optional", "optionalGuarded"], { credentialsRequired: false }, [{ path: "optional" }, { path: "optionalGuarded", decorators: [RequireGroups(...GROUPS)] }], false);
      await serve(["alb"], { tokenHeader: TOKEN_HEADER }, [{ path: "alb" }], false);
    },
    async send(route, headers, params) {
      const r = await rawGet(portOf[route]!, pathOf(route, params), headers);
      return { status: r.status, challenge: r.headers["www-authenticate"] ?? null, body: JSON.parse(r.body) as Record<string, unknown> };
    },
    async stop() {
      await Promise.all(apps.map((a) => a.close()));
    },
  };
}

// ---------------------------------------------------------------- Hono (on Node through @hono/node-server)

function honoDriver(): Driver {
  let server: ServerType | undefined;
  let port = 0;
  const { authorize: honoAuthorize, requireGroups: honoGroups, requireScopes: honoScopes, requireTenantRoles, tenantAuth: honoTenantAuth } = honoAdapter;
  return {
    name: "Hono 4 (Node)",
    // The Fetch API's Headers joins a repeated header with commas before Hono sees it.
    joinsDuplicates: true,
    async start(auth) {
      const app = new Hono();
      const reply = (c: Context) => c.json({ tenantId: c.get("tenant")?.tenantId ?? null });
      const auth0 = honoTenantAuth(auth);
      app.get("/plain", auth0, reply);
      app.get("/tenants/:tenantId/param", honoTenantAuth(auth, { tenantParam: "tenantId" }), reply);
      app.get("/misplaced/:other", honoTenantAuth(auth, { tenantParam: "tenantId" }), reply);
      app.get("/groups", auth0, honoGroups(...GROUPS), reply);
      app.get("/roles", auth0, requireTenantRoles(...ROLES), reply);
      app.get("/scopes", auth0, honoScopes(...SCOPES), reply);
      app.get("/authz/:doc", auth0, honoAuthorize(engine, { action: "Read", resource: (c) => ({ type: "Document", id: c.req.param("doc") ?? "" }) }), reply);
      app.get("/optional", honoTenantAuth(auth, { credentialsRequired: false }), reply);
      app.get("/optionalGuarded", honoTenantAuth(auth, { credentialsRequired: false }), honoGroups(...GROUPS), reply);
      app.get("/alb", honoTenantAuth(auth, { tokenHeader: TOKEN_HEADER }), reply);
      await new Promise<void>((resolve) => {
        server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
          port = info.port;
          resolve();
        });
      });
    },
    async send(route, headers, params) {
      const r = await rawGet(port, pathOf(route, params), headers);
      return { status: r.status, challenge: r.headers["www-authenticate"] ?? null, body: JSON.parse(r.body) as Record<string, unknown> };
    },
    async stop() {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}

// ---------------------------------------------------------------- Lambda (withTenant, Middy)

const LAMBDA_OPTIONS: Record<Route, EventAuthOptions<LambdaHttpEvent>> = {
  plain: {},
  param: { tenantParam: "tenantId" },
  misplaced: { tenantParam: "tenantId" },
  groups: { groups: GROUPS },
  roles: { tenantRoles: ROLES },
  scopes: { scopes: SCOPES },
  authz: { authorizer: engine, action: "Read", resource: (event) => ({ type: "Document", id: String((event as { pathParameters?: Record<string, string> }).pathParameters?.["doc"]) }) },
  optional: {},
  optionalGuarded: {},
  alb: { tokenHeader: TOKEN_HEADER },
};

/** The event for a request: the fixture with its headers replaced, and the route's path parameters. */
function eventFor(fixture: string, route: Route, headers: [string, string][], params: Record<string, string>): LambdaHttpEvent {
  const event = loadEvent<LambdaHttpEvent & { pathParameters?: unknown }>(fixture);
  setHeader(event, "authorization", undefined);
  setHeader(event, "x-tenant-id", undefined);
  const names = [...new Set(headers.map(([k]) => k))];
  for (const name of names)
    setHeader(
      event,
      name,
      headers.filter(([k]) => k === name).map(([, v]) => v),
    );
  if ("pathParameters" in event || fixture.startsWith("rest") || fixture.startsWith("http")) {
    event.pathParameters = Object.keys(params).length === 0 || route === "misplaced" ? (route === "misplaced" ? { other: "x" } : null) : { ...params };
  }
  return event;
}

type EventHandler = (event: LambdaHttpEvent) => Promise<unknown>;

function lambdaDriver(name: string, fixture: string, wrap: (auth: TenantAuth, options: EventAuthOptions<LambdaHttpEvent>) => EventHandler, skip: Record<string, string> = {}): Driver {
  let handlers = {} as Record<Route, EventHandler>;
  return {
    name,
    skip,
    joinsDuplicates: fixture.startsWith("http-api-v2"),
    async start(auth) {
      handlers = Object.fromEntries(Object.entries(LAMBDA_OPTIONS).map(([route, options]) => [route, wrap(auth, options)])) as Record<Route, EventHandler>;
    },
    async send(route, headers, params) {
      const response = (await handlers[route](eventFor(fixture, route, headers, params))) as {
        statusCode: number;
        headers?: Record<string, string>;
        multiValueHeaders?: Record<string, string[]>;
        body: string;
      };
      const challenge = response.headers?.["WWW-Authenticate"] ?? response.multiValueHeaders?.["WWW-Authenticate"]?.[0] ?? null;
      return { status: response.statusCode, challenge, body: JSON.parse(response.body) as Record<string, unknown> };
    },
    async stop() {},
  };
}

const answer = (tenantId: string | undefined) => ({ statusCode: 200, body: JSON.stringify({ tenantId: tenantId ?? null }) });

function withTenantHandler(auth: TenantAuth, options: EventAuthOptions<LambdaHttpEvent>): EventHandler {
  const handler = withTenant(auth, async (_event, _context, principal) => answer(principal.tenantId), options as EventAuthOptions<LambdaHttpEvent>);
  return (event) => handler(event, lambdaContext());
}

function middyHandler(auth: TenantAuth, options: EventAuthOptions<LambdaHttpEvent>): EventHandler {
  const handler = middy<LambdaHttpEvent>()
    .use(tenantAuthMiddleware(auth, options))
    .handler(async (_event, context) => answer(context.tenant.tenantId));
  return (event) => handler(event, lambdaContext() as never);
}

const NO_OPTIONAL = {
  "optional credentials, no token": "withTenant and the Middy middleware always need a token",
  "optional credentials, another scheme": "withTenant and the Middy middleware always need a token",
  "optional credentials, good token": "withTenant and the Middy middleware always need a token",
  "optional credentials, forged token": "withTenant and the Middy middleware always need a token",
  "optional credentials, no token, a guard": "withTenant and the Middy middleware always need a token",
};
// ALB events have no path parameters: a tenantParam route cannot exist behind an ALB.
const NO_PATH = {
  "path names the tenant": "ALB events carry no path parameters",
  "header and path name different tenants": "ALB events carry no path parameters",
  "no token, header a, path b": "ALB events carry no path parameters",
  "authorizer DENY": "ALB events carry no path parameters",
  "authorizer ALLOW": "ALB events carry no path parameters",
  "authorizer fails": "ALB events carry no path parameters",
};

const drivers: Driver[] = [
  expressDriver("Express 5", express5 as unknown as () => ExpressApp),
  expressDriver("Express 4", express4 as unknown as () => ExpressApp),
  fastifyDriver("Fastify 5", fastify5 as unknown as FastifyFactory),
  fastifyDriver("Fastify 4", fastify4 as unknown as FastifyFactory),
  nestDriver("NestJS 11, Express platform", "express"),
  nestDriver("NestJS 11, Fastify platform", "fastify"),
  honoDriver(),
  lambdaDriver("withTenant, REST v1", "rest-v1.json", withTenantHandler, NO_OPTIONAL),
  lambdaDriver("withTenant, HTTP API v2", "http-api-v2.json", withTenantHandler, NO_OPTIONAL),
  lambdaDriver("withTenant, ALB", "alb-multi.json", withTenantHandler, { ...NO_OPTIONAL, ...NO_PATH }),
  lambdaDriver("Middy, REST v1", "rest-v1.json", middyHandler, NO_OPTIONAL),
];

let auth: TenantAuth;
let tokens: Record<TokenName, string>;

beforeAll(async () => {
  const issuer = await createTestIssuer();
  auth = createTenantAuth({ userPools: [issuer.userPool] });
  const longAgo = Math.floor(Date.now() / 1000) - 3600;
  tokens = {
    good: await issuer.idToken({ sub: "user-1", groups: ["tenant:acme:admin", "staff"] }),
    both: await issuer.idToken({ groups: ["tenant:acme:admin", "tenant:globex:viewer"] }),
    viewer: await issuer.idToken({ groups: ["tenant:acme:viewer"] }),
    expired: await issuer.idToken({ groups: ["tenant:acme"], expiresIn: -120, issuedAt: longAgo }),
    forged: await issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" }),
    wrongClient: await issuer.idToken({ groups: ["tenant:acme"], clientId: "another-client" }),
    scoped: await issuer.accessToken({ groups: ["tenant:acme:admin"], scopes: ["docs/read", "docs/write"] }),
    unscoped: await issuer.accessToken({ groups: ["tenant:acme:admin"], scopes: ["docs/write"] }),
  };
});

function fill(headers: [string, string][]): [string, string][] {
  return headers.map(([k, v]) => [k, v.replace(/\{(\w+)\}/g, (_, name: string) => tokens[name as TokenName])]);
}

describe.each(drivers.map((d) => [d.name, d] as const))("%s", (_name, driver) => {
  beforeAll(async () => {
    await driver.start(auth);
  });
  afterAll(async () => {
    await driver.stop();
  });
  const runnable = rows.filter((row) => driver.skip?.[row.name] === undefined);
  it.each(runnable.map((row) => [row.name, row] as const))("%s", async (_row, row) => {
    const outcome = await driver.send(row.route, fill(row.headers), row.params ?? {});
    const expected = driver.joinsDuplicates === true && row.joined !== undefined ? row.joined : row;
    expect(outcome).toEqual({ status: row.status, challenge: expected.challenge, body: expected.body });
  });
});

it("every row is run by every driver but the documented exceptions, and every exception names a row", () => {
  const names = new Set(rows.map((r) => r.name));
  expect(names.size).toBe(rows.length);
  for (const d of drivers) for (const skipped of Object.keys(d.skip ?? {})) expect(names).toContain(skipped);
});
