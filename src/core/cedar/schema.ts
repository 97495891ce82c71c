/**
 * Schema projection: what the service does with token claims when the policy store has a schema.
 */
import type { CedarEntityMapping } from "./principal.js";
import type { CedarEntity, CedarEntityUid, CedarValue } from "./values.js";
import { setOwn } from "./values.js";

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

function projectRecord(schema: CedarSchemaJson, nsName: string, record: Readonly<Record<string, CedarValue>>, declared: Readonly<Record<string, SchemaType>>): Record<string, CedarValue> {
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
