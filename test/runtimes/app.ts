// The one Hono app the runtime suite serves on Node, Bun, Deno and workerd (bundled by
// scripts/test-runtimes.mjs). Its configuration (the loopback JWKS endpoints the Node driver
// started) is compiled in, so every runtime runs exactly the same code.
import { Hono } from "hono";
import type { Context } from "hono";
import { authorize, requireScopes, requireTenantRoles, tenantAuth } from "../../src/adapters/hono.js";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import type { Authorizer, Decision, TenantAuthOptions, UserPoolConfig } from "../../src/index.js";
import { TenantAuthError, createTenantAuth } from "../../src/index.js";

/** What the driver passes to the app. */
export interface RuntimeTestConfig {
  /** The test issuer's pool, its JWKS served over http: on 127.0.0.1. */
  readonly pool: UserPoolConfig;
  /** Key endpoints that misbehave: never answer, answer too much, redirect. */
  readonly hangingJwksUri: string;
  readonly oversizedJwksUri: string;
  readonly redirectingJwksUri: string;
}

const allow: Decision = { allowed: true, decision: "ALLOW", determiningPolicies: [], errors: [] };
const deny: Decision = { allowed: false, decision: "DENY", determiningPolicies: [], errors: [] };

/** Allows a document of the caller's tenant (`<tenantId>-...`), denies others, fails on `boom`. */
const engine: Authorizer = {
  async isAuthorized(request) {
    if (request.resource.id === "boom") throw new Error("engine exploded");
    return request.resource.id.startsWith(`${request.principal.tenantId}-`) ? allow : deny;
  },
};

/** Local Cedar: acme's admins may read `acme-1`, nothing else. */
const cedarPolicies = (userPoolId: string) => `permit (principal in App::UserGroup::"${userPoolId}|tenant:acme:admin", action == App::Action::"Read", resource == App::Document::"acme-1");`;

const reply = (c: Context) => c.json({ tenantId: c.get("tenant")?.tenantId ?? null, sub: c.get("tenant")?.sub ?? null });

/** The app: every route the assertions in cases.ts call. */
export function createApp(config: RuntimeTestConfig): Hono {
  const auth = createTenantAuth({ userPools: [config.pool] });
  const strict = (jwksUri: string, jwks: TenantAuthOptions["jwks"]) => createTenantAuth({ userPools: [{ ...config.pool, jwksUri }], jwks: { failureCooldownMs: 0, ...jwks } });
  const cedar = createCedarAuthorizer({ policies: cedarPolicies(config.pool.userPoolId), namespace: "App" });

  const app = new Hono();
  app.get("/health", (c) => c.json({ ok: true }));
  app.get("/me", tenantAuth(auth), reply);
  app.get("/tenants/:tenantId/me", tenantAuth(auth, { tenantParam: "tenantId" }), reply);
  app.get("/optional", tenantAuth(auth, { credentialsRequired: false }), reply);
  app.get("/admin", tenantAuth(auth), requireTenantRoles("admin"), reply);
  app.get("/scoped", tenantAuth(auth), requireScopes("docs/read"), reply);
  app.get("/docs/:doc", tenantAuth(auth), authorize(engine, { action: "Read", resource: (c) => ({ type: "Document", id: c.req.param("doc") ?? "" }) }), reply);
  app.get("/cedar/:doc", tenantAuth(auth), authorize(cedar, { action: "Read", resource: (c) => ({ type: "Document", id: c.req.param("doc") ?? "" }) }), reply);
  app.get("/hanging/me", tenantAuth(strict(config.hangingJwksUri, { timeoutMs: 300 })), reply);
  app.get("/oversized/me", tenantAuth(strict(config.oversizedJwksUri, { maxResponseBytes: 4096 })), reply);
  app.get("/redirecting/me", tenantAuth(strict(config.redirectingJwksUri, {})), reply);
  // The http: rule is checked at setup: a key endpoint on another host over plain http is refused.
  app.get("/http-rule", (c) => {
    try {
      createTenantAuth({ userPools: [{ ...config.pool, jwksUri: "http://keys.example.com/jwks.json" }] });
      return c.json({ refused: false });
    } catch (err) {
      return c.json({ refused: true, error: err instanceof TenantAuthError ? err.code : (err as Error).name });
    }
  });
  return app;
}
