/**
 * Shared tools of the attack suite: raw token crafting (where jose refuses to make what we need)
 * and one assertion, `expectRefused`, that every refusal is a typed TenantAuthError.
 */
import { createPrivateKey, generateKeyPairSync, sign as cryptoSign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { expect } from "vitest";
import type { JWK } from "jose";
import { TenantAuthError, createTenantAuth } from "../../src/index.js";
import type { TenantAuth, TenantAuthErrorCode, TenantAuthOptions } from "../../src/index.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";

export const b64url = (data: string | Uint8Array): string => Buffer.from(data).toString("base64url");
export const json64 = (value: unknown): string => b64url(JSON.stringify(value));

/** A test issuer whose private key we also hold, so we can sign raw bytes ourselves. */
export interface RawIssuer {
  issuer: TestIssuer;
  privateKey: KeyObject;
  alg: "RS256" | "ES256";
  /** Sign `<headerB64>.<payloadB64>` exactly as given and return the compact token. */
  signRaw(headerB64: string, payloadB64: string): string;
  /** Header JSON for this issuer: `{ alg, kid }` plus extras. */
  header(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Cognito-like ID token claims, valid for an hour, with the given groups. */
  claims(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Sign header and payload objects (serialized with JSON.stringify). */
  signJson(payload: unknown, header?: Record<string, unknown>): string;
}

export async function createRawIssuer(alg: "RS256" | "ES256" = "RS256", options: { issuer?: string } = {}): Promise<RawIssuer> {
  const { privateKey } = alg === "RS256" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const privateJwk = { ...(privateKey.export({ format: "jwk" }) as JWK), kid: `raw-${alg}-${Math.random().toString(36).slice(2)}` };
  const issuer = await createTestIssuer({ alg, privateJwk, ...(options.issuer ? { issuer: options.issuer } : {}) });
  const key = createPrivateKey({ key: privateJwk as never, format: "jwk" });
  const signRaw = (headerB64: string, payloadB64: string): string => {
    const input = `${headerB64}.${payloadB64}`;
    const sig = alg === "RS256" ? cryptoSign("sha256", Buffer.from(input), key) : cryptoSign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    return `${input}.${b64url(sig)}`;
  };
  const header = (extra: Record<string, unknown> = {}) => ({ alg, kid: issuer.kid, ...extra });
  const claims = (extra: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return {
      sub: "0b1c2d3e-user",
      "cognito:groups": ["tenant:acme"],
      iss: issuer.issuer,
      "cognito:username": "alice",
      aud: issuer.clientId,
      token_use: "id",
      auth_time: now,
      iat: now,
      exp: now + 3600,
      ...extra,
    };
  };
  return {
    issuer,
    privateKey: key,
    alg,
    signRaw,
    header,
    claims,
    signJson: (payload, hdr = header()) => signRaw(json64(hdr), json64(payload)),
  };
}

/** `createTenantAuth` for one issuer's pool (keys preloaded, never fetched) plus options. */
export function authFor(issuer: TestIssuer, options: Partial<TenantAuthOptions> = {}): TenantAuth {
  return createTenantAuth({ userPools: [issuer.userPool], ...options });
}

/**
 * The one assertion of the suite: the call rejects (never resolves, never throws synchronously
 * past the promise) with a real TenantAuthError carrying exactly this code and status.
 */
export async function expectRefused(attempt: () => Promise<unknown>, code: TenantAuthErrorCode, status: number, message?: RegExp): Promise<TenantAuthError> {
  let outcome: { resolved: unknown } | { rejected: unknown };
  try {
    outcome = { resolved: await attempt() };
  } catch (err) {
    outcome = { rejected: err };
  }
  if ("resolved" in outcome) {
    throw new Error(`Expected a refusal (${code}) but the call resolved: ${JSON.stringify(outcome.resolved)?.slice(0, 200)}`);
  }
  const err = outcome.rejected;
  if (!(err instanceof TenantAuthError)) {
    throw new Error(`Expected a TenantAuthError (${code}) but got: ${String((err as Error)?.stack ?? err)}`);
  }
  expect({ code: err.code, status: err.status }).toEqual({ code, status });
  if (message) expect(err.message).toMatch(message);
  return err;
}

/** Swap one segment of a compact token. */
export function withSegment(token: string, index: 0 | 1 | 2, value: string): string {
  const parts = token.split(".");
  parts[index] = value;
  return parts.join(".");
}

export function decodeSegment(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[index] as string, "base64url").toString("utf8")) as Record<string, unknown>;
}
