import type { JwkWithKid } from "aws-jwt-verify/jwk";
import { BoundedCache } from "./cache.js";
import { TenantAuthError, isTenantAuthError } from "./errors.js";
import { TOKEN_AGE_RULE, signInTimeSeconds, tokenTooOld } from "./guards.js";
import type { OptionsSchema } from "./options.js";
import { checkOption, nestedOptions, validateOptions } from "./options.js";
import type { NormalizedClaims } from "./claims.js";
import { normalizeClaims } from "./claims.js";
import { extractToken, likelyToken } from "./extract-token.js";
import type { JwksOptions } from "./jwks.js";
import type { TenantPrincipal, TenantPrincipalWithTenant } from "./principal.js";
import { buildPrincipal } from "./principal.js";
import { rememberToken, tokenMemory } from "./principal-token.js";
import type { TelemetrySpan } from "./telemetry.js";
import { endSpan, startSpan, startTelemetry, tracing } from "./telemetry.js";
import type { TenantMembership, TenantResolver, TenantStrategy } from "./tenancy.js";
import { compileTenantStrategy, normalizeTenantHint, validateTenantStrategy } from "./tenancy.js";
import type { UserPoolCacheOptions, UserPoolResolver } from "./trust.js";
import { DynamicUserPools, EMULATOR_ISSUERS_RULE, OPTIONAL_USER_POOLS_RULE, USER_POOL_CACHE_SCHEMA, createTrustedVerifier } from "./trust.js";
import type { UserPoolConfig, VerifiedToken } from "./verify.js";
import { CognitoTokenVerifier, DEFAULT_MAX_TOKEN_LENGTH, USER_POOLS_RULE, VERIFIER_OPTIONS_SCHEMA } from "./verify.js";

/** Options of {@link createTenantAuth}. */
export interface TenantAuthOptions {
  /** The pools whose tokens are accepted. May be empty (`[]`) when `resolveUserPool` is given. */
  userPools: readonly UserPoolConfig[];
  /**
   * Pools found at run time (a pool per tenant, added while the app runs): called with a token's
   * unverified `iss`, and only when it is a syntactically valid Cognito issuer (either AWS form) or
   * matches `emulatorIssuers`; returns that pool's config from your store, or `undefined` when the
   * issuer is not yours. The config must name that same pool (its issuer equal to the token's
   * `iss`), else the token is refused (401). Keys are fetched only from the returned config. One
   * call per issuer however many requests arrive at once; answers are cached (`userPoolCache`). A
   * resolver that throws, answers something that is not a pool config, or takes longer than
   * `resolveUserPoolTimeoutMs` gives 503 `jwks_unavailable` (fail closed), and is asked again on
   * the next request.
   */
  resolveUserPool?: UserPoolResolver;
  /** The caches behind `resolveUserPool`: default `{ maxEntries: 1000, ttlMs: 900000, negativeMaxEntries: 10000, negativeTtlMs: 60000 }`. */
  userPoolCache?: UserPoolCacheOptions;
  /** How long `resolveUserPool` may take before the request is refused with 503; default 3000 ms. */
  resolveUserPoolTimeoutMs?: number;
  /**
   * Issuers other than Cognito's that `resolveUserPool` may be asked about, for emulators and
   * tests: URL prefixes ending in `/` (`"http://127.0.0.1:9229/"`) or RegExps matching the whole issuer.
   */
  emulatorIssuers?: readonly (string | RegExp)[];
  /** How tenants are found in a token; default `{ from: "groups" }` (`tenant:<id>[:<role>]`). */
  tenants?: TenantStrategy;
  /**
   * Default `true`: a caller with no tenant is refused (`tenant_missing`), and so is one with
   * several and nothing to choose (`tenant_ambiguous`). `false` resolves them with `tenantId: undefined`.
   */
  requireTenant?: boolean;
  /**
   * Seconds of leeway on `exp` and `nbf` for clock skew; default 0, at most 300. A token is
   * accepted while now < exp + tolerance. The bound: tolerance is for clocks a few seconds or
   * minutes apart; more would silently lengthen every token's life, which is Cognito's setting.
   */
  clockToleranceSeconds?: number;
  /**
   * The verified-token cache: a token seen before resolves without a second signature check until
   * its `exp`, its `maxTokenAgeSeconds` deadline, or until its key leaves the
   * JWKS. Default `{ maxEntries: 10000 }` (an integer from 1 to 10000000); `false` switches it off.
   */
  cache?: false | { maxEntries?: number };
  /** JWKS fetching: timeout, refetch limits, plain-http opt-in. */
  jwks?: JwksOptions;
  /** Longest token accepted, refused before any parsing; default 98304 characters (96 KiB), from 64 to 1048576. */
  maxTokenLength?: number;
  /**
   * Refuse (401 `token_expired`) tokens whose sign-in (`auth_time`, else `iat`) is this many
   * seconds old or older; default none. Bounds how long a user removed in Cognito keeps access
   * through refreshed tokens: a refresh keeps `auth_time`. A pool's own `maxTokenAgeSeconds`
   * overrides it. No cost per request: it only shortens the verified-token cache's deadline.
   */
  maxTokenAgeSeconds?: number;
  /**
   * Ask your own store whether a principal may still act (a user removed from a tenant, a
   * session signed out): `true` refuses with 401 `token_invalid` ("revoked"). If it throws, returns
   * something else than a boolean, or does not answer within `revocationTimeoutMs`, the request
   * is refused with 503 `tenant_unavailable` (fail closed). Called after verification and tenant
   * resolution, cached tokens included; answers are cached per issuer, `sub`, active tenant and
   * sign-in session (`origin_jti`, else `jti`) for `revocationCache.ttlMs`: the cost is one call
   * per principal per TTL, and a revocation takes effect within the TTL.
   */
  isRevoked?: (principal: TenantPrincipal) => boolean | Promise<boolean>;
  /**
   * The cache of `isRevoked` answers: default `{ maxEntries: 10000, ttlMs: 30000 }`; `ttlMs: 0`
   * asks on every request. Only with `isRevoked`.
   */
  revocationCache?: { maxEntries?: number; ttlMs?: number };
  /** How long `isRevoked` may take before the request is refused with 503; default 2000 ms. Only with `isRevoked`. */
  revocationTimeoutMs?: number;
}

const MAX_CACHE_ENTRIES = 10_000_000;

const CACHE_SCHEMA: OptionsSchema = { maxEntries: { type: "number", integer: true, min: 1, max: MAX_CACHE_ENTRIES } };

const REVOCATION_CACHE_SCHEMA: OptionsSchema = {
  maxEntries: { type: "number", integer: true, min: 1, max: MAX_CACHE_ENTRIES },
  ttlMs: { type: "number", integer: true, min: 0, max: 3_600_000 },
};

const CACHE_RULE = nestedOptions(CACHE_SCHEMA);

/** Every option of {@link createTenantAuth}, checked at setup. */
const TENANT_AUTH_SCHEMA: OptionsSchema = {
  userPools: OPTIONAL_USER_POOLS_RULE,
  resolveUserPool: { type: "function" },
  userPoolCache: nestedOptions(USER_POOL_CACHE_SCHEMA),
  resolveUserPoolTimeoutMs: { type: "number", integer: true, min: 1, max: 60_000 },
  emulatorIssuers: EMULATOR_ISSUERS_RULE,
  tenants: { type: "custom", check: (value) => validateTenantStrategy(value, { where: WHERE, path: "tenants." }) },
  requireTenant: { type: "boolean" },
  ...VERIFIER_OPTIONS_SCHEMA,
  cache: {
    type: "custom",
    check: (value, name) => {
      // `true` would read as "on" but is not an options object: say so rather than guess.
      if (value !== false) checkOption(value, name, CACHE_RULE);
    },
  },
  maxTokenAgeSeconds: TOKEN_AGE_RULE,
  isRevoked: { type: "function" },
  revocationCache: nestedOptions(REVOCATION_CACHE_SCHEMA),
  revocationTimeoutMs: { type: "number", integer: true, min: 1, max: 60_000 },
};

const WHERE = "createTenantAuth";

/** Per-call options of {@link TenantAuth.resolveTenant}. */
export interface ResolveTenantOptions {
  /**
   * The tenant the request asks to act for (adapters read `x-tenant-id` or a route parameter).
   * It must name one of the caller's tenants, else `tenant_forbidden` (403). Empty means none.
   */
  tenantHint?: string | null | undefined;
}

/**
 * What {@link createTenantAuth} returns. `P` is the principal it resolves: with a tenant required
 * (the default) {@link TenantPrincipalWithTenant}, whose `tenantId` is a `string`.
 */
export interface TenantAuth<P extends TenantPrincipal = TenantPrincipal> {
  /**
   * Verify a token (raw JWT or `Authorization` header value) and resolve the tenant it acts for.
   * Rejects with a {@link TenantAuthError} for every bad input; never resolves for one.
   */
  resolveTenant(tokenOrHeader: string | readonly string[] | null | undefined, options?: ResolveTenantOptions): Promise<P>;
  /**
   * Fetch the keys of every pool now (e.g. at cold start), so the first request does not wait.
   * With `resolveUserPool`, also resolve these issuers and fetch their keys.
   */
  hydrate(issuers?: readonly string[]): Promise<void>;
  /** Forget every cached principal. */
  clearCache(): void;
}

interface CacheEntry {
  /** The verified token; a hit requires the whole token to be equal, never just the key. */
  readonly token: string;
  readonly expiresAtMs: number;
  readonly jwksUri: string;
  readonly kid: string;
  readonly jwk: JwkWithKid;
  readonly identity: NormalizedClaims;
  readonly memberships: readonly TenantMembership[];
  /** The principal without a hint, once built. */
  principal: TenantPrincipal | undefined;
  /** Principals per tenant hint, made on the first hint. Only hints that name a membership get in. */
  byHint: Map<string, TenantPrincipal> | undefined;
}

// Cache key: the token's last characters, which are its signature's (192 bits of it). Hashing a
// whole token (1 KB and more) for a Map lookup cost more than everything else on a cache hit;
// a hit still requires the whole token to be equal (see lookup), so a shared tail only ever
// means a miss. A header value "Bearer <token>" ends with the same characters as its token.
const CACHE_KEY_LENGTH = 32;

function cacheKey(value: string): string {
  return value.length > CACHE_KEY_LENGTH ? value.slice(-CACHE_KEY_LENGTH) : value;
}

/** `value === token` or `value === "Bearer " + token`, without building the concatenation. */
function isTokenOrBearer(value: string, token: string): boolean {
  if (value.length === token.length) return value === token;
  // slice + === compares with memcmp; endsWith walks character by character.
  return value.length === token.length + 7 && value.startsWith("Bearer ") && value.slice(7) === token;
}

/**
 * Create the tenant resolver for your API. Do it once, at start: configuration mistakes throw a
 * `TypeError` here, and the key and principal caches live in the returned object.
 *
 * @example
 * ```ts
 * const auth = createTenantAuth({
 *   userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }],
 * });
 * const principal = await auth.resolveTenant(req.headers.authorization, { tenantHint: req.headers["x-tenant-id"] });
 * principal.tenantId; // "acme"
 * ```
 */
export function createTenantAuth(options: TenantAuthOptions & { requireTenant?: true }): TenantAuth<TenantPrincipalWithTenant>;
export function createTenantAuth(options: TenantAuthOptions): TenantAuth;
export function createTenantAuth(options: TenantAuthOptions): TenantAuth {
  validateOptions(options, TENANT_AUTH_SCHEMA, { where: WHERE });
  if (options.isRevoked === undefined) {
    // Revocation settings without the hook would read as a check that is not there.
    for (const key of ["revocationCache", "revocationTimeoutMs"] as const) {
      if (options[key] !== undefined) throw new TypeError(`${WHERE}: ${key} needs isRevoked (the revocation check it configures)`);
    }
  }
  if (options.resolveUserPool === undefined) {
    // Without a resolver, an empty list would accept nothing: say so now, not on every request.
    try {
      checkOption(options.userPools, "userPools", USER_POOLS_RULE);
    } catch (err) {
      throw new TypeError(`${WHERE}: ${(err as Error).message} (or give resolveUserPool to find pools at run time)`, { cause: err });
    }
    for (const key of ["userPoolCache", "resolveUserPoolTimeoutMs", "emulatorIssuers"] as const) {
      if (options[key] !== undefined) throw new TypeError(`${WHERE}: ${key} needs resolveUserPool (the lookup it configures)`);
    }
  }
  void startTelemetry();
  const verifierOptions = {
    ...(options.jwks === undefined ? {} : { jwks: options.jwks }),
    ...(options.clockToleranceSeconds === undefined ? {} : { clockToleranceSeconds: options.clockToleranceSeconds }),
    ...(options.maxTokenLength === undefined ? {} : { maxTokenLength: options.maxTokenLength }),
  };
  const userPools = options.userPools ?? [];
  const staticVerifier = userPools.length === 0 ? undefined : new CognitoTokenVerifier(userPools, verifierOptions);
  const verifier =
    options.resolveUserPool === undefined
      ? (staticVerifier as CognitoTokenVerifier)
      : createTrustedVerifier(
          staticVerifier,
          new DynamicUserPools(options.resolveUserPool, {
            ...(options.userPoolCache === undefined ? {} : { cache: options.userPoolCache }),
            ...(options.resolveUserPoolTimeoutMs === undefined ? {} : { timeoutMs: options.resolveUserPoolTimeoutMs }),
            ...(options.emulatorIssuers === undefined ? {} : { emulatorIssuers: options.emulatorIssuers }),
            verifierOptions,
          }),
          options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH,
        );
  const resolver: TenantResolver = compileTenantStrategy(options.tenants);
  const requireTenant = options.requireTenant ?? true;
  const cache = options.cache === false ? undefined : new BoundedCache<CacheEntry>(options.cache?.maxEntries ?? 10_000);
  // Static pools only: their key cache itself, so the warm path pays no indirection.
  const jwks = verifier instanceof CognitoTokenVerifier ? verifier.jwks : verifier;
  const maxTokenAgeSeconds = options.maxTokenAgeSeconds;
  const revocation = options.isRevoked === undefined ? undefined : createRevocationCheck(options.isRevoked, options.revocationCache ?? {}, options.revocationTimeoutMs ?? 2000);

  function principalFor(entry: CacheEntry, hint: string | undefined): TenantPrincipal {
    let principal: TenantPrincipal | undefined;
    if (hint === undefined) {
      principal = entry.principal ??= build(entry, undefined);
    } else {
      principal = entry.byHint?.get(hint);
      if (principal === undefined) {
        principal = build(entry, hint);
        (entry.byHint ??= new Map()).set(hint, principal);
      }
    }
    // Only once a withToken engine exists: registered on every serve, so cached principals join too.
    if (tokenMemory.on) rememberToken(principal, entry.token);
    return principal;
  }

  function build(entry: CacheEntry, hint: string | undefined): TenantPrincipal {
    const active = resolver.select(entry.memberships, entry.identity, hint, requireTenant);
    return buildPrincipal(entry.identity, entry.memberships, active);
  }

  /** The entry for `value` (a token, or `Bearer <token>`) if it may still be served. */
  function lookup(value: string): CacheEntry | undefined {
    const key = cacheKey(value);
    const entry = (cache as BoundedCache<CacheEntry>).get(key);
    if (entry === undefined || !isTokenOrBearer(value, entry.token)) return undefined;
    // Never at or past exp or the sign-in age deadline; never once the key that verified it is
    // gone or changed. A miss goes through verification again, which gives the refusal.
    if (Date.now() < entry.expiresAtMs && jwks.currentJwk(entry.jwksUri, entry.kid) === entry.jwk) return entry;
    (cache as BoundedCache<CacheEntry>).delete(key);
    return undefined;
  }

  // Synchronous unless a custom resolver is async: returning a promise from resolveTenant's
  // async body would cost extra microtask turns on every cold call.
  function finish(token: string, verified: VerifiedToken, hint: string | undefined): TenantPrincipal | Promise<TenantPrincipal> {
    const identity = normalizeClaims(verified.payload, { userPoolId: verified.pool.userPoolId });
    const expiresAtMs = servableUntil(verified, identity);
    const found = resolver.memberships(identity);
    if (Array.isArray(found)) return store(token, verified, identity, found as readonly TenantMembership[], hint, expiresAtMs);
    return Promise.resolve(found).then((memberships) => store(token, verified, identity, memberships, hint, expiresAtMs));
  }

  /**
   * Until when a verified token may be served: its exp, or earlier its sign-in age deadline.
   * Refuses a sign-in already too old before any tenant lookup runs for it.
   */
  function servableUntil(verified: VerifiedToken, identity: NormalizedClaims): number {
    // Cached until exp, not exp + tolerance: a token inside its tolerance is verified every time,
    // so the cache is never more lenient than the verifier.
    const expiresAtMs = identity.expiresAt.getTime();
    const maxAge = verified.pool.maxTokenAgeSeconds ?? maxTokenAgeSeconds;
    if (maxAge === undefined) return expiresAtMs;
    const deadlineMs = (signInTimeSeconds(identity.claims) + maxAge) * 1000;
    if (!(Date.now() < deadlineMs)) throw tokenTooOld();
    return Math.min(deadlineMs, expiresAtMs);
  }

  function store(
    token: string,
    verified: VerifiedToken,
    identity: NormalizedClaims,
    memberships: readonly TenantMembership[],
    hint: string | undefined,
    expiresAtMs: number,
  ): TenantPrincipal | Promise<TenantPrincipal> {
    const entry: CacheEntry = {
      token,
      expiresAtMs,
      jwksUri: verified.jwksUri,
      kid: verified.kid,
      jwk: verified.jwk,
      identity,
      memberships,
      principal: undefined,
      byHint: undefined,
    };
    if (cache !== undefined && Date.now() < entry.expiresAtMs) cache.set(cacheKey(token), entry);
    return serve(entry, hint);
  }

  /** The principal for `entry`, after the revocation check when there is one. */
  function serve(entry: CacheEntry, hint: string | undefined): TenantPrincipal | Promise<TenantPrincipal> {
    const principal = principalFor(entry, hint);
    return revocation === undefined ? principal : revocation.check(principal);
  }

  return {
    resolveTenant(tokenOrHeader, resolveOptions) {
      return tracing.on ? resolveTraced(tokenOrHeader, resolveOptions) : resolve(tokenOrHeader, resolveOptions, undefined);
    },
    hydrate: (issuers) => {
      if (issuers !== undefined && options.resolveUserPool === undefined) {
        return Promise.reject(new TypeError(`${WHERE}: hydrate(issuers) needs resolveUserPool (the lookup it warms)`));
      }
      return verifier.hydrate(issuers);
    },
    clearCache: () => {
      if (!(verifier instanceof CognitoTokenVerifier)) verifier.clear();
      cache?.clear();
      revocation?.clear();
    },
  };

  /** resolveTenant inside a span: whether the cache served it, the pool and tenant, or the error code. */
  async function resolveTraced(tokenOrHeader: Parameters<TenantAuth["resolveTenant"]>[0], resolveOptions: ResolveTenantOptions | undefined): Promise<TenantPrincipal> {
    const span = startSpan("cognito_tenancy.resolve_tenant");
    let hit = false;
    if (cache !== undefined && typeof tokenOrHeader === "string") hit = lookup(tokenOrHeader) !== undefined;
    try {
      const principal = await resolve(tokenOrHeader, resolveOptions, span);
      endSpan(span, undefined, {
        "cognito_tenancy.cache_hit": hit,
        "cognito_tenancy.user_pool_id": principal.userPoolId,
        "cognito_tenancy.token_use": principal.tokenUse,
        "cognito_tenancy.tenant_id": principal.tenantId,
      });
      return principal;
    } catch (err) {
      endSpan(span, err, { "cognito_tenancy.cache_hit": hit });
      throw err;
    }
  }

  /** One signature check, in a span of its own under `parent` when tracing. */
  function verifyToken(token: string, parent: TelemetrySpan | undefined): VerifiedToken | Promise<VerifiedToken> {
    if (parent === undefined) return verifier.verify(token);
    const span = startSpan("cognito_tenancy.verify", {}, parent);
    try {
      const pending = verifier.verify(token);
      if (!("then" in pending)) {
        endSpan(span, undefined, { "cognito_tenancy.user_pool_id": pending.pool.userPoolId, "cognito_tenancy.keys_fetched": false });
        return pending;
      }
      return pending.then(
        (verified) => {
          endSpan(span, undefined, { "cognito_tenancy.user_pool_id": verified.pool.userPoolId, "cognito_tenancy.keys_fetched": true });
          return verified;
        },
        (err: unknown) => {
          endSpan(span, err);
          throw err;
        },
      );
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  }

  async function resolve(tokenOrHeader: Parameters<TenantAuth["resolveTenant"]>[0], resolveOptions: ResolveTenantOptions | undefined, span: TelemetrySpan | undefined): Promise<TenantPrincipal> {
    // Fast path: a verified token again, raw or as exactly "Bearer <token>". extractToken
    // would return that token without complaint (a compact JWS is a valid b64token), so
    // skipping it changes no outcome.
    if (cache !== undefined && typeof tokenOrHeader === "string") {
      const entry = lookup(tokenOrHeader);
      if (entry !== undefined) return serve(entry, normalizeTenantHint(resolveOptions?.tenantHint));
    }
    // The outcome must be the one of: extractToken (its errors first), then the hint (its
    // errors next), then verification. The common cases skip the extractor's scan of the whole
    // token: the likely token is verified first, and the extractor runs only when something fails.
    let hint: string | undefined;
    try {
      hint = normalizeTenantHint(resolveOptions?.tenantHint);
    } catch (err) {
      extractToken(tokenOrHeader);
      throw err;
    }
    let token: string;
    if (typeof tokenOrHeader === "string") {
      token = likelyToken(tokenOrHeader);
    } else {
      token = extractToken(tokenOrHeader);
      const entry = cache === undefined ? undefined : lookup(token);
      if (entry !== undefined) return serve(entry, hint);
    }
    let verified: VerifiedToken;
    try {
      const pending = verifyToken(token, span);
      verified = "then" in pending ? await pending : pending;
    } catch (err) {
      const extracted = extractToken(tokenOrHeader);
      if (extracted === token) throw err;
      // A form the likely token missed ("bearer  <jws> ", " <jws>"): the cache first.
      token = extracted;
      const entry = cache === undefined ? undefined : lookup(token);
      if (entry !== undefined) return serve(entry, hint);
      const pending = verifyToken(token, span);
      verified = "then" in pending ? await pending : pending;
    }
    return finish(token, verified, hint);
  }
}

interface RevocationCheck {
  check(principal: TenantPrincipal): TenantPrincipal | Promise<TenantPrincipal>;
  clear(): void;
}

function revoked(): TenantAuthError {
  return new TenantAuthError("token_invalid", "The token has been revoked");
}

function revocationUnavailable(cause: unknown): TenantAuthError {
  return new TenantAuthError("tenant_unavailable", "The revocation status could not be checked", { cause });
}

/**
 * The `isRevoked` hook behind a bounded, short-lived cache of its answers, with concurrent asks
 * for one principal sharing one call. Failures are never cached: the next request asks again.
 */
function createRevocationCheck(isRevoked: (principal: TenantPrincipal) => boolean | Promise<boolean>, cacheOptions: { maxEntries?: number; ttlMs?: number }, timeoutMs: number): RevocationCheck {
  const ttlMs = cacheOptions.ttlMs ?? 30_000;
  const answers = new BoundedCache<{ readonly revoked: boolean; readonly untilMs: number }>(cacheOptions.maxEntries ?? 10_000);
  const pending = new Map<string, Promise<boolean>>();

  async function ask(principal: TenantPrincipal, key: string): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(revocationUnavailable(new Error(`isRevoked did not answer within ${timeoutMs} ms`))), timeoutMs);
      timer.unref?.();
    });
    let answer: unknown;
    try {
      answer = await Promise.race([Promise.resolve().then(() => isRevoked(principal)), timeout]);
    } catch (err) {
      throw isTenantAuthError(err) && err.code === "tenant_unavailable" ? err : revocationUnavailable(err);
    } finally {
      clearTimeout(timer);
    }
    if (typeof answer !== "boolean") throw revocationUnavailable(new TypeError("isRevoked must return true or false"));
    if (ttlMs > 0) answers.set(key, { revoked: answer, untilMs: Date.now() + ttlMs });
    return answer;
  }

  return {
    check(principal) {
      const claims = principal.claims;
      const session = claims["origin_jti"] ?? claims["jti"] ?? "";
      const key = `${principal.issuer}\n${principal.sub}\n${principal.tenantId ?? ""}\n${String(session)}`;
      const known = answers.get(key);
      if (known !== undefined && Date.now() < known.untilMs) {
        if (known.revoked) throw revoked();
        return principal;
      }
      let asking = pending.get(key);
      if (asking === undefined) {
        asking = ask(principal, key).finally(() => pending.delete(key));
        pending.set(key, asking);
      }
      return asking.then((isRevokedNow) => {
        if (isRevokedNow) throw revoked();
        return principal;
      });
    },
    clear() {
      answers.clear();
    },
  };
}
