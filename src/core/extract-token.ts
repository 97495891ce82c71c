import { TenantAuthError } from "./errors.js";

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The one token extractor. Takes an `Authorization` header value (`Bearer <jwt>`, scheme
 * case-insensitive) or a raw JWT and returns the token.
 *
 * - nothing, or another scheme (`Basic ...`): `token_missing` (401, bare challenge, RFC 6750 §3.1);
 * - several values, `Bearer` without a token, several tokens: `invalid_request` (400).
 *
 * Well-formedness of the JWT itself is checked by the verifier, not here.
 */
export function extractToken(value: string | readonly string[] | null | undefined): string {
  if (value === undefined || value === null) throw missing();
  if (typeof value !== "string") {
    if (Array.isArray(value)) {
      if (value.length === 0) throw missing();
      if (value.length === 1) return extractToken(value[0] as string);
      throw new TenantAuthError("invalid_request", "Several Authorization header values were sent");
    }
    throw new TenantAuthError("invalid_request", "The Authorization header is not a string");
  }
  const trimmed = value.trim();
  if (trimmed === "") throw missing();
  const space = trimmed.search(/\s/);
  if (space === -1) {
    // No scheme: a raw JWT handed to resolveTenant() directly, or a lone "Bearer".
    if (trimmed.toLowerCase() === "bearer") {
      throw new TenantAuthError("invalid_request", "The Bearer scheme was sent without a token");
    }
    return trimmed;
  }
  const scheme = trimmed.slice(0, space);
  if (scheme.toLowerCase() !== "bearer") throw missing();
  const token = trimmed.slice(space).trim();
  if (!B64TOKEN.test(token)) {
    throw new TenantAuthError("invalid_request", "The Authorization header must carry exactly one bearer token");
  }
  return token;
}

/**
 * @internal The token `value` most likely carries, found without scanning it: what follows
 * `"Bearer "`, or `value` itself. Only a token that then verifies may be used without
 * {@link extractToken}: a verified token is a compact JWS, and for `"Bearer <jws>"` or a bare
 * `<jws>` extractToken returns exactly that JWS.
 */
export function likelyToken(value: string): string {
  return value.startsWith("Bearer ") ? value.slice(7) : value;
}

function missing(): TenantAuthError {
  return new TenantAuthError("token_missing", "No bearer token was sent");
}
