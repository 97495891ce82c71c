import type { DecomposedJwt } from "aws-jwt-verify/jwt";
import { assertIsJwks } from "aws-jwt-verify/jwk";
import type { Jwk, Jwks, JwksCache, JwkWithKid } from "aws-jwt-verify/jwk";
import { JwksNotAvailableInCacheError, JwtWithoutValidKidError, KidNotFoundInJwksError } from "aws-jwt-verify/error";
import { base64urlToBytes, concatBytes } from "./bytes.js";
import { TenantAuthError } from "./errors.js";
import { endSpan, startSpan } from "./telemetry.js";
import type { OptionsSchema } from "./options.js";
import { validateOptions } from "./options.js";

/** How keys are fetched. Every field has a safe default. */
export interface JwksOptions {
  /** Give up on a JWKS request after this long (whole response); default 3000 ms, an integer from 1 to 60000. */
  timeoutMs?: number;
  /**
   * After a fetched JWKS did not hold a token's `kid`, do not fetch again for another unknown
   * `kid` for this long (a flood of made-up `kid`s must not become a flood of fetches); default
   * 10000 ms, an integer from 0 to 3600000.
   */
  unknownKidCooldownMs?: number;
  /** After a failed fetch, answer 503 at once for this long before trying again; default 1000 ms, an integer from 0 to 3600000. */
  failureCooldownMs?: number;
  /** Largest JWKS response accepted; default 256 KiB, an integer from 1024 to 16 MiB. */
  maxResponseBytes?: number;
  /**
   * Allow `http:` JWKS URIs on hosts other than loopback. Loopback (`localhost`, `127.0.0.0/8`,
   * `[::1]`) is always allowed, for emulators and tests. Default `false`.
   */
  allowInsecureHttp?: boolean;
}

/**
 * The rules of {@link JwksOptions}. Every bound is checked at setup: a string (`"50"` from an
 * environment variable) would make `Date.now() + "50"` a string, and `now < "…50"` compares as
 * numbers only by accident; in practice such a cooldown never ends (a new key refused, or 503, for ever).
 */
export const JWKS_OPTIONS_SCHEMA: OptionsSchema = {
  timeoutMs: { type: "number", integer: true, min: 1, max: 60_000 },
  unknownKidCooldownMs: { type: "number", integer: true, min: 0, max: 3_600_000 },
  failureCooldownMs: { type: "number", integer: true, min: 0, max: 3_600_000 },
  maxResponseBytes: { type: "number", integer: true, min: 1024, max: 16 * 1024 * 1024 },
  allowInsecureHttp: { type: "boolean" },
};

interface UriState {
  /** kid → JWK. Object identity is stable while a key's material is unchanged. */
  keys: Map<string, JwkWithKid>;
  /** The JWKS without the keys {@link keyWeakness} refused. */
  jwks: Jwks;
  /** kids of published keys we refuse: a token naming one is refused without a refetch. */
  refused: Set<string>;
}

/** RFC 7518 §3.3: RSA keys of 2048 bits or more. */
export const MIN_RSA_MODULUS_BITS = 2048;
/**
 * The largest RSA modulus accepted. Verification cost grows with the square of the size: a
 * 16384-bit key published by a compromised or careless endpoint makes every forged token ~50
 * times dearer to refuse than Cognito's 2048-bit keys. No identity provider signs with more than 4096.
 */
export const MAX_RSA_MODULUS_BITS = 8192;

function bitLength(base64url: string): number {
  const bytes = base64urlToBytes(base64url);
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i] as number));
}

/**
 * Why a published key must not be used, or `undefined` when it may. RSA keys need a modulus of
 * 2048 to 8192 bits and the exponent 65537 (`AQAB`), what every real signing key uses (Cognito,
 * OpenSSL, WebCrypto, KMS). Exponent 3 is refused too: no issuer we verify for uses it, and it is
 * the exponent of the signature forgeries against lax PKCS#1 v1.5 checks; a huge exponent makes
 * each verification (and so each forged token) many times dearer.
 */
export function keyWeakness(jwk: Jwk): string | undefined {
  if (jwk.kty !== "RSA") return undefined;
  if (typeof jwk.n !== "string" || typeof jwk.e !== "string") return "an RSA key needs n and e";
  if (jwk.e !== "AQAB") return "an RSA key's exponent must be 65537 (AQAB)";
  const bits = bitLength(jwk.n);
  if (bits < MIN_RSA_MODULUS_BITS) return `an RSA key's modulus must have at least ${MIN_RSA_MODULUS_BITS} bits (this one has ${bits})`;
  if (bits > MAX_RSA_MODULUS_BITS) return `an RSA key's modulus must have at most ${MAX_RSA_MODULUS_BITS} bits (this one has ${bits})`;
  return undefined;
}

const LOOPBACK_HOSTS = new Set(["localhost", "[::1]", "::1"]);

/** True for hosts that never leave the machine. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname) || hostname.endsWith(".localhost");
}

/** Refuse a JWKS URI we would not fetch, at configuration time rather than on a request. */
export function assertFetchableUri(uri: string, allowInsecureHttp: boolean): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new TypeError(`jwksUri is not a URL: ${uri}`);
  }
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && (allowInsecureHttp || isLoopbackHost(url.hostname))) return;
  throw new TypeError(`jwksUri must use https: (plain http: is accepted for loopback hosts, or elsewhere with jwks.allowInsecureHttp): ${uri}`);
}

function keyMaterial(jwk: Jwk): string {
  return `${jwk.kty}|${jwk.alg ?? ""}|${jwk.use ?? ""}|${jwk.crv ?? ""}|${jwk.n ?? ""}|${jwk.e ?? ""}|${jwk.x ?? ""}|${jwk.y ?? ""}`;
}

/**
 * The JWKS cache behind the verifier (aws-jwt-verify's `JwksCache` interface), with what
 * SimpleJwksCache lacks: a timeout, a size cap, typed 503s, pools whose keys are fixed and
 * never fetched, and stable JWK identities so cached principals can tell when their key changed.
 */
export class TenantJwksCache implements JwksCache {
  private readonly state = new Map<string, UriState>();
  private readonly fixed = new Set<string>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly cooldownUntil = new Map<string, number>();
  private readonly lastFailure = new Map<string, unknown>();
  private readonly timeoutMs: number;
  private readonly unknownKidCooldownMs: number;
  private readonly failureCooldownMs: number;
  private readonly maxResponseBytes: number;
  /** Told after every successful fetch, so the verifier can drop key objects it derived. */
  onJwksFetched: (uri: string, jwks: Jwks) => void = () => {};

  constructor(options: JwksOptions = {}) {
    validateOptions(options, JWKS_OPTIONS_SCHEMA, { where: "TenantJwksCache", path: "jwks." });
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.unknownKidCooldownMs = options.unknownKidCooldownMs ?? 10_000;
    this.failureCooldownMs = options.failureCooldownMs ?? 1000;
    this.maxResponseBytes = options.maxResponseBytes ?? 256 * 1024;
  }

  /**
   * Pin a JWKS for a URI that is never fetched (a pool configured with `jwks`). A key we would
   * refuse is a configuration mistake: TypeError naming it (`name` is the option's path).
   */
  addFixedJwks(uri: string, jwks: Jwks, name = "jwks"): void {
    try {
      assertIsJwks(jwks);
    } catch (err) {
      throw new TypeError(`${name} is not a JWKS: ${(err as Error).message}`, { cause: err });
    }
    jwks.keys.forEach((jwk, i) => {
      const weakness = keyWeakness(jwk);
      if (weakness !== undefined) throw new TypeError(`${name}.keys[${i}] (kid ${JSON.stringify(jwk.kid)}) is refused: ${weakness}`);
    });
    this.fixed.add(uri);
    this.addJwks(uri, jwks);
  }

  /** True when keys for this URI are pinned and never fetched. */
  isFixed(uri: string): boolean {
    return this.fixed.has(uri);
  }

  addJwks(uri: string, jwks: Jwks): void {
    assertIsJwks(jwks);
    const previous = this.state.get(uri)?.keys;
    const keys = new Map<string, JwkWithKid>();
    const refused = new Set<string>();
    const accepted: Jwk[] = [];
    for (const jwk of jwks.keys) {
      // A weak key is skipped, not fatal: the endpoint's other keys keep working.
      if (keyWeakness(jwk) !== undefined) {
        if (typeof jwk.kid === "string") refused.add(jwk.kid);
        continue;
      }
      accepted.push(jwk);
      if (typeof jwk.kid !== "string") continue;
      const old = previous?.get(jwk.kid);
      keys.set(jwk.kid, old && keyMaterial(old) === keyMaterial(jwk) ? old : (jwk as JwkWithKid));
    }
    for (const kid of keys.keys()) refused.delete(kid);
    this.state.set(uri, { keys, jwks: refused.size === 0 ? jwks : { ...jwks, keys: accepted }, refused });
  }

  /** The JWK now in force for `kid`; compared by identity to tell whether a key changed. */
  currentJwk(uri: string, kid: string): JwkWithKid | undefined {
    return this.state.get(uri)?.keys.get(kid);
  }

  getCachedJwk(uri: string, decomposedJwt: DecomposedJwt): JwkWithKid {
    const kid = decomposedJwt.header.kid;
    if (typeof kid !== "string") throw new JwtWithoutValidKidError("JWT header does not have valid kid claim");
    const state = this.state.get(uri);
    if (!state) throw new JwksNotAvailableInCacheError("JWKS not yet available in cache");
    const jwk = state.keys.get(kid);
    if (!jwk) throw new KidNotFoundInJwksError("JWK for kid not found in the JWKS");
    return jwk;
  }

  async getJwk(uri: string, decomposedJwt: DecomposedJwt): Promise<JwkWithKid> {
    const kid = decomposedJwt.header.kid;
    if (typeof kid !== "string") throw new JwtWithoutValidKidError("JWT header does not have valid kid claim");
    await this.ensureKid(uri, kid);
    return this.getCachedJwk(uri, decomposedJwt);
  }

  async getJwks(uri: string): Promise<Jwks> {
    if (!this.fixed.has(uri)) await this.fetchShared(uri);
    const state = this.state.get(uri);
    if (!state) throw new TenantAuthError("jwks_unavailable", "The signing keys could not be fetched");
    return state.jwks;
  }

  /**
   * Make sure the key `kid` is cached, fetching the JWKS if it may help. Throws `token_invalid`
   * when the key does not exist, `jwks_unavailable` when the keys cannot be had.
   */
  async ensureKid(uri: string, kid: string): Promise<void> {
    if (this.currentJwk(uri, kid)) return;
    if (this.fixed.has(uri)) throw unknownKey();
    if (this.state.get(uri)?.refused.has(kid)) throw refusedKey();
    const now = Date.now();
    const until = this.cooldownUntil.get(uri);
    if (until !== undefined && now < until) {
      if (this.lastFailure.has(uri)) throw unavailable(this.lastFailure.get(uri));
      throw unknownKey();
    }
    await this.fetchShared(uri);
    if (this.currentJwk(uri, kid)) return;
    if (this.state.get(uri)?.refused.has(kid)) throw refusedKey();
    this.cooldownUntil.set(uri, Date.now() + this.unknownKidCooldownMs);
    throw unknownKey();
  }

  /** Concurrent callers share one request per URI. */
  private fetchShared(uri: string): Promise<void> {
    let pending = this.inflight.get(uri);
    if (!pending) {
      pending = this.fetchOnce(uri).finally(() => this.inflight.delete(uri));
      this.inflight.set(uri, pending);
    }
    return pending;
  }

  private async fetchOnce(uri: string): Promise<void> {
    let jwks: Jwks;
    const span = startSpan("cognito_tenancy.jwks_fetch", { "url.full": uri }, undefined, true);
    try {
      jwks = await fetchJwks(uri, this.timeoutMs, this.maxResponseBytes);
    } catch (err) {
      this.lastFailure.set(uri, err);
      this.cooldownUntil.set(uri, Date.now() + this.failureCooldownMs);
      const error = unavailable(err);
      endSpan(span, error);
      throw error;
    }
    endSpan(span, undefined, { "cognito_tenancy.keys": jwks.keys.length });
    this.lastFailure.delete(uri);
    this.cooldownUntil.delete(uri);
    this.addJwks(uri, jwks);
    this.onJwksFetched(uri, jwks);
  }
}

function unknownKey(): TenantAuthError {
  return new TenantAuthError("token_invalid", "The token was signed with an unknown key");
}

function refusedKey(): TenantAuthError {
  return new TenantAuthError("token_invalid", "The token was signed with a key this verifier refuses (too weak)");
}

function unavailable(cause: unknown): TenantAuthError {
  return new TenantAuthError("jwks_unavailable", "The signing keys could not be fetched", { cause });
}

async function fetchJwks(uri: string, timeoutMs: number, maxBytes: number): Promise<Jwks> {
  const signal = AbortSignal.timeout(timeoutMs);
  // "manual", not "error" (which Cloudflare Workers do not take): a redirect then answers a 3xx
  // (or an opaque status 0), refused below like any answer but 200. A key endpoint that moved is
  // a configuration mistake, never followed.
  const response = await fetch(uri, { signal, redirect: "manual", headers: { accept: "application/json" } });
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`JWKS endpoint answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get("content-length"));
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`JWKS response is larger than ${maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    // A reader rather than async iteration of the stream, which not every runtime offers.
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new Error(`JWKS response is larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  const text = new TextDecoder("utf-8", { fatal: true }).decode(concatBytes(chunks));
  const jwks: unknown = JSON.parse(text);
  assertIsJwks(jwks as Parameters<typeof assertIsJwks>[0]);
  return jwks as Jwks;
}
