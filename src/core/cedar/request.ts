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
  const mapping = toCedarEntities(request.principal, options);
  const action = actionToUid(options.namespace, request.action);
  const resource = resourceToUid(options.namespace, request.resource);
  let entities: readonly CedarEntity[] = mapping.entities;
  let mappedContext: Readonly<Record<string, CedarValue>> = mapping.context;
  if (options.schema) {
    const p = projectToSchema(mapping, options.schema, action);
    entities = p.entities;
    mappedContext = p.context;
  }
  const byUid = new Map<string, CedarEntity>();
  const principalKey = uidKey(mapping.principal);
  const add = (e: CedarEntity, where: string): void => {
    const k = uidKey(e.uid);
    if (k === principalKey && byUid.has(k)) return;
    const have = byUid.get(k);
    byUid.set(k, have ? mergeEntity(have, e, where) : e);
  };
  for (const e of entities) add(e, "mapping");
  for (const e of options.staticEntities ?? []) add(e, "entities");
  const resourceEntity = resourceToEntity(options.namespace, request.resource);
  if (resourceEntity) add(resourceEntity, "request.resource");
  for (const raw of request.entities ?? []) add(normalizeEntity(raw), "request.entities");

  const context: Record<string, CedarValue> = request.context === undefined ? {} : toCedarRecord(request.context, "request.context");
  for (const k of reservedContextKeys(options)) delete context[k];
  for (const [k, v] of Object.entries(mappedContext)) setOwn(context, k, v);
  return { principal: mapping.principal, action, resource, context, entities: [...byUid.values()] };
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
