// Assume-role mode (ABAC) through the real @aws-sdk/client-sts client against the STS emulator.
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isTenantAuthError } from "../../src/index.js";
import { createTenantCredentials, roleSessionNameFor } from "../../src/credentials/index.js";
import type { AssumeRoleCredentialsOptions, TenantCredentialsOptions } from "../../src/credentials/index.js";
import { ABAC_ROLE, ROLE, ROLE_FOR_TENANT, setup } from "../support/credentials.js";
import type { Setup } from "../support/credentials.js";

let s: Setup;
beforeAll(async () => {
  s = await setup();
});
afterAll(async () => {
  await s.close();
});
afterEach(() => {
  s.sts.setBehavior("ok");
  s.sts.resetCalls();
});

function credentials(assumeRole: Partial<AssumeRoleCredentialsOptions> = {}, extra: Partial<TenantCredentialsOptions> = {}) {
  return createTenantCredentials({ assumeRole: { roleArn: ABAC_ROLE, clientConfig: s.sts.clientConfig, ...assumeRole }, timeoutMs: 5000, ...extra });
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number; cause?: string }> {
  try {
    await promise;
  } catch (err) {
    if (isTenantAuthError(err)) return { code: err.code, status: err.status, cause: (err.cause as Error | undefined)?.message };
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("assume-role mode", () => {
  it("tags the session with the active tenant (dave acting for globex: TenantId globex)", async () => {
    const creds = credentials();
    const { principal } = await s.users.dave("globex");
    const c = await creds.forPrincipal(principal);
    expect(c.roleArn).toBe(ABAC_ROLE);
    expect(c.identityId).toBeUndefined();
    expect(s.sts.issued(c.accessKeyId)).toMatchObject({ roleArn: ABAC_ROLE, tags: { TenantId: "globex" }, roleSessionName: roleSessionNameFor(principal.sub, "globex") });
    const acme = await creds.forPrincipal((await s.users.dave("acme")).principal);
    expect(s.sts.issued(acme.accessKeyId)?.tags).toEqual({ TenantId: "acme" });
    expect(s.sts.calls.AssumeRole).toBe(2);
  });

  it("a role per tenant from roleForTenant, a session policy, a duration; access tokens are fine here", async () => {
    const policy = (p: { tenantId: string | undefined }) => ({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${p.tenantId}-assets/*` }],
    });
    const creds = credentials({ roleArn: undefined, sessionPolicy: policy, durationSeconds: 900, tags: (p) => ({ TenantId: p.tenantId!, User: p.username }) }, { roleForTenant: ROLE_FOR_TENANT });
    const { principal } = await s.users.daveAccess("globex");
    const c = await creds.forPrincipal(principal);
    expect(c.roleArn).toBe(ROLE.globex);
    const issued = s.sts.issued(c.accessKeyId)!;
    expect(issued.tags).toEqual({ TenantId: "globex", User: "da7e" });
    expect(JSON.parse(issued.sessionPolicy!)).toEqual(policy(principal));
    expect(c.expiration.getTime() - Date.now()).toBeLessThanOrEqual(900_000);
  });

  it("caches per (role, session, tags, policy): 20 concurrent calls are one AssumeRole", async () => {
    const creds = credentials();
    const { principal } = await s.users.alice();
    const all = await Promise.all(Array.from({ length: 20 }, () => creds.forPrincipal(principal)));
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(1);
    await creds.forPrincipal(principal);
    expect(s.sts.calls.AssumeRole).toBe(1);
  });

  it("refuses a request acting for no tenant", async () => {
    const { principal } = await s.users.erin();
    expect(await refusal(credentials().forPrincipal(principal))).toMatchObject({ code: "tenant_missing", status: 403 });
    expect(s.sts.callCount).toBe(0);
  });

  const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
  const LIMITS: [string, Partial<AssumeRoleCredentialsOptions>, RegExp][] = [
    ["51 session tags", { tags: () => many }, /at most 50 session tags/],
    ["a tag key of 129 characters", { tags: () => ({ ["k".repeat(129)]: "v" }) }, /1 to 128/],
    ["an empty tag key", { tags: () => ({ "": "v" }) }, /1 to 128/],
    ["a tag value of 257 characters", { tags: () => ({ TenantId: "v".repeat(257) }) }, /at most 256/],
    ["a tag key with a character STS refuses", { tags: () => ({ "Tenant*Id": "acme" }) }, /character STS does not allow/],
    ["a tag value with a character STS refuses", { tags: () => ({ TenantId: "acme;drop" }) }, /value with a character/],
    ["a tag key starting with aws:", { tags: () => ({ "aws:TenantId": "acme" }) }, /aws:/],
    ["two tag keys differing in case", { tags: () => ({ TenantId: "a", tenantid: "b" }) }, /given twice/],
    ["a session policy of 2049 characters", { sessionPolicy: () => `{"Version":"2012-10-17","Statement":[],"Pad":"${"x".repeat(2049 - 48)}"}` }, /at most 2048/],
    ["a session policy with a character outside U+00FF", { sessionPolicy: () => '{"Version":"2012-10-17","Statement":[],"Sid":"\u2603"}' }, /character STS does not allow/],
  ];
  it.each(LIMITS)("refuses %s before the call (403 access_denied), as STS would", async (_label, opts, message) => {
    const creds = credentials(opts);
    const { principal } = await s.users.alice();
    const r = await refusal(creds.forPrincipal(principal));
    expect(r).toMatchObject({ code: "access_denied", status: 403 });
    expect(r.cause).toMatch(message);
    expect(s.sts.callCount).toBe(0);
    // STS (the emulator) refuses the same input: our check is not stricter than the service's.
    const tags = opts.tags?.(principal);
    const policy = opts.sessionPolicy?.(principal);
    const client = new STSClient(s.sts.clientConfig);
    const sent = client.send(
      new AssumeRoleCommand({
        RoleArn: ABAC_ROLE,
        RoleSessionName: "limits",
        ...(tags ? { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
        ...(typeof policy === "string" ? { Policy: policy } : {}),
      }),
    );
    await expect(sent).rejects.toMatchObject({ name: "ValidationError" });
    client.destroy();
  });

  it("accepts tags and a policy at the limits", async () => {
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${"k".repeat(125)}${String(i).padStart(3, "0")}`, "v".repeat(256)]));
    const policy = `{"Version":"2012-10-17","Statement":[],"Pad":"${"x".repeat(2048 - 48)}"}`;
    expect(policy).toHaveLength(2048);
    const creds = credentials({ tags: () => fifty, sessionPolicy: () => policy });
    const c = await creds.forPrincipal((await s.users.alice()).principal);
    expect(Object.keys(s.sts.issued(c.accessKeyId)!.tags)).toHaveLength(50);
  });

  it("a duration outside 900 to 43200 is a TypeError at setup", () => {
    expect(() => credentials({ durationSeconds: 899 })).toThrow(/assumeRole\.durationSeconds must be an integer from 900 to 43200/);
    expect(() => credentials({ durationSeconds: 43_201 })).toThrow(TypeError);
    expect(() => credentials({ roleArn: "not-an-arn" })).toThrow(/assumeRole\.roleArn must be an IAM role ARN/);
    expect(() => createTenantCredentials({ assumeRole: {} })).toThrow(/assumeRole\.roleArn or roleForTenant is required/);
  });

  it("a role function that returns no ARN is 403; a callback that throws is 503; never a call", async () => {
    const { principal } = await s.users.alice();
    expect(await refusal(credentials({ roleArn: () => "nope" }).forPrincipal(principal))).toMatchObject({ code: "access_denied", status: 403 });
    const throwing = credentials({
      tags: () => {
        throw new Error("directory down");
      },
    });
    expect(await refusal(throwing.forPrincipal(principal))).toMatchObject({ code: "credentials_unavailable", status: 503 });
    expect(s.sts.callCount).toBe(0);
  });

  it("derives a safe RoleSessionName", () => {
    expect(roleSessionNameFor("00000000-0000-4000-8000-00000000da7e", "globex")).toBe("00000000-0000-4000-8000-00000000da7e@globex");
    // Where a character is replaced or the name cut, a hash of the exact sub and tenant keeps two
    // tenants apart (aws:userid and CloudTrail show the session name).
    expect(roleSessionNameFor("a b/c", "t*x")).toMatch(/^a_b_c@t_x\.[0-9a-f]{16}$/);
    const sub = "3f0c8a52-1b6e-4c1d-9a7e-0b5f2d9c4e11";
    expect(roleSessionNameFor(sub, "customer-enterprise-account-0001")).not.toBe(roleSessionNameFor(sub, "customer-enterprise-account-0002"));
    expect(roleSessionNameFor(sub, "acme/eu")).not.toBe(roleSessionNameFor(sub, "acme_eu"));
    expect(roleSessionNameFor(sub, "customer-enterprise-account-0001")).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(roleSessionNameFor("x", undefined)).toBe("x_");
    const long = roleSessionNameFor("s".repeat(60), "tenant");
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long).toMatch(/^[\w+=,.@-]{2,64}$/);
  });

  it("throttling (STS's Throttling code) is retried; errors and hangs are 503 and recover", async () => {
    const creds = credentials({}, { retry: { maxAttempts: 4, baseDelayMs: 1 }, timeoutMs: 10_000 });
    const { principal } = await s.users.alice();
    s.sts.setBehavior("throttle", { times: 2 });
    expect((await creds.forPrincipal(principal)).roleArn).toBe(ABAC_ROLE);
    expect(s.sts.calls.AssumeRole).toBe(3);
    creds.clearCache();
    s.sts.setBehavior("error", { times: 1 });
    expect(await refusal(creds.forPrincipal(principal))).toMatchObject({ code: "credentials_unavailable", status: 503 });
    expect(creds.cacheSize).toBe(0);
    expect((await creds.forPrincipal(principal)).roleArn).toBe(ABAC_ROLE);
    const short = credentials({}, { timeoutMs: 300 });
    s.sts.setBehavior("hang", { times: 1 });
    expect(await refusal(short.forPrincipal(principal))).toMatchObject({ code: "credentials_unavailable", status: 503 });
    expect(short.cacheSize).toBe(0);
  });

  it("STS's PackedPolicyTooLarge (a limit only STS can compute) is 403, not retried, nothing cached", async () => {
    let sends = 0;
    const client = {
      async send(): Promise<unknown> {
        sends++;
        throw Object.assign(new Error("Packed size of session policies and tags is too large"), { name: "PackedPolicyTooLargeException", $metadata: { httpStatusCode: 400 } });
      },
    };
    const creds = createTenantCredentials({ assumeRole: { roleArn: ABAC_ROLE, client } });
    const r = await refusal(creds.forPrincipal((await s.users.alice()).principal));
    expect(r).toMatchObject({ code: "access_denied", status: 403 });
    expect(sends).toBe(1);
    expect(creds.cacheSize).toBe(0);
  });

  it("the emulator refuses a role that does not exist with AccessDenied", async () => {
    const creds = credentials({ roleArn: "arn:aws:iam::111122223333:role/nobody" });
    const r = await refusal(creds.forPrincipal((await s.users.alice()).principal));
    expect(r).toMatchObject({ code: "credentials_unavailable", status: 503 });
  });
});
