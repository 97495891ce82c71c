/**
 * The one option validator. Every entry point (createTenantAuth, the authorizers, the adapters,
 * the testing kit) checks its options here, at setup, so a mistake is a `TypeError` naming the
 * option before any request, never a check silently switched off at run time.
 *
 * Why so strict about numbers: options often come from `process.env`, i.e. as strings, and a
 * string that reaches arithmetic is concatenated (`exp + "60"`) or compared as text. Infinity and
 * NaN pass `>= 0`. Only a finite number of the right kind and range gets through.
 */

/** A rule for one option value. `undefined` (the option left out) always passes unless `required`. */
export type OptionRule =
  | { readonly type: "number"; readonly min?: number; readonly max?: number; readonly integer?: boolean; readonly required?: boolean }
  | { readonly type: "string"; readonly nonEmpty?: boolean; readonly required?: boolean }
  | { readonly type: "boolean" | "function" | "object" | "array"; readonly required?: boolean }
  | { readonly type: "oneOf"; readonly values: readonly unknown[]; readonly required?: boolean }
  | { readonly type: "custom"; readonly check: (value: unknown, name: string) => void; readonly required?: boolean }
  | { readonly type: "any"; readonly required?: boolean }
  | RenamedOption;

/**
 * An option's deprecated old name: still accepted (its value checked with the new name's rule),
 * moved to the new name by {@link renameOptions}, and never offered in "unknown option" messages.
 * Giving both names is a mistake (which one was meant?).
 */
export interface RenamedOption {
  readonly type: "renamed";
  /** The option's current name, a key of the same schema. */
  readonly to: string;
}

/** A schema entry for an old option name: `{ authorizationContext: renamedTo("context") }`. */
export function renamedTo(to: string): RenamedOption {
  return { type: "renamed", to };
}

/** The rules for every key an options object may have; any other key is a mistake. */
export type OptionsSchema = Readonly<Record<string, OptionRule>>;

/** How a value looks in an error message: its type, and short primitives themselves. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return value.length <= 40 ? `the string ${JSON.stringify(value)}` : "a string";
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof value} ${String(value)}`;
    case "undefined":
      return "undefined";
    default:
      return `a ${typeof value}`;
  }
}

/** Edit distance, for "did you mean". Options are short names; the quadratic cost is nothing. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The known name a misspelt one most likely meant, if any is close enough. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of known) {
    const c = candidate.toLowerCase();
    let score = distance(lower, c);
    // A plural or singular slip (tenantRole / tenantRoles, tenant / tenants) and case slips count as close.
    if (c === `${lower}s` || lower === `${c}s` || c === lower) score = 0;
    else if (c.startsWith(lower) || lower.startsWith(c)) score = Math.min(score, 1);
    if (score < bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  const allowed = Math.max(1, Math.floor(name.length / 4));
  return bestScore <= allowed ? best : undefined;
}

/** Check one value against a rule; `name` is the option's full path (`jwks.timeoutMs`). */
export function checkOption(value: unknown, name: string, rule: OptionRule): void {
  if (value === undefined) {
    if (rule.type !== "renamed" && rule.required) throw new TypeError(`${name} is required`);
    return;
  }
  switch (rule.type) {
    case "any":
      return;
    case "number": {
      const kind = rule.integer ? "an integer" : "a number";
      const range =
        rule.min !== undefined && rule.max !== undefined ? ` from ${rule.min} to ${rule.max}` : rule.min !== undefined ? ` >= ${rule.min}` : rule.max !== undefined ? ` <= ${rule.max}` : "";
      const ok =
        typeof value === "number" &&
        Number.isFinite(value) &&
        (!rule.integer || Number.isInteger(value)) &&
        (rule.min === undefined || value >= rule.min) &&
        (rule.max === undefined || value <= rule.max);
      if (!ok) {
        const hint = typeof value === "string" ? " (a string, e.g. from process.env: convert it with Number() and check it)" : "";
        throw new TypeError(`${name} must be ${kind}${range}, got ${describeValue(value)}${hint}`);
      }
      return;
    }
    case "string":
      if (typeof value !== "string" || (rule.nonEmpty && value === "")) {
        throw new TypeError(`${name} must be a${rule.nonEmpty ? " non-empty" : ""} string, got ${describeValue(value)}`);
      }
      return;
    case "boolean":
      if (typeof value !== "boolean") throw new TypeError(`${name} must be true or false, got ${describeValue(value)}`);
      return;
    case "function":
      if (typeof value !== "function") throw new TypeError(`${name} must be a function, got ${describeValue(value)}`);
      return;
    case "object":
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new TypeError(`${name} must be an object, got ${describeValue(value)}`);
      }
      return;
    case "array":
      if (!Array.isArray(value)) throw new TypeError(`${name} must be an array, got ${describeValue(value)}`);
      return;
    case "oneOf":
      if (!rule.values.includes(value)) {
        throw new TypeError(`${name} must be one of ${rule.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describeValue(value)}`);
      }
      return;
    case "custom":
      rule.check(value, name);
      return;
    case "renamed":
      // Checked by validateOptions, which knows the schema the new name's rule is in.
      return;
  }
}

/** Where options are checked, for messages: the entry point, and the path of a nested object. */
export interface OptionsPlace {
  /** The entry point: `createTenantAuth`, `tenantAuth (Express)`, `createVerifiedPermissionsAuthorizer`. */
  readonly where: string;
  /** The path of a nested options object, with its dot: `"jwks."`, `"userPools[0]."`; default none. */
  readonly path?: string;
}

/**
 * Validate an options object: it must be an object, hold no key the schema does not list (an
 * unknown key is almost always a misspelt one whose check would otherwise be off), and every
 * listed key must satisfy its rule. Errors read `<where>: <path><key> must be ...`.
 */
export function validateOptions(options: unknown, schema: OptionsSchema, place: OptionsPlace): void {
  const path = place.path ?? "";
  const label = path === "" ? "options" : path.slice(0, -1);
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${place.where}: ${label} must be an object, got ${describeValue(options)}`);
  }
  // Deprecated names are accepted but never offered: messages list the current names only.
  const known = Object.keys(schema).filter((key) => schema[key]?.type !== "renamed");
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(schema, key)) {
      const guess = closestName(key, known);
      throw new TypeError(`${place.where}: unknown option ${path}${key}${guess ? ` (did you mean ${path}${guess}?)` : ""}; known: ${known.join(", ")}`);
    }
  }
  for (const key of Object.keys(schema)) {
    let rule = schema[key] as OptionRule;
    const value = (options as Record<string, unknown>)[key];
    if (rule.type === "renamed") {
      if (value === undefined) continue;
      if ((options as Record<string, unknown>)[rule.to] !== undefined) {
        throw new TypeError(`${place.where}: ${path}${key} is the deprecated name of ${path}${rule.to}; give only ${path}${rule.to}`);
      }
      rule = schema[rule.to] ?? { type: "any" };
    }
    try {
      checkOption(value, `${path}${key}`, rule);
    } catch (err) {
      if (err instanceof TypeError && !err.message.startsWith(`${place.where}: `)) throw new TypeError(`${place.where}: ${err.message}`, { cause: err });
      throw err;
    }
  }
}

/**
 * A copy of validated `options` with every deprecated name (a {@link renamedTo} entry of `schema`)
 * moved to its current name; `options` itself when it uses none. Call it after `validateOptions`.
 */
export function renameOptions<T extends object>(options: T, schema: OptionsSchema): T {
  let renamed: Record<string, unknown> | undefined;
  for (const [key, rule] of Object.entries(schema)) {
    if (rule.type !== "renamed" || (options as Record<string, unknown>)[key] === undefined) continue;
    const copy: Record<string, unknown> = renamed ?? { ...(options as Record<string, unknown>) };
    copy[rule.to] = copy[key];
    delete copy[key];
    renamed = copy;
  }
  return (renamed ?? options) as T;
}

/**
 * A rule for a nested options object (`jwks`, `cache`): validated with its own schema, so its
 * unknown keys and bad values are named with their full path (`jwks.timeoutMs`).
 */
export function nestedOptions(schema: OptionsSchema, required = false): OptionRule {
  return {
    type: "custom",
    required,
    check: (value, name) => {
      try {
        validateOptions(value, schema, { where: NESTED, path: `${name}.` });
      } catch (err) {
        // The enclosing validateOptions puts its own entry point in front.
        if (err instanceof TypeError && err.message.startsWith(`${NESTED}: `)) throw new TypeError(err.message.slice(NESTED.length + 2), { cause: err });
        throw err;
      }
    },
  };
}

const NESTED = "\u0000nested";
