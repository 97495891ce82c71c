import { STATUS_CODES } from "node:http";
import type { ALBEvent, ALBResult, APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { TenantAuthError } from "../../core/errors.js";

/**
 * The HTTP events {@link withTenant} and {@link tenantAuthMiddleware} accept: API Gateway REST
 * (and HTTP API payload 1.0), HTTP API payload 2.0, and Application Load Balancer.
 */
export type LambdaHttpEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2 | ALBEvent;

/**
 * Which kind of HTTP event a Lambda received, decided by {@link detectEventKind}:
 * `"alb"`, `"v2"` (HTTP API payload 2.0) or `"v1"` (REST API, and HTTP API payload 1.0).
 */
export type LambdaEventKind = "v1" | "v2" | "alb";

/** The response type that answers an event type: ALB → `ALBResult`, v2 → structured v2 result, else REST. */
export type LambdaHttpResult<E> = E extends ALBEvent ? ALBResult : E extends APIGatewayProxyEventV2 ? APIGatewayProxyStructuredResultV2 : APIGatewayProxyResult;

type Loose = Record<string, unknown>;

/**
 * Decide an event's kind from its shape, in this order:
 * 1. `requestContext.elb` present → `"alb"` (only ALB sends it);
 * 2. `version === "2.0"` → `"v2"` (HTTP API payload format 2.0);
 * 3. anything else → `"v1"` (REST API proxy events, and HTTP API payload 1.0, which share the
 *    REST shape and the REST response format).
 */
export function detectEventKind(event: unknown): LambdaEventKind {
  const e = (typeof event === "object" && event !== null ? event : {}) as Loose;
  const rc = e["requestContext"];
  if (typeof rc === "object" && rc !== null && typeof (rc as Loose)["elb"] === "object" && (rc as Loose)["elb"] !== null) return "alb";
  if (e["version"] === "2.0") return "v2";
  return "v1";
}

function collect(map: unknown, lower: string, out: unknown[]): void {
  if (typeof map !== "object" || map === null) return;
  for (const key of Object.keys(map)) {
    if (key.toLowerCase() !== lower) continue;
    const value = (map as Loose)[key];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) out.push(...value);
    else out.push(value);
  }
}

/**
 * Every value of a header, looked up case-insensitively (REST keeps the client's case; HTTP API
 * and ALB lower-case names). `multiValueHeaders` is read first (REST sends both maps; ALB with
 * multi-value headers enabled sends only it), `headers` when that holds nothing.
 */
export function headerValues(event: unknown, name: string): unknown[] {
  const e = (typeof event === "object" && event !== null ? event : {}) as Loose;
  const lower = name.toLowerCase();
  const out: unknown[] = [];
  collect(e["multiValueHeaders"], lower, out);
  if (out.length === 0) collect(e["headers"], lower, out);
  return out;
}

/**
 * One header in the form the core accepts: `undefined` when absent, the value when sent once, the
 * list when sent several times (the core answers `invalid_request` for several credentials or hints).
 */
export function headerValue(event: unknown, name: string): string | readonly string[] | undefined {
  const values = headerValues(event, name);
  if (values.length === 0) return undefined;
  if (values.length === 1) return values[0] as string;
  return values as string[];
}

/** A path parameter (`event.pathParameters[name]`), if the event has one. */
export function pathParameter(event: unknown, name: string): string | undefined {
  const params = (event as Loose | null)?.["pathParameters"];
  if (typeof params !== "object" || params === null) return undefined;
  const value = (params as Loose)[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * The response that answers `event` with `err`, in the event's own format: status,
 * `WWW-Authenticate` (or `Retry-After`) and the other error headers, and the JSON body
 * `{ error, error_description }`. ALB responses carry `statusDescription`, and use
 * `multiValueHeaders` when the request came with them (ALB ignores `headers` then).
 */
export function errorResponse<E>(event: E, err: TenantAuthError): LambdaHttpResult<E> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    ...err.headers,
  };
  const body = JSON.stringify(err.toJSON());
  const kind = detectEventKind(event);
  if (kind === "alb") {
    const usesMulti = typeof (event as Loose)["multiValueHeaders"] === "object" && (event as Loose)["multiValueHeaders"] !== null;
    const result: ALBResult = {
      statusCode: err.status,
      statusDescription: `${err.status} ${STATUS_CODES[err.status] ?? "Error"}`,
      isBase64Encoded: false,
      body,
    };
    if (usesMulti) result.multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
    else result.headers = headers;
    return result as LambdaHttpResult<E>;
  }
  if (kind === "v2") {
    const result: APIGatewayProxyStructuredResultV2 = { statusCode: err.status, headers, body, isBase64Encoded: false };
    return result as LambdaHttpResult<E>;
  }
  const result: APIGatewayProxyResult = { statusCode: err.status, headers, body, isBase64Encoded: false };
  return result as LambdaHttpResult<E>;
}
