import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyWithCognitoAuthorizerEvent } from "aws-lambda";
import { TenantAuthError } from "../../core/errors.js";
import type { TenantPrincipal } from "../../core/principal.js";
import { principalFromClaims } from "../../core/principal.js";
import type { TenantStrategy } from "../../core/tenancy.js";
import { eventTenantHint } from "./resolve.js";

/**
 * An event whose token API Gateway already verified: a REST API with a Cognito user pool
 * authorizer (`requestContext.authorizer.claims`) or an HTTP API with a JWT authorizer
 * (`requestContext.authorizer.jwt.claims`).
 */
export type ApiGatewayClaimsEvent = APIGatewayProxyWithCognitoAuthorizerEvent | APIGatewayProxyEventV2WithJWTAuthorizer;

/** Options of {@link principalFromApiGatewayClaims}. */
export interface ApiGatewayClaimsOptions {
  /** How tenants are found; default `{ from: "groups" }`. Pass the same strategy as to `createTenantAuth`. */
  tenants?: TenantStrategy;
  /** Default `true`: no tenant (or several and nothing to choose) is refused. */
  requireTenant?: boolean;
  /**
   * The tenant the request acts for; `null` for none. When not given (`undefined`), it is read from
   * the `tenantHeader` header and the `tenantParam` path parameter, as `withTenant` does.
   */
  tenantHint?: string | null;
  /** Header naming the tenant, read when `tenantHint` is not given; default `x-tenant-id`; `false` for none. */
  tenantHeader?: string | false;
  /**
   * Path parameter naming the tenant, read when `tenantHint` is not given. An event without that
   * parameter is refused, 503 `tenant_unavailable`, as in `withTenant`: never read as the header alone.
   */
  tenantParam?: string;
  /** The user pool; by default the last path segment of `iss`. */
  userPoolId?: string;
}

function invalid(claim: string): TenantAuthError {
  return new TenantAuthError("token_invalid", `The ${claim} claim from the API Gateway authorizer could not be decoded`);
}

/**
 * Decode a list claim as API Gateway passes it:
 * - a real array (tests, other integrations): as is;
 * - `["a","b"]` (a JSON array string): parsed, and must hold strings only;
 * - `[a b]` (HTTP API JWT authorizer): split on white space;
 * - `a,b` (REST Cognito authorizer): split on `split`;
 * - `a` (one name): one element; `""`: none.
 * - a value that opens with `[` without closing it, or opens a JSON list that does not parse to
 *   strings: `token_invalid`.
 * Group names cannot contain white space, so `[a b]` is unambiguous; a group whose name contains
 * a comma cannot be told apart from two groups in the REST form.
 */
export function decodeListClaim(value: unknown, claim: string, split: RegExp | string = ","): unknown {
  if (value === undefined || Array.isArray(value)) return value;
  if (typeof value !== "string") throw invalid(claim);
  const text = value.trim();
  if (text === "") return [];
  if (text.startsWith("[")) {
    // A bracketed list cut short (a truncated claim, a broken JSON string): refuse, do not guess.
    if (!text.endsWith("]")) throw invalid(claim);
    const inner = text.slice(1, -1).trim();
    if (inner === "") return [];
    if (inner.startsWith('"')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw invalid(claim);
      }
      if (!Array.isArray(parsed) || parsed.some((v) => typeof v !== "string")) throw invalid(claim);
      return parsed;
    }
    return inner.split(/\s+/);
  }
  return text.split(split);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
// Java's Date.toString(), which the REST Cognito authorizer uses: "Thu Nov 26 12:00:00 UTC 2026".
const JAVA_DATE = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (UTC|GMT) (\d{4})$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]00:?00)$/;
const NUMERIC = /^\d{1,15}(?:\.\d+)?$/;

/**
 * Decode a NumericDate claim (`exp`, `iat`, `nbf`, `auth_time`) to epoch seconds: a number as is,
 * a numeric string (`"1764158400"`), a Java date string in UTC (`"Thu Nov 26 12:00:00 UTC 2026"`)
 * or an ISO 8601 UTC timestamp. Anything else is `token_invalid`: no guessing with `Date.parse`.
 */
export function decodeNumericDate(value: unknown, claim: string): unknown {
  if (value === undefined || typeof value === "number") return value;
  if (typeof value !== "string") throw invalid(claim);
  const text = value.trim();
  if (NUMERIC.test(text)) return Number(text);
  const java = JAVA_DATE.exec(text);
  if (java) {
    const [, day, month, date, hh, mm, ss, , year] = java as unknown as string[];
    const ms = Date.UTC(Number(year), MONTHS.indexOf(month as string), Number(date), Number(hh), Number(mm), Number(ss));
    const d = new Date(ms);
    // Reject impossible dates (Feb 31) and a weekday that does not match.
    if (d.getUTCDate() !== Number(date) || Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59 || DAYS[d.getUTCDay()] !== day) throw invalid(claim);
    return ms / 1000;
  }
  if (ISO_DATE.test(text)) {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw invalid(claim);
    return Math.floor(ms / 1000);
  }
  throw invalid(claim);
}

function decodeBoolean(value: unknown): unknown {
  if (value === "true") return true;
  if (value === "false") return false;
  return value;
}

/**
 * Turn the string-encoded claims an API Gateway authorizer passes into the types a verified token
 * has: `cognito:groups` and `cognito:roles` into arrays, `exp`/`iat`/`nbf`/`auth_time` into
 * numbers, `email_verified`/`phone_number_verified` into booleans. Other claims are copied as they
 * are; types are then checked by the core normalizer. Returns a new object.
 */
export function decodeApiGatewayClaims(claims: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...claims };
  if ("cognito:groups" in out) out["cognito:groups"] = decodeListClaim(out["cognito:groups"], "cognito:groups");
  // Role names may contain commas: in the REST form, split only where the next ARN starts.
  if ("cognito:roles" in out) out["cognito:roles"] = decodeListClaim(out["cognito:roles"], "cognito:roles", /,(?=arn:)/);
  for (const name of ["exp", "iat", "nbf"]) if (name in out) out[name] = decodeNumericDate(out[name], name);
  if ("auth_time" in out) {
    try {
      out["auth_time"] = decodeNumericDate(out["auth_time"], "auth_time");
    } catch {
      // auth_time decides nothing here: keep it as it came rather than refuse the request.
    }
  }
  for (const name of ["email_verified", "phone_number_verified"]) if (name in out) out[name] = decodeBoolean(out[name]);
  return out;
}

/** The claims object an API Gateway authorizer attached to the event, if any. */
function claimsOf(event: unknown): Record<string, unknown> | undefined {
  const authorizer = ((event as { requestContext?: { authorizer?: unknown } } | null)?.requestContext?.authorizer ?? undefined) as { claims?: unknown; jwt?: { claims?: unknown } } | undefined;
  if (typeof authorizer !== "object" || authorizer === null) return undefined;
  const candidate = authorizer.jwt?.claims ?? authorizer.claims;
  if (typeof candidate !== "object" || candidate === null || Array.isArray(candidate)) return undefined;
  return candidate as Record<string, unknown>;
}

/**
 * Build the principal for a request whose token API Gateway already verified (REST Cognito user
 * pool authorizer, or HTTP API JWT authorizer). API Gateway passes the claims as strings; they are
 * decoded ({@link decodeApiGatewayClaims}: `[a b]`, `a,b`, a single name, a JSON array string,
 * numeric or date strings) and handed to the core's `principalFromClaims`, so the principal is the
 * same one `resolveTenant` would build from the token. No signature is checked here: use it only
 * behind an API Gateway authorizer.
 *
 * Rejects with `token_missing` when the event carries no authorizer claims, `token_invalid` when a
 * claim cannot be decoded, and the core's tenant errors.
 *
 * @example
 * ```ts
 * const principal = await principalFromApiGatewayClaims(event, { tenants: { from: "groups" } });
 * ```
 */
export async function principalFromApiGatewayClaims(event: ApiGatewayClaimsEvent, options: ApiGatewayClaimsOptions = {}): Promise<TenantPrincipal> {
  const claims = claimsOf(event);
  if (claims === undefined) {
    throw new TenantAuthError("token_missing", "The event carries no claims from an API Gateway authorizer");
  }
  const decoded = decodeApiGatewayClaims(claims);
  const tenantHint =
    options.tenantHint !== undefined
      ? (options.tenantHint ?? undefined)
      : eventTenantHint(
          event,
          {
            ...(options.tenantHeader === undefined ? {} : { tenantHeader: options.tenantHeader }),
            ...(options.tenantParam === undefined ? {} : { tenantParam: options.tenantParam }),
          },
          "principalFromApiGatewayClaims",
        );
  return principalFromClaims(decoded, {
    ...(options.tenants === undefined ? {} : { tenants: options.tenants }),
    ...(options.requireTenant === undefined ? {} : { requireTenant: options.requireTenant }),
    ...(tenantHint === undefined ? {} : { tenantHint }),
    ...(options.userPoolId === undefined ? {} : { userPoolId: options.userPoolId }),
  });
}
