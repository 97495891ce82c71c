/**
 * `cognito-tenancy/verified-permissions`: authorize with Amazon Verified Permissions, sending the
 * entities a Cognito identity source would build (`IsAuthorized`), or the token itself
 * (`IsAuthorizedWithToken`). Batching, a decision cache, a timeout, and fail-closed errors.
 * @packageDocumentation
 */
import { createHash } from "node:crypto";
import type { AuthorizationRequest, Authorizer, Decision } from "../core/authorizer.js";
import type { CedarRequest } from "../core/cedar/request.js";
import { normalizeEntity, toCedarRequestParts } from "../core/cedar/request.js";
import type { CedarRequestParts, PrincipalPart } from "../core/cedar/request.js";
import type { CedarSchemaJson } from "../core/cedar/schema.js";
import type { CedarEntity, CedarValue } from "../core/cedar/values.js";
import { canonicalJson, qualifyType } from "../core/cedar/values.js";
import { toAttributeRecord, toEntityIdentifier } from "../core/cedar/wire.js";
import { BoundedCache } from "../core/cache.js";
import { TenantAuthError } from "../core/errors.js";
import type { OptionsSchema } from "../core/options.js";
import { checkOption, describeValue, validateOptions } from "../core/options.js";
import type { TenantPrincipal } from "../core/principal.js";
import { tokenBelongsTo, tokenOf, wantTokens } from "../core/principal-token.js";
import type { TelemetrySpan } from "../core/telemetry.js";
import { startTelemetry, traceDecision, tracing } from "../core/telemetry.js";
import { toDecision } from "./decision.js";
import { chooseEntityTypes, readIdentitySources, storeReader } from "./identity-source.js";
import type { VerifiedPermissionsClientLike } from "./vp/client.js";
import { createVpClient } from "./vp/client.js";
import { createDecisionCache } from "./vp/decision-cache.js";
import { MAX_BATCH, createDispatcher, mentionedUids } from "./vp/dispatch.js";
import { errorName, field, unavailable } from "./vp/errors.js";

export type { VerifiedPermissionsClientLike } from "./vp/client.js";

/** Options of {@link createVerifiedPermissionsAuthorizer}. */
export interface VerifiedPermissionsAuthorizerOptions {
  /**
   * The policy store to ask: its id, an alias (`policy-store-alias/<name>`), or a function of the
   * principal returning one (a store per tenant), sync or async. Each store's identity source is
   * read on its first decision; decisions are cached and batched per store, never across stores.
   * A function that throws or returns something that is not a store id or alias gives 503
   * `authorizer_unavailable`.
   */
  readonly policyStoreId: string | ((principal: TenantPrincipal) => string | Promise<string>);
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

/** Claims that change with every token of one sign-in, and that no policy should read. */
const PER_TOKEN_CLAIMS = new Set(["jti", "origin_jti", "iat", "exp", "nbf", "auth_time", "event_id"]);

// Per verified payload (frozen, shared by every principal of one token): computed once, not per decision.
const stableClaimsJson = new WeakMap<object, string>();

/** The canonical JSON of a token's claims without the per-token ones. */
function stableClaims(claims: Readonly<Record<string, unknown>>): string {
  let json = stableClaimsJson.get(claims);
  if (json === undefined) {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(claims)) if (!PER_TOKEN_CLAIMS.has(name)) out[name] = claims[name];
    json = canonicalJson(out);
    stableClaimsJson.set(claims, json);
  }
  return json;
}

/** One field of a decision cache key: its length, then itself (no escaping needed to stay unambiguous). */
const keyField = (s: string): string => `${s.length}:${s}`;

/** How long ready() waits for the store and identity source reads (the SDK's first call is slow). */
const STORE_READ_MS = 10_000;
/** Whether a record has no own keys (its canonical JSON would be `{}`). */
function isEmptyRecord(record: object): boolean {
  for (const _ in record) return false;
  return true;
}

/** Principal shares remembered by their short id before the table starts over (ids are never reused). */
const MAX_SHORT_IDS = 100_000;

const WHERE = "createVerifiedPermissionsAuthorizer";

/** Policy stores chosen per principal whose identity source mapping is kept. */
const MAX_STORES = 10_000;

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
  policyStoreId: {
    type: "custom",
    required: true,
    check(value, name) {
      if (typeof value === "function" || (typeof value === "string" && value !== "")) return;
      throw new TypeError(`${name} must be a non-empty string (a store id or policy-store-alias/<name>) or a function of the principal, got ${describeValue(value)}`);
    },
  },
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
  const schema = typeof options.schema === "string" ? parseSchemaJson(options.schema) : options.schema;
  const staticEntities = (options.entities ?? []).map((e, i) => {
    try {
      return normalizeEntity(e);
    } catch (err) {
      throw new TypeError(`${WHERE}: entities[${i}]: ${String(field(err, "message") ?? err)}`, { cause: err });
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
  type Mapping = typeof baseMapping;
  /** What each policy store needs: its identity source's mapping, once read, and its own batches. */
  interface StoreState {
    readonly policyStoreId: string;
    // Set once the store's identity source is read (its entity types over the options').
    mapping: Mapping | undefined;
    storeRead: Promise<void> | undefined;
    storeReads: number;
    readonly dispatcher: ReturnType<typeof createDispatcher>;
  }

  const client = createVpClient({
    client: options.client,
    region: options.region,
    clientConfig: options.clientConfig,
    maxAttempts: options.retry?.maxAttempts ?? 4,
    baseDelayMs: options.retry?.baseDelayMs ?? 25,
  });
  const newStore = (policyStoreId: string): StoreState => ({
    policyStoreId,
    mapping: undefined,
    storeRead: undefined,
    storeReads: 0,
    dispatcher: createDispatcher({ policyStoreId, call: client.call, batch }),
  });
  const storeOption = options.policyStoreId;
  const fixedStore = typeof storeOption === "string" ? newStore(storeOption) : undefined;
  // Stores chosen per principal: bounded, the oldest forgotten first (it is read again if needed).
  const stores = new BoundedCache<StoreState>(MAX_STORES);
  function storeFor(id: unknown): StoreState {
    if (typeof id !== "string" || id.length === 0 || id.length > 200 || !/^[a-zA-Z0-9\-/_]*$/.test(id)) {
      throw unavailable(`policyStoreId(principal) returned ${typeof id === "string" ? "a string that is not a policy store id or alias" : typeof id}`);
    }
    let state = stores.get(id);
    if (state === undefined) stores.set(id, (state = newStore(id)));
    return state;
  }
  const cache = createDecisionCache<Decision>(options.cache === false ? undefined : { maxEntries: options.cache?.maxEntries ?? 10_000, ttlMs: options.cache?.ttlMs ?? 60_000 });

  /**
   * Check the store and take the entity types of its identity source, waiting at most `waitMs`
   * (a start-up step: ready() allows the SDK's cold start more than a decision's timeout). One read
   * at a time; a failed one is tried again next time.
   */
  function readStore(store: StoreState, waitMs: number): Promise<void> {
    const storeRead = (store.storeRead ??= (async () => {
      store.storeReads++;
      const read = storeReader(await client.get(), client.loadSdk);
      if (!read) {
        store.mapping = baseMapping;
        return;
      }
      const signal = AbortSignal.timeout(Math.max(timeoutMs, STORE_READ_MS));
      const sources = await readIdentitySources(read, store.policyStoreId, signal);
      const types = chooseEntityTypes(sources, { namespace: options.namespace, userEntityType: options.userEntityType, groupEntityType: options.groupEntityType, mode }, store.policyStoreId);
      store.mapping = { ...baseMapping, ...types };
    })());
    storeRead.catch(() => {
      store.storeRead = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the policy store was not read within ${waitMs} ms`)), waitMs);
    });
    return Promise.race([storeRead, late]).finally(() => clearTimeout(timer));
  }

  // The principal's share of the key, once per principal part (one per principal object and
  // mapping): a hash of what a policy can read of the principal. Per decision, only the action,
  // resource, request context and the entities the request adds are serialized (a cached decision
  // cost about 40 warm resolveTenant calls when all of it was, every time).
  const principalKeys = new WeakMap<PrincipalPart, Map<string, Map<string, Map<string, string>>>>();
  // The hash of a principal's share (per store) stands in the key as a short number: a cache hit
  // spent a quarter of its time hashing a 44-character SHA-256 prefix in the cache's Map lookup.
  // Equal content gets the same number, so a refreshed token still finds its decisions; numbers
  // are never reused (when the table is dropped, content gets a new one and its old entries miss).
  let shortIds = new Map<string, string>();
  let nextShortId = 0;
  function shortIdOf(storeId: string, hash: string): string {
    const content = `${storeId}\u0000${hash}`;
    let id = shortIds.get(content);
    if (id === undefined) {
      if (shortIds.size >= MAX_SHORT_IDS) shortIds = new Map();
      id = `${(nextShortId++).toString(36)};`;
      shortIds.set(content, id);
    }
    return id;
  }
  /**
   * The decision cache key: the request Cedar would evaluate is a function of the store, the
   * principal part, the action (which also decides the schema projection of `context.token`), the
   * resource, the request's context and added entities, and the authorizer's constants.
   */
  function decisionKey(storeId: string, parts: CedarRequestParts, claimsOfToken: Readonly<Record<string, unknown>>): string {
    const { part, action, resource } = parts;
    // Nested maps of strings that already exist (store id, action type and id): no key string is
    // built to find the principal's share, and each lookup reuses the string's cached hash.
    let byStore = principalKeys.get(part);
    if (byStore === undefined) principalKeys.set(part, (byStore = new Map()));
    let byType = byStore.get(storeId);
    if (byType === undefined) byStore.set(storeId, (byType = new Map()));
    let byId = byType.get(action.type);
    if (byId === undefined) byType.set(action.type, (byId = new Map()));
    // Per action too: with a schema, the mapped context.token is projected per action.
    let principalKey = byId.get(action.id);
    if (principalKey === undefined) {
      // In token mode the service reads the token through the store's own schema, which the schema
      // option may lag behind: the key then holds every claim a policy could read there, all but
      // the ones each new token of a user changes (so a refresh still finds its decisions).
      const claims = mode === "withToken" ? stableClaims(claimsOfToken) : undefined;
      const json = canonicalJson({ mode, principal: part.principal, claims, entities: part.entities, context: part.contextFor(action), action });
      principalKey = shortIdOf(storeId, createHash("sha256").update(json).digest("base64url"));
      byId.set(action.id, principalKey);
    }
    // After the short id (digits and a terminator), length-prefixed fields: an injective encoding
    // with no escaping. An added entity whose uid is the resource's is marked "=" instead of
    // repeating the uid (the key is hashed on every lookup, so its length is paid on every hit).
    const context = parts.context;
    let key = principalKey + keyField(resource.type) + keyField(resource.id) + (isEmptyRecord(context) ? "0:" : keyField(canonicalJson(context)));
    for (const e of parts.added) {
      key += e.uid.type === resource.type && e.uid.id === resource.id ? "+=" : `+${keyField(e.uid.type)}${keyField(e.uid.id)}`;
      key += `${isEmptyRecord(e.attrs) ? "0:" : keyField(canonicalJson(e.attrs))}${e.parents.length};`;
      for (const p of e.parents) key += keyField(p.type) + keyField(p.id);
    }
    return key;
  }

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

  function isAuthorized(request: AuthorizationRequest): Promise<Decision> {
    return tracing.on ? traceDecision("verified-permissions", request, (span) => decide(request, span)) : decide(request, undefined);
  }

  function decide(request: AuthorizationRequest, span: TelemetrySpan | undefined): Promise<Decision> {
    if (fixedStore !== undefined) return decideIn(fixedStore, request, span);
    let chosen: string | Promise<string>;
    try {
      chosen = (storeOption as (principal: TenantPrincipal) => string | Promise<string>)(request.principal);
    } catch (err) {
      return Promise.reject(unavailable("policyStoreId(principal) failed", err));
    }
    if (typeof chosen === "string") {
      try {
        return decideIn(storeFor(chosen), request, span);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return Promise.resolve(chosen).then(
      (id) => decideIn(storeFor(id), request, span),
      (err: unknown) => Promise.reject(unavailable("policyStoreId(principal) failed", err)),
    );
  }

  function decideIn(store: StoreState, request: AuthorizationRequest, span: TelemetrySpan | undefined): Promise<Decision> {
    const { mapping, dispatcher } = store;
    if (mapping === undefined) {
      // The first read carries the SDK's cold start: it gets ready()'s allowance. After a failed
      // one (an outage), a decision waits no longer than its own timeout before failing closed.
      return readStore(store, store.storeReads === 0 ? Math.max(timeoutMs, STORE_READ_MS) : timeoutMs).then(
        () => decideIn(store, request, span),
        (err: unknown) => Promise.reject(unavailable(String(field(err, "message") ?? errorName(err)), err)),
      );
    }
    let parts: CedarRequestParts;
    try {
      parts = toCedarRequestParts(request, mapping);
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
    // The key holds everything a policy can read (with a schema, only what it declares), so a
    // refreshed token of the same user, even one that arrives after the old one expired, finds the
    // old token's decisions. Decisions of one store never answer for another: the store is in the principal's short id.
    const key = decisionKey(store.policyStoreId, parts, request.principal.claims);
    const hit = cache.lookup(key, request.principal.expiresAt.getTime());
    if (hit) {
      span?.setAttribute("cognito_tenancy.cache_hit", true);
      return Promise.resolve(hit);
    }
    let cedar: CedarRequest;
    try {
      cedar = parts.request();
    } catch (err) {
      return Promise.reject(unavailable(`could not map the request to Cedar: ${String(field(err, "message") ?? errorName(err))}`, err));
    }
    // Static entities are already merged in by toCedarRequest (one entity per uid).
    const entities = cedar.entities;

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
      sent = entities.filter((e) => !(e.uid.type === cedar.principal.type && e.uid.id === cedar.principal.id) && e.uid.type !== groupType);
      groupKey = `token\u0000${token}`;
    } else {
      item["principal"] = toEntityIdentifier(cedar.principal);
      groupKey = `principal\u0000${cedar.principal.type}\u0000${cedar.principal.id}`;
    }

    const deadline = Date.now() + timeoutMs;
    return cache.share(
      key,
      (remember) =>
        new Promise<Decision>((resolve, reject) => {
          const timer = setTimeout(() => reject(unavailable("Verified Permissions did not answer in time")), timeoutMs);
          dispatcher.dispatch(groupKey, {
            item,
            token,
            tokenUse: request.principal.tokenUse,
            entities: sent,
            mentions: mentionedUids(cedar.resource, sent, cedar.context),
            deadline,
            resolve(result) {
              clearTimeout(timer);
              try {
                const d = resultToDecision(result as VpResult | undefined);
                remember(d);
                resolve(d);
              } catch (err) {
                reject(err instanceof TenantAuthError ? err : unavailable("Verified Permissions answered a malformed decision", err));
              }
            },
            reject(err) {
              clearTimeout(timer);
              reject(err);
            },
          });
        }),
    );
  }

  return {
    isAuthorized,
    async ready() {
      await client.prepare();
      // A store chosen per principal is read on its first decision.
      if (fixedStore !== undefined) await readStore(fixedStore, Math.max(timeoutMs, STORE_READ_MS));
    },
    clearCache() {
      cache.clear();
    },
    get cacheSize() {
      return cache.size;
    },
  };
}
