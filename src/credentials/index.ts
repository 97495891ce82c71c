/**
 * `cognito-tenancy/credentials`: temporary AWS credentials scoped to the tenant a request acts
 * for, from an Amazon Cognito identity pool (`CustomRoleArn` = the active tenant's role) or from
 * STS `AssumeRole` with session tags (ABAC). Loads `@aws-sdk/client-cognito-identity` or
 * `@aws-sdk/client-sts` (optional peers) on the first call, not on import.
 * @packageDocumentation
 */
export { createTenantCredentials, roleTenantsFrom } from "./tenant-credentials.js";
export type {
  AwsClientLike,
  AssumeRoleCredentialsOptions,
  ForPrincipalOptions,
  IdentityPoolCredentialsOptions,
  TenantCredentials,
  TenantCredentialsOptions,
  TenantCredentialsProvider,
  TenantCredentialsSource,
} from "./tenant-credentials.js";
export { explainIdentityPoolRole } from "./role-mapping.js";
export type { ExplainRoleOptions, IdentityPoolMappingRule, IdentityPoolRoleChoice, IdentityPoolRoleMapping } from "./role-mapping.js";
export {
  StsLimitError,
  checkRoleSessionName,
  checkSessionPolicy,
  checkSessionTags,
  roleSessionNameFor,
  MAX_SESSION_TAGS,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  MAX_SESSION_POLICY_LENGTH,
  MIN_DURATION_SECONDS,
  MAX_DURATION_SECONDS,
} from "./sts-limits.js";
