/**
 * The dispatcher: how decisions reach the service. Single calls by default; with batching, the
 * requests of one principal (or one token) that arrive together share a batch call, and each
 * result is matched to its request by the request the service echoes, never by position.
 */
import { TenantAuthError } from "../../core/errors.js";
import type { CedarEntity, CedarEntityUid, CedarValue } from "../../core/cedar/values.js";
import { canonicalJson } from "../../core/cedar/values.js";
import { toEntityList } from "../../core/cedar/wire.js";
import type { VpCall } from "./client.js";
import { errorName, field, unavailable } from "./errors.js";

/** The service's limit on requests in one batch call. */
export const MAX_BATCH = 30;

/** Batching, resolved: see the authorizer's `batch` option. */
export interface BatchSettings {
  readonly windowMs: number;
  readonly maxSize: number;
  readonly minSize: number;
}

/** One decision to ask for. */
export interface DispatchRequest {
  /** The request as the service takes it: `action`, `resource`, and `principal` and `context` when present. */
  readonly item: Record<string, unknown>;
  /** The raw JWT in mode "withToken". */
  readonly token: string | undefined;
  readonly tokenUse: "id" | "access";
  /** The entities this request needs. */
  readonly entities: readonly CedarEntity[];
  /** Uids this request names (see {@link mentionedUids}). */
  readonly mentions: ReadonlySet<string>;
  /** Epoch ms: the call that carries this request gives up then. */
  readonly deadline: number;
  /** The service's result for this request (an `IsAuthorized` output or one batch result). Must not throw. */
  resolve(result: unknown): void;
  /** No result: always a `TenantAuthError` (`authorizer_unavailable` unless the cause was one already). */
  reject(err: TenantAuthError): void;
}

/** The dispatcher part of the authorizer. */
export interface Dispatcher {
  /**
   * Send one request. Requests of the same `groupKey` (one principal, or one token) may share a
   * batch call; others never do.
   */
  dispatch(groupKey: string, request: DispatchRequest): void;
}

/** Options of {@link createDispatcher}. */
export interface DispatcherOptions {
  readonly policyStoreId: string;
  readonly call: VpCall;
  /** Off (single calls) when absent. */
  readonly batch?: BatchSettings | undefined;
}

interface Group {
  readonly groupKey: string;
  readonly token: string | undefined;
  readonly tokenUse: "id" | "access";
  readonly items: DispatchRequest[];
  readonly entities: Map<string, { entity: CedarEntity; json: string }>;
  /** Uids some request of the group names without describing them: it was asked about them as absent. */
  readonly undescribed: Set<string>;
  timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
}

function uidKey(uid: CedarEntityUid): string {
  return `${uid.type}\u0000${uid.id}`;
}

/** Every uid a request names: its resource, its entities' parents, and entity references in attributes and context. */
export function mentionedUids(resource: CedarEntityUid, entities: readonly CedarEntity[], context: Readonly<Record<string, CedarValue>>): Set<string> {
  const out = new Set<string>([uidKey(resource)]);
  const visit = (value: unknown): void => {
    if (typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
      for (const v of value) visit(v);
      return;
    }
    const ref = (value as { __entity?: unknown }).__entity;
    if (typeof ref === "object" && ref !== null && typeof (ref as CedarEntityUid).type === "string" && typeof (ref as CedarEntityUid).id === "string") {
      out.add(uidKey(ref as CedarEntityUid));
      return;
    }
    for (const v of Object.values(value)) visit(v);
  };
  for (const e of entities) {
    for (const p of e.parents) out.add(uidKey(p));
    visit(e.attrs);
  }
  visit(context);
  return out;
}

/**
 * The identity of a batch request as the service echoes it in each result's `request`: principal
 * (absent with a token), action, resource, and context (absent and empty alike).
 */
export function requestSignature(request: unknown): string {
  const context = field(request, "context");
  return canonicalJson({
    principal: field(request, "principal") ?? null,
    action: field(request, "action") ?? null,
    resource: field(request, "resource") ?? null,
    context: context === undefined || context === null ? {} : (field(context, "contextMap") ?? context),
  });
}

/** The dispatcher: single calls, or batches of one group when `batch` is set. */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { policyStoreId, call, batch } = options;
  const groups = new Map<string, Group>();

  function failAll(items: readonly DispatchRequest[], err: unknown): void {
    const e = err instanceof TenantAuthError ? err : unavailable(`Verified Permissions could not decide: ${errorName(err)}`, err);
    for (const it of items) it.reject(e);
  }

  /** One decision, one `IsAuthorized(WithToken)` call, with the entities of its own request. */
  async function runSingle(it: DispatchRequest): Promise<void> {
    try {
      const input: Record<string, unknown> = { policyStoreId, ...it.item };
      if (it.entities.length > 0) input["entities"] = { entityList: toEntityList(it.entities) };
      if (it.token !== undefined) input[it.tokenUse === "id" ? "identityToken" : "accessToken"] = it.token;
      it.resolve(await call(it.token !== undefined ? "IsAuthorizedWithToken" : "IsAuthorized", input, it.deadline));
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
      const input: Record<string, unknown> = { policyStoreId, requests: items.map((i) => i.item) };
      if (entities.length > 0) input["entities"] = { entityList: toEntityList(entities) };
      if (group.token !== undefined) input[group.tokenUse === "id" ? "identityToken" : "accessToken"] = group.token;
      const out = await call(group.token !== undefined ? "BatchIsAuthorizedWithToken" : "BatchIsAuthorized", input, deadline);
      const results = field(out, "results");
      if (!Array.isArray(results) || results.length !== items.length) throw unavailable("Verified Permissions answered a batch with the wrong number of results");
      const waiting = new Map<string, DispatchRequest[]>();
      for (const it of items) {
        const sig = requestSignature(it.item);
        const list = waiting.get(sig);
        if (list) list.push(it);
        else waiting.set(sig, [it]);
      }
      for (const r of results as unknown[]) {
        const echoed = field(r, "request");
        const it = echoed === undefined ? undefined : waiting.get(requestSignature(echoed))?.shift();
        if (it) it.resolve(r);
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

  function dispatch(groupKey: string, pending: DispatchRequest): void {
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
      const own = new Set(pending.entities.map((e) => uidKey(e.uid)));
      const conflict =
        pending.entities.some((e) => {
          const k = uidKey(e.uid);
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
      const k = uidKey(e.uid);
      if (!group.entities.has(k)) group.entities.set(k, { entity: e, json: canonicalJson(e) });
    }
    for (const k of pending.mentions) if (!group.entities.has(k)) group.undescribed.add(k);
    if (group.items.length >= batch.maxSize) flush(group);
  }

  return { dispatch };
}
