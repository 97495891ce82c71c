import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { CedarEntity, CedarEntityUid, CedarSchemaJson, CedarValue } from "../core/cedar-entities.js";
import { fromAttributeRecord, fromEntityIdentifier, fromEntityList, normalizeEntity, toCedarRecord, toCedarRequest } from "../core/cedar-entities.js";
import { createTenantAuth } from "../core/tenant-auth.js";
import type { TenantAuth } from "../core/tenant-auth.js";
import type { UserPoolConfig } from "../core/verify.js";
import type { CedarEngine, PolicyInput } from "../authorizers/cedar-engine.js";
import { compileCedar } from "../authorizers/cedar-engine.js";

/** The operations the emulator speaks. */
export type EmulatorOperation = "IsAuthorized" | "BatchIsAuthorized" | "IsAuthorizedWithToken" | "BatchIsAuthorizedWithToken";

/**
 * How the emulator answers, to rehearse outages: `"error"` answers 500 `InternalServerException`,
 * `"throttle"` 429 `ThrottlingException`, `"hang"` never answers, `"ok"` evaluates.
 */
export type EmulatorBehavior = "ok" | "error" | "throttle" | "hang";

/** Options of {@link startVerifiedPermissionsEmulator}. */
export interface VerifiedPermissionsEmulatorOptions {
  /** The policy store's Cedar policies: text (ids from `@id`, else `policy0`, ...) or id → text. */
  readonly policies: PolicyInput;
  /** The policy store's schema (Cedar text or JSON). Policies are validated against it at start. */
  readonly schema?: string | CedarSchemaJson;
  /** The store id to answer for; default `"PSEMULATOR00000000000001"`. Any other id gets `ResourceNotFoundException`. */
  readonly policyStoreId?: string;
  /**
   * The identity source, for `IsAuthorizedWithToken`: the pools whose tokens are accepted (verified
   * with the core, e.g. `issuer.userPool` from `createTestIssuer`). Without it, the token operations
   * answer `ValidationException` (a store with no identity source).
   */
  readonly userPools?: readonly UserPoolConfig[];
  /** Namespace of the identity source's entity types (e.g. `"TenancyDemo"`); default `""`. */
  readonly namespace?: string;
  /** Principal entity type of the identity source; default `"User"`. */
  readonly userEntityType?: string;
  /** Group entity type of the identity source; default `"UserGroup"`. */
  readonly groupEntityType?: string;
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
  readonly clientConfig: { readonly endpoint: string; readonly region: string; readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } };
  readonly policyStoreId: string;
  /** Calls received per operation (every call, failed ones too). */
  readonly calls: Readonly<Record<EmulatorOperation, number>>;
  /** Total calls received. */
  readonly callCount: number;
  /** Requests evaluated, summed over batches (a batch of 30 counts 30). */
  readonly decisionCount: number;
  /** Reset `calls`, `callCount` and `decisionCount` to zero. */
  resetCalls(): void;
  /**
   * Switch behaviour; with `times`, only for the next `times` calls, then back to `"ok"`.
   * @example emulator.setBehavior("throttle", { times: 2 })
   */
  setBehavior(behavior: EmulatorBehavior, options?: { times?: number }): void;
  /** Stop the server and drop open connections (hanging calls included). */
  close(): Promise<void>;
}

class ServiceError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const validation = (message: string): ServiceError => new ServiceError("ValidationException", 400, message);

const OPERATIONS = new Set<string>(["IsAuthorized", "BatchIsAuthorized", "IsAuthorizedWithToken", "BatchIsAuthorizedWithToken"]);
const MAX_BODY = 1024 * 1024;
const MAX_BATCH = 30;

/**
 * Start a local Verified Permissions on 127.0.0.1 (port 0) that speaks the service's JSON protocol
 * (`POST /`, `application/x-amz-json-1.0`, `X-Amz-Target: VerifiedPermissions.<Operation>`) for
 * `IsAuthorized`, `BatchIsAuthorized`, `IsAuthorizedWithToken` and `BatchIsAuthorizedWithToken`,
 * evaluating with Cedar. The real `@aws-sdk/client-verifiedpermissions` client works against it:
 *
 * @example
 * ```ts
 * const emulator = await startVerifiedPermissionsEmulator({ policies, schema });
 * const client = new VerifiedPermissionsClient(emulator.clientConfig);
 * ```
 *
 * Invalid policies or schema reject here with Cedar's message. Requests are checked against the
 * schema like the service does (undeclared attributes are a `ValidationException`); the token
 * operations map token claims as the service's Cognito identity source does and drop claims the
 * schema does not declare. Signatures (SigV4) are not checked.
 */
export async function startVerifiedPermissionsEmulator(options: VerifiedPermissionsEmulatorOptions): Promise<VerifiedPermissionsEmulator> {
  const engine: CedarEngine = await compileCedar({
    policies: options.policies,
    ...(options.schema !== undefined ? { schema: options.schema } : {}),
  });
  const policyStoreId = options.policyStoreId ?? "PSEMULATOR00000000000001";
  const namespace = options.namespace ?? "";
  const auth: TenantAuth | undefined = options.userPools
    ? createTenantAuth({ userPools: options.userPools, requireTenant: false, tenants: { from: "custom", resolve: () => [] } })
    : undefined;

  const calls: Record<EmulatorOperation, number> = { IsAuthorized: 0, BatchIsAuthorized: 0, IsAuthorizedWithToken: 0, BatchIsAuthorizedWithToken: 0 };
  let callCount = 0;
  let decisionCount = 0;
  let behavior: EmulatorBehavior = "ok";
  let behaviorLeft = Infinity;

  function evaluate(principal: CedarEntityUid, action: CedarEntityUid, resource: CedarEntityUid, context: Record<string, CedarValue>, entities: readonly CedarEntity[]) {
    decisionCount++;
    const answer = engine.evaluate({ principal, action, resource, context, entities });
    if (!answer.ok) throw validation(answer.errors.join("; "));
    return {
      decision: answer.decision,
      determiningPolicies: answer.determiningPolicies.map((policyId) => ({ policyId })),
      errors: answer.errors.map((errorDescription) => ({ errorDescription })),
    };
  }

  function entityId(value: unknown, field: string): CedarEntityUid {
    const v = value as { entityType?: unknown; entityId?: unknown } | undefined;
    if (!v || typeof v.entityType !== "string" || typeof v.entityId !== "string") throw validation(`${field} must have entityType and entityId`);
    return fromEntityIdentifier({ entityType: v.entityType, entityId: v.entityId });
  }

  function actionId(value: unknown): CedarEntityUid {
    const v = value as { actionType?: unknown; actionId?: unknown } | undefined;
    if (!v || typeof v.actionType !== "string" || typeof v.actionId !== "string") throw validation("action must have actionType and actionId");
    return { type: v.actionType, id: v.actionId };
  }

  function entities(value: unknown): CedarEntity[] {
    if (value === undefined || value === null) return [];
    const v = value as { entityList?: unknown; cedarJson?: unknown };
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
    if (typeof body["policyStoreId"] !== "string") throw validation("policyStoreId is required");
    if (body["policyStoreId"] !== policyStoreId) {
      throw new ServiceError("ResourceNotFoundException", 404, `Policy store ${body["policyStoreId"]} not found`, {
        resourceId: body["policyStoreId"],
        resourceType: "POLICY_STORE",
      });
    }
  }

  function batchRequests(body: Record<string, unknown>): Record<string, unknown>[] {
    const requests = body["requests"];
    if (!Array.isArray(requests) || requests.length < 1 || requests.length > MAX_BATCH) {
      throw validation(`requests must hold between 1 and ${MAX_BATCH} items`);
    }
    return requests as Record<string, unknown>[];
  }

  function sameAll(items: readonly CedarEntityUid[]): boolean {
    return items.every((u) => u.type === items[0]!.type && u.id === items[0]!.id);
  }

  /** Verify the token and build what the Cognito identity source builds from it. */
  async function fromToken(body: Record<string, unknown>) {
    if (!auth) throw validation("the policy store has no identity source (start the emulator with userPools)");
    const idToken = body["identityToken"];
    const accessToken = body["accessToken"];
    if ((idToken === undefined) === (accessToken === undefined)) throw validation("give exactly one of identityToken and accessToken");
    const token = (idToken ?? accessToken) as unknown;
    if (typeof token !== "string") throw validation("token must be a string");
    let principal;
    try {
      principal = await auth.resolveTenant(token);
    } catch (err) {
      throw validation(`token is not valid for this identity source: ${(err as Error).message}`);
    }
    if ((idToken !== undefined) !== (principal.tokenUse === "id")) throw validation("token type does not match the parameter it was passed in");
    return principal;
  }

  function tokenRequest(principal: Parameters<typeof toCedarRequest>[0]["principal"], action: CedarEntityUid, resource: CedarEntityUid, ctx: Record<string, CedarValue>, extra: readonly CedarEntity[]) {
    let mapped;
    try {
      mapped = toCedarRequest(
        { principal, action: { type: action.type, id: action.id }, resource: { type: resource.type, id: resource.id }, entities: extra },
        {
          namespace,
          ...(options.userEntityType !== undefined ? { userEntityType: options.userEntityType } : {}),
          ...(options.groupEntityType !== undefined ? { groupEntityType: options.groupEntityType } : {}),
          ...(engine.schemaJson !== undefined ? { schema: engine.schemaJson } : {}),
        },
      );
    } catch (err) {
      // The service refuses a token it cannot map (a claim named cognito beside cognito: claims).
      throw validation(`token cannot be mapped: ${(err as Error).message}`);
    }
    if (extra.some((e) => e.uid.type === mapped.principal.type && e.uid.id === mapped.principal.id)) {
      throw validation("entities must not contain the principal the token defines");
    }
    return { ...mapped, context: { ...mapped.context, ...ctx } };
  }

  async function handle(operation: EmulatorOperation, body: Record<string, unknown>): Promise<unknown> {
    checkStore(body);
    switch (operation) {
      case "IsAuthorized": {
        const r = evaluate(entityId(body["principal"], "principal"), actionId(body["action"]), entityId(body["resource"], "resource"), context(body["context"]), entities(body["entities"]));
        return r;
      }
      case "BatchIsAuthorized": {
        const shared = entities(body["entities"]);
        const items = batchRequests(body).map((item) => ({
          item,
          principal: entityId(item["principal"], "principal"),
          action: actionId(item["action"]),
          resource: entityId(item["resource"], "resource"),
          context: context(item["context"]),
        }));
        if (!sameAll(items.map((i) => i.principal)) && !sameAll(items.map((i) => i.resource))) {
          throw validation("every request in a batch must have the same principal or the same resource");
        }
        return { results: items.map((i) => ({ request: i.item, ...evaluate(i.principal, i.action, i.resource, i.context, shared) })) };
      }
      case "IsAuthorizedWithToken": {
        const principal = await fromToken(body);
        const req = tokenRequest(principal, actionId(body["action"]), entityId(body["resource"], "resource"), context(body["context"]), entities(body["entities"]));
        return { ...evaluate(req.principal, req.action, req.resource, req.context as Record<string, CedarValue>, req.entities), principal: { entityType: req.principal.type, entityId: req.principal.id } };
      }
      case "BatchIsAuthorizedWithToken": {
        const principal = await fromToken(body);
        const shared = entities(body["entities"]);
        const results = batchRequests(body).map((item) => {
          const req = tokenRequest(principal, actionId(item["action"]), entityId(item["resource"], "resource"), context(item["context"]), shared);
          return { request: item, ...evaluate(req.principal, req.action, req.resource, req.context as Record<string, CedarValue>, req.entities) };
        });
        const uid = toCedarRequest({ principal, action: "x", resource: { type: "x", id: "x" } }, { namespace, ...(options.userEntityType !== undefined ? { userEntityType: options.userEntityType } : {}) }).principal;
        return { principal: { entityType: uid.type, entityId: uid.id }, results };
      }
    }
  }

  function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
    const headers: Record<string, string> = { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": randomUUID() };
    if (errorType) headers["x-amzn-errortype"] = errorType;
    res.writeHead(status, headers).end(JSON.stringify(body));
  }

  function fail(res: ServerResponse, err: ServiceError): void {
    send(res, err.status, { __type: `com.amazonaws.verifiedpermissions#${err.type}`, message: err.message, ...err.extra }, err.type);
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
      return fail(res, new ServiceError("UnknownOperationException", 400, `unsupported operation ${JSON.stringify(target)}`));
    }
    const op = operation as EmulatorOperation;
    calls[op]++;
    callCount++;
    const current = behavior;
    if (current !== "ok" && --behaviorLeft <= 0) {
      behavior = "ok";
      behaviorLeft = Infinity;
    }
    if (current === "hang") return;
    if (current === "error") return fail(res, new ServiceError("InternalServerException", 500, "emulated internal error"));
    if (current === "throttle") return fail(res, new ServiceError("ThrottlingException", 429, "Rate exceeded"));
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new TypeError("body must be a JSON object");
      body = parsed as Record<string, unknown>;
    } catch (err) {
      return fail(res, new ServiceError("SerializationException", 400, (err as Error).message));
    }
    try {
      send(res, 200, await handle(op, body));
    } catch (err) {
      if (err instanceof ServiceError) return fail(res, err);
      return fail(res, new ServiceError("InternalServerException", 500, (err as Error).message));
    }
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
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
