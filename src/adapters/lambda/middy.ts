import type { Context } from "aws-lambda";
import { isTenantAuthError } from "../../core/errors.js";
import type { TenantPrincipal } from "../../core/principal.js";
import type { TenantAuth } from "../../core/tenant-auth.js";
import type { LambdaHttpEvent } from "./events.js";
import { reportError } from "../../core/adapter-options.js";
import { checkTenantAuth } from "../../core/request-auth.js";
import { errorResponse } from "./events.js";
import type { EventAuthOptions } from "./resolve.js";
import { checkEventAuthOptions, createEventAuth } from "./resolve.js";

/** The Lambda context as the handler sees it behind {@link tenantAuthMiddleware}: `context.tenant` is set. */
export type TenantContext = Context & { readonly tenant: TenantPrincipal };

/**
 * The part of Middy's `request` object the middleware uses (structurally Middy's `Request`, so
 * `@middy/core` is needed only by your code, never imported by this package at run time).
 */
export interface TenantMiddyRequest<E = LambdaHttpEvent> {
  event: E;
  context: TenantContext;
  response: unknown;
  error: unknown;
  internal: Record<string, unknown>;
}

/** What {@link tenantAuthMiddleware} returns: a plain Middy middleware object. */
export interface TenantAuthMiddlewareObject<E = LambdaHttpEvent> {
  /** Resolves the principal and sets `request.context.tenant`; throws our errors on to `onError`. */
  before: (request: TenantMiddyRequest<E>) => Promise<void>;
  /** Answers a `TenantAuthError` (ours, or one the handler threw) in the event's format; leaves other errors alone. */
  onError: (request: TenantMiddyRequest<E>) => void;
  /** `"cognito-tenancy"`, for Middy's profiling hooks. */
  name: string;
}

/**
 * Options of {@link tenantAuthMiddleware}: the same as `withTenant`'s.
 * @deprecated Use `WithTenantOptions` (the one options type of the Lambda HTTP handlers; every
 * adapter's options extend `HttpAdapterOptions`).
 */
export type TenantAuthMiddlewareOptions<E = LambdaHttpEvent> = EventAuthOptions<E>;

/**
 * Middy middleware: authenticates the HTTP event (REST, HTTP API or ALB) in `before` and puts the
 * principal on the Lambda context, `request.context.tenant` (typed through {@link TenantContext}:
 * Middy infers it for the handler). The event is left as AWS sent it.
 *
 * In `onError`, a `TenantAuthError` (from `before`, or thrown by the handler, e.g. by
 * `assertGroups`) becomes `request.response` in the event's own format (status,
 * `WWW-Authenticate`, JSON body; ALB `statusDescription`). Other errors are left to the next
 * `onError` middleware, or to Middy, which rethrows them.
 *
 * @example
 * ```ts
 * export const handler = middy<APIGatewayProxyEventV2>()
 *   .use(tenantAuthMiddleware(auth))
 *   .handler(async (event, context) => ({ statusCode: 200, body: context.tenant.tenantId ?? "" }));
 * ```
 */
export function tenantAuthMiddleware<E extends LambdaHttpEvent = LambdaHttpEvent>(auth: TenantAuth, options: EventAuthOptions<E> = {}): TenantAuthMiddlewareObject<E> {
  checkTenantAuth(auth, "tenantAuthMiddleware");
  options = checkEventAuthOptions(options, "tenantAuthMiddleware");
  const eventAuth = createEventAuth(auth, options, "tenantAuthMiddleware");
  return {
    name: "cognito-tenancy",
    async before(request) {
      const principal = await eventAuth.resolve(request.event);
      (request.context as { tenant?: TenantPrincipal }).tenant = principal;
    },
    onError(request) {
      if (isTenantAuthError(request.error)) {
        reportError(options.onError, request.error, request.event);
        request.response = errorResponse(request.event, request.error);
      }
    },
  };
}
