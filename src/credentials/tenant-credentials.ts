import { createHash } from "node:crypto";
import { BoundedCache } from "../core/cache.js";
import { parseIamRoleArn } from "../core/claims.js";
import { TenantAuthError, isTenantAuthError } from "../core/errors.js";
import type { OptionsSchema } from "../core/options.js";
import { describeValue, validateOptions } from "../core/options.js";
import type { TenantPrincipal } from "../core/principal.js";
import { tokenBelongsTo, tokenOf, wantTokens } from "../core/principal-token.js";
import { MAX_DURATION_SECONDS, MIN_DURATION_SECONDS, StsLimitError, checkRoleSessionName, checkSessionPolicy, checkSessionTags, roleSessionNameFor } from "./sts-limits.js";

/** Anything with the AWS SDK v3 client's `send(command, { abortSignal })`. */
export interface AwsClientLike {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Temporary AWS credentials for one principal acting for one tenant. */
export interface TenantCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** When AWS stops accepting them. */
  readonly expiration: Date;
  /** The role they carry: the active tenant's. */
  readonly roleArn: string;
  /** The identity pool identity (identity pool mode). */
  readonly identityId?: string;
}

/** What an AWS SDK v3 client takes as `credentials` (an `AwsCredentialIdentityProvider`). */
export type TenantCredentialsProvider = () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date }>;

/** Identity pool mode: `GetId` and `GetCredentialsForIdentity` with the principal's ID token. */
export interface IdentityPoolCredentialsOptions {
  /** `<region>:<guid>`. */
  readonly identityPoolId: string;
  /** Region of the client made for you; default the identity pool id's prefix. */
  readonly region?: string;
  /** More configuration for the client made for you (`endpoint`, ...). The SDK's own retries are off. */
  readonly clientConfig?: Readonly<Record<string, unknown>>;
  /** Your `CognitoIdentityClient`; without it `@aws-sdk/client-cognito-identity` is imported on the first call. */
  readonly client?: AwsClientLike;
  /** `AccountId` for `GetId` (only needed by pools that ask for it). */
  readonly accountId?: string;
}

/** Assume-role mode (ABAC, a "token vending machine"): STS `AssumeRole` with your server's credentials. */
export interface AssumeRoleCredentialsOptions {
  /** The role to assume, or a function of the principal; default the `roleForTenant` of the active tenant. */
  readonly roleArn?: string | ((principal: TenantPrincipal) => string);
  /** Session tags; default `{ TenantId: principal.tenantId }`. Checked against STS's limits before the call. */
  readonly tags?: (principal: TenantPrincipal) => Readonly<Record<string, string>>;
  /** An inline session policy (text or an object turned into JSON), at most 2048 characters. */
  readonly sessionPolicy?: (principal: TenantPrincipal) => string | Readonly<Record<string, unknown>> | undefined;
  /** `DurationSeconds`, 900 to 43200; default 3600. */
  readonly durationSeconds?: number;
  /** Region of the client made for you. */
  readonly region?: string;
  /** More configuration for the client made for you (`endpoint`, `credentials`, ...). The SDK's own retries are off. */
  readonly clientConfig?: Readonly<Record<string, unknown>>;
  /** Your `STSClient`; without it `@aws-sdk/client-sts` is imported on the first call. */
  readonly client?: AwsClientLike;
}

/** Options of {@link createTenantCredentials}: exactly one of `identityPool` and `assumeRole`. */
export interface TenantCredentialsOptions {
  readonly identityPool?: IdentityPoolCredentialsOptions;
  readonly assumeRole?: AssumeRoleCredentialsOptions;
  /**
   * The IAM role of each tenant: tenant id → role ARN, or a function. Required in identity pool
   * mode, where it is sent as `CustomRoleArn`. The inverse of `tenants.roleTenants`: build that one
   * from this with {@link roleTenantsFrom} to keep one map.
   */
  readonly roleForTenant?: Readonly<Record<string, string>> | ((principal: TenantPrincipal) => string | undefined);
  /** Credentials cache; default `{ maxEntries: 1000, marginSeconds: 300 }`; `false` turns it off. */
  readonly cache?: false | { readonly maxEntries?: number; readonly marginSeconds?: number };
  /** The longest `forPrincipal` may take, every call and retry included; default 3000 ms. */
  readonly timeoutMs?: number;
  /** Throttling retries inside the timeout; default `{ maxAttempts: 4, baseDelayMs: 50 }`. */
  readonly retry?: { readonly maxAttempts?: number; readonly baseDelayMs?: number };
}

/** Options of one {@link TenantCredentialsSource.forPrincipal} call. */
export interface ForPrincipalOptions {
  /**
   * The raw ID token (identity pool mode), when the principal did not come from `resolveTenant`
   * (which remembers it). It must be the principal's own token (same `sub` and `iss`).
   */
  readonly token?: string;
}

/** What {@link createTenantCredentials} returns. */
export interface TenantCredentialsSource {
  /** Credentials for the principal's active tenant, from the cache when still valid. */
  forPrincipal(principal: TenantPrincipal, options?: ForPrincipalOptions): Promise<TenantCredentials>;
  /** An AWS SDK v3 credentials provider for the principal: `new S3Client({ credentials: creds.provider(req.tenant) })`. */
  provider(principal: TenantPrincipal, options?: ForPrincipalOptions): TenantCredentialsProvider;
  /** Import the SDK and make the client now, so the first request does not spend its timeout loading it. */
  ready(): Promise<void>;
  /** Forget every cached credential and identity id. */
  clearCache(): void;
  /** Credentials in the cache. */
  readonly cacheSize: number;
}

/** `tenants.roleTenants` (role ARN → tenant) from a `roleForTenant` map (tenant → role ARN): one map for both. */
export function roleTenantsFrom(roleForTenant: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(roleForTenant).map(([tenant, role]) => [role, tenant]));
}

type CognitoSdk = typeof import("@aws-sdk/client-cognito-identity");
type StsSdk = typeof import("@aws-sdk/client-sts");
let cognitoSdk: Promise<CognitoSdk> | undefined;
let stsSdk: Promise<StsSdk> | undefined;
function loadCognito(): Promise<CognitoSdk> {
  cognitoSdk ??= import("@aws-sdk/client-cognito-identity").catch((err: unknown) => {
    cognitoSdk = undefined;
    throw new Error("cognito-tenancy: identity pool credentials need the optional peer dependency @aws-sdk/client-cognito-identity", { cause: err });
  });
  return cognitoSdk;
}
function loadSts(): Promise<StsSdk> {
  stsSdk ??= import("@aws-sdk/client-sts").catch((err: unknown) => {
    stsSdk = undefined;
    throw new Error("cognito-tenancy: assume-role credentials need the optional peer dependency @aws-sdk/client-sts", { cause: err });
  });
  return stsSdk;
}

const WHERE = "createTenantCredentials";

const arnCheck = (value: unknown, name: string): void => {
  if (typeof value !== "string" || !parseIamRoleArn(value)) throw new TypeError(`${name} must be an IAM role ARN, got ${describeValue(value)}`);
};

const CLIENT_RULE = {
  type: "custom",
  check: (value: unknown, name: string) => {
    if (typeof value !== "object" || value === null || typeof (value as AwsClientLike).send !== "function") {
      throw new TypeError(`${name} must be an AWS SDK v3 client (with send()), got ${describeValue(value)}`);
    }
  },
} as const;

const SCHEMA: OptionsSchema = {
  identityPool: { type: "object" },
  assumeRole: { type: "object" },
  roleForTenant: {
    type: "custom",
    check: (value, name) => {
      if (typeof value === "function") return;
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError(`${name} must be an object (tenant id → role ARN) or a function, got ${describeValue(value)}`);
      for (const [tenant, role] of Object.entries(value)) arnCheck(role, `${name}[${JSON.stringify(tenant)}]`);
    },
  },
  cache: {
    type: "custom",
    check: (value, name) => {
      if (value === false) return;
      validateOptions(value, { maxEntries: { type: "number", integer: true, min: 1, max: 1_000_000 }, marginSeconds: { type: "number", min: 0, max: 3600 } }, { where: WHERE, path: `${name}.` });
    },
  },
  timeoutMs: { type: "number", min: 1, max: 120_000 },
  retry: {
    type: "custom",
    check: (value, name) =>
      validateOptions(value, { maxAttempts: { type: "number", integer: true, min: 1, max: 10 }, baseDelayMs: { type: "number", min: 0, max: 10_000 } }, { where: WHERE, path: `${name}.` }),
  },
};

const IDENTITY_POOL_SCHEMA: OptionsSchema = {
  identityPoolId: {
    type: "custom",
    required: true,
    check: (value, name) => {
      // IdentityPoolId: [\w-]+:[0-9a-f-]+, at most 55 characters.
      if (typeof value !== "string" || !/^[\w-]+:[0-9a-f-]+$/.test(value) || value.length > 55)
        throw new TypeError(`${name} must be an identity pool id (<region>:<guid>), got ${describeValue(value)}`);
    },
  },
  region: { type: "string", nonEmpty: true },
  clientConfig: { type: "object" },
  client: CLIENT_RULE,
  accountId: { type: "string", nonEmpty: true },
};

const ASSUME_ROLE_SCHEMA: OptionsSchema = {
  roleArn: {
    type: "custom",
    check: (value, name) => {
      if (typeof value !== "function") arnCheck(value, name);
    },
  },
  tags: { type: "function" },
  sessionPolicy: { type: "function" },
  durationSeconds: { type: "number", integer: true, min: MIN_DURATION_SECONDS, max: MAX_DURATION_SECONDS },
  region: { type: "string", nonEmpty: true },
  clientConfig: { type: "object" },
  client: CLIENT_RULE,
};

function unavailable(detail: string, cause?: unknown): TenantAuthError {
  return new TenantAuthError("credentials_unavailable", "AWS credentials could not be obtained", { cause: cause ?? new Error(`tenant credentials: ${detail}`) });
}

function denied(message: string, cause?: unknown): TenantAuthError {
  return new TenantAuthError("access_denied", message, cause === undefined ? {} : { cause });
}

const THROTTLING = new Set(["ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "ProvisionedThroughputExceededException"]);
function isThrottling(err: unknown): boolean {
  const e = err as { name?: unknown; $retryable?: { throttling?: unknown }; $metadata?: { httpStatusCode?: unknown } } | null;
  return !!e && (THROTTLING.has(String(e.name)) || e.$retryable?.throttling === true || e.$metadata?.httpStatusCode === 429);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Entry {
  readonly credentials: TenantCredentials;
  /** Refresh from here on: `expiration` minus the margin. */
  readonly freshUntilMs: number;
}

/**
 * Temporary AWS credentials scoped to the tenant a request acts for.
 *
 * Identity pool mode sends the principal's ID token to `GetId` and `GetCredentialsForIdentity`
 * with `CustomRoleArn` = the active tenant's role, so a user in several tenants, acting for one of
 * them, gets that tenant's role and never the one `cognito:preferred_role` names. Assume-role mode
 * calls STS `AssumeRole` with session tags (default `TenantId`) and an optional session policy,
 * for one role whose policies use `aws:PrincipalTag/TenantId`.
 *
 * Refusals before any AWS call: an access token in identity pool mode (400 `invalid_request`:
 * identity pools take ID tokens), no active tenant (403 `tenant_missing`), no role for the tenant
 * or a role the token's `cognito:roles` does not hold (403 `access_denied`), session tags or a
 * policy STS would refuse (403 `access_denied`). AWS failing, throttling past the retries or
 * hanging past `timeoutMs`: 503 `credentials_unavailable`. Nothing is cached from a failure.
 *
 * The functions you give (`roleForTenant`, `assumeRole.roleArn`, `tags`, `sessionPolicy`) must
 * depend on the principal only: they run once per principal object (principals are frozen, and
 * `resolveTenant` serves one per token), so a cache hit costs two lookups.
 *
 * Importing this module loads no AWS SDK; the first call (or `ready()`) does.
 */
export function createTenantCredentials(options: TenantCredentialsOptions): TenantCredentialsSource {
  validateOptions(options, SCHEMA, { where: WHERE });
  if ((options.identityPool === undefined) === (options.assumeRole === undefined)) {
    throw new TypeError(`${WHERE}: give exactly one of identityPool and assumeRole`);
  }
  if (options.identityPool) validateOptions(options.identityPool, IDENTITY_POOL_SCHEMA, { where: WHERE, path: "identityPool." });
  if (options.assumeRole) validateOptions(options.assumeRole, ASSUME_ROLE_SCHEMA, { where: WHERE, path: "assumeRole." });
  if (options.identityPool && options.roleForTenant === undefined) {
    throw new TypeError(`${WHERE}: roleForTenant is required with identityPool (the role of each tenant, sent as CustomRoleArn)`);
  }
  if (options.assumeRole && options.assumeRole.roleArn === undefined && options.roleForTenant === undefined) {
    throw new TypeError(`${WHERE}: assumeRole.roleArn or roleForTenant is required`);
  }
  const pool = options.identityPool;
  const assume = options.assumeRole;
  // resolveTenant starts remembering each principal's token: identity pools need the ID token.
  if (pool) wantTokens();

  const timeoutMs = options.timeoutMs ?? 3000;
  const maxAttempts = options.retry?.maxAttempts ?? 4;
  const baseDelayMs = options.retry?.baseDelayMs ?? 50;
  const marginMs = (options.cache === false ? 0 : (options.cache?.marginSeconds ?? 300)) * 1000;
  const maxEntries = options.cache === false ? 1 : (options.cache?.maxEntries ?? 1000);
  const cache = options.cache === false ? undefined : new BoundedCache<Entry>(maxEntries);
  // Identity ids never change for a user of a pool: one GetId per user, not per credentials refresh.
  const identityIds = options.cache === false ? undefined : new BoundedCache<string>(maxEntries);
  const inflight = new Map<string, Promise<TenantCredentials>>();
  // A principal is frozen and resolveTenant serves the same object for the same token, so its checks
  // and cache key are computed once: a cache hit is then one WeakMap and one Map lookup.
  const keys = new WeakMap<TenantPrincipal, string>();
  let generation = 0;

  const roleMap = typeof options.roleForTenant === "object" ? new Map(Object.entries(options.roleForTenant)) : undefined;
  const roleFn = typeof options.roleForTenant === "function" ? options.roleForTenant : undefined;

  let client: Promise<AwsClientLike> | undefined;
  function getClient(): Promise<AwsClientLike> {
    if (!client) {
      const given = pool ? pool.client : assume!.client;
      if (given) client = Promise.resolve(given);
      else if (pool) {
        const region = pool.region ?? pool.identityPoolId.slice(0, pool.identityPoolId.indexOf(":"));
        client = loadCognito().then((m) => new m.CognitoIdentityClient({ maxAttempts: 1, region, ...pool.clientConfig }) as AwsClientLike);
      } else {
        client = loadSts().then((m) => new m.STSClient({ maxAttempts: 1, ...(assume!.region ? { region: assume!.region } : {}), ...assume!.clientConfig }) as AwsClientLike);
      }
      client.catch(() => {
        client = undefined;
      });
    }
    return client;
  }

  /** One service call, throttling retried with jittered exponential backoff until the deadline. */
  async function call(make: () => Promise<unknown>, deadline: number): Promise<unknown> {
    const c = await getClient();
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw unavailable("AWS did not answer in time");
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), remaining);
      try {
        return await c.send(await make(), { abortSignal: controller.signal });
      } catch (err) {
        if (controller.signal.aborted) throw unavailable("AWS did not answer in time", err);
        if (!isThrottling(err) || attempt >= maxAttempts) throw err;
        const delay = baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
        if (Date.now() + delay >= deadline) throw err;
        await sleep(delay);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  function activeTenant(principal: TenantPrincipal): string {
    if (principal.tenantId === undefined) throw new TenantAuthError("tenant_missing", "The request acts for no tenant: no credentials to give");
    return principal.tenantId;
  }

  function tenantRole(principal: TenantPrincipal, tenantId: string): string {
    let role: string | undefined;
    try {
      role = roleMap ? roleMap.get(tenantId) : roleFn!(principal);
    } catch (err) {
      throw unavailable("roleForTenant threw", err);
    }
    if (role === undefined) throw denied("The active tenant has no IAM role");
    if (typeof role !== "string" || !parseIamRoleArn(role)) throw denied("The active tenant has no valid IAM role", new TypeError(`roleForTenant gave ${describeValue(role)}`));
    return role;
  }

  function credentialsFrom(raw: unknown, roleArn: string, identityId: string | undefined, secretField: "SecretKey" | "SecretAccessKey"): TenantCredentials {
    const c = raw as Record<string, unknown> | undefined;
    const expiration = c?.["Expiration"];
    const ok =
      c && typeof c["AccessKeyId"] === "string" && typeof c[secretField] === "string" && typeof c["SessionToken"] === "string" && expiration instanceof Date && Number.isFinite(expiration.getTime());
    if (!ok) throw unavailable("AWS answered without complete credentials");
    return Object.freeze({
      accessKeyId: c["AccessKeyId"] as string,
      secretAccessKey: c[secretField] as string,
      sessionToken: c["SessionToken"] as string,
      expiration: new Date((expiration as Date).getTime()),
      roleArn,
      ...(identityId !== undefined ? { identityId } : {}),
    });
  }

  // ---- identity pool ----

  function loginsKey(principal: TenantPrincipal): string {
    // The provider name an identity pool knows a user pool by: cognito-idp.<region>.amazonaws.com/<poolId>,
    // i.e. the token's issuer without its scheme.
    return principal.issuer.replace(/^https?:\/\//, "");
  }

  function planIdentityPool(principal: TenantPrincipal, token: string | undefined): { key: string; run: (deadline: number) => Promise<TenantCredentials> } {
    if (principal.tokenUse !== "id") {
      throw new TenantAuthError("invalid_request", "Identity pool credentials need an ID token, not an access token");
    }
    const tenantId = activeTenant(principal);
    const roleArn = tenantRole(principal, tenantId);
    // The identity pool honours CustomRoleArn only when the token's cognito:roles holds it; any
    // other role would quietly fall back to cognito:preferred_role, which may be another tenant's.
    if (!principal.roles.some((r) => r.arn === roleArn)) {
      throw denied("The caller's token does not carry the active tenant's IAM role");
    }
    const raw = token ?? tokenOf(principal);
    if (typeof raw !== "string" || raw.length === 0) {
      throw unavailable("identity pool mode needs the raw ID token: a principal from resolveTenant, or options.token");
    }
    if (token !== undefined && !tokenBelongsTo(token, principal)) throw unavailable("options.token is not the token of the principal");
    const provider = loginsKey(principal);
    const idKey = `${pool!.identityPoolId}\u0000${provider}\u0000${principal.sub}`;
    return {
      key: `pool\u0000${idKey}\u0000${roleArn}`,
      run: async (deadline) => {
        const m = await loadCognito();
        const logins = { [provider]: raw };
        let identityId = identityIds?.get(idKey);
        if (identityId === undefined) {
          const out = (await call(async () => new m.GetIdCommand({ IdentityPoolId: pool!.identityPoolId, Logins: logins, ...(pool!.accountId ? { AccountId: pool!.accountId } : {}) }), deadline)) as {
            IdentityId?: unknown;
          };
          if (typeof out?.IdentityId !== "string" || out.IdentityId === "") throw unavailable("GetId answered without an IdentityId");
          identityId = out.IdentityId;
        }
        const id = identityId;
        let out: { IdentityId?: unknown; Credentials?: unknown };
        try {
          out = (await call(async () => new m.GetCredentialsForIdentityCommand({ IdentityId: id, Logins: logins, CustomRoleArn: roleArn }), deadline)) as typeof out;
        } catch (err) {
          // A remembered identity the pool no longer knows (deleted, merged) must not fail every refresh.
          identityIds?.delete(idKey);
          throw err;
        }
        if (out?.IdentityId !== undefined && out.IdentityId !== id) throw unavailable("GetCredentialsForIdentity answered for another identity");
        const creds = credentialsFrom(out?.Credentials, roleArn, id, "SecretKey");
        identityIds?.set(idKey, id);
        return creds;
      },
    };
  }

  // ---- assume role ----

  function planAssumeRole(principal: TenantPrincipal): { key: string; run: (deadline: number) => Promise<TenantCredentials> } {
    const a = assume!;
    const tenantId = activeTenant(principal);
    let roleArn: string;
    let tags: Readonly<Record<string, string>>;
    let policy: string | undefined;
    try {
      roleArn = a.roleArn === undefined ? tenantRole(principal, tenantId) : typeof a.roleArn === "function" ? a.roleArn(principal) : a.roleArn;
      tags = a.tags ? a.tags(principal) : { TenantId: tenantId };
      const p = a.sessionPolicy?.(principal);
      policy = p === undefined || typeof p === "string" ? p : JSON.stringify(p);
    } catch (err) {
      if (isTenantAuthError(err)) throw err;
      throw unavailable("a credentials callback threw", err);
    }
    if (typeof roleArn !== "string" || !parseIamRoleArn(roleArn)) throw denied("The active tenant has no valid IAM role", new TypeError(`assumeRole.roleArn gave ${describeValue(roleArn)}`));
    const sessionName = roleSessionNameFor(principal.sub, tenantId);
    try {
      if (typeof tags !== "object" || tags === null || Array.isArray(tags)) throw new StsLimitError(`assumeRole.tags must return an object, got ${describeValue(tags)}`);
      checkSessionTags(tags);
      if (policy !== undefined) checkSessionPolicy(policy);
      checkRoleSessionName(sessionName);
    } catch (err) {
      // Deterministic for this principal: retrying cannot help, so not a 503; the limit is in `cause`.
      throw denied("No credentials can be issued for this request", err);
    }
    const duration = a.durationSeconds ?? 3600;
    const tagList = Object.keys(tags)
      .sort()
      .map((Key) => ({ Key, Value: tags[Key] as string }));
    const key = `sts\u0000${createHash("sha256")
      .update(JSON.stringify([roleArn, sessionName, tagList, policy ?? null, duration]))
      .digest("base64url")}`;
    return {
      key,
      run: async (deadline) => {
        const m = await loadSts();
        const input = {
          RoleArn: roleArn,
          RoleSessionName: sessionName,
          DurationSeconds: duration,
          ...(tagList.length > 0 ? { Tags: tagList } : {}),
          ...(policy !== undefined ? { Policy: policy } : {}),
        };
        const out = (await call(async () => new m.AssumeRoleCommand(input), deadline)) as { Credentials?: unknown };
        return credentialsFrom(out?.Credentials, roleArn, undefined, "SecretAccessKey");
      },
    };
  }

  function forPrincipal(principal: TenantPrincipal, callOptions: ForPrincipalOptions = {}): Promise<TenantCredentials> {
    // A principal kept past its token's life (a background job holding it) gets nothing: in
    // assume-role mode no token reaches AWS, so nothing else would stop it.
    const expiresAt = (principal as { expiresAt?: unknown } | null)?.expiresAt;
    if (!(expiresAt instanceof Date) || !(expiresAt.getTime() > Date.now())) {
      return Promise.reject(new TenantAuthError("token_expired", "The principal's token has expired"));
    }
    if (cache && callOptions.token === undefined) {
      const known = keys.get(principal);
      if (known !== undefined) {
        const hit = cache.get(known);
        if (hit && hit.freshUntilMs > Date.now()) return Promise.resolve(hit.credentials);
      }
    }
    let plan: { key: string; run: (deadline: number) => Promise<TenantCredentials> };
    try {
      plan = pool ? planIdentityPool(principal, callOptions.token) : planAssumeRole(principal);
    } catch (err) {
      return Promise.reject(err);
    }
    if (callOptions.token === undefined) keys.set(principal, plan.key);
    const now = Date.now();
    if (cache) {
      const hit = cache.get(plan.key);
      if (hit && hit.freshUntilMs > now) return Promise.resolve(hit.credentials);
      if (hit) cache.delete(plan.key);
    }
    const running = inflight.get(plan.key);
    if (running) return running;
    const asked = generation;
    const deadline = now + timeoutMs;
    const promise = new Promise<TenantCredentials>((resolve, reject) => {
      // The SDK is told to abort at the deadline; this timer also covers a call that ignores it.
      const timer = setTimeout(() => reject(unavailable("AWS did not answer in time")), timeoutMs);
      plan.run(deadline).then(
        (creds) => {
          clearTimeout(timer);
          if (Date.now() > deadline) return reject(unavailable("AWS did not answer in time"));
          const freshUntilMs = creds.expiration.getTime() - marginMs;
          if (cache && asked === generation && freshUntilMs > Date.now()) cache.set(plan.key, { credentials: creds, freshUntilMs });
          resolve(creds);
        },
        (err: unknown) => {
          clearTimeout(timer);
          if (isTenantAuthError(err)) return reject(err);
          // STS compresses the session policy and tags into a packed form whose limit cannot be
          // computed here; going over it depends on the principal alone, like the limits checked first.
          if ((err as { name?: unknown } | null)?.name === "PackedPolicyTooLargeException") return reject(denied("No credentials can be issued for this request", err));
          const name = (err as { name?: unknown } | null | undefined)?.name;
          reject(unavailable(`AWS refused: ${typeof name === "string" ? name : "error"}`, err));
        },
      );
    }).finally(() => {
      if (inflight.get(plan.key) === promise) inflight.delete(plan.key);
    });
    inflight.set(plan.key, promise);
    return promise;
  }

  return {
    forPrincipal,
    provider(principal, callOptions) {
      return async () => {
        const c = await forPrincipal(principal, callOptions);
        return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: c.expiration };
      };
    },
    async ready() {
      await getClient();
      if (pool) await loadCognito();
      else await loadSts();
    },
    clearCache() {
      generation++;
      inflight.clear();
      cache?.clear();
      identityIds?.clear();
    },
    get cacheSize() {
      return cache?.size ?? 0;
    },
  };
}
