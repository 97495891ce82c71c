/**
 * `cognito-tenancy/verified-permissions`: authorize with Amazon Verified Permissions, sending the
 * entities a Cognito identity source would build (`IsAuthorized`), or the token itself
 * (`IsAuthorizedWithToken`). Batching, a decision cache, a timeout, and fail-closed errors.
 * @packageDocumentation
 */
import { createHash } from "node:crypto";
import type { AuthorizationRequest, Authorizer, Decision } from "../core/authorizer.js";
import { BoundedCache } from "../core/cache.js";
import type { CedarRequest } from "../core/cedar/request.js";
import { normalizeEntity, toCedarRequest } from "../core/cedar/request.js";
import type { CedarSchemaJson } from "../core/cedar/schema.js";
import type { CedarEntity, CedarEntityUid, CedarValue } from "../core/cedar/values.js";
import { canonicalJson, qualifyType } from "../core/cedar/values.js";
import { toAttributeRecord, toEntityIdentifier, toEntityList } from "../core/cedar/wire.js";
import { TenantAuthError } from "../core/errors.js";
import type { OptionsSchema } from "../core/options.js";
import { checkOption, validateOptions } from "../core/options.js";
import type { TenantPrincipal } from "../core/principal.js";
import { tokenOf, wantTokens } from "../core/principal-token.js";
import type { TelemetrySpan } from "../core/telemetry.js";
import { startTelemetry, traceDecision, tracing } from "../core/telemetry.js";
import { toDecision } from "./decision.js";
import { chooseEntityTypes, readIdentitySources, storeReader } from "./identity-source.js";

/**
 * The client: a `VerifiedPermissionsClient` from `@aws-sdk/client-verifiedpermissions` (anything
 * with `send(command, { abortSignal })`), or the aggregated `VerifiedPermissions` class.
 */
export type VerifiedPermissionsClientLike =
  | { send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> }
  | {
      isAuthorized(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
      batchIsAuthorized(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
      isAuthorizedWithToken(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
      batchIsAuthorizedWithToken(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
      /** With these three, `ready()` (or the first decision) reads the store and its identity source. */
      getPolicyStore?(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
      listIdentitySources?(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
      getIdentitySource?(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
    };

/** Options of {@link createVerifiedPermissionsAuthorizer}. */
export interface VerifiedPermissionsAuthorizerOptions {
  /** The policy store to ask. */
  readonly policyStoreId: string;
  /**
   * Your client. Without it, `@aws-sdk/client-verifiedpermissions` (an optional peer) is imported on
   * the first decision and a client is made with `region` and `clientConfig`, with the SDK's own
   * retries off (`maxAttempts: 1`): throttling is retried here, inside `timeoutMs`.
   */
  readonly client?: VerifiedPermissionsClientLike;
  /** Region of the client made for you. */
  readonly region?: string;
  /** More configuration for the client made for you (`endpoint`, `credentials`, ...). */
  readonly clientConfig?: Readonly<Record<string, unknown>>;
  /** The schema namespace: `"ReadObject"` means `<namespace>::Action::"ReadObject"`. */
  readonly namespace: string;
  /**
   * The identity source's principal entity type. Default: the one the store's identity source
   * declares (read at `ready()` or the first decision), else `"User"`. Given, it must match the
   * identity source's, else `ready()` rejects.
   */
  readonly userEntityType?: string;
  /**
   * The identity source's group entity type. Default: the store's identity source's (the service
   * defaults it to `AWS::CognitoGroup`), else `"UserGroup"`. Given, it must match, else `ready()` rejects.
   */
  readonly groupEntityType?: string;
  /** Model tenants as entities of this type (see `toCedarEntities`). */
  readonly tenantEntityType?: string;
  /**
   * The policy store's schema as JSON (an object, or its JSON text). With it, principal attributes
   * and `context.token` keep only what the schema declares, as the service does with token claims:
   * the request passes strict validation, and the cache key no longer changes with every token's
   * `jti`. Without it every claim is sent.
   */
  readonly schema?: CedarSchemaJson | string;
  /** Entities (Cedar JSON format) sent with every request. */
  readonly entities?: readonly unknown[];
  /**
   * Decision cache; default `{ maxEntries: 10000, ttlMs: 60000 }`; `false` turns it off. An entry
   * never outlives the principal's token (`exp`). The key covers everything a decision depends on:
   * with `schema`, only what the schema lets policies read, so a refreshed token (new `iat`, `exp`,
   * `jti`, ...) of the same user finds the decisions of the old one.
   */
  readonly cache?: false | { readonly maxEntries?: number; readonly ttlMs?: number };
  /**
   * Batching, off by default: every decision is one `IsAuthorized` call ($0.000005 each). A
   * `BatchIsAuthorized` call costs $0.00015 however many decisions it carries (at most 30), what 30
   * single calls cost, so batching pays only to stay under the per-second request quota or to
   * answer a list in one round trip, never to save money.
   *
   * `true` or an object turns it on: decisions for one principal that arrive within `windowMs`
   * (default `0`: the same event-loop turn, no timer delay) are collected; a group of `maxSize`
   * (default and at most 30) goes out at once as one batch call; when the window closes, a group
   * of at least `minSize` (default `maxSize`: only full batches) goes out as one batch call, a
   * smaller one as single calls. With the defaults a batch call is made only when it costs no more
   * than the single calls it replaces; lower `minSize` (e.g. `2`) to trade money for fewer calls.
   */
  readonly batch?: boolean | { readonly windowMs?: number; readonly maxSize?: number; readonly minSize?: number };
  /** The longest a decision may take, retries included; then `authorizer_unavailable`. Default 1000 ms. */
  readonly timeoutMs?: number;
  /**
   * Retries, inside the timeout, of the errors the service model marks retryable
   * (`ThrottlingException`, `InternalServerException`): default `{ maxAttempts: 4, baseDelayMs: 25 }`
   * (exponential, jittered).
   */
  readonly retry?: { readonly maxAttempts?: number; readonly baseDelayMs?: number };
  /**
   * `"entities"` (default): `IsAuthorized` with the entities this library builds from the principal.
   * `"withToken"`: `IsAuthorizedWithToken`, the service builds the principal from the token, which
   * each request must carry as `request.token` (the raw JWT); for stores whose identity source maps groups.
   * The service builds the groups from `cognito:groups` and refuses entities of the group type beside
   * a token, so none are sent: with `tenantEntityType`, tenants go as entities of their own type and
   * as `context.tenant`, and `principal in <Tenant>` does not hold in this mode (write tenant
   * policies on `context.tenant` or on the groups).
   */
  readonly mode?: "entities" | "withToken";
  /** Keep an ALLOW that came with evaluation errors (Cedar's semantics); default: turn it into a DENY. */
  readonly allowWithErrors?: boolean;
}

/** The Verified Permissions authorizer. */
export interface VerifiedPermissionsAuthorizer extends Authorizer {
  /**
   * Import the SDK and make the client now (e.g. at cold start), then check the policy store
   * (`GetPolicyStore`) and read its identity source (`ListIdentitySources`, `GetIdentitySource`) for
   * the entity types. Rejects with a message naming the cause: a store that does not exist or cannot
   * be read, `userEntityType`/`groupEntityType` that contradict the identity source, `"withToken"`
   * without an identity source. Optional: the first decision does it otherwise, and fails closed
   * (`authorizer_unavailable`) on the same causes.
   */
  ready(): Promise<void>;
  /** Forget every cached decision (e.g. after a policy change). */
  clearCache(): void;
  /** Entries in the decision cache. */
  readonly cacheSize: number;
}

interface VpResult {
  decision?: string;
  determiningPolicies?: { policyId?: string }[];
  errors?: { errorDescription?: string }[];
}

interface Pending {
  readonly key: string;
  readonly item: Record<string, unknown>;
  /** The raw JWT in mode "withToken". */
  readonly token: string | undefined;
  readonly tokenUse: "id" | "access";
  readonly entities: readonly CedarEntity[];
  /** Uids this request names (its resource, parents, entity references in attributes and context). */
  readonly mentions: ReadonlySet<string>;
  readonly deadline: number;
  /** The cache generation when asked: a decision asked for before clearCache() is not stored. */
  readonly generation: number;
  resolve(d: Decision): void;
  reject(e: unknown): void;
}

interface Group {
  readonly groupKey: string;
  readonly token: string | undefined;
  readonly tokenUse: "id" | "access";
  readonly items: Pending[];
  readonly entities: Map<string, { entity: CedarEntity; json: string }>;
  /** Uids some request of the group names without describing them: it was asked about them as absent. */
  readonly undescribed: Set<string>;
  timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
}

type Operation = "IsAuthorized" | "BatchIsAuthorized" | "IsAuthorizedWithToken" | "BatchIsAuthorizedWithToken";

type SdkModule = typeof import("@aws-sdk/client-verifiedpermissions");
let sdk: Promise<SdkModule> | undefined;
function loadSdk(): Promise<SdkModule> {
  sdk ??= import("@aws-sdk/client-verifiedpermissions").catch((err: unknown) => {
    sdk = undefined;
    throw new Error("cognito-tenancy: Verified Permissions needs the optional peer dependency @aws-sdk/client-verifiedpermissions, or pass `client`", { cause: err });
  });
  return sdk;
}

const METHOD: Record<Operation, "isAuthorized" | "batchIsAuthorized" | "isAuthorizedWithToken" | "batchIsAuthorizedWithToken"> = {
  IsAuthorized: "isAuthorized",
  BatchIsAuthorized: "batchIsAuthorized",
  IsAuthorizedWithToken: "isAuthorizedWithToken",
  BatchIsAuthorizedWithToken: "batchIsAuthorizedWithToken",
};

// Verified Permissions stores hold the schema as JSON; Cedar schema text is the other common form
// and would otherwise fail here with a bare SyntaxError.
function parseSchemaJson(text: string): CedarSchemaJson {
  try {
    return JSON.parse(text) as CedarSchemaJson;
  } catch {
    throw new TypeError(
      "createVerifiedPermissionsAuthorizer: schema must be the store's schema as JSON (an object or JSON text), not Cedar schema text; " +
        'convert it with schemaToJson of "@cedar-policy/cedar-wasm/nodejs" or copy the console\'s JSON view',
    );
  }
}

/** The token's (unverified) `sub` and `iss` name this principal: enough to refuse a mix-up. */
function tokenBelongsTo(token: string, principal: TenantPrincipal): boolean {
  // The usual case: the principal came from resolveTenant, which knows its token. No parse.
  const known = tokenOf(principal);
  if (known !== undefined) return known === token;
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { sub?: unknown; iss?: unknown };
    return payload.sub === principal.sub && payload.iss === principal.issuer;
  } catch {
    return false;
  }
}

// The client sees one generic description; what went wrong (an AWS exception name, a mapping
// error) stays in `cause`, for the app's logs.
function unavailable(detail: string, cause?: unknown): TenantAuthError {
  return new TenantAuthError("authorizer_unavailable", "The policy engine could not decide", {
    cause: cause ?? new Error(`Verified Permissions authorizer: ${detail}`),
  });
}

/**
 * A client may reject with anything: `undefined`, `null`, a string, a frozen object, an object whose
 * getters throw. Reading a field of it must never throw (a throw in a catch would escape as an
 * unhandled rejection and take the process down).
 */
function field(err: unknown, name: string): unknown {
  if ((typeof err !== "object" && typeof err !== "function") || err === null) return undefined;
  try {
    return (err as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}

/** The error's name for the cause message: its `name` when it is a string, else its type. */
function errorName(err: unknown): string {
  const name = field(err, "name");
  if (typeof name === "string" && name.length > 0) return name;
  return err === null ? "null" : typeof err;
}

/**
 * What the service model marks retryable (`ThrottlingException`, `InternalServerException`; the SDK
 * sets `$retryable` on both), and HTTP 429.
 */
function isRetryable(err: unknown): boolean {
  const name = field(err, "name");
  if (name === "ThrottlingException" || name === "InternalServerException") return true;
  const retryable = field(err, "$retryable");
  if (typeof retryable === "object" && retryable !== null) return true;
  return field(field(err, "$metadata"), "httpStatusCode") === 429;
}

/** How long ready() waits for the store and identity source reads (the SDK's first call is slow). */
const STORE_READ_MS = 10_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The identity of a batch request as the service echoes it in each result's `request`: principal
 * (absent with a token), action, resource, and context (absent and empty alike).
 */
function requestSignature(request: unknown): string {
  const context = field(request, "context");
  return canonicalJson({
    principal: field(request, "principal") ?? null,
    action: field(request, "action") ?? null,
    resource: field(request, "resource") ?? null,
    context: context === undefined || context === null ? {} : (field(context, "contextMap") ?? context),
  });
}

const WHERE = "createVerifiedPermissionsAuthorizer";
/** The service's limit on requests in one batch call. */
const MAX_BATCH = 30;

const CACHE_OPTIONS: OptionsSchema = {
  maxEntries: { type: "number", integer: true, min: 1, max: 10_000_000 },
  ttlMs: { type: "number", min: 0, max: 86_400_000 },
};
const BATCH_OPTIONS: OptionsSchema = {
  windowMs: { type: "number", min: 0, max: 10_000 },
  maxSize: { type: "number", integer: true, min: 1, max: MAX_BATCH },
  minSize: { type: "number", integer: true, min: 1, max: MAX_BATCH },
};
const RETRY_OPTIONS: OptionsSchema = {
  maxAttempts: { type: "number", integer: true, min: 1, max: 10 },
  baseDelayMs: { type: "number", min: 0, max: 10_000 },
};
/** `false`, or an object checked against `schema` (`true` too when `allowTrue`). */
const falseOr = (schema: OptionsSchema, allowTrue: boolean) =>
  ({
    type: "custom",
    check(value: unknown, name: string) {
      if (value === false || (allowTrue && value === true)) return;
      checkOption(value, name, { type: "object" });
      validateOptions(value, schema, { where: WHERE, path: `${name}.` });
    },
  }) as const;

const OPTIONS: OptionsSchema = {
  policyStoreId: { type: "string", nonEmpty: true, required: true },
  client: { type: "object" },
  region: { type: "string", nonEmpty: true },
  clientConfig: { type: "object" },
  namespace: { type: "string", required: true },
  userEntityType: { type: "string", nonEmpty: true },
  groupEntityType: { type: "string", nonEmpty: true },
  tenantEntityType: { type: "string", nonEmpty: true },
  schema: {
    type: "custom",
    check(value, name) {
      if (typeof value !== "string") checkOption(value, `${name} (the store's schema as JSON: an object or JSON text)`, { type: "object" });
    },
  },
  entities: { type: "array" },
  cache: falseOr(CACHE_OPTIONS, false),
  batch: falseOr(BATCH_OPTIONS, true),
  timeoutMs: { type: "number", integer: true, min: 1, max: 600_000 },
  retry: {
    type: "custom",
    check(value, name) {
      checkOption(value, name, { type: "object" });
      validateOptions(value, RETRY_OPTIONS, { where: WHERE, path: `${name}.` });
    },
  },
  mode: { type: "oneOf", values: ["entities", "withToken"] },
  allowWithErrors: { type: "boolean" },
};

/**
 * Create an authorizer backed by Amazon Verified Permissions. Importing this module does not load
 * the AWS SDK; the first decision does, unless you pass `client`.
 *
 * Fail closed: a timeout, a network error, a throttling that outlasts the timeout, or any service
 * error rejects with `authorizer_unavailable` (503). A decision is never an allow by accident.
 */
export function createVerifiedPermissionsAuthorizer(options: VerifiedPermissionsAuthorizerOptions): VerifiedPermissionsAuthorizer {
  validateOptions(options, OPTIONS, { where: WHERE });
  void startTelemetry();
  const mode = options.mode ?? "entities";
  // resolveTenant starts remembering each principal's token (costs nothing until asked for).
  if (mode === "withToken") wantTokens();
  const timeoutMs = options.timeoutMs ?? 1000;
  const maxAttempts = options.retry?.maxAttempts ?? 4;
  const baseDelayMs = options.retry?.baseDelayMs ?? 25;
  const batchOption = options.batch === true ? {} : options.batch === false ? undefined : options.batch;
  const batch =
    batchOption === undefined
      ? undefined
      : {
          windowMs: batchOption.windowMs ?? 0,
          maxSize: batchOption.maxSize ?? MAX_BATCH,
          // A full group always goes as one batch call, so a minSize above maxSize means "full only".
          minSize: Math.min(batchOption.minSize ?? MAX_BATCH, batchOption.maxSize ?? MAX_BATCH),
        };
  const cache = options.cache === false ? undefined : new BoundedCache<{ decision: Decision; expiresAtMs: number }>(options.cache?.maxEntries ?? 10_000);
  const ttlMs = options.cache === false ? 0 : (options.cache?.ttlMs ?? 60_000);
  const schema = typeof options.schema === "string" ? parseSchemaJson(options.schema) : options.schema;
  const staticEntities = (options.entities ?? []).map((e, i) => {
    try {
      return normalizeEntity(e);
    } catch (err) {
      throw new TypeError(`${WHERE}: entities[${i}]: ${String(field(err, "message") ?? err)}`);
    }
  });
  if (mode === "withToken") {
    const groupType = qualifyType(options.namespace, options.groupEntityType ?? "UserGroup");
    const group = staticEntities.find((e) => e.uid.type === groupType);
    if (group) {
      throw new TypeError(
        `${WHERE}: entities holds ${groupType}::${JSON.stringify(group.uid.id)}, but in mode "withToken" the service builds the groups from the token and refuses entities of the group type beside it`,
      );
    }
  }
  const baseMapping = {
    namespace: options.namespace,
    ...(options.userEntityType !== undefined ? { userEntityType: options.userEntityType } : {}),
    ...(options.groupEntityType !== undefined ? { groupEntityType: options.groupEntityType } : {}),
    ...(options.tenantEntityType !== undefined ? { tenantEntityType: options.tenantEntityType } : {}),
    ...(schema !== undefined ? { schema } : {}),
    staticEntities,
  };
  // Set once the store's identity source is read (its entity types over the options').
  let mapping: typeof baseMapping | undefined;

  let client: Promise<VerifiedPermissionsClientLike> | undefined = options.client ? Promise.resolve(options.client) : undefined;
  function getClient(): Promise<VerifiedPermissionsClientLike> {
    if (!client) {
      client = loadSdk().then((m) => new m.VerifiedPermissionsClient({ maxAttempts: 1, ...(options.region ? { region: options.region } : {}), ...options.clientConfig }));
      client.catch(() => {
        client = undefined;
      });
    }
    return client;
  }

  async function call(op: Operation, input: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const c = await getClient();
    if ("send" in c && typeof c.send === "function") {
      const m = await loadSdk();
      const commands: Record<Operation, new (input: never) => unknown> = {
        IsAuthorized: m.IsAuthorizedCommand as never,
        BatchIsAuthorized: m.BatchIsAuthorizedCommand as never,
        IsAuthorizedWithToken: m.IsAuthorizedWithTokenCommand as never,
        BatchIsAuthorizedWithToken: m.BatchIsAuthorizedWithTokenCommand as never,
      };
      return c.send(new commands[op](input as never), { abortSignal: signal });
    }
    const method = (c as Record<string, unknown>)[METHOD[op]];
    if (typeof method !== "function") throw new TypeError(`the client has neither send() nor ${METHOD[op]}()`);
    return (method as (i: unknown, o: unknown) => Promise<unknown>).call(c, input, { abortSignal: signal });
  }

  /** One service call; retryable errors retried with jittered exponential backoff until the deadline. */
  async function callWithRetry(op: Operation, input: Record<string, unknown>, deadline: number): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw unavailable("Verified Permissions did not answer in time");
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), remaining);
      try {
        return await call(op, input, controller.signal);
      } catch (err) {
        if (controller.signal.aborted) throw unavailable("Verified Permissions did not answer in time", err);
        if (!isRetryable(err) || attempt >= maxAttempts) throw err;
        const delay = baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
        if (Date.now() + delay >= deadline) throw err;
        await sleep(delay);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  let storeRead: Promise<void> | undefined;
  let storeReads = 0;
  /**
   * Check the store and take the entity types of its identity source, waiting at most `waitMs`
   * (a start-up step: ready() allows the SDK's cold start more than a decision's timeout). One read
   * at a time; a failed one is tried again next time.
   */
  function readStore(waitMs: number): Promise<void> {
    storeRead ??= (async () => {
      storeReads++;
      const read = storeReader(await getClient(), loadSdk);
      if (!read) {
        mapping = baseMapping;
        return;
      }
      const signal = AbortSignal.timeout(Math.max(timeoutMs, STORE_READ_MS));
      const sources = await readIdentitySources(read, options.policyStoreId, signal);
      const types = chooseEntityTypes(sources, { namespace: options.namespace, userEntityType: options.userEntityType, groupEntityType: options.groupEntityType, mode }, options.policyStoreId);
      mapping = { ...baseMapping, ...types };
    })();
    storeRead.catch(() => {
      storeRead = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the policy store was not read within ${waitMs} ms`)), waitMs);
    });
    return Promise.race([storeRead, late]).finally(() => clearTimeout(timer));
  }

  const groups = new Map<string, Group>();
  const inflight = new Map<string, Promise<Decision>>();
  // Bumped by clearCache(): decisions already on their way were made under the old policies.
  let generation = 0;

  function resultToDecision(r: VpResult | undefined): Decision {
    if (!r || (r.decision !== "ALLOW" && r.decision !== "DENY")) throw unavailable("Verified Permissions answered without a decision");
    const policies: unknown = r.determiningPolicies ?? [];
    const errors: unknown = r.errors ?? [];
    // Anything but lists of objects is nonsense: a typed 503, never a TypeError (nor an allow).
    const isList = (v: unknown): v is object[] => Array.isArray(v) && v.every((x) => typeof x === "object" && x !== null);
    if (!isList(policies) || !isList(errors)) throw unavailable("Verified Permissions answered a malformed decision");
    return toDecision(
      r.decision,
      (policies as { policyId?: unknown }[]).map((p) => String(p.policyId)),
      (errors as { errorDescription?: unknown }[]).map((e) => String(e.errorDescription)),
      options.allowWithErrors === true,
    );
  }

  function settle(it: Pending, r: unknown): void {
    try {
      const d = resultToDecision(r as VpResult | undefined);
      if (cache && it.generation === generation) cache.set(it.key, { decision: d, expiresAtMs: Date.now() + ttlMs });
      it.resolve(d);
    } catch (err) {
      it.reject(err instanceof TenantAuthError ? err : unavailable("Verified Permissions answered a malformed decision", err));
    }
  }

  function failAll(items: readonly Pending[], err: unknown): void {
    const e = err instanceof TenantAuthError ? err : unavailable(`Verified Permissions could not decide: ${errorName(err)}`, err);
    for (const it of items) it.reject(e);
  }

  /** One decision, one `IsAuthorized(WithToken)` call, with the entities of its own request. */
  async function runSingle(it: Pending): Promise<void> {
    try {
      const input: Record<string, unknown> = { policyStoreId: options.policyStoreId, ...it.item };
      if (it.entities.length > 0) input["entities"] = { entityList: toEntityList(it.entities) };
      if (it.token !== undefined) input[it.tokenUse === "id" ? "identityToken" : "accessToken"] = it.token;
      settle(it, await callWithRetry(it.token !== undefined ? "IsAuthorizedWithToken" : "IsAuthorized", input, it.deadline));
    } catch (err) {
      failAll([it], err);
    }
  }

  /**
   * One batch call. Each result names the request it answers (`request`, required in the service's
   * output): a result is matched to its request by that, never by its position, and a request no
   * result lines up with is refused (503), so a reordered or partial answer cannot hand one
   * request's ALLOW to another.
   */
  async function runBatch(group: Group): Promise<void> {
    const items = group.items;
    try {
      const deadline = Math.min(...items.map((i) => i.deadline));
      const entities = [...group.entities.values()].map((e) => e.entity);
      const input: Record<string, unknown> = { policyStoreId: options.policyStoreId, requests: items.map((i) => i.item) };
      if (entities.length > 0) input["entities"] = { entityList: toEntityList(entities) };
      if (group.token !== undefined) input[group.tokenUse === "id" ? "identityToken" : "accessToken"] = group.token;
      const out = await callWithRetry(group.token !== undefined ? "BatchIsAuthorizedWithToken" : "BatchIsAuthorized", input, deadline);
      const results = field(out, "results");
      if (!Array.isArray(results) || results.length !== items.length) throw unavailable("Verified Permissions answered a batch with the wrong number of results");
      const waiting = new Map<string, Pending[]>();
      for (const it of items) {
        const sig = requestSignature(it.item);
        const list = waiting.get(sig);
        if (list) list.push(it);
        else waiting.set(sig, [it]);
      }
      for (const r of results as unknown[]) {
        const echoed = field(r, "request");
        const it = echoed === undefined ? undefined : waiting.get(requestSignature(echoed))?.shift();
        if (it) settle(it, r);
      }
      const unanswered = [...waiting.values()].flat();
      if (unanswered.length > 0) failAll(unanswered, unavailable("Verified Permissions answered a batch whose results do not line up with its requests"));
    } catch (err) {
      failAll(items, err);
    }
  }

  function run(group: Group): void {
    if (batch && group.items.length >= Math.max(2, batch.minSize)) void runBatch(group);
    else for (const it of group.items) void runSingle(it);
  }

  function flush(group: Group): void {
    if (groups.get(group.groupKey) === group) groups.delete(group.groupKey);
    if (group.timer !== undefined) {
      if (batch && batch.windowMs > 0) clearTimeout(group.timer as NodeJS.Timeout);
      else clearImmediate(group.timer as NodeJS.Immediate);
    }
    run(group);
  }

  function enqueue(groupKey: string, pending: Pending): void {
    // Single calls (the default): nothing to collect.
    if (!batch) {
      void runSingle(pending);
      return;
    }
    let group = groups.get(groupKey);
    if (group) {
      // Entities of one call are shared by its requests, so a request must not meet another
      // description of a uid it names than its own: a uid with different content, or described by
      // one request and named without a description (an entity with no parents or attributes) by
      // another, starts a new call. Otherwise the decision (and its cache entry) would depend on
      // entities its own request never carried.
      const g = group;
      const own = new Set(pending.entities.map(uidKey));
      const conflict =
        pending.entities.some((e) => {
          const k = uidKey(e);
          const have = g.entities.get(k);
          return have !== undefined ? have.json !== canonicalJson(e) : g.undescribed.has(k);
        }) || [...pending.mentions].some((k) => !own.has(k) && g.entities.has(k));
      if (conflict) {
        flush(group);
        group = undefined;
      }
    }
    if (!group) {
      group = { groupKey, token: pending.token, tokenUse: pending.tokenUse, items: [], entities: new Map(), undescribed: new Set(), timer: undefined };
      groups.set(groupKey, group);
      const g = group;
      g.timer = batch.windowMs > 0 ? setTimeout(() => flush(g), batch.windowMs) : setImmediate(() => flush(g));
    }
    group.items.push(pending);
    for (const e of pending.entities) {
      const k = uidKey(e);
      if (!group.entities.has(k)) group.entities.set(k, { entity: e, json: canonicalJson(e) });
    }
    for (const k of pending.mentions) if (!group.entities.has(k)) group.undescribed.add(k);
    if (group.items.length >= batch.maxSize) flush(group);
  }

  function isAuthorized(request: AuthorizationRequest): Promise<Decision> {
    return tracing.on ? traceDecision("verified-permissions", request, (span) => decide(request, span)) : decide(request, undefined);
  }

  function decide(request: AuthorizationRequest, span: TelemetrySpan | undefined): Promise<Decision> {
    if (mapping === undefined) {
      // The first read carries the SDK's cold start: it gets ready()'s allowance. After a failed
      // one (an outage), a decision waits no longer than its own timeout before failing closed.
      return readStore(storeReads === 0 ? Math.max(timeoutMs, STORE_READ_MS) : timeoutMs).then(
        () => decide(request, span),
        (err: unknown) => Promise.reject(unavailable(String(field(err, "message") ?? errorName(err)), err)),
      );
    }
    let cedar: CedarRequest;
    try {
      cedar = toCedarRequest(request, mapping);
    } catch (err) {
      // A token the mapping refuses (token_invalid) keeps its own status; anything else is a 503.
      if (err instanceof TenantAuthError) return Promise.reject(err);
      return Promise.reject(unavailable(`could not map the request to Cedar: ${String(field(err, "message") ?? errorName(err))}`, err));
    }
    // withToken: the token resolveTenant verified for this principal, unless the caller passes one.
    const token = mode === "withToken" ? (request.token ?? tokenOf(request.principal)) : undefined;
    if (mode === "withToken") {
      if (typeof token !== "string" || token.length === 0) {
        return Promise.reject(unavailable('mode "withToken" needs the raw JWT: a principal from resolveTenant, or request.token'));
      }
      // Decisions are cached per principal: a token that is not this principal's must not decide for it.
      if (request.token !== undefined && !tokenBelongsTo(request.token, request.principal)) {
        return Promise.reject(unavailable("request.token is not the token of request.principal"));
      }
    }
    // Static entities are already merged in by toCedarRequest (one entity per uid).
    const entities = cedar.entities;
    const key = createHash("sha256")
      .update(canonicalJson({ mode, principal: cedar.principal, action: cedar.action, resource: cedar.resource, context: cedar.context, entities }))
      .digest("base64url");
    const now = Date.now();
    // An entry lives ttlMs and serves any principal whose token is still valid and whose key is the
    // same: the key holds everything a policy can read (with a schema, only what it declares), so a
    // refreshed token of the same user, even one that arrives after the old one expired, finds the
    // old token's decisions. A principal whose own token has expired is never answered from here.
    if (cache && request.principal.expiresAt.getTime() > now) {
      const hit = cache.get(key);
      if (hit && hit.expiresAtMs > now) {
        span?.setAttribute("cognito_tenancy.cache_hit", true);
        return Promise.resolve(hit.decision);
      }
      if (hit) cache.delete(key);
    }
    const running = inflight.get(key);
    if (running) return running;

    const item: Record<string, unknown> = {
      action: { actionType: cedar.action.type, actionId: cedar.action.id },
      resource: toEntityIdentifier(cedar.resource),
    };
    if (Object.keys(cedar.context).length > 0) item["context"] = { contextMap: toAttributeRecord(cedar.context as Record<string, CedarValue>) };
    let sent: readonly CedarEntity[] = entities;
    let groupKey: string;
    if (mode === "withToken") {
      // The service derives the principal and its groups from the token, and refuses entities of
      // the group type beside it: send neither. Tenant entities (their own type) and the resource's
      // parents still go; a group's tenant parents cannot (see the `mode` option).
      // The store's group type (read from its identity source), which the options only default.
      const groupType = qualifyType(options.namespace, mapping.groupEntityType ?? "UserGroup");
      const own = (request.entities ?? []).find((e) => field(field(e, "uid"), "type") === groupType || field(field(field(e, "uid"), "__entity"), "type") === groupType);
      if (own !== undefined) {
        return Promise.reject(
          unavailable(`mode "withToken": request.entities holds an entity of the group type ${groupType}, which the service refuses beside a token (it builds the groups from cognito:groups)`),
        );
      }
      const principalKey = uidKey({ uid: cedar.principal });
      sent = entities.filter((e) => uidKey(e) !== principalKey && e.uid.type !== groupType);
      groupKey = `token\u0000${token}`;
    } else {
      item["principal"] = toEntityIdentifier(cedar.principal);
      groupKey = `principal\u0000${cedar.principal.type}\u0000${cedar.principal.id}`;
    }

    const promise = new Promise<Decision>((resolve, reject) => {
      const timer = setTimeout(() => reject(unavailable("Verified Permissions did not answer in time")), timeoutMs);
      const done = <T>(f: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        f(v);
      };
      enqueue(groupKey, {
        key,
        item,
        token,
        tokenUse: request.principal.tokenUse,
        entities: sent,
        mentions: mentionedUids(cedar.resource, sent, cedar.context),
        deadline: now + timeoutMs,
        generation,
        resolve: done(resolve),
        reject: done(reject),
      });
    }).finally(() => {
      if (inflight.get(key) === promise) inflight.delete(key);
    });
    inflight.set(key, promise);
    return promise;
  }

  return {
    isAuthorized,
    async ready() {
      const c = await getClient();
      if ("send" in c && typeof c.send === "function") await loadSdk();
      await readStore(Math.max(timeoutMs, STORE_READ_MS));
    },
    clearCache() {
      generation++;
      inflight.clear();
      cache?.clear();
    },
    get cacheSize() {
      return cache?.size ?? 0;
    },
  };
}

function uidKey(e: Pick<CedarEntity, "uid">): string {
  return `${e.uid.type}\u0000${e.uid.id}`;
}

/** Every uid a request names: its resource, its entities' parents, and entity references in attributes and context. */
function mentionedUids(resource: CedarEntityUid, entities: readonly CedarEntity[], context: Readonly<Record<string, CedarValue>>): Set<string> {
  const out = new Set<string>([uidKey({ uid: resource })]);
  const visit = (value: unknown): void => {
    if (typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
      for (const v of value) visit(v);
      return;
    }
    const ref = (value as { __entity?: unknown }).__entity;
    if (typeof ref === "object" && ref !== null && typeof (ref as CedarEntityUid).type === "string" && typeof (ref as CedarEntityUid).id === "string") {
      out.add(uidKey({ uid: ref as CedarEntityUid }));
      return;
    }
    for (const v of Object.values(value)) visit(v);
  };
  for (const e of entities) {
    for (const p of e.parents) out.add(uidKey({ uid: p }));
    visit(e.attrs);
  }
  visit(context);
  return out;
}
