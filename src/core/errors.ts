/**
 * The one error model of cognito-tenancy. Every refusal the library makes is a
 * {@link TenantAuthError} with a stable `code`, the HTTP `status` to answer with,
 * and the response `headers` (an RFC 6750 `WWW-Authenticate` challenge on 400, 401 and 403).
 *
 * Express's and Fastify's default error handlers honour `status`/`statusCode` and `headers`,
 * so an adapter only has to pass the error on.
 */

/** Every error code the library emits. */
export type TenantAuthErrorCode =
  | "token_missing"
  | "invalid_request"
  | "token_invalid"
  | "token_expired"
  | "tenant_missing"
  | "tenant_forbidden"
  | "tenant_ambiguous"
  | "tenant_unavailable"
  | "access_denied"
  | "insufficient_scope"
  | "jwks_unavailable"
  | "authorizer_unavailable"
  | "credentials_unavailable";

/** HTTP status for each code: the table in the README's "Errors" section, in code. */
export const ERROR_STATUS: Readonly<Record<TenantAuthErrorCode, number>> = Object.freeze({
  token_missing: 401,
  invalid_request: 400,
  token_invalid: 401,
  token_expired: 401,
  tenant_missing: 403,
  tenant_forbidden: 403,
  tenant_ambiguous: 400,
  tenant_unavailable: 503,
  access_denied: 403,
  insufficient_scope: 403,
  jwks_unavailable: 503,
  authorizer_unavailable: 503,
  credentials_unavailable: 503,
});

/** The RFC 6750 §3.1 error code a challenge carries for each of our codes. */
const CHALLENGE_ERROR: Partial<Record<TenantAuthErrorCode, string>> = {
  invalid_request: "invalid_request",
  tenant_ambiguous: "invalid_request",
  token_invalid: "invalid_token",
  token_expired: "invalid_token",
  tenant_missing: "insufficient_scope",
  tenant_forbidden: "insufficient_scope",
  access_denied: "insufficient_scope",
  insufficient_scope: "insufficient_scope",
};

/** Options for {@link TenantAuthError}. */
export interface TenantAuthErrorOptions {
  /** The underlying error, kept for logs; never sent to the client by our handlers. */
  cause?: unknown;
  /** Scopes a request needed, echoed in the `scope` attribute of an `insufficient_scope` challenge. */
  scope?: readonly string[];
  /** Extra response headers. */
  headers?: Record<string, string>;
}

// Challenge parameters are quoted-strings (RFC 7235 §2.1): backslash and quote must be escaped,
// and control characters have no place in a header value at all.
function quote(value: string): string {
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, " ").replace(/["\\]/g, "\\$&")}"`;
}

/**
 * The error every refusal is. `message` says what was wrong without ever echoing the token.
 *
 * @example
 * ```ts
 * try { await auth.resolveTenant(header) }
 * catch (err) { if (err instanceof TenantAuthError) res.status(err.status).set(err.headers) }
 * ```
 */
export class TenantAuthError extends Error {
  /** Stable machine-readable code; see {@link TenantAuthErrorCode}. */
  readonly code: TenantAuthErrorCode;
  /** HTTP status to answer with. */
  readonly status: number;
  /** Response headers: `WWW-Authenticate` on 400/401/403, `Retry-After` on 503. */
  readonly headers: Readonly<Record<string, string>>;
  /** Tells http-errors-aware handlers (Express's finalhandler, Koa) the message is safe to show. */
  readonly expose: boolean;

  constructor(code: TenantAuthErrorCode, message: string, options: TenantAuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TenantAuthError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.expose = this.status < 500;
    this.headers = Object.freeze({ ...challengeHeaders(code, message, options.scope), ...options.headers });
  }

  /** Alias of `status` for frameworks that read `statusCode` (Fastify, http-errors). */
  get statusCode(): number {
    return this.status;
  }

  /** The JSON body our handlers send: `{ error, error_description }` (RFC 6749 §5.2 shape). */
  toJSON(): { error: TenantAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
}

function challengeHeaders(code: TenantAuthErrorCode, message: string, scope: readonly string[] | undefined): Record<string, string> {
  const status = ERROR_STATUS[code];
  if (status >= 500) return { "Retry-After": "5" };
  const error = CHALLENGE_ERROR[code];
  // RFC 6750 §3.1: a request with no credentials gets a bare challenge, with no error code.
  if (!error) return { "WWW-Authenticate": "Bearer" };
  let challenge = `Bearer error=${quote(error)}, error_description=${quote(message)}`;
  if (scope && scope.length > 0) challenge += `, scope=${quote(scope.join(" "))}`;
  return { "WWW-Authenticate": challenge };
}

/** Longest excerpt of untrusted text an error may quote. */
export const UNTRUSTED_EXCERPT_LENGTH = 64;

/**
 * A short, printable excerpt of untrusted text (token content, a library message quoting it) for
 * an error message or cause: at most {@link UNTRUSTED_EXCERPT_LENGTH} characters, everything
 * outside printable ASCII replaced by `?`, and `…[truncated]` when cut. Logs then hold at most
 * that much of an attacker's text per request, and no control character (no forged log lines,
 * no terminal escapes).
 */
export function untrustedExcerpt(text: string): string {
  const cut = text.length > UNTRUSTED_EXCERPT_LENGTH;
  const excerpt = (cut ? text.slice(0, UNTRUSTED_EXCERPT_LENGTH) : text).replace(/[^\x20-\x7e]/g, "?");
  return cut ? `${excerpt}…[truncated]` : excerpt;
}

/**
 * The cause to keep from an error whose message or properties may hold token content (aws-jwt-verify
 * puts the claim, the `alg`, and the whole decoded token in its errors): a plain `Error` with the
 * same name and an {@link untrustedExcerpt} of the message, nothing else (no properties, no chain).
 */
export function opaqueCause(err: unknown): Error {
  const name = err instanceof Error ? untrustedExcerpt(err.name) : "Error";
  const cause = new Error(untrustedExcerpt(err instanceof Error ? err.message : String(err)));
  cause.name = name;
  return cause;
}

/** True when `err` is a {@link TenantAuthError} (also across duplicated copies of the package). */
export function isTenantAuthError(err: unknown): err is TenantAuthError {
  return (
    err instanceof TenantAuthError ||
    (typeof err === "object" &&
      err !== null &&
      (err as { name?: unknown }).name === "TenantAuthError" &&
      typeof (err as { code?: unknown }).code === "string" &&
      typeof (err as { status?: unknown }).status === "number")
  );
}
