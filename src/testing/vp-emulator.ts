import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { EmulatorClientConfig } from "./aws-emulator-server.js";
import { AwsServiceError, answerAwsJson, failAwsJson } from "./aws-emulator-server.js";
import { normalizeEntity, toCedarRequest } from "../core/cedar/request.js";
import type { CedarSchemaJson } from "../core/cedar/schema.js";
import type { CedarEntity, CedarEntityUid, CedarValue } from "../core/cedar/values.js";
import { toCedarRecord } from "../core/cedar/values.js";
import { fromAttributeRecord, fromEntityIdentifier, fromEntityList } from "../core/cedar/wire.js";
import { checkOption, validateOptions } from "../core/options.js";
import type { TenantPrincipal } from "../core/principal.js";
import { createTenantAuth } from "../core/tenant-auth.js";
import type { TenantAuth } from "../core/tenant-auth.js";
import type { UserPoolConfig } from "../core/verify.js";
import type { PolicyInput } from "../authorizers/cedar-engine.js";
import { splitPolicyInput } from "../authorizers/cedar-engine.js";
import { ConstraintViolation, DEFAULT_GROUP_ENTITY_TYPE, ERROR_STATUS, LIMITS, SHAPES, checkString } from "./vp-emulator/limits.js";
import type { StoreOperation } from "./vp-emulator/store.js";
import { STORE_OPERATIONS, createEmulatedStore, shape } from "./vp-emulator/store.js";

export type { StoreOperation as EmulatorStoreOperation } from "./vp-emulator/store.js";

/** The authorization operations: the ones `callCount`, `decisionCount` and, by default, `setBehavior` are about. */
export type EmulatorAuthorizationOperation = "IsAuthorized" | "BatchIsAuthorized" | "IsAuthorizedWithToken" | "BatchIsAuthorizedWithToken";

/**
 * The operations the emulator speaks: authorization, the store and identity source reads, and the
 * policy, template and schema management operations (`ListPolicies`, `GetPolicy`, `BatchGetPolicy`,
 * `CreatePolicy`, `UpdatePolicy`, `DeletePolicy`, `ListPolicyTemplates`, `GetPolicyTemplate`,
 * `CreatePolicyTemplate`, `UpdatePolicyTemplate`, `GetSchema`, `PutSchema`).
 */
export type EmulatorOperation = EmulatorAuthorizationOperation | "GetPolicyStore" | "ListIdentitySources" | "GetIdentitySource" | StoreOperation;

/**
 * How the emulator answers, to rehearse outages: `"error"` answers 500 `InternalServerException`,
 * `"throttle"` 429 `ThrottlingException`, `"hang"` never answers, `"ok"` evaluates.
 */
export type EmulatorBehavior = "ok" | "error" | "throttle" | "hang";

/**
 * A Cognito user pool identity source of the emulated policy store, as `CreateIdentitySource` takes
 * it (`configuration.cognitoUserPoolConfiguration` and `principalEntityType`).
 */
export interface EmulatorIdentitySource {
  /** `arn:aws:cognito-idp:<region>:<account>:userpool/<userPoolId>`; tokens must come from this pool, with its AWS issuer. */
  readonly userPoolArn: string;
  /** App client ids whose tokens are accepted (`aud` of ID tokens, `client_id` of access tokens); empty: any client. */
  readonly clientIds: readonly string[];
  /** The principal's entity type, namespace included (e.g. `"TenancyDemo::User"`). */
  readonly principalEntityType: string;
  /** The groups' entity type; as in the service, `"AWS::CognitoGroup"` when not set. */
  readonly groupEntityType?: string;
  /** Its id; default `ISEMULATOR0000000000000001`, `...2`, ... */
  readonly identitySourceId?: string;
}

/** Options of {@link startVerifiedPermissionsEmulator}. */
export interface VerifiedPermissionsEmulatorOptions {
  /** The policy store's Cedar policies: text (ids from `@id`, else `policy0`, ...) or id → text. */
  readonly policies: PolicyInput;
  /**
   * The policy store's schema (Cedar text or JSON). Policies are validated against it at start and,
   * in `"STRICT"` mode, when they are written; `GetSchema` answers it as JSON.
   */
  readonly schema?: string | CedarSchemaJson;
  /**
   * The store's policy validation mode: `"STRICT"` (default with a schema) validates policies and
   * templates against the schema when they are written (`ValidationException` if they do not pass);
   * `"OFF"` accepts any policy that parses, as a store with validation off does.
   */
  readonly validationMode?: "STRICT" | "OFF";
  /** The store id to answer for; default `"PSEMULATOR00000000000001"`. Another well-formed id gets `ResourceNotFoundException`. */
  readonly policyStoreId?: string;
  /**
   * The keys to verify tokens with, for `IsAuthorizedWithToken` (e.g. `issuer.userPool` from
   * `createTestIssuer`). Without `identitySource`, each pool is also an identity source of the store,
   * typed by `namespace`, `userEntityType` and `groupEntityType`. Without either, the token
   * operations answer `ValidationException` (a store with no identity source).
   */
  readonly userPools?: readonly UserPoolConfig[];
  /**
   * The store's identity source(s), as the service holds them: `GetIdentitySource` and
   * `ListIdentitySources` answer with them and `IsAuthorizedWithToken` maps tokens with their types,
   * checking issuer and client id. Needs `userPools` for the keys.
   */
  readonly identitySource?: EmulatorIdentitySource | readonly EmulatorIdentitySource[];
  /** Without `identitySource`: namespace of the entity types of the `userPools` identity sources; default `""`. */
  readonly namespace?: string;
  /** Without `identitySource`: their principal entity type; default `"User"`. */
  readonly userEntityType?: string;
  /** Without `identitySource`: their group entity type; default `"UserGroup"`. */
  readonly groupEntityType?: string;
  /**
   * Alias names of this store (`policy-store-alias/<name>`): as in the service, every operation
   * takes one in place of the store id.
   */
  readonly aliases?: readonly string[];
  /**
   * More policy stores behind the same endpoint (a store per tenant), each with its own policies,
   * schema and aliases, and the identity sources and keys of this one. A call is answered by the
   * store its `policyStoreId` (or alias) names.
   */
  readonly stores?: readonly EmulatedPolicyStore[];
}

/** One more store of the emulator (see `stores`). */
export interface EmulatedPolicyStore {
  readonly policyStoreId: string;
  readonly policies: PolicyInput;
  readonly schema?: string | CedarSchemaJson;
  readonly aliases?: readonly string[];
}

/** A running emulator. */
export interface VerifiedPermissionsEmulator {
  /** `http://127.0.0.1:<port>`: give it to the SDK client as `endpoint`. */
  readonly endpoint: string;
  /**
   * Everything the SDK client needs to talk to the emulator (endpoint, a region, dummy
   * credentials): `new VerifiedPermissionsClient(emulator.clientConfig)`, or
   * `createVerifiedPermissionsAuthorizer({ clientConfig: emulator.clientConfig, ... })`.
   */
  readonly clientConfig: EmulatorClientConfig;
  readonly policyStoreId: string;
  /** The emulators of the extra `stores`, by store id (their own `calls`, `callCount`, `setBehavior`). */
  readonly stores: Readonly<Record<string, VerifiedPermissionsEmulator>>;
  /** Calls received per operation (every call, failed ones too). */
  readonly calls: Readonly<Record<EmulatorOperation, number>>;
  /** Calls of the authorization operations received (not `GetPolicyStore` and the identity source reads). */
  readonly callCount: number;
  /** Requests evaluated, summed over batches (a batch of 30 counts 30). */
  readonly decisionCount: number;
  /** Reset `calls`, `callCount` and `decisionCount` to zero. */
  resetCalls(): void;
  /**
   * Switch behaviour of the authorization operations (or of `operations`); with `times`, only for
   * the next `times` such calls, then back to `"ok"`.
   * @example emulator.setBehavior("throttle", { times: 2 })
   * @example emulator.setBehavior("error", { operations: ["GetPolicyStore"] })
   */
  setBehavior(behavior: EmulatorBehavior, options?: { times?: number; operations?: readonly EmulatorOperation[] }): void;
  /** Stop the server and drop open connections (hanging calls included). */
  close(): Promise<void>;
}

const validation = (message: string): AwsServiceError => new AwsServiceError("ValidationException", ERROR_STATUS.ValidationException, message);

const AUTHORIZATION_OPERATIONS: readonly EmulatorAuthorizationOperation[] = ["IsAuthorized", "BatchIsAuthorized", "IsAuthorizedWithToken", "BatchIsAuthorizedWithToken"];
const OPERATIONS = new Set<string>([...AUTHORIZATION_OPERATIONS, "GetPolicyStore", "ListIdentitySources", "GetIdentitySource", ...STORE_OPERATIONS]);
const STORE_OPS: ReadonlySet<string> = new Set(STORE_OPERATIONS);
const MAX_BODY = 1024 * 1024;
const ACCOUNT = "123456789012";
/** Identity source list pages when `maxResults` is not given (the model sets no default). */
const DEFAULT_PAGE_SIZE = 50;
/**
 * Cedar 4 has no "unspecified" entities: a request without a principal (or resource), which the
 * service accepts, is evaluated with this uid, which only unconstrained scopes match.
 */
const UNSPECIFIED_TYPE = "__Unspecified";

/** An identity source as the emulated store holds it. */
interface HeldIdentitySource {
  readonly identitySourceId: string;
  readonly userPoolArn: string;
  readonly userPoolId: string;
  /** The AWS issuer of the pool, which tokens must carry; `undefined` for the `userPools` shorthand (the pool's own issuer). */
  readonly issuer: string | undefined;
  readonly clientIds: readonly string[];
  readonly principalEntityType: string;
  /** As configured: `undefined` means the service default, which the service does not echo. */
  readonly groupEntityType: string | undefined;
  readonly createdDate: string;
}

const qualify = (namespace: string, type: string): string => (type.includes("::") || namespace === "" ? type : `${namespace}::${type}`);
const awsIssuer = (region: string, userPoolId: string): string => `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;

function checkShape(value: unknown, name: string, shape: (typeof SHAPES)[keyof typeof SHAPES]): void {
  try {
    checkString(value, name, shape);
  } catch (err) {
    throw new TypeError(`${name} must match the service's ${shape.shape} (${shape.min}-${shape.max} characters, ${shape.pattern.source}), got ${JSON.stringify(value)}`, { cause: err });
  }
}

function holdIdentitySources(options: VerifiedPermissionsEmulatorOptions, createdDate: string): HeldIdentitySource[] {
  const where = "startVerifiedPermissionsEmulator";
  if (options.identitySource !== undefined) {
    for (const k of ["namespace", "userEntityType", "groupEntityType"] as const) {
      if (options[k] !== undefined) throw new TypeError(`${where}: ${k} and identitySource exclude each other: give the entity types in identitySource`);
    }
    if (!options.userPools || options.userPools.length === 0) {
      throw new TypeError(`${where}: identitySource needs userPools, the keys its tokens are verified with (e.g. [issuer.userPool] of createTestIssuer)`);
    }
    const list = Array.isArray(options.identitySource) ? (options.identitySource as readonly EmulatorIdentitySource[]) : [options.identitySource as EmulatorIdentitySource];
    return list.map((source, i) => {
      const path = Array.isArray(options.identitySource) ? `identitySource[${i}].` : "identitySource.";
      validateOptions(
        source,
        {
          userPoolArn: { type: "custom", required: true, check: (v, n) => checkShape(v, n, SHAPES.userPoolArn) },
          clientIds: {
            type: "custom",
            required: true,
            check: (v, n) => {
              checkOption(v, n, { type: "array" });
              if ((v as unknown[]).length > LIMITS.clientIds) throw new TypeError(`${n} holds at most ${LIMITS.clientIds} ids`);
              (v as unknown[]).forEach((id, j) => checkShape(id, `${n}[${j}]`, SHAPES.clientId));
            },
          },
          principalEntityType: { type: "custom", required: true, check: (v, n) => checkShape(v, n, SHAPES.principalEntityType) },
          groupEntityType: { type: "custom", check: (v, n) => checkShape(v, n, SHAPES.groupEntityType) },
          identitySourceId: { type: "custom", check: (v, n) => checkShape(v, n, SHAPES.identitySourceId) },
        },
        { where, path },
      );
      const [, , , region, , resource] = source.userPoolArn.split(":");
      const userPoolId = resource!.slice("userpool/".length);
      return {
        identitySourceId: source.identitySourceId ?? `ISEMULATOR${String(i + 1).padStart(16, "0")}`,
        userPoolArn: source.userPoolArn,
        userPoolId,
        issuer: awsIssuer(region!, userPoolId),
        clientIds: [...source.clientIds],
        principalEntityType: source.principalEntityType,
        groupEntityType: source.groupEntityType,
        createdDate,
      };
    });
  }
  // The shorthand: each pool is an identity source of the store, typed by namespace and type names.
  const namespace = options.namespace ?? "";
  return (options.userPools ?? []).map((pool, i) => {
    const region = /^([a-z]{2}(?:-[a-z]+)+-\d+)_/.exec(pool.userPoolId)?.[1] ?? "us-east-1";
    return {
      identitySourceId: `ISEMULATOR${String(i + 1).padStart(16, "0")}`,
      userPoolArn: `arn:aws:cognito-idp:${region}:${ACCOUNT}:userpool/${pool.userPoolId}`,
      userPoolId: pool.userPoolId,
      issuer: undefined,
      clientIds: pool.clientId === null ? [] : typeof pool.clientId === "string" ? [pool.clientId] : [...pool.clientId],
      principalEntityType: qualify(namespace, options.userEntityType ?? "User"),
      groupEntityType: qualify(namespace, options.groupEntityType ?? "UserGroup"),
      createdDate,
    };
  });
}

/**
 * Start a local Verified Permissions on 127.0.0.1 (port 0) that speaks the service's JSON protocol
 * (`POST /`, `application/x-amz-json-1.0`, `X-Amz-Target: VerifiedPermissions.<Operation>`) for
 * `IsAuthorized`, `BatchIsAuthorized`, `IsAuthorizedWithToken`, `BatchIsAuthorizedWithToken`,
 * `GetPolicyStore`, `ListIdentitySources` and `GetIdentitySource`, evaluating with Cedar. The real
 * `@aws-sdk/client-verifiedpermissions` client works against it:
 *
 * @example
 * ```ts
 * const emulator = await startVerifiedPermissionsEmulator({ policies, schema });
 * const client = new VerifiedPermissionsClient(emulator.clientConfig);
 * ```
 *
 * Invalid policies or schema reject here with Cedar's message. Input is validated as the service's
 * API model says (ids, lengths, patterns, batch limits: `ValidationException`), and against the
 * schema like the service does (undeclared attributes are a `ValidationException`); the token
 * operations map token claims as the service's Cognito identity source does and drop claims the
 * schema does not declare. Signatures (SigV4) are not checked.
 */
export async function startVerifiedPermissionsEmulator(options: VerifiedPermissionsEmulatorOptions): Promise<VerifiedPermissionsEmulator> {
  validateOptions(
    options,
    {
      policies: { type: "any", required: true },
      schema: { type: "any" },
      policyStoreId: { type: "custom", check: (v, n) => checkShape(v, n, SHAPES.policyStoreId) },
      userPools: { type: "array" },
      identitySource: { type: "any" },
      namespace: { type: "string" },
      userEntityType: { type: "string", nonEmpty: true },
      groupEntityType: { type: "string", nonEmpty: true },
      validationMode: { type: "oneOf", values: ["STRICT", "OFF"] },
      aliases: { type: "custom", check: checkAliases },
      stores: { type: "array" },
    },
    { where: "startVerifiedPermissionsEmulator" },
  );
  const { stores: extra = [], aliases: ownAliases = [], ...own } = options;
  // Each extra store is an emulator of its own, sharing this one's identity sources and keys; this
  // endpoint hands it the calls that name it.
  const children = new Map<string, { emulator: VerifiedPermissionsEmulator; aliases: readonly string[] }>();
  try {
    for (const [i, store] of extra.entries()) {
      validateOptions(
        store,
        {
          policyStoreId: { type: "custom", required: true, check: (v, n) => checkShape(v, n, SHAPES.policyStoreId) },
          policies: { type: "any", required: true },
          schema: { type: "any" },
          aliases: { type: "custom", check: checkAliases },
        },
        { where: "startVerifiedPermissionsEmulator", path: `stores[${i}].` },
      );
      const { aliases = [], ...storeOptions } = store;
      children.set(store.policyStoreId, { emulator: await startVerifiedPermissionsEmulator({ ...own, ...storeOptions }), aliases });
    }
  } catch (err) {
    await Promise.all([...children.values()].map((c) => c.emulator.close()));
    throw err;
  }
  /** Alias or id → store id, for every store of this endpoint. */
  const storeIds = new Map<string, string>();
  const policyStoreId = options.policyStoreId ?? "PSEMULATOR00000000000001";
  const store = await createEmulatedStore({
    policyStoreId,
    policies: await splitPolicyInput(options.policies),
    ...(options.schema !== undefined ? { schema: options.schema } : {}),
    validationMode: options.validationMode ?? (options.schema !== undefined ? "STRICT" : "OFF"),
  });
  for (const alias of ownAliases) storeIds.set(alias, policyStoreId);
  for (const [id, child] of children) {
    storeIds.set(id, id);
    for (const alias of child.aliases) storeIds.set(alias, id);
  }
  const createdDate = new Date().toISOString();
  const identitySources = holdIdentitySources(options, createdDate);
  const auth: TenantAuth | undefined =
    options.userPools && options.userPools.length > 0 ? createTenantAuth({ userPools: options.userPools, requireTenant: false, tenants: { from: "custom", resolve: () => [] } }) : undefined;

  const calls = Object.fromEntries([...OPERATIONS].map((op) => [op, 0])) as Record<EmulatorOperation, number>;
  let callCount = 0;
  let decisionCount = 0;
  let behavior: EmulatorBehavior = "ok";
  let behaviorLeft = Infinity;
  let behaviorOps: ReadonlySet<string> = new Set(AUTHORIZATION_OPERATIONS);

  async function evaluate(principal: CedarEntityUid, action: CedarEntityUid, resource: CedarEntityUid, context: Record<string, CedarValue>, entities: readonly CedarEntity[]) {
    decisionCount++;
    const unspecified = principal.type === UNSPECIFIED_TYPE || resource.type === UNSPECIFIED_TYPE;
    const engine = store.engine;
    const e = unspecified && engine.schemaJson !== undefined ? await store.engineWithoutSchema() : engine;
    const answer = e.evaluate({ principal, action, resource, context, entities });
    if (!answer.ok) throw validation(answer.errors.join("; "));
    return {
      decision: answer.decision,
      determiningPolicies: answer.determiningPolicies.map((policyId) => ({ policyId })),
      errors: answer.errors.map((errorDescription) => ({ errorDescription })),
    };
  }

  function entityId(value: unknown, field: string, required = true): CedarEntityUid | undefined {
    if (value === undefined || value === null) {
      if (required) shape(() => checkString(undefined, field, SHAPES.entityId));
      return undefined;
    }
    const v = value as { entityType?: unknown; entityId?: unknown };
    if (typeof v !== "object") throw validation(`${field} must be an EntityIdentifier`);
    shape(() => checkString(v.entityType, `${field}.entityType`, SHAPES.entityType));
    shape(() => checkString(v.entityId, `${field}.entityId`, SHAPES.entityId));
    return fromEntityIdentifier({ entityType: v.entityType as string, entityId: v.entityId as string });
  }

  const unspecified = (slot: string): CedarEntityUid => ({ type: UNSPECIFIED_TYPE, id: slot });

  function actionId(value: unknown, field = "action"): CedarEntityUid {
    // The model leaves `action` optional; a request without one has nothing to evaluate here.
    if (value === undefined || value === null) throw validation(`${field} is required to evaluate a request`);
    const v = value as { actionType?: unknown; actionId?: unknown };
    if (typeof v !== "object") throw validation(`${field} must be an ActionIdentifier`);
    shape(() => checkString(v.actionType, `${field}.actionType`, SHAPES.actionType));
    shape(() => checkString(v.actionId, `${field}.actionId`, SHAPES.actionId));
    return { type: v.actionType as string, id: v.actionId as string };
  }

  /** EntityIdentifiers nested in an attribute value (`entityIdentifier`, inside sets and records). */
  function checkAttributeIds(value: unknown, path: string): void {
    if (typeof value !== "object" || value === null) return;
    const v = value as Record<string, unknown>;
    if (v["entityIdentifier"] !== undefined) entityId(v["entityIdentifier"], `${path}.entityIdentifier`);
    if (Array.isArray(v["set"])) v["set"].forEach((x, i) => checkAttributeIds(x, `${path}.set.${i + 1}`));
    if (typeof v["record"] === "object" && v["record"] !== null) for (const [k, x] of Object.entries(v["record"])) checkAttributeIds(x, `${path}.record.${k}`);
  }

  function entities(value: unknown): CedarEntity[] {
    if (value === undefined || value === null) return [];
    const v = value as { entityList?: unknown; cedarJson?: unknown };
    if ((v.entityList !== undefined) === (v.cedarJson !== undefined)) throw validation("entities must have exactly one of entityList and cedarJson");
    if (Array.isArray(v.entityList)) {
      v.entityList.forEach((item: unknown, i) => {
        const it = (item ?? {}) as { identifier?: unknown; attributes?: unknown; parents?: unknown };
        entityId(it.identifier, `entities.entityList.${i + 1}.identifier`);
        if (Array.isArray(it.parents)) it.parents.forEach((p, j) => entityId(p, `entities.entityList.${i + 1}.parents.${j + 1}`));
        if (typeof it.attributes === "object" && it.attributes !== null) {
          for (const [k, a] of Object.entries(it.attributes)) checkAttributeIds(a, `entities.entityList.${i + 1}.attributes.${k}`);
        }
      });
    }
    try {
      if (Array.isArray(v.entityList)) return fromEntityList(v.entityList);
      if (typeof v.cedarJson === "string") {
        const parsed: unknown = JSON.parse(v.cedarJson);
        if (!Array.isArray(parsed)) throw new TypeError("cedarJson entities must be a JSON array");
        return parsed.map(normalizeEntity);
      }
    } catch (err) {
      throw validation(`entities: ${(err as Error).message}`);
    }
    throw validation("entities must have entityList or cedarJson");
  }

  const isActionType = (type: string): boolean => SHAPES.actionType.pattern.test(type);

  function context(value: unknown): Record<string, CedarValue> {
    if (value === undefined || value === null) return {};
    const v = value as { contextMap?: unknown; cedarJson?: unknown };
    try {
      if (typeof v.contextMap === "object" && v.contextMap !== null) return fromAttributeRecord(v.contextMap as Record<string, unknown>);
      if (typeof v.cedarJson === "string") return toCedarRecord(JSON.parse(v.cedarJson) as Record<string, unknown>);
    } catch (err) {
      throw validation(`context: ${(err as Error).message}`);
    }
    throw validation("context must have contextMap or cedarJson");
  }

  function checkStore(body: Record<string, unknown>): void {
    // A malformed id is refused by input validation before any store is looked up.
    shape(() => checkString(body["policyStoreId"], "policyStoreId", SHAPES.policyStoreId));
    if (storeIds.get(body["policyStoreId"] as string) === policyStoreId) body["policyStoreId"] = policyStoreId;
    if (body["policyStoreId"] !== policyStoreId) {
      throw new AwsServiceError("ResourceNotFoundException", ERROR_STATUS.ResourceNotFoundException, `Policy store ${body["policyStoreId"] as string} not found`, {
        resourceId: body["policyStoreId"],
        resourceType: "POLICY_STORE",
      });
    }
  }

  function batchRequests(body: Record<string, unknown>): Record<string, unknown>[] {
    const requests = body["requests"];
    if (!Array.isArray(requests))
      shape(() => {
        throw new ConstraintViolation("requests", "Member must not be null");
      });
    const list = requests as unknown[];
    if (list.length < LIMITS.batchRequests.min)
      shape(() => {
        throw new ConstraintViolation("requests", `Member must have length greater than or equal to ${LIMITS.batchRequests.min}`, list);
      });
    if (list.length > LIMITS.batchRequests.max) throw validation(`requests must hold at most ${LIMITS.batchRequests.max} items, got ${list.length}`);
    return list.map((r) => (typeof r === "object" && r !== null ? (r as Record<string, unknown>) : {}));
  }

  const same = (a: CedarEntityUid | undefined, b: CedarEntityUid | undefined): boolean => a?.type === b?.type && a?.id === b?.id;
  const sameAll = (items: readonly (CedarEntityUid | undefined)[]): boolean => items.every((u) => same(u, items[0]));
  const key = (u: CedarEntityUid): string => `${u.type}\u0000${u.id}`;

  /** Entities of `IsAuthorized`/`BatchIsAuthorized`: principals and resources only, never actions. */
  function refuseActions(list: readonly CedarEntity[]): void {
    const action = list.find((e) => isActionType(e.uid.type));
    if (action) throw validation(`entities must not include actions (${action.uid.type}::${JSON.stringify(action.uid.id)}): actions come from the schema`);
  }

  /**
   * The batch entity limits: entities that are a request's principal or an ancestor of one count as
   * principals, every other entity as a resource.
   */
  function checkBatchEntities(list: readonly CedarEntity[], principals: readonly (CedarEntityUid | undefined)[]): void {
    const byKey = new Map(list.map((e) => [key(e.uid), e]));
    const principalSide = new Set<string>();
    const stack = principals.filter((p): p is CedarEntityUid => p !== undefined).map(key);
    while (stack.length > 0) {
      const k = stack.pop()!;
      if (principalSide.has(k)) continue;
      principalSide.add(k);
      for (const p of byKey.get(k)?.parents ?? []) stack.push(key(p));
    }
    const nPrincipals = [...byKey.keys()].filter((k) => principalSide.has(k)).length;
    const nResources = byKey.size - nPrincipals;
    if (nPrincipals > LIMITS.batchPrincipals) throw validation(`entities of a BatchIsAuthorized request can contain at most ${LIMITS.batchPrincipals} principals, got ${nPrincipals}`);
    if (nResources > LIMITS.batchResources) throw validation(`entities of a BatchIsAuthorized request can contain at most ${LIMITS.batchResources} resources, got ${nResources}`);
  }

  interface TokenIdentity {
    readonly source: HeldIdentitySource;
    /** The principal the service builds: from the ID token when there is one. */
    readonly principal: TenantPrincipal;
    /** The access token's principal, when an access token was given beside an ID token. */
    readonly access: TenantPrincipal | undefined;
  }

  async function verify(token: string, slot: "identityToken" | "accessToken"): Promise<TenantPrincipal> {
    let principal: TenantPrincipal;
    try {
      principal = await auth!.resolveTenant(token);
    } catch (err) {
      throw validation(`${slot} is not valid for this identity source: ${(err as Error).message}`);
    }
    if (principal.tokenUse !== (slot === "identityToken" ? "id" : "access")) throw validation(`${slot}: the token's token_use is ${principal.tokenUse}`);
    return principal;
  }

  /** Verify the token(s) and find the identity source they belong to, as the service does. */
  async function fromToken(body: Record<string, unknown>): Promise<TokenIdentity> {
    const idToken = body["identityToken"];
    const accessToken = body["accessToken"];
    shape(() => checkString(idToken, "identityToken", SHAPES.token, false));
    shape(() => checkString(accessToken, "accessToken", SHAPES.token, false));
    if (idToken === undefined && accessToken === undefined) throw validation("give an identityToken, an accessToken, or both");
    if (identitySources.length === 0 || !auth) throw validation("the policy store has no identity source");
    const id = idToken === undefined ? undefined : await verify(idToken as string, "identityToken");
    const access = accessToken === undefined ? undefined : await verify(accessToken as string, "accessToken");
    if (id && access && (id.issuer !== access.issuer || id.sub !== access.sub)) throw validation("identityToken and accessToken are not of the same user");
    const principal = (id ?? access)!;
    const source = identitySources.find((s) => s.userPoolId === principal.userPoolId && (s.issuer === undefined || s.issuer === principal.issuer));
    if (!source) throw validation(`the token's issuer ${principal.issuer} is not an identity source of the policy store`);
    for (const p of [id, access]) {
      if (p && source.clientIds.length > 0 && (p.clientId === undefined || !source.clientIds.includes(p.clientId))) {
        throw validation(`the token's client id ${String(p.clientId)} is not one of the identity source's clientIds`);
      }
    }
    return { source, principal, access: id && access ? access : undefined };
  }

  /** Token operations: no principal- or group-typed entities (the token defines them), actions as bare identifiers. */
  function checkTokenEntities(list: readonly CedarEntity[], source: HeldIdentitySource): void {
    const groupType = source.groupEntityType ?? DEFAULT_GROUP_ENTITY_TYPE;
    for (const e of list) {
      if (e.uid.type === source.principalEntityType || e.uid.type === groupType) {
        throw validation(`entities must not include entities of the identity source's ${e.uid.type === groupType ? "group" : "principal"} entity type ${e.uid.type}: the token defines them`);
      }
      if (isActionType(e.uid.type) && (e.parents.length > 0 || Object.keys(e.attrs).length > 0)) {
        throw validation(`action entities may only be identified, not described (${e.uid.type}::${JSON.stringify(e.uid.id)})`);
      }
    }
  }

  function tokenRequest(identity: TokenIdentity, action: CedarEntityUid, resource: CedarEntityUid, ctx: Record<string, CedarValue>, extra: readonly CedarEntity[]) {
    const mapping = {
      namespace: "",
      userEntityType: identity.source.principalEntityType,
      groupEntityType: identity.source.groupEntityType ?? DEFAULT_GROUP_ENTITY_TYPE,
      ...(store.engine.schemaJson !== undefined ? { schema: store.engine.schemaJson } : {}),
    };
    const ref = { action: { type: action.type, id: action.id }, resource: { type: resource.type, id: resource.id }, entities: extra };
    let mapped: ReturnType<typeof toCedarRequest>;
    let accessContext: ReturnType<typeof toCedarRequest>["context"] = {};
    try {
      mapped = toCedarRequest({ principal: identity.principal, ...ref }, mapping);
      // Both tokens: the principal from the ID token, the access token's claims in context.token.
      if (identity.access) accessContext = toCedarRequest({ principal: identity.access, ...ref }, mapping).context;
    } catch (err) {
      // The service refuses a token it cannot map (a claim named cognito beside cognito: claims).
      throw validation(`token cannot be mapped: ${(err as Error).message}`);
    }
    return { ...mapped, context: { ...mapped.context, ...accessContext, ...ctx } };
  }

  async function handle(operation: EmulatorOperation, body: Record<string, unknown>): Promise<unknown> {
    // BatchGetPolicy names the store in each request, and answers an unknown one per item.
    if (operation !== "BatchGetPolicy") checkStore(body);
    if (STORE_OPS.has(operation)) return store.handle(operation as StoreOperation, body);
    switch (operation) {
      case "GetPolicyStore":
        return {
          policyStoreId,
          arn: `arn:aws:verifiedpermissions::${ACCOUNT}:policy-store/${policyStoreId}`,
          validationSettings: { mode: store.validationMode },
          createdDate,
          lastUpdatedDate: createdDate,
        };
      case "ListIdentitySources":
        return listIdentitySources(body);
      case "GetIdentitySource": {
        shape(() => checkString(body["identitySourceId"], "identitySourceId", SHAPES.identitySourceId));
        const source = identitySources.find((s) => s.identitySourceId === body["identitySourceId"]);
        if (!source) {
          throw new AwsServiceError("ResourceNotFoundException", ERROR_STATUS.ResourceNotFoundException, `Identity source ${body["identitySourceId"] as string} not found`, {
            resourceId: body["identitySourceId"],
            resourceType: "IDENTITY_SOURCE",
          });
        }
        return identitySourceOutput(source);
      }
      case "IsAuthorized": {
        const list = entities(body["entities"]);
        refuseActions(list);
        const principal = entityId(body["principal"], "principal", false) ?? unspecified("principal");
        const resource = entityId(body["resource"], "resource", false) ?? unspecified("resource");
        return evaluate(principal, actionId(body["action"]), resource, context(body["context"]), list);
      }
      case "BatchIsAuthorized": {
        const shared = entities(body["entities"]);
        refuseActions(shared);
        const items = batchRequests(body).map((item, i) => ({
          item,
          principal: entityId(item["principal"], `requests.${i + 1}.principal`, false),
          action: actionId(item["action"], `requests.${i + 1}.action`),
          resource: entityId(item["resource"], `requests.${i + 1}.resource`, false),
          context: context(item["context"]),
        }));
        if (!sameAll(items.map((i) => i.principal)) && !sameAll(items.map((i) => i.resource))) {
          throw validation("every request in a batch must have the same principal or the same resource");
        }
        checkBatchEntities(
          shared,
          items.map((i) => i.principal),
        );
        const results = [];
        for (const i of items) {
          results.push({ request: i.item, ...(await evaluate(i.principal ?? unspecified("principal"), i.action, i.resource ?? unspecified("resource"), i.context, shared)) });
        }
        return { results };
      }
      case "IsAuthorizedWithToken": {
        const identity = await fromToken(body);
        const list = entities(body["entities"]);
        checkTokenEntities(list, identity.source);
        const resource = entityId(body["resource"], "resource", false) ?? unspecified("resource");
        const req = tokenRequest(identity, actionId(body["action"]), resource, context(body["context"]), list);
        const out = await evaluate(req.principal, req.action, resource, req.context as Record<string, CedarValue>, req.entities);
        return { ...out, principal: { entityType: req.principal.type, entityId: req.principal.id } };
      }
      case "BatchIsAuthorizedWithToken": {
        const identity = await fromToken(body);
        const shared = entities(body["entities"]);
        checkTokenEntities(shared, identity.source);
        const requests = batchRequests(body);
        if (identity.principal.groups.length > LIMITS.batchTokenGroups) {
          throw validation(`a BatchIsAuthorizedWithToken request can contain at most ${LIMITS.batchTokenGroups} user groups, the token has ${identity.principal.groups.length}`);
        }
        const resources = shared.filter((e) => !isActionType(e.uid.type)).length;
        if (resources > LIMITS.batchTokenResources) throw validation(`entities of a BatchIsAuthorizedWithToken request can contain at most ${LIMITS.batchTokenResources} resources, got ${resources}`);
        const results = [];
        let principal: CedarEntityUid | undefined;
        for (const [i, item] of requests.entries()) {
          const resource = entityId(item["resource"], `requests.${i + 1}.resource`, false) ?? unspecified("resource");
          const req = tokenRequest(identity, actionId(item["action"], `requests.${i + 1}.action`), resource, context(item["context"]), shared);
          principal = req.principal;
          results.push({ request: item, ...(await evaluate(req.principal, req.action, resource, req.context as Record<string, CedarValue>, req.entities)) });
        }
        return { principal: { entityType: principal!.type, entityId: principal!.id }, results };
      }
    }
  }

  function identitySourceOutput(s: HeldIdentitySource) {
    const issuer = s.issuer ?? awsIssuer(s.userPoolArn.split(":")[3]!, s.userPoolId);
    return {
      createdDate: s.createdDate,
      identitySourceId: s.identitySourceId,
      lastUpdatedDate: s.createdDate,
      policyStoreId,
      principalEntityType: s.principalEntityType,
      details: { clientIds: s.clientIds, userPoolArn: s.userPoolArn, discoveryUrl: issuer, openIdIssuer: "COGNITO" },
      configuration: {
        cognitoUserPoolConfiguration: {
          userPoolArn: s.userPoolArn,
          clientIds: s.clientIds,
          issuer,
          ...(s.groupEntityType !== undefined ? { groupConfiguration: { groupEntityType: s.groupEntityType } } : {}),
        },
      },
    };
  }

  function listIdentitySources(body: Record<string, unknown>) {
    const max = body["maxResults"];
    if (max !== undefined && (typeof max !== "number" || !Number.isInteger(max) || max < LIMITS.listMaxResultsMin)) {
      throw validation(`1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to ${LIMITS.listMaxResultsMin}`);
    }
    shape(() => checkString(body["nextToken"], "nextToken", SHAPES.nextToken, false));
    const filters = body["filters"];
    if (filters !== undefined && (!Array.isArray(filters) || filters.length > LIMITS.identitySourceFilters)) {
      throw validation(`1 validation error detected: Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to ${LIMITS.identitySourceFilters}`);
    }
    const wanted = ((filters ?? []) as { principalEntityType?: unknown }[]).map((f) => f?.principalEntityType).filter((t) => t !== undefined);
    const matching = identitySources.filter((s) => wanted.length === 0 || wanted.includes(s.principalEntityType));
    let start = 0;
    if (body["nextToken"] !== undefined) {
      const decoded = /^emulator-(\d+)$/.exec(Buffer.from(body["nextToken"] as string, "base64url").toString("utf8"));
      if (!decoded) throw validation("nextToken is not one this service issued");
      start = Number(decoded[1]);
    }
    const size = (max as number | undefined) ?? DEFAULT_PAGE_SIZE;
    const page = matching.slice(start, start + size);
    const next = start + size < matching.length ? Buffer.from(`emulator-${start + size}`).toString("base64url") : undefined;
    return {
      identitySources: page.map((s) => {
        const { details, ...rest } = identitySourceOutput(s);
        // List items carry the same details, minus openIdIssuer: IdentitySourceItemDetails.
        return { ...rest, details: { clientIds: details.clientIds, userPoolArn: details.userPoolArn, discoveryUrl: details.discoveryUrl } };
      }),
      ...(next !== undefined ? { nextToken: next } : {}),
    };
  }

  function fail(res: ServerResponse, err: AwsServiceError, namespace = "com.amazonaws.verifiedpermissions"): void {
    failAwsJson(res, "1.0", err, `${namespace}#`);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) return fail(res, validation("request body too large"));
      chunks.push(chunk);
    }
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.startsWith("VerifiedPermissions.") ? target.slice("VerifiedPermissions.".length) : "";
    if (req.method !== "POST" || !OPERATIONS.has(operation)) {
      // What AWS JSON services answer for a target they do not know: 400, in the service framework's namespace.
      return fail(res, new AwsServiceError("UnknownOperationException", 400, `unknown (or not emulated) operation ${JSON.stringify(target)}`), "com.amazon.coral.service");
    }
    const op = operation as EmulatorOperation;
    const routed = children.size === 0 ? undefined : route(Buffer.concat(chunks).toString("utf8"));
    if (routed !== undefined) return forward(routed.child, target, routed.body, res);
    calls[op]++;
    const authorization = (AUTHORIZATION_OPERATIONS as readonly string[]).includes(op);
    if (authorization) callCount++;
    let current: EmulatorBehavior = "ok";
    if (behavior !== "ok" && behaviorOps.has(op)) {
      current = behavior;
      if (--behaviorLeft <= 0) {
        behavior = "ok";
        behaviorLeft = Infinity;
      }
    }
    if (current === "hang") return;
    if (current === "error") return fail(res, new AwsServiceError("InternalServerException", ERROR_STATUS.InternalServerException, "emulated internal error"));
    if (current === "throttle") return fail(res, new AwsServiceError("ThrottlingException", ERROR_STATUS.ThrottlingException, "Rate exceeded"));
    await answerAwsJson(
      res,
      Buffer.concat(chunks).toString("utf8"),
      "1.0",
      (body) => handle(op, body),
      (message) => new AwsServiceError("InternalServerException", ERROR_STATUS.InternalServerException, message),
      "com.amazonaws.verifiedpermissions#",
    );
  }

  /** The extra store a request body names (by id or alias), with the body naming it by id. */
  function route(text: string): { child: VerifiedPermissionsEmulator; body: string } | undefined {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return undefined;
    }
    const named = typeof body === "object" && body !== null ? (body as Record<string, unknown>)["policyStoreId"] : undefined;
    const id = typeof named === "string" ? storeIds.get(named) : undefined;
    const child = id === undefined ? undefined : children.get(id)?.emulator;
    if (child === undefined) return undefined;
    return { child, body: JSON.stringify({ ...(body as object), policyStoreId: id }) };
  }

  async function forward(child: VerifiedPermissionsEmulator, target: string, body: string, res: ServerResponse): Promise<void> {
    const answer = await fetch(child.endpoint, { method: "POST", headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": target }, body });
    const headers: Record<string, string> = {};
    for (const name of ["content-type", "x-amzn-errortype", "x-amzn-requestid"]) {
      const value = answer.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    res.writeHead(answer.status, headers).end(Buffer.from(await answer.arrayBuffer()));
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    // A fresh object each time: the SDK writes into the credentials it is given.
    get clientConfig() {
      return { endpoint, region: "us-east-1", credentials: { accessKeyId: "emulator", secretAccessKey: "emulator" } };
    },
    policyStoreId,
    stores: Object.fromEntries([...children].map(([id, c]) => [id, c.emulator])),
    calls,
    get callCount() {
      return callCount;
    },
    get decisionCount() {
      return decisionCount;
    },
    resetCalls() {
      for (const k of Object.keys(calls) as EmulatorOperation[]) calls[k] = 0;
      callCount = 0;
      decisionCount = 0;
    },
    setBehavior(next, o = {}) {
      behavior = next;
      behaviorLeft = next === "ok" ? Infinity : (o.times ?? Infinity);
      behaviorOps = new Set(o.operations ?? AUTHORIZATION_OPERATIONS);
    },
    async close() {
      await Promise.all([...children.values()].map((c) => c.emulator.close()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Aliases as the service names them: `policy-store-alias/<name>`, within the PolicyStoreId shape. */
function checkAliases(value: unknown, name: string): void {
  checkOption(value, name, { type: "array" });
  (value as unknown[]).forEach((alias, i) => {
    checkShape(alias, `${name}[${i}]`, SHAPES.policyStoreId);
    if (typeof alias !== "string" || !alias.startsWith("policy-store-alias/") || alias.length === "policy-store-alias/".length) {
      throw new TypeError(`${name}[${i}] must be "policy-store-alias/<name>", got ${JSON.stringify(alias)}`);
    }
  });
}
