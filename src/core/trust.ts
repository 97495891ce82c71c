import { base64urlToText } from "./bytes.js";
import type { JwkWithKid } from "aws-jwt-verify/jwk";
import { BoundedCache } from "./cache.js";
import { TenantAuthError, isTenantAuthError } from "./errors.js";
import type { OptionRule, OptionsSchema } from "./options.js";
import { checkOption, describeValue, nestedOptions } from "./options.js";
import type { UserPoolConfig, VerifiedToken, VerifierOptions } from "./verify.js";
import { CognitoTokenVerifier, USER_POOL_SCHEMA } from "./verify.js";

/**
 * Looks up the pool of a token's issuer in your own store (a tenants table): the config of that
 * pool, or `undefined` (or `null`) when the issuer is not one of yours. It receives only the
 * issuer string, and only one that is a syntactically valid Cognito issuer or matches
 * `emulatorIssuers`; nothing in the token has been verified at that point.
 */
export type UserPoolResolver = (issuer: string) => UserPoolConfig | undefined | null | Promise<UserPoolConfig | undefined | null>;

/** The caches behind `resolveUserPool`. Every field has a default. */
export interface UserPoolCacheOptions {
  /** Resolved pools (each with its verifier and keys) kept at most, least recently used first out; default 1000. */
  maxEntries?: number;
  /** How long a resolved pool is trusted before the resolver is asked again; default 900000 ms (15 minutes). */
  ttlMs?: number;
  /** Issuers the resolver did not know, remembered at most; default 10000. */
  negativeMaxEntries?: number;
  /** How long an unknown issuer is refused without asking the resolver again; default 60000 ms, 0 to ask every time. */
  negativeTtlMs?: number;
}

/** The rules of {@link UserPoolCacheOptions}. */
export const USER_POOL_CACHE_SCHEMA: OptionsSchema = {
  maxEntries: { type: "number", integer: true, min: 1, max: 1_000_000 },
  ttlMs: { type: "number", integer: true, min: 1, max: 86_400_000 },
  negativeMaxEntries: { type: "number", integer: true, min: 1, max: 10_000_000 },
  negativeTtlMs: { type: "number", integer: true, min: 0, max: 3_600_000 },
};

/** The rule of `emulatorIssuers`: URL prefixes ending in `/`, or RegExps. */
export const EMULATOR_ISSUERS_RULE: OptionRule = {
  type: "custom",
  check: (value, name) => {
    if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of issuer prefixes or RegExps, got ${describeValue(value)}`);
    value.forEach((item: unknown, i) => {
      if (item instanceof RegExp) return;
      // A prefix without its closing slash would admit http://localhost:92290/ or http://localhost:9229.evil/.
      if (typeof item !== "string" || !/^https?:\/\/[^/]+\/$|^https?:\/\/[^/]+\/.*\/$/.test(item)) {
        throw new TypeError(`${name}[${i}] must be a RegExp or an http(s) URL prefix ending in "/" (e.g. "http://127.0.0.1:9229/"), got ${describeValue(item)}`);
      }
    });
  },
};

/** `userPools` when a resolver may stand in for it: the same pool rules, but empty is allowed. */
export const OPTIONAL_USER_POOLS_RULE: OptionRule = {
  type: "custom",
  check: (pools, name) => {
    if (!Array.isArray(pools)) throw new TypeError(`${name} must be an array of user pools, got ${describeValue(pools)}`);
    pools.forEach((pool: unknown, i) => checkOption(pool, `${name}[${i}]`, RESOLVED_POOL_RULE));
  },
};

const RESOLVED_POOL_RULE = nestedOptions(USER_POOL_SCHEMA, true);

/** The longest issuer ever looked up: Cognito's are under 120 characters. */
const MAX_ISSUER_LENGTH = 1024;

// The pool id shape aws-jwt-verify accepts (commercial, GovCloud and European Sovereign Cloud regions).
const REGION = "(?:eusc-[a-z]{2}|[a-z]{2})-(?:gov-)?[a-z]+-\\d";
const COGNITO_ISSUER = new RegExp(`^https://(?:issuer-)?cognito-idp\\.(${REGION})\\.amazonaws\\.com/((${REGION})_[a-zA-Z0-9]{1,48})$`);
const AWS_POOL_ID = new RegExp(`^(${REGION})_[a-zA-Z0-9]{1,48}$`);

/**
 * The pool id of a Cognito issuer, in either of AWS's forms (`https://cognito-idp.<region>.amazonaws.com/<poolId>`
 * and, for multi-Region replication, `https://issuer-cognito-idp.<region>.amazonaws.com/<poolId>`), or
 * `undefined`. Both forms name the pool's primary region, which its id starts with: an issuer
 * naming another region is not one Cognito mints.
 */
export function cognitoIssuerPoolId(issuer: string): string | undefined {
  if (issuer.length > MAX_ISSUER_LENGTH) return undefined;
  const m = COGNITO_ISSUER.exec(issuer);
  return m !== null && m[1] === m[3] ? m[2] : undefined;
}

/** Both AWS issuers of a pool id, or none when it is not one. */
function awsIssuers(userPoolId: string): readonly string[] {
  const region = AWS_POOL_ID.exec(userPoolId)?.[1];
  if (region === undefined) return [];
  return [`https://cognito-idp.${region}.amazonaws.com/${userPoolId}`, `https://issuer-cognito-idp.${region}.amazonaws.com/${userPoolId}`];
}

function issuerUnknown(): TenantAuthError {
  return new TenantAuthError("token_invalid", "The token's issuer is not accepted");
}

function lookupUnavailable(cause: unknown): TenantAuthError {
  return new TenantAuthError("jwks_unavailable", "The token's user pool could not be looked up", { cause });
}

interface PoolEntry {
  readonly issuer: string;
  /** The resolver's answer, serialized: an unchanged answer keeps the verifier and its keys. */
  readonly fingerprint: string;
  readonly verifier: CognitoTokenVerifier;
  readonly jwksUri: string;
  expiresAtMs: number;
  /**
   * Set on use since the entry was stored or last passed over by eviction, which moves used
   * entries to the back (second chance: LRU order at the cost of one write per hit).
   */
  used: boolean;
}

/** Options of {@link DynamicUserPools}. */
export interface DynamicUserPoolsOptions {
  readonly cache?: UserPoolCacheOptions;
  readonly timeoutMs?: number;
  readonly emulatorIssuers?: readonly (string | RegExp)[];
  readonly verifierOptions?: VerifierOptions;
}

/**
 * Pools found at run time by a resolver: the one place a token's unverified `iss` is used, and
 * only as a key to look up. Keys are fetched from the config the resolver returned, never from
 * anything the token says. One resolver call per new issuer however many requests wait for it;
 * a bounded LRU of verifiers with a TTL; a bounded, short-lived memory of unknown issuers.
 */
export class DynamicUserPools {
  private readonly pools = new Map<string, PoolEntry>();
  private readonly byUri = new Map<string, PoolEntry>();
  private readonly unknown: BoundedCache<number>;
  private readonly pending = new Map<string, Promise<PoolEntry>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly timeoutMs: number;
  private readonly prefixes: readonly string[];
  private readonly patterns: readonly RegExp[];
  private readonly verifierOptions: VerifierOptions;

  constructor(
    private readonly resolve: UserPoolResolver,
    options: DynamicUserPoolsOptions = {},
  ) {
    this.maxEntries = options.cache?.maxEntries ?? 1000;
    this.ttlMs = options.cache?.ttlMs ?? 900_000;
    this.negativeTtlMs = options.cache?.negativeTtlMs ?? 60_000;
    this.unknown = new BoundedCache<number>(options.cache?.negativeMaxEntries ?? 10_000);
    this.timeoutMs = options.timeoutMs ?? 3000;
    const allowed = options.emulatorIssuers ?? [];
    this.prefixes = allowed.filter((a): a is string => typeof a === "string");
    // Copies without g/y: a shared lastIndex would make matching depend on the previous token.
    this.patterns = allowed.filter((a): a is RegExp => a instanceof RegExp).map((r) => new RegExp(r.source, r.flags.replace(/[gy]/g, "")));
    this.verifierOptions = options.verifierOptions ?? {};
  }

  /** Resolved pools held now. */
  get size(): number {
    return this.pools.size;
  }

  /** Whether `issuer` may be looked up at all: a Cognito issuer, or one the app allowed for emulators. */
  eligible(issuer: string): boolean {
    if (cognitoIssuerPoolId(issuer) !== undefined) return true;
    if (issuer.length > MAX_ISSUER_LENGTH) return false;
    for (const prefix of this.prefixes) if (issuer.startsWith(prefix) && issuer.length > prefix.length) return true;
    for (const pattern of this.patterns) {
      const m = pattern.exec(issuer);
      if (m !== null && m.index === 0 && m[0].length === issuer.length) return true;
    }
    return false;
  }

  /**
   * The verifier of `issuer`'s pool: synchronously when resolved and fresh, else after one shared
   * resolver call. Rejects with `token_invalid` (unknown, mismatched or ineligible issuer) or
   * `jwks_unavailable` (the resolver failed, hung or answered garbage).
   */
  verifierFor(issuer: string): CognitoTokenVerifier | Promise<CognitoTokenVerifier> {
    const entry = this.pools.get(issuer);
    const now = Date.now();
    if (entry !== undefined && now < entry.expiresAtMs) {
      entry.used = true;
      return entry.verifier;
    }
    if (!this.eligible(issuer)) throw issuerUnknown();
    const until = this.unknown.get(issuer);
    if (until !== undefined) {
      if (now < until) throw issuerUnknown();
      this.unknown.delete(issuer);
    }
    let asking = this.pending.get(issuer);
    if (asking === undefined) {
      asking = this.lookup(issuer).finally(() => this.pending.delete(issuer));
      this.pending.set(issuer, asking);
    }
    return asking.then((found) => found.verifier);
  }

  /** The key in force for `kid` at `uri`, if its pool is still resolved and fresh. */
  currentJwk(uri: string, kid: string): JwkWithKid | undefined {
    const entry = this.byUri.get(uri);
    if (entry === undefined || !(Date.now() < entry.expiresAtMs)) return undefined;
    entry.used = true;
    return entry.verifier.jwks.currentJwk(uri, kid);
  }

  /** Resolve each issuer and fetch its keys now. Rejects naming the issuers that failed. */
  async hydrate(issuers: readonly string[]): Promise<void> {
    const list = [...new Set(issuers)];
    const results = await Promise.allSettled(
      list.map(async (issuer) => {
        if (typeof issuer !== "string" || !this.eligible(issuer)) throw issuerUnknown();
        const verifier = await this.verifierFor(issuer);
        await verifier.hydrate();
      }),
    );
    const failed = list.filter((_, i) => results[i]!.status === "rejected");
    if (failed.length === 0) return;
    const causes = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
    const unavailable = causes.some((c) => !isTenantAuthError(c) || c.code !== "token_invalid");
    // Start-up only: the issuers are the app's own list, so naming them leaks nothing.
    const names = failed.map((f) => String(f)).join(", ");
    throw unavailable
      ? new TenantAuthError("jwks_unavailable", `The user pools of ${names} could not be resolved or their keys fetched`, { cause: causes })
      : new TenantAuthError("token_invalid", `The issuers ${names} are not accepted`, { cause: causes });
  }

  /** Forget every resolved pool and unknown issuer. */
  clear(): void {
    this.pools.clear();
    this.byUri.clear();
    this.unknown.clear();
  }

  private async lookup(issuer: string): Promise<PoolEntry> {
    let answer: unknown;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`resolveUserPool did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref?.();
    });
    try {
      answer = await Promise.race([Promise.resolve().then(() => this.resolve(issuer)), timeout]);
    } catch (err) {
      throw lookupUnavailable(err);
    } finally {
      clearTimeout(timer);
    }
    if (answer === undefined || answer === null) return this.refuse(issuer);
    let config: UserPoolConfig;
    let expected: string | undefined;
    let fingerprint: string;
    try {
      checkOption(answer, "resolveUserPool()", RESOLVED_POOL_RULE);
      config = answer as UserPoolConfig;
      expected = sameIssuer(config, issuer);
      // Inside the try: a config JSON cannot represent (a BigInt, a cycle, a throwing toJSON) is
      // the resolver's failure, a 503, not an untyped error.
      fingerprint = JSON.stringify(config);
    } catch (err) {
      throw lookupUnavailable(err);
    }
    // A config for another pool is the resolver saying "not this issuer": never trust iss for it.
    if (expected === undefined) return this.refuse(issuer);
    const old = this.pools.get(issuer);
    if (old !== undefined && old.fingerprint === fingerprint) {
      // Same answer: keep the verifier and its keys, so cached principals stay valid.
      old.expiresAtMs = Date.now() + this.ttlMs;
      return old;
    }
    let verifier: CognitoTokenVerifier;
    let jwksUri: string;
    try {
      const pool: UserPoolConfig = { ...config, issuer: expected };
      jwksUri = pool.jwksUri ?? `${expected.replace(/\/$/, "")}/.well-known/jwks.json`;
      verifier = new CognitoTokenVerifier([pool], this.verifierOptions);
    } catch (err) {
      throw lookupUnavailable(err);
    }
    const entry: PoolEntry = { issuer, fingerprint, verifier, jwksUri, expiresAtMs: Date.now() + this.ttlMs, used: false };
    this.store(entry);
    return entry;
  }

  private refuse(issuer: string): never {
    this.drop(issuer);
    if (this.negativeTtlMs > 0) this.unknown.set(issuer, Date.now() + this.negativeTtlMs);
    throw issuerUnknown();
  }

  private store(entry: PoolEntry): void {
    this.drop(entry.issuer);
    while (this.pools.size >= this.maxEntries) this.evictOne();
    this.pools.set(entry.issuer, entry);
    this.byUri.set(entry.jwksUri, entry);
  }

  private drop(issuer: string): void {
    const entry = this.pools.get(issuer);
    if (entry === undefined) return;
    this.pools.delete(issuer);
    if (this.byUri.get(entry.jwksUri) === entry) this.byUri.delete(entry.jwksUri);
  }

  /** Second chance: the oldest entry not used since the last sweep goes; used ones move to the back. */
  private evictOne(): void {
    for (const entry of this.pools.values()) {
      if (entry.used && Date.now() < entry.expiresAtMs) {
        entry.used = false;
        this.pools.delete(entry.issuer);
        this.pools.set(entry.issuer, entry);
        continue;
      }
      this.drop(entry.issuer);
      return;
    }
  }
}

/**
 * The issuer the config names, when it is `token`'s: `issuer` itself if given (its pool id must be
 * the one a Cognito issuer names), else the AWS issuer of `userPoolId` in the token's form.
 */
function sameIssuer(config: UserPoolConfig, tokenIssuer: string): string | undefined {
  const poolId = cognitoIssuerPoolId(tokenIssuer);
  // The principal's userPoolId (and every entity id built from it) comes from the config.
  if (poolId !== undefined && config.userPoolId !== poolId) return undefined;
  if (config.issuer !== undefined) return config.issuer === tokenIssuer ? config.issuer : undefined;
  return awsIssuers(config.userPoolId).find((candidate) => candidate === tokenIssuer);
}

/** What createTenantAuth verifies with: its static pools, its resolved ones, or both. */
export interface TrustedVerifier {
  verify(token: string): VerifiedToken | Promise<VerifiedToken>;
  currentJwk(uri: string, kid: string): JwkWithKid | undefined;
  hydrate(issuers?: readonly string[]): Promise<void>;
  clear(): void;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The unverified `iss` of a token, only to choose which pool verifies it; `undefined` when there
 * is none. Anything malformed is left to the verifier, which refuses it with its usual error.
 */
function unverifiedIssuer(token: string): string | undefined {
  const first = token.indexOf(".");
  const second = token.indexOf(".", first + 1);
  if (first < 0 || second < 0) return undefined;
  try {
    const payload: unknown = JSON.parse(base64urlToText(token.slice(first + 1, second)));
    const iss = typeof payload === "object" && payload !== null ? (payload as { iss?: unknown }).iss : undefined;
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Static pools beside resolved ones: the token's unverified `iss` picks which verifier checks it;
 * a static pool's issuer is never looked up.
 */
export function createTrustedVerifier(staticVerifier: CognitoTokenVerifier | undefined, dynamic: DynamicUserPools, maxTokenLength: number): TrustedVerifier {
  function reject(token: string): never {
    if (token.length > maxTokenLength) throw new TenantAuthError("token_invalid", "The token is larger than accepted");
    if (token.includes("=") || !COMPACT_JWS.test(token)) throw new TenantAuthError("token_invalid", "The token is not a JWS in compact form");
    throw issuerUnknown();
  }
  return {
    verify(token) {
      if (token.length > maxTokenLength) return reject(token);
      const issuer = unverifiedIssuer(token);
      if (issuer === undefined) return staticVerifier === undefined ? reject(token) : staticVerifier.verify(token);
      if (staticVerifier !== undefined && staticVerifier.accepts(issuer)) return staticVerifier.verify(token);
      if (!dynamic.eligible(issuer)) return staticVerifier === undefined ? reject(token) : staticVerifier.verify(token);
      const found = dynamic.verifierFor(issuer);
      return "then" in found ? found.then((verifier) => verifier.verify(token)) : found.verify(token);
    },
    currentJwk(uri, kid) {
      return staticVerifier?.jwks.currentJwk(uri, kid) ?? dynamic.currentJwk(uri, kid);
    },
    async hydrate(issuers) {
      // A static pool's issuer is never looked up, at start-up either.
      const lookedUp = issuers?.filter((issuer) => staticVerifier === undefined || !staticVerifier.accepts(issuer));
      await Promise.all([staticVerifier?.hydrate(), lookedUp === undefined ? undefined : dynamic.hydrate(lookedUp)]);
    },
    clear() {
      dynamic.clear();
    },
  };
}
