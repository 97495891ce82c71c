import { TenantAuthError } from "./errors.js";

/** `token_use` of a Cognito token. */
export type TokenUse = "id" | "access";

/** The verified JWT payload, frozen. */
export type JwtClaims = Readonly<Record<string, unknown>>;

/** An IAM role ARN from `cognito:roles` or `cognito:preferred_role`, parsed. */
export interface IamRole {
  /** The full ARN, exactly as the token carried it. */
  readonly arn: string;
  /** `aws`, `aws-cn`, `aws-us-gov`, ... */
  readonly partition: string;
  /** The 12-digit account id. */
  readonly accountId: string;
  /** The IAM path, `/` when the role has none, otherwise `/a/b/`. */
  readonly path: string;
  /** The role name. */
  readonly name: string;
}

/** Everything a Cognito token says about its caller, typed and checked; tenancy comes later. */
export interface NormalizedClaims {
  /** `sub`: the user's stable id in the pool. */
  readonly sub: string;
  /** `cognito:username` (ID token) or `username` (access token); `sub` when absent. */
  readonly username: string;
  /** The pool the token was verified against. */
  readonly userPoolId: string;
  /** `iss`, exactly as verified. */
  readonly issuer: string;
  /** `aud` (ID token) or `client_id` (access token). */
  readonly clientId: string | undefined;
  /** `token_use`: `"id"` or `"access"`. */
  readonly tokenUse: TokenUse;
  /** `cognito:groups`, every group, tenant or not. */
  readonly groups: readonly string[];
  /** `cognito:roles`, parsed (ID tokens only). */
  readonly roles: readonly IamRole[];
  /** `cognito:preferred_role`, parsed (ID tokens only; Cognito omits it when precedence ties). */
  readonly preferredRole: IamRole | undefined;
  /** `scope`, split (access tokens). */
  readonly scopes: readonly string[];
  /** `iat`. */
  readonly issuedAt: Date | undefined;
  /** `exp`. */
  readonly expiresAt: Date;
  /** The verified payload, frozen. */
  readonly claims: JwtClaims;
}

/** Options for {@link normalizeClaims}. */
export interface NormalizeClaimsOptions {
  /** The user pool the token was verified against; by default the last path segment of `iss`. */
  userPoolId?: string;
}

const EMPTY: readonly never[] = Object.freeze([]);

// Cognito's GroupNameType: [\p{L}\p{M}\p{S}\p{N}\p{P}]+, 1 to 128 characters. No separators,
// no control characters: a name outside this set cannot come from Cognito.
// Every printable ASCII character but space is in those classes, so ASCII names need no Unicode
// tables. The Unicode pattern is built on first need: compiling a property-escape regex loads
// ICU data, about 2 ms of every cold start (measured in docs/benchmarks.md), even as a literal.
const ASCII_GROUP_NAME = /^[\x21-\x7e]+$/;
let unicodeGroupName: RegExp | undefined;
const PARTITION = /^aws(?:-[a-z]+){0,2}$/;
const ACCOUNT_ID = /^\d{12}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ROLE_PATH_BODY = /^[\u0021-\u007e]*$/;

function invalid(message: string): TenantAuthError {
  return new TenantAuthError("token_invalid", message);
}

/**
 * Parse an IAM role ARN (`arn:<partition>:iam::<account>:role/<path/><name>`).
 * Returns `undefined` for anything that is not one.
 */
export function parseIamRoleArn(arn: string): IamRole | undefined {
  if (typeof arn !== "string" || arn.length > 2048) return undefined;
  const parts = arn.split(":");
  if (parts.length !== 6 || parts[0] !== "arn" || parts[2] !== "iam" || parts[3] !== "") return undefined;
  const partition = parts[1] as string;
  const accountId = parts[4] as string;
  const resource = parts[5] as string;
  if (!PARTITION.test(partition) || !ACCOUNT_ID.test(accountId) || !resource.startsWith("role/")) return undefined;
  const rest = resource.slice(5);
  const lastSlash = rest.lastIndexOf("/");
  const name = rest.slice(lastSlash + 1);
  const pathBody = rest.slice(0, lastSlash + 1);
  if (!ROLE_NAME.test(name) || !ROLE_PATH_BODY.test(pathBody) || pathBody.includes("//")) return undefined;
  return Object.freeze({ arn, partition, accountId, path: `/${pathBody}`, name });
}

/** True when `name` could be a Cognito group name (1 to 128 characters of the allowed classes). */
export function isValidGroupName(name: unknown): name is string {
  if (typeof name !== "string" || name.length === 0 || name.length > 256) return false;
  if (!ASCII_GROUP_NAME.test(name)) {
    unicodeGroupName ??= new RegExp("^[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+$", "u");
    if (!unicodeGroupName.test(name)) return false;
  }
  // Length is in characters, not UTF-16 units: only count code points when it can matter.
  return name.length <= 128 || [...name].length <= 128;
}

function stringArrayClaim(claims: JwtClaims, name: string): readonly string[] {
  const value = claims[name];
  if (value === undefined) return EMPTY;
  if (!Array.isArray(value)) throw invalid(`The ${name} claim must be an array of strings`);
  for (const item of value) {
    if (typeof item !== "string") throw invalid(`The ${name} claim must be an array of strings`);
  }
  return value as string[];
}

function optionalString(claims: JwtClaims, name: string): string | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalid(`The ${name} claim must be a string`);
  return value;
}

function numericDate(claims: JwtClaims, name: string, required: boolean): Date | undefined {
  const value = claims[name];
  if (value === undefined) {
    if (required) throw invalid(`The token has no ${name} claim`);
    return undefined;
  }
  // Beyond ±8.64e12 seconds a Date is invalid (NaN): such an exp would never expire.
  if (typeof value !== "number" || !Number.isFinite(value) || Math.abs(value) > 8.64e12) throw invalid(`The ${name} claim must be a number`);
  return new Date(value * 1000);
}

// A pool has a few roles (one per group) that every token repeats: parse each ARN once.
// Bounded, and emptied when full; a hit is the same string, so the same parse.
const parsedRoles = new Map<string, IamRole | undefined>();

function parseRole(arn: string, claim: string): IamRole {
  let role = parsedRoles.get(arn);
  if (role === undefined) {
    role = parseIamRoleArn(arn);
    if (parsedRoles.size >= 1024) parsedRoles.clear();
    if (role !== undefined) parsedRoles.set(arn, role);
  }
  if (!role) throw invalid(`The ${claim} claim holds a value that is not an IAM role ARN`);
  return role;
}

/**
 * The one claim normalizer: turns a verified Cognito payload into typed fields.
 *
 * Types are decided here, not coerced: `cognito:groups` must be an array of valid group names,
 * `cognito:roles` an array of IAM role ARNs, `cognito:preferred_role` one ARN, `scope` a string,
 * `exp` a number. Anything else is `token_invalid`. The payload is deep-frozen in place.
 *
 * Signature, issuer and expiry are not checked here: call it only with a verified payload
 * (or with claims API Gateway already verified).
 */
export function normalizeClaims(payload: Record<string, unknown>, options: NormalizeClaimsOptions = {}): NormalizedClaims {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw invalid("The token payload is not a JSON object");
  }
  let claims: JwtClaims;
  try {
    claims = deepFreeze(payload) as JwtClaims;
  } catch (err) {
    // Claims parsed elsewhere (JSON.parse is not recursive) can nest deeper than the call stack.
    if (err instanceof RangeError) throw invalid("The token payload is nested too deeply");
    throw err;
  }

  const tokenUse = claims["token_use"];
  if (tokenUse !== "id" && tokenUse !== "access") throw invalid('The token_use claim must be "id" or "access"');

  const sub = claims["sub"];
  if (typeof sub !== "string" || sub === "") throw invalid("The token has no sub claim");

  const issuer = claims["iss"];
  if (typeof issuer !== "string" || issuer === "") throw invalid("The token has no iss claim");

  let clientId: string | undefined;
  if (tokenUse === "id") {
    const aud = claims["aud"];
    // Cognito ID tokens carry one audience, the app client id; an array is not a Cognito token.
    if (aud !== undefined && typeof aud !== "string") throw invalid("The aud claim must be a single string");
    clientId = aud;
  } else {
    clientId = optionalString(claims, "client_id");
  }

  const username = optionalString(claims, tokenUse === "id" ? "cognito:username" : "username") ?? sub;

  const groupClaim = stringArrayClaim(claims, "cognito:groups");
  let groups: readonly string[] = EMPTY;
  if (groupClaim.length > 0) {
    const seen = new Set<string>();
    for (const group of groupClaim) {
      if (!isValidGroupName(group)) throw invalid("The cognito:groups claim holds a value that is not a group name");
      seen.add(group);
    }
    groups = seen.size === groupClaim.length ? groupClaim : Object.freeze([...seen]);
  }

  const roleClaim = stringArrayClaim(claims, "cognito:roles");
  const roles = roleClaim.length === 0 ? EMPTY : Object.freeze(roleClaim.map((arn) => parseRole(arn, "cognito:roles")));
  const preferredArn = optionalString(claims, "cognito:preferred_role");
  const preferredRole = preferredArn === undefined ? undefined : parseRole(preferredArn, "cognito:preferred_role");

  const scope = optionalString(claims, "scope");
  const scopes = scope === undefined || scope === "" ? EMPTY : Object.freeze(scope.split(" ").filter((s) => s !== ""));

  const expiresAt = numericDate(claims, "exp", true) as Date;
  const issuedAt = numericDate(claims, "iat", false);
  numericDate(claims, "nbf", false);

  const userPoolId = options.userPoolId ?? issuer.slice(issuer.lastIndexOf("/") + 1);

  return {
    sub,
    username,
    userPoolId,
    issuer,
    clientId,
    tokenUse,
    groups,
    roles,
    preferredRole,
    scopes,
    issuedAt,
    expiresAt,
    claims,
  };
}

/** Freeze a JSON value and everything in it, in place. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
