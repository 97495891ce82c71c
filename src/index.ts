/**
 * cognito-tenancy: verify Amazon Cognito JWTs and resolve the tenant each request acts for.
 *
 * The core imports no framework, no AWS SDK and no Cedar: adapters and authorizers live in
 * their own subpath exports (`cognito-tenancy/express`, `/fastify`, `/lambda`,
 * `/verified-permissions`, `/cedar`, `/testing`).
 * @packageDocumentation
 */
export { createTenantAuth } from "./core/tenant-auth.js";
export type { TenantAuth, TenantAuthOptions, ResolveTenantOptions } from "./core/tenant-auth.js";
export type { UserPoolConfig } from "./core/verify.js";
export type { UserPoolCacheOptions, UserPoolResolver } from "./core/trust.js";
export { DEFAULT_MAX_TOKEN_LENGTH } from "./core/verify.js";
export type { JwksOptions } from "./core/jwks.js";
export { TenantAuthError, isTenantAuthError, ERROR_STATUS } from "./core/errors.js";
export type { TenantAuthErrorCode, TenantAuthErrorOptions } from "./core/errors.js";
export { extractToken } from "./core/extract-token.js";
export { normalizeClaims, parseIamRoleArn, isValidGroupName } from "./core/claims.js";
export type { IamRole, JwtClaims, NormalizedClaims, NormalizeClaimsOptions, TokenUse } from "./core/claims.js";
export { compileTenantStrategy, normalizeTenantHint, DEFAULT_GROUP_PATTERN } from "./core/tenancy.js";
export type {
  TenantStrategy,
  GroupsTenantStrategy,
  ClaimTenantStrategy,
  UserPoolTenantStrategy,
  AppClientTenantStrategy,
  CustomTenantStrategy,
  TenantSelectionOptions,
  TenantMembership,
  MembershipInput,
  TenantResolver,
} from "./core/tenancy.js";
export { principalFromClaims, buildPrincipal } from "./core/principal.js";
export type { TenantPrincipal, TenantPrincipalWithTenant, PrincipalFromClaimsOptions } from "./core/principal.js";
export type { Authorizer, AuthorizationRequest, Decision, ActionRef, ResourceRef } from "./core/authorizer.js";
export { assertGroups, assertTenantRoles, assertScopes, assertTokenAge, authorizeOrThrow } from "./core/guards.js";
export type { GroupRequirement, DecisionListener } from "./core/guards.js";
export type { HttpAdapterOptions, AuthorizeSettings, OnDecision } from "./core/adapter-options.js";
export {
  toCedarEntities,
  projectToSchema,
  principalToUid,
  actionToUid,
  resourceToUid,
  resourceToEntity,
  qualifyType,
  toCedarValue,
  toCedarRecord,
  toAttributeValue,
  toAttributeRecord,
  toEntityIdentifier,
  toEntityList,
} from "./core/cedar-entities.js";
export type { CedarEntity, CedarEntityUid, CedarValue, CedarEntityMapping, CedarMappingOptions, CedarSchemaJson, VpAttributeValue, VpEntityIdentifier, VpEntityItem } from "./core/cedar-entities.js";
