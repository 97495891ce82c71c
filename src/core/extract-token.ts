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
  const taken = takeToken(value);
  if (taken.owesCheck) assertB64Token(taken.token);
  return taken.token;
}

/**
 * @internal extractToken in two steps, for resolveTenant's hot path: every check but the last
 * (the bearer token is a b64token), which `owesCheck` says is still due. A token that verifies is
 * a compact JWS and so a b64token; resolveTenant runs the check only when something fails, and
 * throws its error first, so the outcome is the one extractToken gives.
 */
export function takeToken(value: string | readonly string[] | null | undefined): { token: string; owesCheck: boolean } {
  if (value === undefined || value === null) throw missing();
  if (typeof value !== "string") {
    if (Array.isArray(value)) {
      if (value.length === 0) throw missing();
      if (value.length === 1) return takeToken(value[0] as string);
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
    return { token: trimmed, owesCheck: false };
  }
  const scheme = trimmed.slice(0, space);
  if (scheme.toLowerCase() !== "bearer") throw missing();
  return { token: trimmed.slice(space).trim(), owesCheck: true };
}

/** @internal The last check of extractToken: exactly one b64token after the scheme. */
export function assertB64Token(token: string): void {
  if (!B64TOKEN.test(token)) {
    throw new TenantAuthError("invalid_request", "The Authorization header must carry exactly one bearer token");
  }
}

function missing(): TenantAuthError {
  return new TenantAuthError("token_missing", "No bearer token was sent");
}
