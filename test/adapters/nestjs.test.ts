// The NestJS adapter beyond the conformance table: setup errors, the module's two forms, the
// guard global and per controller, class and route checks together, the exception filter, the
// hooks, and the local Cedar engine behind @Authorize, on both of Nest's HTTP platforms.
import "reflect-metadata";
import { Inject, Module } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { ExpressAdapter } from "@nestjs/platform-express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantPrincipal, TenantRequest } from "../../src/adapters/nestjs.js";
import { Authorize, RequireGroups, RequireScopes, RequireTenantRoles, SkipTenantAuth, TENANT_AUTH_OPTIONS, TenantAuthModule } from "../../src/adapters/nestjs.js";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import type { Authorizer, Decision, TenantAuth } from "../../src/index.js";
import { createTenantAuth, isTenantAuthError } from "../../src/index.js";
import type { TestIssuer } from "../../src/testing/index.js";
import { createTestIssuer } from "../../src/testing/index.js";
import { NAMESPACE, POLICIES, SCHEMA, object } from "../support/scenario.js";
import type { NestPlatform, StartedNest } from "../support/nestjs.js";
import { startNest, testController, testModule } from "../support/nestjs.js";

let issuer: TestIssuer;
let auth: TenantAuth;
let tokens: { acmeAdmin: string; acmeViewer: string; staffAdmin: string; twoTenants: string };

beforeAll(async () => {
  issuer = await createTestIssuer();
  auth = createTenantAuth({ userPools: [issuer.userPool] });
  tokens = {
    acmeAdmin: await issuer.idToken({ sub: "alice", groups: ["tenant:acme:admin"] }),
    acmeViewer: await issuer.idToken({ sub: "victor", groups: ["tenant:acme:viewer"] }),
    staffAdmin: await issuer.idToken({ sub: "sam", groups: ["tenant:acme:admin", "staff"] }),
    twoTenants: await issuer.idToken({ sub: "dave", groups: ["tenant:acme", "tenant:globex"] }),
  };
});

/** A module exporting one value provider, as a config module would. */
function providerModule(token: string, value: unknown): never {
  class ConfigModule {}
  Module({ providers: [{ provide: token, useValue: value }], exports: [token] })(ConfigModule);
  return ConfigModule as never;
}

const bearer = (token: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });

async function get(app: StartedNest, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.url}${path}`, { headers });
  const text = await response.text();
  return {
    status: response.status,
    challenge: response.headers.get("www-authenticate"),
    retryAfter: response.headers.get("retry-after"),
    body: text === "" ? undefined : (JSON.parse(text) as unknown),
  };
}

describe("setup errors are TypeErrors naming the option", () => {
  it("forRoot: an unknown option, a wrong type, no auth, one header for token and tenant", () => {
    expect(() => TenantAuthModule.forRoot({ auth, tenantHeadr: "x-t" } as never)).toThrow(/tenantHeadr.*tenantHeader/);
    expect(() => TenantAuthModule.forRoot({ auth, credentialsRequired: "no" } as never)).toThrow(/credentialsRequired/);
    expect(() => TenantAuthModule.forRoot({} as never)).toThrow(TypeError);
    expect(() => TenantAuthModule.forRoot({ auth: {} as never })).toThrow(/auth must be the object createTenantAuth\(\) returns/);
    expect(() => TenantAuthModule.forRoot({ auth, tokenHeader: "x-token", tenantHeader: "X-Token" })).toThrow(/tenantHeader and tokenHeader/);
    expect(() => TenantAuthModule.forRoot({ auth, authorizer: {} as never })).toThrow(/isAuthorized/);
  });

  it("decorators: an empty list, a missing resource, an unknown @Authorize option (through the shared validators)", () => {
    expect(() => RequireTenantRoles()).toThrow(/tenantRoles must be a non-empty list/);
    expect(() => RequireGroups()).toThrow(/groups must be a non-empty list/);
    expect(() => RequireGroups({ all: [] })).toThrow(/groups.all/);
    expect(() => RequireScopes("")).toThrow(/scopes/);
    expect(() => Authorize("Read", undefined as never)).toThrow(/resource is required/);
    expect(() => Authorize("Read", { type: "Doc", id: "1" }, { contxt: {} } as never)).toThrow(/contxt/);
  });

  it("@Authorize on a route or a controller of a module without an authorizer stops the app at start", async () => {
    const noAuthorizer = () => TenantAuthModule.forRoot({ auth });
    const onRoute = testModule(noAuthorizer(), [testController("docs", [{ path: "me" }, { path: "x", decorators: [Authorize("Read", { type: "Doc", id: "1" })] }])], { globalGuard: true });
    await expect(startNest("express", onRoute)).rejects.toThrow(/TestController\d+\.route1 has @Authorize but the module was given no authorizer/);
    const onClass = testModule(noAuthorizer(), [testController("docs", [{ path: "me" }], { guarded: true, classDecorators: [Authorize("Read", { type: "Doc", id: "1" })] })]);
    await expect(startNest("fastify", onClass)).rejects.toThrow(/TestController\d+ has @Authorize/);
  });

  it("forRootAsync: options from the injector are checked when the app starts", async () => {
    const CONFIG = "CONFIG";
    const config = providerModule(CONFIG, { header: "x-org" });
    const bad = TenantAuthModule.forRootAsync({ imports: [config], inject: [CONFIG], useFactory: () => ({ auth, tenantHeder: "x-org" }) as never });
    const root = testModule(bad, [testController("", [{ path: "plain" }])], { globalGuard: true });
    await expect(NestFactory.create(root, new ExpressAdapter(), { logger: false, abortOnError: false })).rejects.toThrow(/tenantHeder/);
    expect(() => TenantAuthModule.forRootAsync({} as never)).toThrow(/useFactory/);
  });
});

describe.each<NestPlatform>(["express", "fastify"])("on the %s platform", (platform) => {
  let global: StartedNest;
  let perController: StartedNest;
  let asyncApp: StartedNest;
  const decisions: string[] = [];
  const errors: unknown[] = [];
  const failing: Authorizer = {
    async isAuthorized(): Promise<Decision> {
      throw new Error("engine down");
    },
  };

  beforeAll(async () => {
    const cedar = createCedarAuthorizer({ policies: POLICIES, schema: SCHEMA, namespace: NAMESPACE, tenantEntityType: "Tenant" });
    const cedarAuth = createTenantAuth({ userPools: [issuer.userPool], requireTenant: false });
    const module = TenantAuthModule.forRoot({
      auth: cedarAuth,
      authorizer: cedar,
      onDecision: (d, request) => decisions.push(`${d.decision} ${request.params["bucket"]} ${d.determiningPolicies.join(",")}`),
      onError: (err) => {
        errors.push(err);
        throw new Error("a failing observer changes nothing");
      },
    });
    const controllers = [
      testController("", [
        { path: "me", handler: (t) => ({ tenantId: t?.tenantId, roles: t?.tenantRoles }) },
        { path: "health", decorators: [SkipTenantAuth()], tenant: false, handler: () => ({ ok: true }) },
        { path: "skipped-but-reads-tenant", decorators: [SkipTenantAuth()] },
        {
          path: "buckets/:bucket/objects/:key",
          decorators: [Authorize("ReadObject", (request: TenantRequest) => object(String(request.params["bucket"]).replace(/-assets$/, ""), String(request.params["key"])))],
        },
        {
          path: "own-error",
          decorators: [
            Authorize("ReadObject", () => {
              throw new Error("the app's own bug");
            }),
          ],
        },
      ]),
      // Class and route requirements both apply.
      testController("admin", [{ path: "staff", decorators: [RequireGroups("staff")] }, { path: "any" }], { classDecorators: [RequireTenantRoles("admin")] }),
      testController("public", [{ path: "x" }], { classDecorators: [SkipTenantAuth()] }),
      // A skipped controller whose route still asks for a role: the check is never silenced.
      testController("skipped", [{ path: "admin", decorators: [RequireTenantRoles("admin")] }], { classDecorators: [SkipTenantAuth()] }),
    ];
    global = await startNest(platform, testModule(module, controllers, { globalGuard: true }));

    const noAuthorizer = TenantAuthModule.forRoot({ auth, tenantHeader: "x-org" });
    perController = await startNest(platform, testModule(noAuthorizer, [testController("guarded", [{ path: "me" }], { guarded: true }), testController("unguarded", [{ path: "me" }])]));

    const OPTIONS = "TENANCY_OPTIONS";
    const config = providerModule(OPTIONS, { header: "x-org", authorizer: failing });
    const asyncModule = TenantAuthModule.forRootAsync({
      imports: [config],
      inject: [OPTIONS],
      useFactory: (o: { header: string; authorizer: Authorizer }) => ({ auth, tenantHeader: o.header, authorizer: o.authorizer }),
    });
    // Your own providers can read the module's options by its token.
    class Reader {
      constructor(readonly options: { tenantHeader?: string }) {}
    }
    Inject(TENANT_AUTH_OPTIONS)(Reader, undefined as never, 0);
    asyncApp = await startNest(
      platform,
      testModule(asyncModule, [testController("", [{ path: "me" }, { path: "authz", decorators: [Authorize("Read", { type: "Doc", id: "1" })] }])], {
        globalGuard: true,
        providers: [{ provide: "READER", useClass: Reader }],
      }),
    );
    expect(asyncApp.app.get<Reader>("READER").options.tenantHeader).toBe("x-org");
  });

  afterAll(async () => {
    await Promise.all([global, perController, asyncApp].filter(Boolean).map((a) => a.close()));
  });

  it("resolves the tenant into @Tenant(); refuses without a token with our answer, not Nest's", async () => {
    expect(await get(global, "/me", bearer(tokens.acmeAdmin))).toMatchObject({ status: 200, body: { tenantId: "acme", roles: ["admin"] } });
    expect(await get(global, "/me")).toEqual({ status: 401, challenge: "Bearer", retryAfter: null, body: { error: "token_missing", error_description: "No bearer token was sent" } });
    expect(await get(global, "/me", bearer(tokens.twoTenants, { "x-tenant-id": "globex" }))).toMatchObject({ status: 200, body: { tenantId: "globex" } });
    expect(await get(global, "/me", bearer(tokens.twoTenants, { "x-tenant-id": "initech" }))).toMatchObject({ status: 403, body: { error: "tenant_forbidden" } });
  });

  it("@SkipTenantAuth exempts a route or a controller; @Tenant() on a route no guard ran for is 401, never undefined", async () => {
    expect(await get(global, "/health")).toMatchObject({ status: 200, body: { ok: true } });
    expect(await get(global, "/public/x")).toMatchObject({ status: 401, body: { error: "token_missing", error_description: expect.stringMatching(/TenantAuthGuard/) } });
    expect(await get(global, "/skipped-but-reads-tenant", bearer(tokens.acmeAdmin))).toMatchObject({ status: 401, body: { error: "token_missing" } });
    expect(await get(perController, "/unguarded/me", bearer(tokens.acmeAdmin))).toMatchObject({ status: 401, body: { error: "token_missing" } });
  });

  it("@SkipTenantAuth on a controller never silences a route's own requirement", async () => {
    expect(await get(global, "/skipped/admin")).toMatchObject({ status: 401, body: { error: "token_missing" } });
    expect(await get(global, "/skipped/admin", bearer(tokens.acmeViewer))).toMatchObject({ status: 403, body: { error: "access_denied" } });
    expect(await get(global, "/skipped/admin", bearer(tokens.acmeAdmin))).toMatchObject({ status: 200, body: { tenantId: "acme" } });
  });

  it("a controller's requirement and a route's both apply", async () => {
    expect(await get(global, "/admin/any", bearer(tokens.acmeAdmin))).toMatchObject({ status: 200 });
    expect(await get(global, "/admin/any", bearer(tokens.acmeViewer))).toMatchObject({ status: 403, body: { error: "access_denied" } });
    expect(await get(global, "/admin/staff", bearer(tokens.acmeAdmin))).toMatchObject({
      status: 403,
      body: { error: "access_denied", error_description: "The caller is not in a group this route requires" },
    });
    expect(await get(global, "/admin/staff", bearer(tokens.staffAdmin))).toMatchObject({ status: 200, body: { tenantId: "acme" } });
  });

  it("@Authorize asks local Cedar with the seed's policies; onDecision hears each decision with the request", async () => {
    decisions.length = 0;
    expect(await get(global, "/buckets/acme-assets/objects/roadmap.pdf", bearer(tokens.twoTenants, { "x-tenant-id": "acme" }))).toMatchObject({ status: 200, body: { tenantId: "acme" } });
    const denied = await get(global, "/buckets/globex-assets/objects/plans.txt", bearer(tokens.twoTenants, { "x-tenant-id": "acme" }));
    expect(denied).toEqual({
      status: 403,
      challenge: 'Bearer error="insufficient_scope", error_description="The policy does not allow this request"',
      retryAfter: null,
      body: { error: "access_denied", error_description: "The policy does not allow this request" },
    });
    expect(decisions).toEqual(["ALLOW acme-assets acme-reads-own-bucket", "DENY globex-assets active-tenant-only"]);
  });

  it("an engine failure is 503 with Retry-After; onError hears refusals with their cause", async () => {
    errors.length = 0;
    const failed = await get(asyncApp, "/authz", bearer(tokens.acmeAdmin));
    expect(failed).toEqual({ status: 503, challenge: null, retryAfter: "5", body: { error: "authorizer_unavailable", error_description: "The policy engine could not be reached" } });
    // onError of the module that has it: a refusal, with its cause kept.
    await get(global, "/buckets/acme-assets/objects/x", { authorization: "Bearer not-a-jwt" });
    expect(errors.length).toBe(1);
    expect(isTenantAuthError(errors[0]) && errors[0].code).toBe("token_invalid");
  });

  it("the module's tenantHeader is read (forRoot per controller, and forRootAsync)", async () => {
    expect(await get(perController, "/guarded/me", bearer(tokens.twoTenants, { "x-org": "globex" }))).toMatchObject({ status: 200, body: { tenantId: "globex" } });
    expect(await get(asyncApp, "/me", bearer(tokens.twoTenants, { "x-org": "globex" }))).toMatchObject({ status: 200, body: { tenantId: "globex" } });
    // x-tenant-id is no longer the tenant header there: dave has two tenants and names none.
    expect(await get(asyncApp, "/me", bearer(tokens.twoTenants, { "x-tenant-id": "globex" }))).toMatchObject({ status: 400, body: { error: "tenant_ambiguous" } });
  });

  it("an error of the app's own resource function is not ours: Nest answers it as it answers any bug", async () => {
    const r = await get(global, "/own-error", bearer(tokens.acmeAdmin));
    expect(r.status).toBe(500);
    expect(r.challenge).toBeNull();
  });
});

// A principal type check, compiled by tsc with the rest of the suite.
export function typed(tenant: TenantPrincipal | undefined): string | undefined {
  return tenant?.tenantId;
}
