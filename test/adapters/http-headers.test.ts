// What reaches the adapters on the wire, through real Express 4 and 5 and Fastify 4 and 5 servers
// on loopback: duplicate Authorization and tenant headers (sent raw, over a socket, since fetch
// joins them), a token in another header (an ALB's x-amzn-oidc-accesstoken), `tenantHeader: false`,
// and the shared option checks at setup.
import type { Server } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import express5 from "express";
import type { Request, Response } from "express";
import express4 from "express4";
import type { FastifyInstance } from "fastify";
import fastify5 from "fastify";
import fastify4 from "fastify4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantAuth, tenantAuthErrorHandler } from "../../src/adapters/express.js";
import type { HttpAdapterOptions } from "../../src/index.js";
import { tenantAuthPlugin } from "../../src/adapters/fastify.js";
import type { TenantAuthPluginOptions } from "../../src/adapters/fastify.js";
import { createTenantAuth } from "../../src/index.js";
import type { TenantAuth } from "../../src/index.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";

interface AppLike {
  use(...args: unknown[]): unknown;
  get(path: string, ...handlers: unknown[]): unknown;
  listen(port: number, host: string, callback: () => void): Server;
}
type ExpressLike = () => AppLike;
type FastifyFactory = (options?: object) => FastifyInstance;

type Options = Omit<HttpAdapterOptions, "credentialsRequired" | "onError">;

/** A running app: its port and how to stop it. */
interface Running {
  port: number;
  close(): Promise<void>;
}

const frameworks: [string, (auth: TenantAuth, options: Options) => Promise<Running>][] = [
  ["Express 4", (auth, options) => startExpress(express4 as unknown as ExpressLike, auth, options)],
  ["Express 5", (auth, options) => startExpress(express5 as unknown as ExpressLike, auth, options)],
  ["Fastify 4", (auth, options) => startFastify(fastify4 as unknown as FastifyFactory, auth, options)],
  ["Fastify 5", (auth, options) => startFastify(fastify5 as unknown as FastifyFactory, auth, options)],
];

async function startExpress(express: ExpressLike, auth: TenantAuth, options: Options): Promise<Running> {
  const app = express();
  app.get("/me", tenantAuth(auth, options), (req: Request, res: Response) => {
    res.json({ tenant: req.tenant?.tenantId ?? null });
  });
  app.use(tenantAuthErrorHandler());
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function startFastify(factory: FastifyFactory, auth: TenantAuth, options: Options): Promise<Running> {
  const app = factory({ logger: false });
  await app.register(tenantAuthPlugin, { auth, ...options } as TenantAuthPluginOptions);
  app.get("/me", async (request) => ({ tenant: request.tenant?.tenantId ?? null }));
  await app.listen({ host: "127.0.0.1", port: 0 });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}

/**
 * Send a GET with these header lines exactly as given (duplicates included) over a raw socket,
 * and return the status and the error code of the body (Express: `error`; Fastify: `code`).
 */
function rawGet(port: number, headers: [string, string][]): Promise<{ status: number; code: string | undefined; tenant: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      const head = text.slice(0, text.indexOf("\r\n\r\n"));
      let body = text.slice(text.indexOf("\r\n\r\n") + 4);
      // Chunked bodies: the JSON sits between the first size line and the terminator.
      if (/transfer-encoding: chunked/i.test(head)) body = body.split("\r\n")[1] ?? "";
      const json = JSON.parse(body) as { error?: string; code?: string; tenant?: unknown };
      resolve({ status, code: json.code ?? json.error, tenant: json.tenant });
    });
    const lines = ["GET /me HTTP/1.1", "Host: 127.0.0.1", "Connection: close", ...headers.map(([k, v]) => `${k}: ${v}`)];
    socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  });
}

let issuer: TestIssuer;
let auth: TenantAuth;
let acme: string;
let both: string;

beforeAll(async () => {
  issuer = await createTestIssuer();
  auth = createTenantAuth({ userPools: [issuer.userPool] });
  acme = await issuer.idToken({ groups: ["tenant:acme"] });
  both = await issuer.idToken({ groups: ["tenant:acme", "tenant:globex"] });
});

describe.each(frameworks)("%s: headers on the wire", (_name, start) => {
  let app: Running;
  let alb: Running;
  let noHeader: Running;
  beforeAll(async () => {
    app = await start(auth, {});
    alb = await start(auth, { tokenHeader: "x-amzn-oidc-accesstoken" });
    noHeader = await start(auth, { tenantHeader: false });
  });
  afterAll(async () => {
    await app.close();
    await alb.close();
    await noHeader.close();
  });

  it("baseline: one Authorization and one tenant header", async () => {
    expect(
      await rawGet(app.port, [
        ["Authorization", `Bearer ${both}`],
        ["X-Tenant-Id", "globex"],
      ]),
    ).toMatchObject({ status: 200, tenant: "globex" });
  });

  it("refuses two Authorization headers (400 invalid_request), whichever comes first", async () => {
    expect(
      await rawGet(app.port, [
        ["Authorization", `Bearer ${acme}`],
        ["Authorization", "Bearer forged"],
      ]),
    ).toMatchObject({ status: 400, code: "invalid_request" });
    expect(
      await rawGet(app.port, [
        ["Authorization", "Bearer forged"],
        ["authorization", `Bearer ${acme}`],
      ]),
    ).toMatchObject({ status: 400, code: "invalid_request" });
  });

  it("refuses two tenant headers, and one naming two tenants (400 invalid_request, not 403)", async () => {
    const token: [string, string] = ["Authorization", `Bearer ${both}`];
    expect(await rawGet(app.port, [token, ["X-Tenant-Id", "acme"], ["X-Tenant-Id", "globex"]])).toMatchObject({ status: 400, code: "invalid_request" });
    expect(await rawGet(app.port, [token, ["X-Tenant-Id", "acme, globex"]])).toMatchObject({ status: 400, code: "invalid_request" });
    expect(await rawGet(app.port, [token, ["X-Tenant-Id", "acme,globex"]])).toMatchObject({ status: 400, code: "invalid_request" });
  });

  it("a missing token is still 401 when the tenant header is bad", async () => {
    expect(
      await rawGet(app.port, [
        ["X-Tenant-Id", "acme"],
        ["X-Tenant-Id", "globex"],
      ]),
    ).toMatchObject({ status: 401, code: "token_missing" });
  });

  it("tokenHeader: reads the raw token an ALB forwards, and only that header", async () => {
    expect(await rawGet(alb.port, [["X-Amzn-Oidc-Accesstoken", acme]])).toMatchObject({ status: 200, tenant: "acme" });
    expect(await rawGet(alb.port, [["X-Amzn-Oidc-Accesstoken", `Bearer ${acme}`]])).toMatchObject({ status: 200, tenant: "acme" });
    expect(await rawGet(alb.port, [["Authorization", `Bearer ${acme}`]])).toMatchObject({ status: 401, code: "token_missing" });
    expect(
      await rawGet(alb.port, [
        ["X-Amzn-Oidc-Accesstoken", acme],
        ["X-Amzn-Oidc-Accesstoken", acme],
      ]),
    ).toMatchObject({ status: 400, code: "invalid_request" });
    expect(await rawGet(alb.port, [["X-Amzn-Oidc-Accesstoken", "not-a-jwt"]])).toMatchObject({ status: 401, code: "token_invalid" });
  });

  it("tenantHeader: false reads no tenant header", async () => {
    expect(
      await rawGet(noHeader.port, [
        ["Authorization", `Bearer ${acme}`],
        ["X-Tenant-Id", "globex"],
      ]),
    ).toMatchObject({ status: 200, tenant: "acme" });
  });
});

describe("the shared options, checked at setup", () => {
  const fastifyRegister = async (factory: FastifyFactory, options: object): Promise<void> => {
    const app = factory({ logger: false });
    try {
      await app.register(tenantAuthPlugin, { auth, ...options } as TenantAuthPluginOptions);
      await app.ready();
    } finally {
      await app.close();
    }
  };

  it.each([
    [{ tenantheader: "x-org" }, /unknown option tenantheader \(did you mean tenantHeader\?\)/],
    [{ tenantHeader: "x org" }, /tenantHeader .*must be a header name/],
    [{ tenantHeader: 42 }, /tenantHeader .*must be a header name/],
    [{ tokenHeader: "" }, /tokenHeader must be a header name/],
    [{ tenantParam: "" }, /tenantParam must be a non-empty string/],
    [{ tokenHeader: "x-tenant-id" }, /tenantHeader and tokenHeader name the same header/],
  ])("Express and Fastify refuse %j", async (options, message) => {
    expect(() => tenantAuth(auth, options as never)).toThrow(TypeError);
    expect(() => tenantAuth(auth, options as never)).toThrow(message);
    for (const factory of [fastify4, fastify5] as unknown as FastifyFactory[]) {
      await expect(fastifyRegister(factory, options)).rejects.toThrow(message);
    }
  });

  it("Express names credentialsRequired for credentialRequired", () => {
    expect(() => tenantAuth(auth, { credentialRequired: false } as never)).toThrow(/did you mean credentialsRequired\?/);
  });

  it.each([
    [{ tenantRole: ["admin"] }, /unknown option tenantRole \(did you mean tenantRoles\?\)/],
    [{ group: ["staff"] }, /unknown option group \(did you mean groups\?\)/],
    [{ scopes: [] }, /non-empty list/],
    [{ authorize: { action: "Read", resource: { type: "Doc", id: "1" }, contxt: () => ({}) } }, /authorize\.contxt \(did you mean authorize\.context\?\)/],
  ])("Fastify refuses the route setting %j at registration", async (tenantAuthSetting, message) => {
    for (const factory of [fastify4, fastify5] as unknown as FastifyFactory[]) {
      const app = factory({ logger: false });
      await app.register(tenantAuthPlugin, { auth, authorizer: { isAuthorized: async () => ({ allowed: false, decision: "DENY", determiningPolicies: [], errors: [] }) } });
      expect(() => app.get("/r", { config: { tenantAuth: tenantAuthSetting as never } }, async () => "ok")).toThrow(message);
      await app.close();
    }
  });
});
