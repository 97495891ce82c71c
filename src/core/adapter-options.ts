/**
 * The options every HTTP adapter shares (Express `tenantAuth`, the Fastify plugin, the Lambda
 * `withTenant`, Middy middleware and authorizer): one schema, checked by `validateOptions` at setup.
 */
import type { OptionsSchema } from "./options.js";
import { describeValue } from "./options.js";

// RFC 9110 §5.1: a field name is a token.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

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
