/**
 * The Cedar entity mapping: a {@link TenantPrincipal} as the entities a Verified Permissions
 * Cognito identity source builds from the same token, in both Cedar's JSON entity format and
 * the service's `entityList` / `contextMap` format. Pure data: no Cedar, no AWS SDK.
 *
 * - principal `<ns>::User::"<userPoolId>|<sub>"`;
 * - one parent `<ns>::UserGroup::"<userPoolId>|<group>"` per `cognito:groups` entry;
 * - ID token: every other claim is a principal attribute (`principal["cognito:username"]`);
 * - access token: the principal has no attributes; the claims other than `cognito:groups` go to
 *   `context.token` (`scope` split into a set), as the service does;
 * - optional (`tenantEntityType`): a `<ns>::Tenant::"<tenantId>"` entity per tenant, parent of the
 *   groups that grant it, and `context.tenant`, the active tenant.
 *
 * Value rule: JSON strings, booleans, integers, arrays and plain objects map to Cedar strings,
 * booleans, longs, sets and records. A value Cedar cannot represent (a non-integer number, an
 * integer outside the 64-bit signed range, NaN, ±Infinity, `null`, a bigint, a function, a
 * symbol, `undefined` in an array, a Date, Map or other non-plain object) is refused, never
 * dropped, rounded or stringified: dropping it would silently skip every policy that reads it
 * (`forbid ... when { context has amount && context.amount > 100 }`). From the caller (context,
 * resource attributes, entities) that is a `TypeError`; from a verified token it is `token_invalid`.
 * A record field whose value is `undefined` is absent, as in JSON.
 */
import type { ActionRef, AuthorizationRequest, ResourceRef } from "./authorizer.js";
import { TenantAuthError } from "./errors.js";
import type { TenantPrincipal } from "./principal.js";

/** A Cedar entity reference, `{ type, id }`, `type` fully qualified. */
export interface CedarEntityUid {
  readonly type: string;
  readonly id: string;
}

/** A value in Cedar's JSON format: entity references and extension values are escaped. */
export type CedarValue =
  | string
  | number
  | boolean
  | readonly CedarValue[]
  | { readonly __entity: CedarEntityUid }
  | { readonly __extn: { readonly fn: string; readonly arg: string } }
  | { readonly [key: string]: CedarValue };

/** One entity in Cedar's JSON entity format. */
export interface CedarEntity {
  readonly uid: CedarEntityUid;
  readonly attrs: Readonly<Record<string, CedarValue>>;
  readonly parents: readonly CedarEntityUid[];
}

/** Verified Permissions `EntityIdentifier`. */
export interface VpEntityIdentifier {
  readonly entityType: string;
  readonly entityId: string;
}

/** Verified Permissions `AttributeValue`: a tagged union, one member set. */
export type VpAttributeValue =
  | { readonly string: string }
  | { readonly long: number }
  | { readonly boolean: boolean }
  | { readonly set: readonly VpAttributeValue[] }
  | { readonly record: Readonly<Record<string, VpAttributeValue>> }
  | { readonly entityIdentifier: VpEntityIdentifier }
  | { readonly ipaddr: string }
  | { readonly decimal: string }
  | { readonly datetime: string }
  | { readonly duration: string };

/** Verified Permissions `EntityItem` (an `entityList` element). */
export interface VpEntityItem {
  readonly identifier: VpEntityIdentifier;
  readonly attributes?: Readonly<Record<string, VpAttributeValue>>;
  readonly parents?: readonly VpEntityIdentifier[];
}

/** Options of {@link toCedarEntities}. */
export interface CedarMappingOptions {
  /** The schema namespace, e.g. `"TenancyDemo"`; `""` for none. */
  readonly namespace: string;
  /** The identity source's principal entity type; default `"User"`. */
  readonly userEntityType?: string;
  /** The identity source's group entity type; default `"UserGroup"`. */
  readonly groupEntityType?: string;
  /**
   * Model tenants as entities of this type (e.g. `"Tenant"`): each tenant of the caller becomes
   * an entity, parent of the groups that grant it (so `principal in Tenant::"acme"` holds), and
   * the active tenant is passed as `context.tenant`. Off by default: the service's own mapping has no tenants.
   */
  readonly tenantEntityType?: string;
}

/** What {@link toCedarEntities} returns: the same data in both formats. */
export interface CedarEntityMapping {
  /** The principal's uid, Cedar JSON format. */
  readonly principal: CedarEntityUid;
  /** Principal, groups (and tenants), Cedar JSON entity format. */
  readonly entities: readonly CedarEntity[];
  /** Context from the token (`token` for access tokens, `tenant` with `tenantEntityType`), Cedar JSON. */
  readonly context: Readonly<Record<string, CedarValue>>;
  /** The principal as a Verified Permissions `EntityIdentifier`. */
  readonly principalIdentifier: VpEntityIdentifier;
  /** `entities` in the service's `entityList` format. */
  readonly entityList: readonly VpEntityItem[];
  /** `context` in the service's `contextMap` format. */
  readonly contextMap: Readonly<Record<string, VpAttributeValue>>;
}

/** Assign an own property, safely even for the key `__proto__` (claim names come from tokens). */
function setOwn<V>(obj: Record<string, V>, key: string, value: V): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Claims the mapping never turns into attributes: groups become parents instead. */
const GROUPS_CLAIM = "cognito:groups";

/** `<namespace>::<type>`; a type that already holds `::` is taken as fully qualified. */
export function qualifyType(namespace: string, type: string): string {
  if (type.length === 0) throw new TypeError("entity type must not be empty");
  if (type.includes("::") || namespace.length === 0) return type;
  return `${namespace}::${type}`;
}

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

function isUid(value: unknown): value is CedarEntityUid {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { type?: unknown }).type === "string" &&
    typeof (value as { id?: unknown }).id === "string"
  );
}

/**
 * Cedar's `Long` is a 64-bit signed integer. −2^63 itself is left out: it is a valid `Long`, but
 * cedar-wasm refuses it as a JS number, and a value one engine refuses must not reach any.
 */
const LONG_LIMIT = 2 ** 63;

/** True when `value` is a number Cedar can hold as a `Long`: an integer strictly between −2^63 and 2^63. */
export function isCedarLong(value: unknown): value is number {
  return Number.isInteger(value) && Math.abs(value as number) < LONG_LIMIT;
}

// Messages stay short: this module is in the core bundle, whose size is budgeted.
function what(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `a ${(value as object).constructor?.name ?? "null-prototype"} object`;
  return typeof value === "number" ? String(value) : `a ${typeof value}`;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function convert(value: unknown, path: string): CedarValue {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (isCedarLong(value)) return value;
      break;
    case "object": {
      if (value === null) break;
      if (Array.isArray(value)) return value.map((v, i) => convert(v, `${path}[${i}]`));
      if (!isPlainObject(value)) break;
      const obj = value as Record<string, unknown>;
      const one = Object.keys(obj).length === 1;
      if (Object.hasOwn(obj, "__entity")) {
        const e = obj["__entity"];
        if (!isUid(e) || !one) throw new TypeError(`${path}: malformed __entity`);
        return { __entity: { type: e.type, id: e.id } };
      }
      if (Object.hasOwn(obj, "__extn")) {
        const x = obj["__extn"] as { fn?: unknown; arg?: unknown } | null;
        if (!x || typeof x.fn !== "string" || typeof x.arg !== "string" || !one) throw new TypeError(`${path}: malformed __extn`);
        return { __extn: { fn: x.fn, arg: x.arg } };
      }
      return recordAt(obj, path);
    }
    default:
      break;
  }
  throw new TypeError(`${path}: Cedar cannot represent ${what(value)}`);
}

function recordAt(value: Readonly<Record<string, unknown>>, path: string): Record<string, CedarValue> {
  const out: Record<string, CedarValue> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    setOwn(out, k, convert(v, `${path}.${k}`));
  }
  return out;
}

/**
 * A JSON value as a Cedar value. `{ __entity: { type, id } }` and `{ __extn: { fn, arg } }` pass
 * through. Throws a `TypeError` naming `path` for a value Cedar cannot represent (see the module
 * comment); returns `undefined` only for `undefined` (absent).
 */
export function toCedarValue(value: unknown, path = "value"): CedarValue | undefined {
  return value === undefined ? undefined : convert(value, path);
}

/**
 * A plain object as a Cedar record; fields that are `undefined` are absent. Throws a `TypeError`
 * naming `path` for a field Cedar cannot represent.
 */
export function toCedarRecord(value: Readonly<Record<string, unknown>>, path = "record"): Record<string, CedarValue> {
  if (typeof value !== "object" || value === null || !isPlainObject(value)) throw new TypeError(`${path} must be a plain object, got ${what(value)}`);
  return recordAt(value, path);
}

const EXTENSION_TAG: Readonly<Record<string, "ipaddr" | "decimal" | "datetime" | "duration">> = {
  ip: "ipaddr",
  ipaddr: "ipaddr",
  decimal: "decimal",
  datetime: "datetime",
  duration: "duration",
};

/** A Cedar JSON value as a Verified Permissions `AttributeValue`. */
export function toAttributeValue(value: CedarValue): VpAttributeValue {
  if (typeof value === "string") return { string: value };
  if (typeof value === "boolean") return { boolean: value };
  if (typeof value === "number") return { long: value };
  if (Array.isArray(value)) return { set: (value as readonly CedarValue[]).map(toAttributeValue) };
  const obj = value as Record<string, unknown>;
  if ("__entity" in obj && isUid(obj["__entity"])) {
    const e = obj["__entity"];
    return { entityIdentifier: { entityType: e.type, entityId: e.id } };
  }
  if ("__extn" in obj) {
    const x = obj["__extn"] as { fn: string; arg: string };
    const tag = EXTENSION_TAG[x.fn];
    if (!tag) throw new TypeError(`Cedar extension function ${JSON.stringify(x.fn)} has no Verified Permissions attribute type`);
    return { [tag]: x.arg } as VpAttributeValue;
  }
  return { record: toAttributeRecord(obj as Record<string, CedarValue>) };
}

/** A Cedar JSON record as a Verified Permissions attribute map (`attributes`, `contextMap`). */
export function toAttributeRecord(record: Readonly<Record<string, CedarValue>>): Record<string, VpAttributeValue> {
  const out: Record<string, VpAttributeValue> = {};
  for (const [k, v] of Object.entries(record)) setOwn(out, k, toAttributeValue(v));
  return out;
}

const TAG_EXTENSION: Readonly<Record<string, string>> = { ipaddr: "ip", decimal: "decimal", datetime: "datetime", duration: "duration" };

/**
 * A Verified Permissions `AttributeValue` as a Cedar JSON value (the emulator's direction).
 * Throws a `TypeError` for a value with no member, or several.
 */
export function fromAttributeValue(value: unknown): CedarValue {
  if (typeof value !== "object" || value === null) throw new TypeError("attribute value must be an object");
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined);
  if (keys.length !== 1) throw new TypeError(`attribute value must have exactly one member, got ${keys.length}`);
  const tag = keys[0]!;
  const v = (value as Record<string, unknown>)[tag];
  switch (tag) {
    case "string":
      if (typeof v !== "string") break;
      return v;
    case "boolean":
      if (typeof v !== "boolean") break;
      return v;
    case "long":
      if (!isCedarLong(v)) break;
      return v;
    case "set":
      if (!Array.isArray(v)) break;
      return v.map(fromAttributeValue);
    case "record":
      if (typeof v !== "object" || v === null || Array.isArray(v)) break;
      return fromAttributeRecord(v as Record<string, unknown>);
    case "entityIdentifier": {
      const e = v as { entityType?: unknown; entityId?: unknown } | null;
      if (!e || typeof e.entityType !== "string" || typeof e.entityId !== "string") break;
      return { __entity: { type: e.entityType, id: e.entityId } };
    }
    case "ipaddr":
    case "decimal":
    case "datetime":
    case "duration":
      if (typeof v !== "string") break;
      return { __extn: { fn: TAG_EXTENSION[tag]!, arg: v } };
    default:
      throw new TypeError(`unknown attribute value member ${JSON.stringify(tag)}`);
  }
  throw new TypeError(`attribute value member ${JSON.stringify(tag)} has the wrong type`);
}

/** A Verified Permissions attribute map as a Cedar JSON record. */
export function fromAttributeRecord(record: Readonly<Record<string, unknown>>): Record<string, CedarValue> {
  const out: Record<string, CedarValue> = {};
  for (const [k, v] of Object.entries(record)) setOwn(out, k, fromAttributeValue(v));
  return out;
}

/** A Cedar uid as a Verified Permissions `EntityIdentifier`. */
export function toEntityIdentifier(uid: CedarEntityUid): VpEntityIdentifier {
  return { entityType: uid.type, entityId: uid.id };
}

/** A Verified Permissions `EntityIdentifier` as a Cedar uid. */
export function fromEntityIdentifier(id: VpEntityIdentifier): CedarEntityUid {
  return { type: id.entityType, id: id.entityId };
}

/** Cedar JSON entities as the service's `entityList`. */
export function toEntityList(entities: readonly CedarEntity[]): VpEntityItem[] {
  return entities.map((e) => ({
    identifier: toEntityIdentifier(e.uid),
    attributes: toAttributeRecord(e.attrs),
    parents: e.parents.map(toEntityIdentifier),
  }));
}

/** The service's `entityList` as Cedar JSON entities (throws a `TypeError` on malformed input). */
export function fromEntityList(list: readonly unknown[]): CedarEntity[] {
  return list.map((item) => {
    const it = item as { identifier?: unknown; attributes?: unknown; parents?: unknown } | null;
    const id = it?.identifier as VpEntityIdentifier | undefined;
    if (!id || typeof id.entityType !== "string" || typeof id.entityId !== "string") throw new TypeError("entity item needs an identifier");
    const parents = it?.parents ?? [];
    if (!Array.isArray(parents)) throw new TypeError("entity parents must be a list");
    return {
      uid: fromEntityIdentifier(id),
      attrs: fromAttributeRecord((it?.attributes ?? {}) as Record<string, unknown>),
      parents: parents.map((p: VpEntityIdentifier) => {
        if (!p || typeof p.entityType !== "string" || typeof p.entityId !== "string") throw new TypeError("entity parent needs entityType and entityId");
        return fromEntityIdentifier(p);
      }),
    };
  });
}

/** The principal's uid: `<ns>::User::"<userPoolId>|<sub>"`. */
export function principalToUid(principal: Pick<TenantPrincipal, "userPoolId" | "sub">, options: CedarMappingOptions): CedarEntityUid {
  return { type: qualifyType(options.namespace, options.userEntityType ?? "User"), id: `${principal.userPoolId}|${principal.sub}` };
}

/**
 * A verified claim as a Cedar value. A claim Cedar cannot represent (a fraction, `null`, ...) is
 * `token_invalid`, not left out: the token is genuine, but the decision would silently ignore part
 * of it, and a policy that tests the claim (`principal has x && ...`) would be skipped. A
 * `TypeError` would blame the caller, who did not write the token.
 */
function claimValue(name: string, value: unknown): CedarValue | undefined {
  try {
    return toCedarValue(value, `the ${name} claim`);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    throw new TenantAuthError("token_invalid", `The ${name} claim cannot be represented in Cedar`, { cause: err });
  }
}

/**
 * Verified Permissions reads `cognito:`-prefixed claims (`cognito:username`, `cognito:groups`) as
 * members of a `cognito` record (`principal.cognito.username` in its policies), so a token that
 * also has a claim named exactly `cognito` maps two values to one name; the service refuses such
 * a token when it maps it. This mapping refuses it too, at the same point (authorization), so the
 * local engine, the emulator and the service answer alike, while apps that only resolve tenants
 * keep accepting the token Cognito signed.
 */
function checkCognitoNamespace(claims: Readonly<Record<string, unknown>>): void {
  if (!Object.hasOwn(claims, "cognito")) return;
  if (Object.keys(claims).some((k) => k.startsWith("cognito:"))) {
    throw new TenantAuthError("token_invalid", "A cognito claim beside cognito: claims cannot be mapped");
  }
}

/**
 * Build the entities and context a Verified Permissions Cognito identity source would build from
 * the principal's token, in Cedar JSON and in the service's format.
 *
 * @example
 * ```ts
 * const { principal: uid, entities, context } = toCedarEntities(principal, { namespace: "TenancyDemo" });
 * // uid: { type: "TenancyDemo::User", id: "us-east-1_AbC123|<sub>" }
 * ```
 */
export function toCedarEntities(principal: TenantPrincipal, options: CedarMappingOptions): CedarEntityMapping {
  const ns = options.namespace;
  const uid = principalToUid(principal, options);
  const groupType = qualifyType(ns, options.groupEntityType ?? "UserGroup");
  const groupUid = (g: string): CedarEntityUid => ({ type: groupType, id: `${principal.userPoolId}|${g}` });

  const tenantParents = new Map<string, CedarEntityUid[]>();
  const tenantEntities: CedarEntity[] = [];
  let tenantType: string | undefined;
  if (options.tenantEntityType !== undefined) {
    tenantType = qualifyType(ns, options.tenantEntityType);
    for (const m of principal.tenants) {
      const tUid = { type: tenantType, id: m.tenantId };
      tenantEntities.push({ uid: tUid, attrs: {}, parents: [] });
      for (const g of m.groups) {
        const list = tenantParents.get(g) ?? [];
        list.push(tUid);
        tenantParents.set(g, list);
      }
    }
  }

  const groups = [...new Set(principal.groups)];
  const groupEntities: CedarEntity[] = groups.map((g) => ({ uid: groupUid(g), attrs: {}, parents: tenantParents.get(g) ?? [] }));

  checkCognitoNamespace(principal.claims);
  const attrs: Record<string, CedarValue> = {};
  const context: Record<string, CedarValue> = {};
  if (principal.tokenUse === "id") {
    for (const [k, v] of Object.entries(principal.claims)) {
      if (k === GROUPS_CLAIM) continue;
      const c = claimValue(k, v);
      if (c !== undefined) setOwn(attrs, k, c);
    }
  } else {
    const token: Record<string, CedarValue> = {};
    for (const [k, v] of Object.entries(principal.claims)) {
      if (k === GROUPS_CLAIM) continue;
      const c = k === "scope" && typeof v === "string" ? v.split(" ").filter((s) => s.length > 0) : claimValue(k, v);
      if (c !== undefined) setOwn(token, k, c);
    }
    context["token"] = token;
  }
  if (tenantType !== undefined && principal.tenantId !== undefined) {
    context["tenant"] = { __entity: { type: tenantType, id: principal.tenantId } };
  }

  const principalEntity: CedarEntity = { uid, attrs, parents: groups.map(groupUid) };
  const entities = [principalEntity, ...groupEntities, ...tenantEntities];
  return {
    principal: uid,
    entities,
    context,
    principalIdentifier: toEntityIdentifier(uid),
    entityList: toEntityList(entities),
    contextMap: toAttributeRecord(context),
  };
}

// ---------------------------------------------------------------------------------------------
// Schema projection: what the service does with token claims when the policy store has a schema.

/** A Cedar schema in JSON form (as `schemaToJson` returns it), namespace → definition. */
export type CedarSchemaJson = Readonly<Record<string, unknown>>;

interface SchemaType {
  type?: string;
  name?: string;
  attributes?: Record<string, SchemaType>;
  element?: SchemaType;
}

function lookupNamespace(schema: CedarSchemaJson, qualified: string): { ns: Record<string, unknown>; name: string } | undefined {
  const idx = qualified.lastIndexOf("::");
  const nsName = idx < 0 ? "" : qualified.slice(0, idx);
  const name = idx < 0 ? qualified : qualified.slice(idx + 2);
  const ns = schema[nsName] as Record<string, unknown> | undefined;
  return ns ? { ns, name } : undefined;
}

function resolveType(schema: CedarSchemaJson, nsName: string, t: SchemaType | undefined, depth = 0): SchemaType | undefined {
  if (!t || depth > 32) return t;
  if ((t.type === "EntityOrCommon" || (t.type !== undefined && !BUILTIN_TYPES.has(t.type))) && depth < 32) {
    const ref = t.type === "EntityOrCommon" ? t.name : t.type;
    if (ref === undefined) return t;
    const nsKey = ref.includes("::") ? ref.slice(0, ref.lastIndexOf("::")) : nsName;
    const local = ref.includes("::") ? ref.slice(ref.lastIndexOf("::") + 2) : ref;
    const common = ((schema[nsKey] as { commonTypes?: Record<string, SchemaType> } | undefined)?.commonTypes ?? {})[local];
    if (common) return resolveType(schema, nsKey, common, depth + 1);
  }
  return t;
}

const BUILTIN_TYPES = new Set(["String", "Long", "Boolean", "Set", "Record", "Entity", "Extension", "EntityOrCommon"]);

function projectValue(schema: CedarSchemaJson, nsName: string, value: CedarValue, t: SchemaType | undefined): CedarValue | undefined {
  const rt = resolveType(schema, nsName, t);
  if (!rt) return value;
  if (rt.type === "Record" && typeof value === "object" && !Array.isArray(value) && value !== null && !("__entity" in value) && !("__extn" in value)) {
    return projectRecord(schema, nsName, value as Record<string, CedarValue>, rt.attributes ?? {});
  }
  if (rt.type === "Set" && Array.isArray(value)) {
    return (value as readonly CedarValue[]).map((v) => projectValue(schema, nsName, v, rt.element) ?? v);
  }
  return value;
}

function projectRecord(
  schema: CedarSchemaJson,
  nsName: string,
  record: Readonly<Record<string, CedarValue>>,
  declared: Readonly<Record<string, SchemaType>>,
): Record<string, CedarValue> {
  const out: Record<string, CedarValue> = {};
  for (const [k, v] of Object.entries(record)) {
    if (!Object.prototype.hasOwnProperty.call(declared, k)) continue;
    const p = projectValue(schema, nsName, v, declared[k]);
    if (p !== undefined) setOwn(out, k, p);
  }
  return out;
}

function declaredAttributes(schema: CedarSchemaJson, nsName: string, shape: SchemaType | undefined): Record<string, SchemaType> {
  const rt = resolveType(schema, nsName, shape);
  return rt?.type === "Record" ? (rt.attributes ?? {}) : {};
}

/**
 * Keep only what the schema declares of the principal's attributes and of `context.token`, as the
 * service does with token claims when the policy store has a schema (undeclared claims such as
 * `jti` or `origin_jti` are dropped, so strict schema validation passes and the decision cache
 * key stays stable across token refreshes). Other entities and context keys pass unchanged.
 */
export function projectToSchema(
  mapping: Pick<CedarEntityMapping, "principal" | "entities" | "context">,
  schema: CedarSchemaJson,
  action: CedarEntityUid,
): { entities: CedarEntity[]; context: Record<string, CedarValue> } {
  const principalNs = lookupNamespace(schema, mapping.principal.type);
  const entityTypes = (principalNs?.ns["entityTypes"] ?? {}) as Record<string, { shape?: SchemaType }>;
  const principalShape = principalNs ? entityTypes[principalNs.name]?.shape : undefined;
  const principalNsName = mapping.principal.type.includes("::") ? mapping.principal.type.slice(0, mapping.principal.type.lastIndexOf("::")) : "";
  const declared = declaredAttributes(schema, principalNsName, principalShape);
  const entities = mapping.entities.map((e) =>
    e.uid.type === mapping.principal.type && e.uid.id === mapping.principal.id ? { ...e, attrs: projectRecord(schema, principalNsName, e.attrs, declared) } : e,
  );
  const context: Record<string, CedarValue> = { ...mapping.context };
  if ("token" in context) {
    const actionNs = lookupNamespace(schema, action.type);
    const actionNsName = action.type.includes("::") ? action.type.slice(0, action.type.lastIndexOf("::")) : "";
    const actions = (actionNs?.ns["actions"] ?? {}) as Record<string, { appliesTo?: { context?: SchemaType } }>;
    const ctxAttrs = declaredAttributes(schema, actionNsName, actions[action.id]?.appliesTo?.context);
    if (Object.prototype.hasOwnProperty.call(ctxAttrs, "token")) {
      const projected = projectValue(schema, actionNsName, context["token"]!, ctxAttrs["token"]);
      if (projected === undefined) delete context["token"];
      else context["token"] = projected;
    } else {
      delete context["token"];
    }
  }
  return { entities, context };
}

// ---------------------------------------------------------------------------------------------
// A whole request.

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
 * The context keys the mapping derives from the verified token: `token` (the access token's
 * claims; an ID token has none, and a caller's `token` would pass for one) and, with
 * `tenantEntityType`, `tenant` (the active tenant; none when no tenant is active).
 */
export function reservedContextKeys(options: Pick<CedarMappingOptions, "tenantEntityType">): readonly string[] {
  return options.tenantEntityType !== undefined ? ["token", "tenant"] : ["token"];
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

/** A deterministic JSON string (object keys sorted): the basis of decision cache keys. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
}
