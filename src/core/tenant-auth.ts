import type { JwkWithKid } from "aws-jwt-verify/jwk";
import { BoundedCache } from "./cache.js";
import type { NormalizedClaims } from "./claims.js";
import { normalizeClaims } from "./claims.js";
import { extractToken, likelyToken } from "./extract-token.js";
import type { JwksOptions } from "./jwks.js";
import type { TenantPrincipal } from "./principal.js";
import { buildPrincipal } from "./principal.js";
import { rememberToken, tokenMemory } from "./principal-token.js";
import type { TenantMembership, TenantResolver, TenantStrategy } from "./tenancy.js";
import { compileTenantStrategy, normalizeTenantHint } from "./tenancy.js";
import type { UserPoolConfig, VerifiedToken } from "./verify.js";
import { CognitoTokenVerifier } from "./verify.js";

/** Options of {@link createTenantAuth}. */
export interface TenantAuthOptions {
  /** The pools whose tokens are accepted. */
  userPools: readonly UserPoolConfig[];
  /** How tenants are found in a token; default `{ from: "groups" }` (`tenant:<id>[:<role>]`). */
  tenants?: TenantStrategy;
  /**
   * Default `true`: a caller with no tenant is refused (`tenant_missing`), and so is one with
   * several and nothing to choose (`tenant_ambiguous`). `false` resolves them with `tenantId: undefined`.
   */
  requireTenant?: boolean;
  /** Seconds of leeway on `exp` and `nbf` for clock skew; default 0. */
  clockToleranceSeconds?: number;
  /**
   * The verified-token cache: a token seen before resolves without a second signature check until
   * its `exp`, or until its key leaves the JWKS. Default `{ maxEntries: 10000 }`; `false` switches it off.
   */
  cache?: false | { maxEntries?: number };
  /** JWKS fetching: timeout, refetch limits, plain-http opt-in. */
  jwks?: JwksOptions;
  /** Longest token accepted, refused before any parsing; default 98304 characters (96 KiB). */
  maxTokenLength?: number;
}

/** Per-call options of {@link TenantAuth.resolveTenant}. */
export interface ResolveTenantOptions {
  /**
   * The tenant the request asks to act for (adapters read `x-tenant-id` or a route parameter).
   * It must name one of the caller's tenants, else `tenant_forbidden` (403). Empty means none.
   */
  tenantHint?: string | null | undefined;
}

/** What {@link createTenantAuth} returns. */
export interface TenantAuth {
  /**
   * Verify a token (raw JWT or `Authorization` header value) and resolve the tenant it acts for.
   * Rejects with a {@link TenantAuthError} for every bad input; never resolves for one.
   */
  resolveTenant(tokenOrHeader: string | readonly string[] | null | undefined, options?: ResolveTenantOptions): Promise<TenantPrincipal>;
  /** Fetch the keys of every pool now (e.g. at cold start), so the first request does not wait. */
  hydrate(): Promise<void>;
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
export function createTenantAuth(options: TenantAuthOptions): TenantAuth {
  if (typeof options !== "object" || options === null) throw new TypeError("createTenantAuth needs options");
  const verifierOptions = {
    ...(options.jwks === undefined ? {} : { jwks: options.jwks }),
    ...(options.clockToleranceSeconds === undefined ? {} : { clockToleranceSeconds: options.clockToleranceSeconds }),
    ...(options.maxTokenLength === undefined ? {} : { maxTokenLength: options.maxTokenLength }),
  };
  const verifier = new CognitoTokenVerifier(options.userPools, verifierOptions);
  const resolver: TenantResolver = compileTenantStrategy(options.tenants);
  const requireTenant = options.requireTenant ?? true;
  const cache = options.cache === false ? undefined : new BoundedCache<CacheEntry>(options.cache?.maxEntries ?? 10_000);
  const jwks = verifier.jwks;

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
    // Never past exp; never once the key that verified it is gone or changed.
    if (entry.expiresAtMs > Date.now() && jwks.currentJwk(entry.jwksUri, entry.kid) === entry.jwk) return entry;
    (cache as BoundedCache<CacheEntry>).delete(key);
    return undefined;
  }

  // Synchronous unless a custom resolver is async: returning a promise from resolveTenant's
  // async body would cost extra microtask turns on every cold call.
  function finish(token: string, verified: VerifiedToken, hint: string | undefined): TenantPrincipal | Promise<TenantPrincipal> {
    const identity = normalizeClaims(verified.payload, { userPoolId: verified.pool.userPoolId });
    const found = resolver.memberships(identity);
    if (Array.isArray(found)) return store(token, verified, identity, found as readonly TenantMembership[], hint);
    return Promise.resolve(found).then((memberships) => store(token, verified, identity, memberships, hint));
  }

  function store(
    token: string,
    verified: VerifiedToken,
    identity: NormalizedClaims,
    memberships: readonly TenantMembership[],
    hint: string | undefined,
  ): TenantPrincipal {
    const entry: CacheEntry = {
      token,
      expiresAtMs: identity.expiresAt.getTime(),
      jwksUri: verified.jwksUri,
      kid: verified.kid,
      jwk: verified.jwk,
      identity,
      memberships,
      principal: undefined,
      byHint: undefined,
    };
    if (cache !== undefined && entry.expiresAtMs > Date.now()) cache.set(cacheKey(token), entry);
    return principalFor(entry, hint);
  }

  return {
    async resolveTenant(tokenOrHeader, resolveOptions) {
      // Fast path: a verified token again, raw or as exactly "Bearer <token>". extractToken
      // would return that token without complaint (a compact JWS is a valid b64token), so
      // skipping it changes no outcome.
      if (cache !== undefined && typeof tokenOrHeader === "string") {
        const entry = lookup(tokenOrHeader);
        if (entry !== undefined) return principalFor(entry, normalizeTenantHint(resolveOptions?.tenantHint));
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
        if (entry !== undefined) return principalFor(entry, hint);
      }
      let verified: VerifiedToken;
      try {
        const pending = verifier.verify(token);
        verified = "then" in pending ? await pending : pending;
      } catch (err) {
        const extracted = extractToken(tokenOrHeader);
        if (extracted === token) throw err;
        // A form the likely token missed ("bearer  <jws> ", " <jws>"): the cache first.
        token = extracted;
        const entry = cache === undefined ? undefined : lookup(token);
        if (entry !== undefined) return principalFor(entry, hint);
        const pending = verifier.verify(token);
        verified = "then" in pending ? await pending : pending;
      }
      return finish(token, verified, hint);
    },
    hydrate: () => verifier.hydrate(),
    clearCache: () => cache?.clear(),
  };
}
