/**
 * AWS Lambda adapter: `withTenant` for API Gateway REST, HTTP API and ALB handlers,
 * `createAuthorizerHandler` for Lambda authorizers, `principalFromApiGatewayClaims` for APIs whose
 * API Gateway authorizer already verified the token, and `tenantAuthMiddleware` for Middy.
 * Token verification, claim normalization, tenant resolution and the error model stay in the core.
 * @packageDocumentation
 */
export { withTenant } from "./lambda/with-tenant.js";
export type { WithTenantOptions, TenantHandler } from "./lambda/with-tenant.js";
export { createAuthorizerHandler, authorizerContext, stageWildcardArn } from "./lambda/authorizer-handler.js";
export type { AuthorizerHandlerOptions, AuthorizerContext, AuthorizerContextValue, IamAuthorizerResult, SimpleAuthorizerResult, LambdaAuthorizerEvent } from "./lambda/authorizer-handler.js";
export { principalFromApiGatewayClaims, decodeApiGatewayClaims, decodeListClaim, decodeNumericDate } from "./lambda/claims.js";
export type { ApiGatewayClaimsEvent, ApiGatewayClaimsOptions } from "./lambda/claims.js";
export { tenantAuthMiddleware } from "./lambda/middy.js";
export type { TenantContext, TenantMiddyRequest, TenantAuthMiddlewareObject, TenantAuthMiddlewareOptions } from "./lambda/middy.js";
export { detectEventKind, errorResponse, headerValue, headerValues } from "./lambda/events.js";
export type { LambdaHttpEvent, LambdaEventKind, LambdaHttpResult } from "./lambda/events.js";
export type { EventAuthOptions, FromEvent } from "./lambda/resolve.js";
