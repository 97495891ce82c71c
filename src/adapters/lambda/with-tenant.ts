import type { Context } from "aws-lambda";
import { isTenantAuthError } from "../../core/errors.js";
import type { TenantPrincipal } from "../../core/principal.js";
import type { TenantAuth } from "../../core/tenant-auth.js";
import type { LambdaHttpEvent, LambdaHttpResult } from "./events.js";
import { reportError } from "../../core/adapter-options.js";
import { checkTenantAuth } from "../../core/request-auth.js";
import { errorResponse } from "./events.js";
import type { EventAuthOptions } from "./resolve.js";
import { checkEventAuthOptions, createEventAuth } from "./resolve.js";

/** Options of {@link withTenant}: the tenant hint sources, and guards to run before the handler. */
export type WithTenantOptions<E = LambdaHttpEvent> = EventAuthOptions<E>;

/**
 * A Lambda HTTP handler that also receives the resolved principal (typed as the `auth` resolves
 * it: with a tenant required, `principal.tenantId` is a `string`).
 */
export type TenantHandler<E, R, P extends TenantPrincipal = TenantPrincipal> = (event: E, context: Context, principal: P) => Promise<R> | R;

/**
 * Wrap a Lambda HTTP handler so it runs only for an authenticated caller acting for a tenant.
 *
 * Works for API Gateway REST (and HTTP API payload 1.0), HTTP API payload 2.0 and ALB events,
 * told apart by {@link detectEventKind}. The `Authorization` header and the tenant header are looked
 * up case-insensitively, in `multiValueHeaders` too. Any refusal (`TenantAuthError`, also one
 * the handler throws, e.g. from `assertGroups`) is answered in the event's own format with its
 * status, `WWW-Authenticate` and a `{ error, error_description }` JSON body. Any other error the
 * handler throws propagates unchanged.
 *
 * @example
 * ```ts
 * export const handler = withTenant(auth, async (event: APIGatewayProxyEventV2, context, principal) => ({
 *   statusCode: 200,
 *   body: JSON.stringify({ tenant: principal.tenantId }),
 * }));
 * ```
 */
export function withTenant<E extends LambdaHttpEvent, R = LambdaHttpResult<E>, P extends TenantPrincipal = TenantPrincipal>(
  auth: TenantAuth<P>,
  handler: TenantHandler<E, R, P>,
  options: WithTenantOptions<E> = {},
): (event: E, context: Context) => Promise<R | LambdaHttpResult<E>> {
  checkTenantAuth(auth, "withTenant");
  if (typeof handler !== "function") throw new TypeError("withTenant: handler must be a function");
  options = checkEventAuthOptions(options, "withTenant");
  const eventAuth = createEventAuth(auth, options, "withTenant");
  return async function tenantHandler(event: E, context: Context): Promise<R | LambdaHttpResult<E>> {
    let principal: P;
    try {
      principal = (await eventAuth.resolve(event)) as P;
    } catch (err) {
      reportError(options.onError, err, event);
      if (isTenantAuthError(err)) return errorResponse(event, err);
      throw err;
    }
    try {
      return await handler(event, context, principal);
    } catch (err) {
      if (isTenantAuthError(err)) {
        reportError(options.onError, err, event);
        return errorResponse(event, err);
      }
      throw err;
    }
  };
}
