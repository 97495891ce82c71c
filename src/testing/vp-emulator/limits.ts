/**
 * What the Verified Permissions service checks before it evaluates anything, taken from its API
 * model (the Smithy model of `verifiedpermissions` 2021-12-01, as published by AWS and in the API
 * reference). Each entry names the model shape it comes from; a limit the model states only in an
 * operation's documentation says so.
 */

/** A string shape's `@length` (counted in code points, as Smithy does) and `@pattern`. */
export interface StringShape {
  readonly shape: string;
  readonly min: number;
  readonly max: number;
  readonly pattern: RegExp;
}

// `^.*$` is in the model as written: `.` does not match line terminators, so an id with a newline
// fails the pattern (ECMAScript regular expressions, as Smithy specifies).
export const SHAPES = {
  /**
   * `PolicyStoreId`: `@length(1, 200)`, `@pattern("[a-zA-Z0-9-/_]*")` since policy store aliases
   * (`policy-store-alias/<name>` is accepted wherever a store id is; earlier models had `^[a-zA-Z0-9-]*$`).
   */
  policyStoreId: { shape: "PolicyStoreId", min: 1, max: 200, pattern: /^[a-zA-Z0-9-/_]*$/ },
  /** `IdentitySourceId`: `@length(1, 200)`, `@pattern("^[a-zA-Z0-9-]*$")`. */
  identitySourceId: { shape: "IdentitySourceId", min: 1, max: 200, pattern: /^[a-zA-Z0-9-]*$/ },
  /** `EntityType`: `@length(1, 200)`, `@pattern("^.*$")`. */
  entityType: { shape: "EntityType", min: 1, max: 200, pattern: /^.*$/ },
  /** `EntityId`: `@length(1, 200)`, `@pattern("^.*$")`. */
  entityId: { shape: "EntityId", min: 1, max: 200, pattern: /^.*$/ },
  /** `ActionType`: `@length(1, 200)`, `@pattern("^Action$|^.+::Action$")`. */
  actionType: { shape: "ActionType", min: 1, max: 200, pattern: /^Action$|^.+::Action$/ },
  /** `ActionId`: `@length(1, 200)`, `@pattern("^.*$")`. */
  actionId: { shape: "ActionId", min: 1, max: 200, pattern: /^.*$/ },
  /** `Token` (`identityToken`, `accessToken`): `@length(1, 131072)`, three dot-separated parts. */
  token: { shape: "Token", min: 1, max: 131072, pattern: /^[A-Za-z0-9-_=]+.[A-Za-z0-9-_=]+.[A-Za-z0-9-_=]+$/ },
  /** `NextToken`: `@length(1, 8000)`, `@pattern("^[A-Za-z0-9-_=+/\.]*$")`. */
  nextToken: { shape: "NextToken", min: 1, max: 8000, pattern: /^[A-Za-z0-9-_=+/.]*$/ },
  /** `PrincipalEntityType` (identity sources): `@length(1, 200)`. */
  principalEntityType: { shape: "PrincipalEntityType", min: 1, max: 200, pattern: /^.*$/ },
  /** `GroupEntityType`: `@length(1, 200)`, a Cedar type name (`Ns::Type`). */
  groupEntityType: { shape: "GroupEntityType", min: 1, max: 200, pattern: /^([_a-zA-Z][_a-zA-Z0-9]*::)*[_a-zA-Z][_a-zA-Z0-9]*$/ },
  /** `UserPoolArn`: `@length(1, 255)`. */
  userPoolArn: { shape: "UserPoolArn", min: 1, max: 255, pattern: /^arn:[a-zA-Z0-9-]+:cognito-idp:(([a-zA-Z0-9-]+:\d{12}:userpool\/[\w-]+_[0-9a-zA-Z]+))$/ },
  /** `ClientId`: `@length(1, 255)`. */
  clientId: { shape: "ClientId", min: 1, max: 255, pattern: /^.*$/ },
  /** `PolicyId`: `@length(1, 200)`, `@pattern("^[a-zA-Z0-9-]*$")`. */
  policyId: { shape: "PolicyId", min: 1, max: 200, pattern: /^[a-zA-Z0-9-]*$/ },
  /** `PolicyTemplateId`: `@length(1, 200)`, `@pattern("^[a-zA-Z0-9-]*$")`. */
  policyTemplateId: { shape: "PolicyTemplateId", min: 1, max: 200, pattern: /^[a-zA-Z0-9-]*$/ },
  /** `PolicyStatement`: `@length(1, 10000)`. */
  policyStatement: { shape: "PolicyStatement", min: 1, max: 10000, pattern: /^[\s\S]*$/ },
  /** `StaticPolicyDescription` and `PolicyTemplateDescription`: `@length(0, 150)`. */
  description: { shape: "StaticPolicyDescription", min: 0, max: 150, pattern: /^[\s\S]*$/ },
  /** `SchemaJson`: `@length(1, 100000)`. */
  schemaJson: { shape: "SchemaJson", min: 1, max: 100000, pattern: /^[\s\S]*$/ },
  /** `IdempotencyToken` (`clientToken`): `@length(1, 64)`, `@pattern("^[a-zA-Z0-9-]*$")`. */
  clientToken: { shape: "IdempotencyToken", min: 1, max: 64, pattern: /^[a-zA-Z0-9-]*$/ },
} as const satisfies Record<string, StringShape>;

export const LIMITS = {
  /**
   * `BatchIsAuthorizedInput.requests`, `BatchIsAuthorizedWithTokenInput.requests`: "An array of up
   * to 30 requests" (documentation; the list shapes `BatchIsAuthorizedInputList` and
   * `BatchIsAuthorizedWithTokenInputList` carry only `@length(min: 1)`).
   */
  batchRequests: { min: 1, max: 30 },
  /** `BatchIsAuthorized` documentation: the entities "can contain up to 100 principals and up to 100 resources". */
  batchPrincipals: 100,
  batchResources: 100,
  /** `BatchIsAuthorizedWithToken` documentation: the entities "can contain up to 100 resources and up to 99 user groups". */
  batchTokenResources: 100,
  batchTokenGroups: 99,
  /** `ListIdentitySourcesMaxResults`: `@range(min: 1)`; no maximum and no default in the model. */
  listMaxResultsMin: 1,
  /** `IdentitySourceFilters`: `@length(0, 10)`. */
  identitySourceFilters: 10,
  /** `ClientIds`: `@length(0, 1000)`. */
  clientIds: 1000,
  /**
   * `MaxResults` (`ListPolicies`, `ListPolicyTemplates`): `@range(1, 50)`; "If you do not specify
   * this parameter, the operation defaults to 10" (documentation).
   */
  listPoliciesMaxResults: { min: 1, max: 50, default: 10 },
  /** `BatchGetPolicyInputList`: `@length(1, 100)` ("An array of up to 100 policies"). */
  batchGetPolicy: { min: 1, max: 100 },
} as const;

/** The group entity type of a Cognito identity source that sets none (`CognitoGroupConfiguration.groupEntityType`: "Defaults to AWS::CognitoGroup"). */
export const DEFAULT_GROUP_ENTITY_TYPE = "AWS::CognitoGroup";

/**
 * `InternalServerException` is `@retryable` in the model (and `ThrottlingException`
 * `@retryable(throttling: true)`); the emulator answers both with the model's HTTP status.
 */
export const ERROR_STATUS = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ThrottlingException: 429,
  InternalServerException: 500,
} as const;

/** A violated constraint, in the words AWS services use for them. */
export class ConstraintViolation extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
    value?: unknown,
  ) {
    super(`1 validation error detected: Value ${value === undefined ? "null " : ""}at '${path}' failed to satisfy constraint: ${detail}`);
  }
}

/** Check a string member against its shape; `undefined` passes unless `required`. */
export function checkString(value: unknown, path: string, shape: StringShape, required = true): void {
  if (value === undefined || value === null) {
    if (required) throw new ConstraintViolation(path, "Member must not be null");
    return;
  }
  if (typeof value !== "string") throw new ConstraintViolation(path, "Member must be a string", value);
  const length = [...value].length;
  if (length < shape.min) throw new ConstraintViolation(path, `Member must have length greater than or equal to ${shape.min}`, value);
  if (length > shape.max) throw new ConstraintViolation(path, `Member must have length less than or equal to ${shape.max}`, value);
  if (!shape.pattern.test(value)) throw new ConstraintViolation(path, `Member must satisfy regular expression pattern: ${shape.pattern.source}`, value);
}
