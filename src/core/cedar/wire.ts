/**
 * The Verified Permissions wire format (`AttributeValue`, `EntityIdentifier`, `entityList`,
 * `contextMap`) and Cedar JSON, both ways: `to*` for the authorizer's requests, `from*` for the
 * emulator reading them. One module, so the two directions cannot drift apart.
 */
import type { CedarEntity, CedarEntityUid, CedarValue } from "./values.js";
import { isCedarLong, isUid, setOwn } from "./values.js";

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
