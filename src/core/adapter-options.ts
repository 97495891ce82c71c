/**
 * The options every HTTP adapter shares (Express `tenantAuth`, the Fastify plugin, the Lambda
 * `withTenant`, Middy middleware and authorizer): one type, one schema, checked by `validateOptions`
 * at setup, one vocabulary. "No principal" (an anonymous request with `credentialsRequired: false`,
 * a public route) is `undefined` in every adapter.
 */
import type { ActionRef, Decision, ResourceRef } from "./authorizer.js";
import type { OptionsSchema } from "./options.js";
import type { FromInput } from "./request-auth.js";
import { describeValue } from "./options.js";

// RFC 9110 §5.1: a field name is a token.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The options every HTTP adapter takes, under the same names and with the same meaning (Express
 * `tenantAuth`, the Fastify plugin, the Lambda `withTenant`, Middy middleware and authorizer
 * handler; Hono and NestJS alike). Each adapter's options type extends this one; `I` is the
 * adapter's request (Express `Request`, `FastifyRequest`, a Lambda event).
 */
export interface HttpAdapterOptions<I = unknown> {
  /**
   * Request header naming the tenant the caller wants to act for (matched case-insensitively).
   * Default `"x-tenant-id"`; `false` reads no header.
   */
  tenantHeader?: string | false;
  /**
   * Route (path) parameter naming the tenant (`"tenantId"` for `/tenants/:tenantId/...`). When the
   * header is sent too, both must agree, else 400 `invalid_request`. A route without that parameter
   * is refused (503 `tenant_unavailable`, the mistake in `cause` for `onError`), never read as the
   * header alone.
   */
  tenantParam?: string;
  /**
   * Default `true`: a request without a bearer token is refused (401 `token_missing`). `false`
   * lets it through anonymously, with no principal (`undefined`); a token that is sent is still
   * verified, and a guard or `authorize` still refuses an anonymous caller.
   */
  credentialsRequired?: boolean;
  /**
   * Header carrying the token instead of `Authorization`, e.g. `"x-amzn-oidc-accesstoken"` behind an
   * Application Load Balancer that authenticates with Cognito (a raw token there; `Bearer <token>`
   * is accepted too). Several values of the header are refused (400 `invalid_request`).
   */
  tokenHeader?: string;
  /**
   * Called with every refusal or failure (a 503 with the engine's or key endpoint's failure in
   * `cause`) and the request, before the answer is sent: log the cause of 5xx here. What it does or
   * throws does not change the answer.
   */
  onError?: (error: unknown, input: I) => void;
}

/**
 * What to ask a policy engine about a request, the same in every adapter: a value, or a function
 * `(input, principal) => T | Promise<T>` of the request and the resolved principal.
 */
export interface AuthorizeSettings<I = unknown> {
  /** The action id (`"ReadDocument"`), a typed `{ type, id }`, or a function computing it. */
  action: FromInput<I, ActionRef>;
  /** The resource acted on, usually built from the request: `(req) => ({ type: "Document", id: req.params.id })`. */
  resource: FromInput<I, ResourceRef>;
  /** Extra `context` for the policies, plain JSON values. */
  context?: FromInput<I, Readonly<Record<string, unknown>>>;
  /** Extra entities (Cedar JSON entity format) the policies need. */
  entities?: FromInput<I, readonly unknown[]>;
}

/**
 * Called with every ALLOW or DENY a policy engine gives (with its determining policies) and the
 * request, before the request goes on or is refused, e.g. for an audit log. Not called when the
 * engine cannot answer. Must not throw.
 */
export type OnDecision<I = unknown> = (decision: Decision, input: I) => void;

function checkHeaderName(value: unknown, name: string): void {
  if (typeof value !== "string" || !HEADER_NAME.test(value)) {
    throw new TypeError(`${name} must be a header name (letters, digits, - and the other token characters), got ${describeValue(value)}`);
  }
}

/**
 * `tenantHeader`, `tenantParam` and `tokenHeader`, the same in every HTTP adapter. Spread it into an
 * adapter's own schema: `{ ...HTTP_ADAPTER_OPTIONS, credentialsRequired: { type: "boolean" } }`.
 */
export const HTTP_ADAPTER_OPTIONS: OptionsSchema = Object.freeze({
  tenantHeader: {
    type: "custom",
    check: (value: unknown, name: string) => {
      if (value !== false) checkHeaderName(value, `${name} (or false)`);
    },
  },
  tenantParam: { type: "string", nonEmpty: true },
  tokenHeader: { type: "custom", check: checkHeaderName },
  onError: { type: "function" },
});

/** The keys of {@link AuthorizeSettings}: `action` and `resource` (required) and `context`, `entities`. */
export const AUTHORIZE_SETTINGS: OptionsSchema = Object.freeze({
  action: { type: "any", required: true },
  resource: { type: "any", required: true },
  context: { type: "any" },
  entities: { type: "any" },
});

/**
 * Hand a refusal or failure to the app's `onError` hook (every adapter's option of that name),
 * with its `cause` intact, so the reason for a 503 reaches the app's logs. The hook is for
 * observing: whatever it does or throws, the answer stays the same.
 */
export function reportError<R>(onError: ((error: unknown, request: R) => void) | undefined, error: unknown, request: R): void {
  if (onError === undefined) return;
  try {
    onError(error, request);
  } catch {
    // An observer that fails must not turn a 401 into a 500.
  }
}

/** The caller-only requirements (`groups`, `tenantRoles`, `scopes`); their content is checked by `checkRouteRequirements`. */
export const REQUIREMENT_OPTIONS: OptionsSchema = Object.freeze({
  groups: { type: "any" },
  tenantRoles: { type: "any" },
  scopes: { type: "any" },
});

/** The header names an adapter reads, lower-case (Node and AWS give header names in any case). */
export interface AdapterHeaders {
  /** `undefined` for `Authorization`. */
  readonly tokenHeader: string | undefined;
  /** `undefined` when no header names the tenant (`tenantHeader: false`). */
  readonly tenantHeader: string | undefined;
}

/**
 * The header names from validated options: `tenantHeader` defaults to `x-tenant-id`. The token and
 * the tenant cannot come from one header (a `TypeError` naming both options).
 */
export function adapterHeaders(options: { tenantHeader?: string | false; tokenHeader?: string }, where: string): AdapterHeaders {
  const tenant = options.tenantHeader ?? "x-tenant-id";
  const tenantHeader = tenant === false ? undefined : tenant.toLowerCase();
  const token = options.tokenHeader?.toLowerCase();
  const tokenHeader = token === "authorization" ? undefined : token;
  if (tenantHeader !== undefined && tenantHeader === (tokenHeader ?? "authorization")) {
    throw new TypeError(`${where}: tenantHeader and tokenHeader name the same header "${tenantHeader}"`);
  }
  return { tokenHeader, tenantHeader };
}
