// Identity pool mode through the real @aws-sdk/client-cognito-identity client against the emulator.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { CognitoIdentityClient, GetCredentialsForIdentityCommand, GetIdCommand } from "@aws-sdk/client-cognito-identity";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { isTenantAuthError, principalFromClaims } from "../../src/index.js";
import { createTenantCredentials } from "../../src/credentials/index.js";
import type { TenantCredentialsOptions } from "../../src/credentials/index.js";
import { ABAC_ROLE, IDENTITY_POOL_ID, ROLE, ROLE_FOR_TENANT, setup } from "../support/credentials.js";
import type { Setup } from "../support/credentials.js";

let s: Setup;
beforeAll(async () => {
  s = await setup();
});
afterAll(async () => {
  await s.close();
});
afterEach(() => {
  s.identity.setBehavior("ok");
  s.identity.resetCalls();
  vi.useRealTimers();
});

function credentials(extra: Partial<TenantCredentialsOptions> = {}) {
  return createTenantCredentials({
    identityPool: { identityPoolId: IDENTITY_POOL_ID, clientConfig: s.identity.clientConfig },
    roleForTenant: ROLE_FOR_TENANT,
    timeoutMs: 5000,
    ...extra,
  });
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
  try {
    await promise;
  } catch (err) {
    if (isTenantAuthError(err)) return { code: err.code, status: err.status };
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("identity pool mode", () => {
  it("gives each user the role of the tenant the request acts for", async () => {
    const creds = credentials();
    const { principal } = await s.users.alice();
    const c = await creds.forPrincipal(principal);
    expect(c.roleArn).toBe(ROLE.acme);
    expect(c.identityId).toMatch(/^us-east-1:[0-9a-f-]{36}$/);
    expect(c.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(c.expiration.getTime()).toBeGreaterThan(Date.now());
    expect(s.identity.issued(c.accessKeyId)).toMatchObject({ roleArn: ROLE.acme, identityId: c.identityId });
  });

  it("dave, preferred role acme's, acting for globex gets globex's role (the hazard)", async () => {
    const creds = credentials();
    const { principal, token } = await s.users.dave("globex");
    expect(principal.preferredRole?.arn).toBe(ROLE.acme);
    expect(principal.tenantId).toBe("globex");
    const c = await creds.forPrincipal(principal);
    expect(c.roleArn).toBe(ROLE.globex);
    expect(s.identity.issued(c.accessKeyId)?.roleArn).toBe(ROLE.globex);

    // What an app that does not send CustomRoleArn would get: acme's role, for a globex request.
    const client = new CognitoIdentityClient(s.identity.clientConfig);
    const logins = { [`cognito-idp.us-east-1.amazonaws.com/${s.issuer.userPoolId}`]: token };
    const { IdentityId } = await client.send(new GetIdCommand({ IdentityPoolId: IDENTITY_POOL_ID, Logins: logins }));
    const naive = await client.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins }));
    expect(s.identity.issued(naive.Credentials!.AccessKeyId!)?.roleArn).toBe(ROLE.acme);
    client.destroy();

    // Acting for acme (no header: the preferred role's tenant), dave gets acme's role.
    const acme = await creds.forPrincipal((await s.users.dave()).principal);
    expect(acme.roleArn).toBe(ROLE.acme);
    expect(s.identity.issued(acme.accessKeyId)?.roleArn).toBe(ROLE.acme);
  });

  it("refuses a role the token's cognito:roles does not hold, before any call (no preferred-role fallback)", async () => {
    const creds = credentials();
    const { principal } = await s.users.frank("globex");
    expect(await refusal(creds.forPrincipal(principal))).toEqual({ code: "access_denied", status: 403 });
    expect(s.identity.callCount).toBe(0);
  });

  it("refuses an access token (identity pools take ID tokens) with 400 invalid_request, before any call", async () => {
    const creds = credentials();
    const { principal } = await s.users.daveAccess("acme");
    expect(await refusal(creds.forPrincipal(principal))).toEqual({ code: "invalid_request", status: 400 });
    expect(s.identity.callCount).toBe(0);
  });

  it("refuses a request that acts for no tenant, or for a tenant without a role", async () => {
    const { principal } = await s.users.erin();
    expect(await refusal(credentials().forPrincipal(principal))).toEqual({ code: "tenant_missing", status: 403 });
    const onlyAcme = credentials({ roleForTenant: { acme: ROLE.acme } });
    expect(await refusal(onlyAcme.forPrincipal((await s.users.dave("globex")).principal))).toEqual({ code: "access_denied", status: 403 });
    const fn = credentials({ roleForTenant: () => undefined });
    expect(await refusal(fn.forPrincipal((await s.users.alice()).principal))).toEqual({ code: "access_denied", status: 403 });
    expect(s.identity.callCount).toBe(0);
  });

  it("20 concurrent requests: one GetId, one GetCredentialsForIdentity; then none while valid", async () => {
    const creds = credentials();
    const { principal } = await s.users.alice();
    const all = await Promise.all(Array.from({ length: 20 }, () => creds.forPrincipal(principal)));
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(1);
    expect(s.identity.calls).toEqual({ GetId: 1, GetCredentialsForIdentity: 1 });
    await creds.forPrincipal(principal);
    await creds.forPrincipal((await s.users.alice()).principal); // a new token of the same user
    expect(s.identity.calls).toEqual({ GetId: 1, GetCredentialsForIdentity: 1 });
    expect(creds.cacheSize).toBe(1);
    // Another tenant of the same user is another entry; the identity id is reused.
    await creds.forPrincipal((await s.users.dave("globex")).principal);
    await creds.forPrincipal((await s.users.dave("acme")).principal);
    expect(s.identity.calls).toEqual({ GetId: 2, GetCredentialsForIdentity: 3 });
  });

  it("refreshes before expiry (default margin: five minutes)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const t0 = new Date("2026-06-01T12:00:00Z");
    vi.setSystemTime(t0);
    const creds = credentials();
    const { principal } = await s.users.alice();
    const first = await creds.forPrincipal(principal);
    expect(first.expiration.getTime()).toBe(t0.getTime() + 3600_000);
    vi.setSystemTime(t0.getTime() + 3600_000 - 301_000); // 5 min 1 s before expiry: still fresh
    expect((await creds.forPrincipal(principal)).accessKeyId).toBe(first.accessKeyId);
    vi.setSystemTime(t0.getTime() + 3600_000 - 299_000); // inside the margin: refreshed
    const second = await creds.forPrincipal(principal);
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(s.identity.calls).toEqual({ GetId: 1, GetCredentialsForIdentity: 2 });
  });

  it("a principal whose token has expired gets nothing, cached or not, before any call", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const t0 = new Date("2026-06-01T12:00:00Z");
    vi.setSystemTime(t0);
    const creds = credentials();
    const { principal } = await s.users.alice();
    await creds.forPrincipal(principal);
    s.identity.resetCalls();
    vi.setSystemTime(principal.expiresAt.getTime());
    expect(await refusal(creds.forPrincipal(principal))).toEqual({ code: "token_expired", status: 401 });
    expect(s.identity.calls).toEqual({ GetId: 0, GetCredentialsForIdentity: 0 });
  });

  it("a refresh that fails forgets the identity id: the next one asks GetId again", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const t0 = new Date("2026-06-01T12:00:00Z");
    vi.setSystemTime(t0);
    const creds = credentials();
    const { principal } = await s.users.alice();
    await creds.forPrincipal(principal);
    vi.setSystemTime(t0.getTime() + 3600_000 - 60_000); // inside the margin
    s.identity.setBehavior("error", { times: 1 });
    expect(await refusal(creds.forPrincipal(principal))).toEqual({ code: "credentials_unavailable", status: 503 });
    expect(s.identity.calls).toEqual({ GetId: 1, GetCredentialsForIdentity: 2 });
    expect((await creds.forPrincipal(principal)).roleArn).toBe(ROLE.acme);
    expect(s.identity.calls).toEqual({ GetId: 2, GetCredentialsForIdentity: 3 });
  });

  it("service error: 503 credentials_unavailable with Retry-After, nothing cached, then recovers", async () => {
    const creds = credentials();
    const { principal } = await s.users.alice();
    s.identity.setBehavior("error", { times: 1 });
    const err = await creds.forPrincipal(principal).catch((e: unknown) => e);
    expect(isTenantAuthError(err) && err.code === "credentials_unavailable" && err.status === 503).toBe(true);
    expect((err as { headers: Record<string, string> }).headers["Retry-After"]).toBe("5");
    expect(creds.cacheSize).toBe(0);
    expect((await creds.forPrincipal(principal)).roleArn).toBe(ROLE.acme);
  });

  it("a client that rejects with undefined, null or a string: 503 at once, never a crash or a hang", async () => {
    const { principal } = await s.users.alice();
    for (const thrown of [undefined, null, "boom", 42]) {
      const creds = createTenantCredentials({
        identityPool: { identityPoolId: IDENTITY_POOL_ID, client: { send: () => Promise.reject(thrown) } },
        roleForTenant: ROLE_FOR_TENANT,
        timeoutMs: 60_000,
      });
      // Answered by the rejection: a hang would meet the test's own timeout long before the 60 s one.
      expect(await refusal(creds.forPrincipal(principal))).toEqual({ code: "credentials_unavailable", status: 503 });
    }
  });

  it("a hang: 503 at timeoutMs, then recovers", async () => {
    const creds = credentials({ timeoutMs: 300 });
    const { principal } = await s.users.alice();
    s.identity.setBehavior("hang", { times: 1 });
    expect(await refusal(creds.forPrincipal(principal))).toEqual({ code: "credentials_unavailable", status: 503 });
    expect(creds.cacheSize).toBe(0);
    const healthy = credentials({ timeoutMs: 10_000 });
    expect((await healthy.forPrincipal(principal)).roleArn).toBe(ROLE.acme);
  });

  it("throttling is retried inside the timeout; exhausted retries are 503", async () => {
    const creds = credentials({ retry: { maxAttempts: 3, baseDelayMs: 1 }, timeoutMs: 10_000 });
    const { principal } = await s.users.alice();
    s.identity.setBehavior("throttle", { times: 2 });
    expect((await creds.forPrincipal(principal)).roleArn).toBe(ROLE.acme);
    expect(s.identity.calls).toEqual({ GetId: 3, GetCredentialsForIdentity: 1 });
    creds.clearCache();
    s.identity.setBehavior("throttle");
    expect(await refusal(creds.forPrincipal(principal))).toEqual({ code: "credentials_unavailable", status: 503 });
    expect(creds.cacheSize).toBe(0);
  });

  it("a principal that did not come from resolveTenant needs its token, and only its own", async () => {
    const creds = credentials();
    const { token } = await s.users.alice();
    const { token: other } = await s.users.dave();
    const principal = await principalFromClaims(JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as Record<string, unknown>);
    expect(await refusal(creds.forPrincipal(principal))).toEqual({ code: "credentials_unavailable", status: 503 });
    expect(await refusal(creds.forPrincipal(principal, { token: other }))).toEqual({ code: "credentials_unavailable", status: 503 });
    expect(s.identity.callCount).toBe(0);
    expect((await creds.forPrincipal(principal, { token })).roleArn).toBe(ROLE.acme);
  });

  it("provider() is an AWS SDK credentials provider", async () => {
    const creds = credentials();
    const { principal } = await s.users.dave("globex");
    const provider = creds.provider(principal);
    const identity = await provider();
    expect(Object.keys(identity).sort()).toEqual(["accessKeyId", "expiration", "secretAccessKey", "sessionToken"]);
    // A real SDK client signs with it (here an STS call to the emulator).
    const sts = new STSClient({ ...s.sts.clientConfig, credentials: provider });
    await sts.send(new AssumeRoleCommand({ RoleArn: ABAC_ROLE, RoleSessionName: "provider-check" }));
    sts.destroy();
    expect(s.identity.issued(identity.accessKeyId)?.roleArn).toBe(ROLE.globex);
  });

  it("validates its options at setup", () => {
    const pool = { identityPoolId: IDENTITY_POOL_ID };
    expect(() => createTenantCredentials({ identityPool: pool, roleForTenant: ROLE_FOR_TENANT, timeoutMS: 5 } as never)).toThrow(/unknown option timeoutMS \(did you mean timeoutMs\?\)/);
    expect(() => createTenantCredentials({ identityPool: pool, roleForTenant: ROLE_FOR_TENANT, timeoutMs: "3000" } as never)).toThrow(/timeoutMs must be a number/);
    expect(() => createTenantCredentials({ identityPool: pool, roleForTenant: ROLE_FOR_TENANT, timeoutMs: Infinity })).toThrow(TypeError);
    expect(() => createTenantCredentials({ identityPool: pool, roleForTenant: ROLE_FOR_TENANT, cache: { maxEntries: 0 } })).toThrow(/cache\.maxEntries/);
    expect(() => createTenantCredentials({ identityPool: pool, roleForTenant: ROLE_FOR_TENANT, cache: { marginSeconds: NaN } })).toThrow(/cache\.marginSeconds/);
    expect(() => createTenantCredentials({ identityPool: pool, roleForTenant: { acme: "acme-role" } })).toThrow(/roleForTenant\["acme"\] must be an IAM role ARN/);
    expect(() => createTenantCredentials({ identityPool: pool })).toThrow(/roleForTenant is required/);
    expect(() => createTenantCredentials({ identityPool: { identityPoolId: "nope" }, roleForTenant: ROLE_FOR_TENANT })).toThrow(/identityPool\.identityPoolId/);
    expect(() => createTenantCredentials({ identityPool: { ...pool, regoin: "x" } as never, roleForTenant: ROLE_FOR_TENANT })).toThrow(/unknown option identityPool\.regoin/);
    expect(() => createTenantCredentials({ identityPool: pool, assumeRole: { roleArn: ABAC_ROLE }, roleForTenant: ROLE_FOR_TENANT })).toThrow(/exactly one of identityPool and assumeRole/);
    expect(() => createTenantCredentials({ roleForTenant: ROLE_FOR_TENANT })).toThrow(/exactly one/);
  });

  it("the module loads no AWS SDK on import (dynamic import() only)", () => {
    for (const file of ["index.ts", "tenant-credentials.ts", "role-mapping.ts", "sts-limits.ts"]) {
      const source = readFileSync(resolve(import.meta.dirname, "../../src/credentials", file), "utf8");
      expect(source).not.toMatch(/^import (?!type)[^;]*from "@aws-sdk/m);
    }
  });
});
