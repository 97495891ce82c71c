/**
 * A whole request: an {@link AuthorizationRequest} as a Cedar request, the mapped principal merged
 * with the caller's entities and context.
 */
import type { ActionRef, AuthorizationRequest, ResourceRef } from "../authorizer.js";
import type { CedarMappingOptions } from "./principal.js";
import { reservedContextKeys, toCedarEntities } from "./principal.js";
import type { CedarSchemaJson } from "./schema.js";
import { projectToSchema } from "./schema.js";
import type { CedarEntity, CedarEntityUid, CedarValue } from "./values.js";
import { canonicalJson, isUid, qualifyType, setOwn, toCedarRecord } from "./values.js";

/** The uid of an action: `"ReadObject"` → `<ns>::Action::"ReadObject"`; `{ type, id }` → `<ns>::<type>::"<id>"`. */
export function actionToUid(namespace: string, action: ActionRef): CedarEntityUid {
  if (typeof action === "string") return { type: qualifyType(namespace, "Action"), id: action };
  return { type: qualifyType(namespace, action.type), id: action.id };
}

/** The uid of a resource: `{ type: "Object", id }` → `<ns>::Object::"<id>"`. */
export function resourceToUid(namespace: string, resource: ResourceRef | CedarEntityUid): CedarEntityUid {
  return { type: qualifyType(namespace, resource.type), id: resource.id };
}

/** The resource as an entity, when it has attributes or parents (else `undefined`: the uid is enough). */
export function resourceToEntity(namespace: string, resource: ResourceRef): CedarEntity | undefined {
  if (resource.attributes === undefined && resource.parents === undefined) return undefined;
  return {
    uid: resourceToUid(namespace, resource),
    attrs: toCedarRecord(resource.attributes ?? {}, "resource.attributes"),
    parents: (resource.parents ?? []).map((p) => resourceToUid(namespace, p)),
  };
}

/** A request in Cedar JSON form, ready for an engine. */
export interface CedarRequest {
  readonly principal: CedarEntityUid;
  readonly action: CedarEntityUid;
  readonly resource: CedarEntityUid;
  readonly context: Readonly<Record<string, CedarValue>>;
  readonly entities: readonly CedarEntity[];
}

/** Options of {@link toCedarRequest}. */
export interface CedarRequestOptions extends CedarMappingOptions {
  /** The schema in JSON form: principal attributes and `context.token` are projected onto it. */
  readonly schema?: CedarSchemaJson;
  /**
   * Entities added to every request (the authorizers' `entities` option, normalized with
   * {@link normalizeEntity}). Merged with the mapped entities by the rule of {@link toCedarRequest}.
   */
  readonly staticEntities?: readonly CedarEntity[];
}

function uidKey(uid: CedarEntityUid): string {
  return `${uid.type}\u0000${uid.id}`;
}

function uidLabel(uid: CedarEntityUid): string {
  return `${uid.type}::${JSON.stringify(uid.id)}`;
}

/**
 * Two descriptions of one uid as one entity: parents are united; attributes are united, and one
 * attribute given twice must have the same value (a `TypeError` otherwise: which one a policy would
 * read is not for this library to guess, and dropping either silently changes decisions).
 */
function mergeEntity(have: CedarEntity, add: CedarEntity, where: string): CedarEntity {
  const attrs: Record<string, CedarValue> = { ...have.attrs };
  for (const [k, v] of Object.entries(add.attrs)) {
    if (Object.hasOwn(attrs, k)) {
      if (canonicalJson(attrs[k]) !== canonicalJson(v)) {
        throw new TypeError(`${where}: ${uidLabel(add.uid)} has two values of ${JSON.stringify(k)}`);
      }
    } else {
      setOwn(attrs, k, v);
    }
  }
  const parents = new Map([...have.parents, ...add.parents].map((p) => [uidKey(p), p]));
  return { uid: have.uid, attrs, parents: [...parents.values()] };
}

/**
 * An {@link AuthorizationRequest} as a Cedar request.
 *
 * What comes from the verified token cannot be replaced or shadowed by the caller:
 * - the principal entity is the mapping's; an entity (static or in `request.entities`) with the
 *   principal's uid is ignored;
 * - the context keys of {@link reservedContextKeys} are the mapping's; a caller's value for them
 *   in `request.context` is ignored, even when the token gives none (no active tenant, an ID token).
 *
 * Every other entity described more than once (a mapped group or tenant, `staticEntities`, the
 * resource's `attributes`/`parents`, `request.entities`) is merged into one: parents united,
 * attributes united, the same attribute with two different values a `TypeError`. Cedar would
 * refuse a duplicate uid outright, so without the merge a static entity for a group or tenant the
 * mapping also builds would fail every request of that group or tenant. Other `request.context`
 * keys are added to the mapped context. Values Cedar cannot represent are a `TypeError` (see
 * {@link toCedarValue}).
 */
export function toCedarRequest(request: AuthorizationRequest, options: CedarRequestOptions): CedarRequest {
  return toCedarRequestParts(request, options).request();
}

/**
 * The principal's share of every request: its mapped entities (projected onto the schema, which
 * for entities does not depend on the action) merged with the static entities, and its mapped
 * context before the projection of `token` (which does).
 * @internal
 */
export interface PrincipalPart {
  readonly principal: CedarEntityUid;
  readonly entities: readonly CedarEntity[];
  readonly context: Readonly<Record<string, CedarValue>>;
  readonly byUid: ReadonlyMap<string, CedarEntity>;
  /** The mapped context as `action` sees it (the schema projects `token` per action); memoized. */
  contextFor(action: CedarEntityUid): Readonly<Record<string, CedarValue>>;
}

/** A request taken apart: what is the same for every decision of a principal, and the rest. @internal */
export interface CedarRequestParts {
  /** Memoized per principal object and options object: compare it by identity. */
  readonly part: PrincipalPart;
  readonly action: CedarEntityUid;
  readonly resource: CedarEntityUid;
  /** `request.context` as Cedar values, the mapping's keys removed. */
  readonly context: Readonly<Record<string, CedarValue>>;
  /** The entities this request adds: the resource's, then `request.entities`. */
  readonly added: readonly CedarEntity[];
  /** The whole request (`toCedarRequest`'s answer); built on demand, merge errors already thrown. */
  request(): CedarRequest;
}

// A principal is frozen and its mapping depends only on it and the options: built once, not per
// decision (it was about 15% of a cached Verified Permissions decision, with the key built from it).
const principalParts = new WeakMap<object, { options: CedarRequestOptions; part: PrincipalPart }>();

function principalPart(principal: AuthorizationRequest["principal"], options: CedarRequestOptions, action: CedarEntityUid): PrincipalPart {
  const memo = principalParts.get(principal);
  if (memo?.options === options) return memo.part;
  const mapping = toCedarEntities(principal, options);
  const entities = options.schema ? projectToSchema(mapping, options.schema, action).entities : mapping.entities;
  const byUid = new Map<string, CedarEntity>();
  for (const e of entities) byUid.set(uidKey(e.uid), e);
  for (const e of options.staticEntities ?? []) addEntity(byUid, uidKey(mapping.principal), e, "entities");
  for (const e of byUid.values()) Object.freeze(e);
  const context = Object.freeze(mapping.context);
  const byAction = new Map<string, Readonly<Record<string, CedarValue>>>();
  const part: PrincipalPart = Object.freeze({
    principal: mapping.principal,
    entities: Object.freeze([...byUid.values()]),
    context,
    byUid,
    contextFor(a: CedarEntityUid) {
      const schema = options.schema;
      if (!schema) return context;
      const k = uidKey(a);
      let projected = byAction.get(k);
      if (projected === undefined) {
        projected = Object.freeze(projectToSchema({ principal: mapping.principal, entities: [], context }, schema, a).context);
        byAction.set(k, projected);
      }
      return projected;
    },
  });
  principalParts.set(principal, { options, part });
  return part;
}

function addEntity(byUid: Map<string, CedarEntity>, principalKey: string, e: CedarEntity, where: string): void {
  const k = uidKey(e.uid);
  if (k === principalKey && byUid.has(k)) return;
  const have = byUid.get(k);
  byUid.set(k, have ? mergeEntity(have, e, where) : e);
}

/** {@link toCedarRequest} in parts, for a decision cache key built mostly once per principal. @internal */
export function toCedarRequestParts(request: AuthorizationRequest, options: CedarRequestOptions): CedarRequestParts {
  const action = actionToUid(options.namespace, request.action);
  const resource = resourceToUid(options.namespace, request.resource);
  const part = principalPart(request.principal, options, action);
  const added: CedarEntity[] = [];
  const resourceEntity = resourceToEntity(options.namespace, request.resource);
  if (resourceEntity) added.push(resourceEntity);
  for (const raw of request.entities ?? []) added.push(normalizeEntity(raw));
  let entities: readonly CedarEntity[] | undefined = part.entities;
  if (added.length > 0) {
    const keys = added.map((e) => uidKey(e.uid));
    // Entities that describe a uid already there are merged now (a conflict throws); new uids are
    // only appended, which waits until the request is needed (a cache hit never needs it).
    if (keys.some((k, i) => part.byUid.has(k) || keys.indexOf(k) !== i)) {
      const byUid = new Map(part.byUid);
      const principalKey = uidKey(part.principal);
      for (const e of added) addEntity(byUid, principalKey, e, e === resourceEntity ? "request.resource" : "request.entities");
      entities = [...byUid.values()];
    } else {
      entities = undefined;
    }
  }
  const context: Record<string, CedarValue> = request.context === undefined ? {} : toCedarRecord(request.context, "request.context");
  if (request.context !== undefined) for (const k of reservedContextKeys(options)) delete context[k];
  return {
    part,
    action,
    resource,
    context,
    added,
    request() {
      const all = { ...context };
      for (const [k, v] of Object.entries(part.contextFor(action))) setOwn(all, k, v);
      return { principal: part.principal, action, resource, context: all, entities: entities ?? [...part.entities, ...added] };
    },
  };
}

/**
 * Accept an entity in Cedar JSON format (`uid` as `{ type, id }` or `{ __entity: ... }`). Throws a
 * `TypeError` for a malformed uid, parent, `attrs` or `parents`, or an attribute Cedar cannot represent.
 */
export function normalizeEntity(raw: unknown): CedarEntity {
  const e = raw as { uid?: unknown; attrs?: unknown; parents?: unknown } | null;
  const uid = unwrapUid(e?.uid);
  if (!uid) throw new TypeError("entity needs a uid { type, id }");
  const label = `entity ${uidLabel(uid)}`;
  const parents = Array.isArray(e!.parents ?? []) ? ((e!.parents ?? []) as unknown[]).map(unwrapUid) : [undefined];
  if (parents.includes(undefined)) throw new TypeError(`${label}: parents must be an array of uids`);
  return {
    uid,
    attrs: e!.attrs === undefined ? {} : toCedarRecord(e!.attrs as Record<string, unknown>, `${label} attrs`),
    parents: parents as CedarEntityUid[],
  };
}

function unwrapUid(value: unknown): CedarEntityUid | undefined {
  if (isUid(value)) return { type: value.type, id: value.id };
  if (typeof value === "object" && value !== null && isUid((value as { __entity?: unknown }).__entity)) {
    const u = (value as { __entity: CedarEntityUid }).__entity;
    return { type: u.type, id: u.id };
  }
  return undefined;
}
