import { TenantAuthError } from "./errors.js";
import { normalizeTenantHint } from "./tenancy.js";

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

/**
 * Every value a request carries for one header (name lower-case), as the adapter's framework or
 * event holds them; empty or `undefined` when the header is absent. Each adapter passes its own
 * accessor, so the rules below exist once.
 */
export type HeaderValues = (lowerCaseName: string) => readonly unknown[] | undefined;

function label(name: string): string {
  return name === "authorization" ? "Authorization" : name;
}

/**
 * The one value of a header, or `undefined` when it is absent. Several values are refused
 * (400 `invalid_request`): a proxy that reads the last one and an app that reads the first would
 * disagree about what was sent.
 */
function singleValue(values: HeaderValues, name: string): string | undefined {
  const list = values(name);
  let value: unknown;
  let count = 0;
  if (list !== undefined) {
    for (const v of list) {
      if (v === undefined || v === null) continue;
      value = v;
      count++;
    }
  }
  if (count === 0) return undefined;
  if (count > 1) throw new TenantAuthError("invalid_request", `Several ${label(name)} header values were sent`);
  if (typeof value !== "string") throw new TenantAuthError("invalid_request", `The ${label(name)} header is not a string`);
  return value;
}

const COMPACT_JWS = /^[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*$/;

/**
 * An `Authorization` value without a scheme is a credential of ours only when it is shaped like a
 * JWT: clients of API Gateway's Cognito authorizer send the raw ID token so, and keep working. Any
 * other schemeless value (`my-api-key`) is another kind of credential, no bearer token: 401 with a
 * bare challenge, or anonymous where credentials are optional, as for `Basic ...`.
 */
function bearerOrRawJws(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/\s/.test(trimmed) || trimmed === "" || trimmed.toLowerCase() === "bearer") return value;
  return COMPACT_JWS.test(trimmed) ? value : undefined;
}

/**
 * The credential of a request, for `resolveTenant`: the one `Authorization` value (`Bearer <jwt>`,
 * or a raw JWT; a schemeless value of another shape is no credential), or with `tokenHeader` the one value of that header (a raw token, as an Application Load Balancer
 * puts Cognito's access token in `x-amzn-oidc-accesstoken`; `Bearer <jwt>` is accepted there too,
 * any other scheme is no token). `undefined` when the header is absent.
 *
 * Several values are 400 `invalid_request`, whether sent as separate headers or joined with commas
 * by the platform (HTTP API payload 2.0 joins duplicates so): a comma is never part of a token.
 */
export function credentialOf(values: HeaderValues, tokenHeader?: string): string | undefined {
  if (tokenHeader === undefined || tokenHeader === "authorization") return bearerOrRawJws(singleValue(values, "authorization"));
  const value = singleValue(values, tokenHeader);
  if (value !== undefined && value.includes(",")) {
    throw new TenantAuthError("invalid_request", `Several ${tokenHeader} header values were sent`);
  }
  return value;
}

/**
 * The tenant hint a header carries: `undefined` when absent or empty. Several values are 400
 * `invalid_request` (as the core answers for several hints), whether sent as separate headers or
 * joined with commas (by Node, `acme, globex`; by HTTP API payload 2.0, `acme,globex`): a joined
 * value cannot be told from a tenant id with a comma, so a comma in the header is refused. A tenant
 * whose id has a comma can still be chosen through a route parameter.
 */
export function tenantHintFromHeader(values: HeaderValues, tenantHeader: string): string | undefined {
  const value = singleValue(values, tenantHeader);
  if (value !== undefined && value.includes(",")) {
    throw new TenantAuthError("invalid_request", `The ${tenantHeader} header names several tenants`);
  }
  return normalizeTenantHint(value);
}

/** Where an HTTP adapter finds the credential and the tenant hint (header names lower-case). */
export interface RequestSources {
  /** The header holding the token; `undefined` for `Authorization`. */
  readonly tokenHeader?: string | undefined;
  /** The header naming the tenant; `undefined` to read none. */
  readonly tenantHeader?: string | undefined;
  /** The route parameter's value, when the adapter has a tenant parameter; `undefined` for none. */
  readonly tenantParam?: unknown;
}

/**
 * The tenant hint of a request: from the header and/or the route parameter. When both name a
 * tenant they must agree, else 400 `invalid_request`.
 */
export function tenantHintOf(values: HeaderValues, sources: Omit<RequestSources, "tokenHeader">): string | undefined {
  const fromHeader = sources.tenantHeader === undefined ? undefined : tenantHintFromHeader(values, sources.tenantHeader);
  const fromParam = normalizeTenantHint(sources.tenantParam);
  if (fromHeader !== undefined && fromParam !== undefined && fromHeader !== fromParam) {
    throw new TenantAuthError("invalid_request", "The tenant header and the URL name different tenants");
  }
  return fromParam ?? fromHeader;
}

/**
 * Read a request's credential and tenant hint, in the core's order: errors about the credential
 * (several values, a malformed or missing bearer token) come before errors about the hint, so a
 * request without a token is a 401 even when its tenant header is bad.
 */
export function readRequest(values: HeaderValues, sources: RequestSources): { credential: string | undefined; tenantHint: string | undefined } {
  const credential = credentialOf(values, sources.tokenHeader);
  try {
    return { credential, tenantHint: tenantHintOf(values, sources) };
  } catch (err) {
    extractToken(credential);
    throw err;
  }
}

/** What Node's `IncomingMessage` offers to read a header's values as they came on the wire. */
export interface NodeMessageHeaders {
  readonly headersDistinct?: Readonly<Record<string, readonly string[] | undefined>>;
  readonly rawHeaders?: readonly string[];
}

/**
 * The {@link HeaderValues} of a Node request (Express, Fastify). Node keeps only the first
 * `Authorization` of several (and joins other duplicates with `, `), so duplicates are found in
 * `rawHeaders` (or `headersDistinct`, for request objects without it). A header sent once is read
 * from `headers`, the object the framework and earlier middleware see (one that set
 * `req.headers.authorization` from a cookie keeps working).
 */
export function nodeHeaderValues(message: NodeMessageHeaders, headers: Readonly<Record<string, unknown>>): HeaderValues {
  return (name) => {
    const wire = wireValues(message, name);
    if (wire !== undefined && wire.length > 1) return wire;
    const value = headers[name];
    if (value === undefined || value === null) return undefined;
    return Array.isArray(value) ? value : [value];
  };
}

// rawHeaders first: scanning it for one name costs a fraction of building `headersDistinct`,
// an object of every header, on each request.
function wireValues(message: NodeMessageHeaders, name: string): readonly string[] | undefined {
  const raw = message.rawHeaders;
  if (Array.isArray(raw)) {
    let found: string[] | undefined;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const key = raw[i] as string;
      if (key.length === name.length && key.toLowerCase() === name) (found ??= []).push(raw[i + 1] as string);
    }
    return found;
  }
  const distinct = message.headersDistinct;
  return typeof distinct === "object" && distinct !== null ? distinct[name] : undefined;
}
