// The one set of assertions the runtime suite checks on every runtime: requests to the app in
// app.ts, with tokens the Node driver signed, and the answer each must get.

/** Tokens the driver signs (placeholders `{name}` in header values). */
export type TokenName = "good" | "both" | "viewer" | "expired" | "forged" | "wrongClient" | "scoped" | "unscoped" | "unknownKid";

export interface RuntimeCase {
  readonly name: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly status: number;
  /** The JSON body, compared exactly. */
  readonly body?: Readonly<Record<string, unknown>>;
  /** The error code of a refusal (`body.error`). */
  readonly error?: string;
  /** The `WWW-Authenticate` value; `null` for none. */
  readonly challenge?: string | null;
}

const bearer = (token: TokenName, extra: Record<string, string> = {}) => ({ authorization: `Bearer {${token}}`, ...extra });

export const CASES: readonly RuntimeCase[] = [
  { name: "public route", path: "/health", status: 200, body: { ok: true } },
  { name: "no token", path: "/me", status: 401, challenge: "Bearer", body: { error: "token_missing", error_description: "No bearer token was sent" } },
  { name: "good token (keys fetched over http: from loopback)", path: "/me", headers: bearer("good"), status: 200, body: { tenantId: "acme", sub: "user-1" }, challenge: null },
  { name: "header selects a tenant", path: "/me", headers: bearer("both", { "x-tenant-id": "globex" }), status: 200, body: { tenantId: "globex", sub: "user-2" } },
  { name: "path selects a tenant", path: "/tenants/globex/me", headers: bearer("both"), status: 200, body: { tenantId: "globex", sub: "user-2" } },
  { name: "two tenants, no hint", path: "/me", headers: bearer("both"), status: 400, error: "tenant_ambiguous" },
  { name: "tenant the caller is not in", path: "/me", headers: bearer("good", { "x-tenant-id": "initech" }), status: 403, error: "tenant_forbidden" },
  { name: "comma in the tenant header", path: "/me", headers: bearer("both", { "x-tenant-id": "acme,globex" }), status: 400, error: "invalid_request" },
  {
    name: "forged signature",
    path: "/me",
    headers: bearer("forged"),
    status: 401,
    challenge: `Bearer error="invalid_token", error_description="The token's signature is invalid"`,
    body: { error: "token_invalid", error_description: "The token's signature is invalid" },
  },
  { name: "expired", path: "/me", headers: bearer("expired"), status: 401, error: "token_expired" },
  { name: "another app client", path: "/me", headers: bearer("wrongClient"), status: 401, error: "token_invalid" },
  { name: "unknown kid (refetch, then refused)", path: "/me", headers: bearer("unknownKid"), status: 401, error: "token_invalid" },
  { name: "padded segment", path: "/me", headers: { authorization: "Bearer {good}=" }, status: 401, error: "token_invalid" },
  { name: "optional credentials, none sent", path: "/optional", status: 200, body: { tenantId: null, sub: null } },
  { name: "tenant-role guard passes", path: "/admin", headers: bearer("good"), status: 200 },
  { name: "tenant-role guard fails", path: "/admin", headers: bearer("viewer"), status: 403, error: "access_denied" },
  { name: "scope guard passes", path: "/scoped", headers: bearer("scoped"), status: 200 },
  {
    name: "scope guard fails",
    path: "/scoped",
    headers: bearer("unscoped"),
    status: 403,
    challenge: `Bearer error="insufficient_scope", error_description="The token lacks a scope this route requires", scope="docs/read"`,
    error: "insufficient_scope",
  },
  { name: "authorizer ALLOW", path: "/docs/acme-1", headers: bearer("good"), status: 200 },
  { name: "authorizer DENY", path: "/docs/globex-1", headers: bearer("good"), status: 403, error: "access_denied" },
  { name: "authorizer fails: 503, never an allow", path: "/docs/boom", headers: bearer("good"), status: 503, error: "authorizer_unavailable" },
  { name: "JWKS endpoint never answers: timeout, 503", path: "/hanging/me", headers: bearer("good"), status: 503, error: "jwks_unavailable" },
  { name: "JWKS larger than maxResponseBytes: 503", path: "/oversized/me", headers: bearer("good"), status: 503, error: "jwks_unavailable" },
  { name: "JWKS endpoint redirects: not followed, 503", path: "/redirecting/me", headers: bearer("good"), status: 503, error: "jwks_unavailable" },
  { name: "http: key endpoint off loopback refused at setup", path: "/http-rule", status: 200, body: { refused: true, error: "TypeError" } },
];

/** Local Cedar, where cedar-wasm loads; elsewhere the typed refusal. */
export const CEDAR_CASES: readonly RuntimeCase[] = [
  { name: "local Cedar ALLOW", path: "/cedar/acme-1", headers: bearer("good"), status: 200 },
  { name: "local Cedar DENY", path: "/cedar/globex-1", headers: bearer("good"), status: 403, error: "access_denied" },
];

export const CEDAR_UNAVAILABLE_CASES: readonly RuntimeCase[] = [
  { name: "local Cedar cannot load: 503, never an allow", path: "/cedar/acme-1", headers: bearer("good"), status: 503, error: "authorizer_unavailable" },
];
