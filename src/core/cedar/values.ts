/**
 * Cedar values in Cedar's JSON format, and the checks that keep a value Cedar cannot represent
 * from reaching an engine.
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

/**
 * Assign an own property, safely even for the key `__proto__` (claim names come from tokens).
 * @internal
 */
export function setOwn<V>(obj: Record<string, V>, key: string, value: V): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** `<namespace>::<type>`; a type that already holds `::` is taken as fully qualified. */
export function qualifyType(namespace: string, type: string): string {
  if (type.length === 0) throw new TypeError("entity type must not be empty");
  if (type.includes("::") || namespace.length === 0) return type;
  return `${namespace}::${type}`;
}

/**
 * A `{ type, id }` with two strings.
 * @internal
 */
export function isUid(value: unknown): value is CedarEntityUid {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string" && typeof (value as { id?: unknown }).id === "string";
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

/** A deterministic JSON string (object keys sorted): the basis of decision cache keys. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  // One string built in place (no per-key arrays): decision cache keys are built per decision.
  let out = "{";
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out += `${out.length > 1 ? "," : ""}${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}
