import type { DecomposedJwt } from "aws-jwt-verify/jwt";
import { assertIsJwks } from "aws-jwt-verify/jwk";
import type { Jwk, Jwks, JwksCache, JwkWithKid } from "aws-jwt-verify/jwk";
import { JwksNotAvailableInCacheError, JwtWithoutValidKidError, KidNotFoundInJwksError } from "aws-jwt-verify/error";
import { TenantAuthError } from "./errors.js";

/** How keys are fetched. Every field has a safe default. */
export interface JwksOptions {
  /** Give up on a JWKS request after this long (whole response); default 3000 ms. */
  timeoutMs?: number;
  /**
   * After a fetched JWKS did not hold a token's `kid`, do not fetch again for another unknown
   * `kid` for this long (a flood of made-up `kid`s must not become a flood of fetches); default 10000 ms.
   */
  unknownKidCooldownMs?: number;
  /** After a failed fetch, answer 503 at once for this long before trying again; default 1000 ms. */
  failureCooldownMs?: number;
  /** Largest JWKS response accepted; default 256 KiB. */
  maxResponseBytes?: number;
  /**
   * Allow `http:` JWKS URIs on hosts other than loopback. Loopback (`localhost`, `127.0.0.0/8`,
   * `[::1]`) is always allowed, for emulators and tests. Default `false`.
   */
  allowInsecureHttp?: boolean;
}

interface UriState {
  /** kid → JWK. Object identity is stable while a key's material is unchanged. */
  keys: Map<string, JwkWithKid>;
  jwks: Jwks;
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
  throw new TypeError(
    `jwksUri must use https: (plain http: is accepted for loopback hosts, or elsewhere with jwks.allowInsecureHttp): ${uri}`,
  );
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
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.unknownKidCooldownMs = options.unknownKidCooldownMs ?? 10_000;
    this.failureCooldownMs = options.failureCooldownMs ?? 1000;
    this.maxResponseBytes = options.maxResponseBytes ?? 256 * 1024;
  }

  /** Pin a JWKS for a URI that is never fetched (a pool configured with `jwks`). */
  addFixedJwks(uri: string, jwks: Jwks): void {
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
    for (const jwk of jwks.keys) {
      if (typeof jwk.kid !== "string") continue;
      const old = previous?.get(jwk.kid);
      keys.set(jwk.kid, old && keyMaterial(old) === keyMaterial(jwk) ? old : (jwk as JwkWithKid));
    }
    this.state.set(uri, { keys, jwks });
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
    const now = Date.now();
    const until = this.cooldownUntil.get(uri);
    if (until !== undefined && now < until) {
      if (this.lastFailure.has(uri)) throw unavailable(this.lastFailure.get(uri));
      throw unknownKey();
    }
    await this.fetchShared(uri);
    if (this.currentJwk(uri, kid)) return;
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
    try {
      jwks = await fetchJwks(uri, this.timeoutMs, this.maxResponseBytes);
    } catch (err) {
      this.lastFailure.set(uri, err);
      this.cooldownUntil.set(uri, Date.now() + this.failureCooldownMs);
      throw unavailable(err);
    }
    this.lastFailure.delete(uri);
    this.cooldownUntil.delete(uri);
    this.addJwks(uri, jwks);
    this.onJwksFetched(uri, jwks);
  }
}

function unknownKey(): TenantAuthError {
  return new TenantAuthError("token_invalid", "The token was signed with an unknown key");
}

function unavailable(cause: unknown): TenantAuthError {
  return new TenantAuthError("jwks_unavailable", "The signing keys could not be fetched", { cause });
}

async function fetchJwks(uri: string, timeoutMs: number, maxBytes: number): Promise<Jwks> {
  const signal = AbortSignal.timeout(timeoutMs);
  const response = await fetch(uri, { signal, redirect: "error", headers: { accept: "application/json" } });
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
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new Error(`JWKS response is larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  }
  const text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  const jwks: unknown = JSON.parse(text);
  assertIsJwks(jwks as Parameters<typeof assertIsJwks>[0]);
  return jwks as Jwks;
}

