/**
 * The in-process Cedar engine shared by `createCedarAuthorizer` and the Verified Permissions
 * emulator: lazy loading of `@cedar-policy/cedar-wasm`, policies and schema parsed once
 * (cedar-wasm's "stateful" API keeps them pre-parsed inside the wasm instance), one evaluation
 * per request. Internal: not a public entry point.
 */
import type { CedarEntity, CedarRequest, CedarSchemaJson } from "../core/cedar-entities.js";

type CedarWasm = typeof import("@cedar-policy/cedar-wasm/nodejs");

interface DetailedError {
  message: string;
  help?: string | null;
  sourceLocations?: { start: number; end: number; label?: string | null }[];
}

let wasm: Promise<CedarWasm> | undefined;

/** Load cedar-wasm (its Node build) once, on first use. */
export function loadCedar(): Promise<CedarWasm> {
  wasm ??= import("@cedar-policy/cedar-wasm/nodejs").then(
    (m) => ((m as { default?: CedarWasm }).default && typeof (m as { isAuthorized?: unknown }).isAuthorized !== "function" ? (m as { default: CedarWasm }).default : m) as CedarWasm,
    (err: unknown) => {
      wasm = undefined;
      throw new Error(
        "cognito-tenancy: local Cedar evaluation needs the optional peer dependency @cedar-policy/cedar-wasm (npm install @cedar-policy/cedar-wasm), " +
          "loaded through its Node build: a runtime without Node's modules (Cloudflare Workers without nodejs_compat) cannot load it",
        { cause: err },
      );
    },
  );
  return wasm;
}

/** A policy set or schema Cedar refused. `message` carries Cedar's messages with line:column locations. */
export class CedarPolicyError extends Error {
  /** Cedar's diagnostics, each with `line`/`column` when Cedar gave a location. */
  readonly details: readonly { message: string; help?: string; line?: number; column?: number; policyId?: string }[];

  constructor(what: string, details: CedarPolicyError["details"]) {
    super(`${what}: ${details.map(formatDetail).join("; ")}`);
    this.name = "CedarPolicyError";
    this.details = details;
  }
}

function formatDetail(d: CedarPolicyError["details"][number]): string {
  const where = d.line !== undefined ? ` at ${d.line}:${d.column}` : "";
  const id = d.policyId ? `policy ${JSON.stringify(d.policyId)}: ` : "";
  const help = d.help ? ` (${d.help})` : "";
  return `${id}${d.message}${where}${help}`;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}

function details(errors: readonly DetailedError[], text: string | undefined, policyId?: string): CedarPolicyError["details"] {
  return errors.map((e) => {
    const loc = e.sourceLocations?.[0];
    const label = loc?.label ? `: ${loc.label}` : "";
    return {
      message: `${e.message}${label}`,
      ...(e.help ? { help: e.help } : {}),
      ...(loc && text !== undefined ? lineColumn(text, loc.start) : {}),
      ...(policyId ? { policyId } : {}),
    };
  });
}

/** Policies: Cedar text (ids from `@id("...")` annotations, else `policy0`, `policy1`, ...) or id → text. */
export type PolicyInput = string | Readonly<Record<string, string>>;

/** Split Cedar text into id → policy text; ids come from `@id` annotations, else `policy<N>`. */
function splitPolicies(cedar: CedarWasm, input: PolicyInput): Record<string, string> {
  if (typeof input !== "string") return { ...input };
  const parts = cedar.policySetTextToParts(input);
  if (parts.type === "failure") throw new CedarPolicyError("invalid Cedar policies", details(parts.errors as DetailedError[], input));
  if (parts.policy_templates.length > 0) {
    throw new CedarPolicyError("invalid Cedar policies", [{ message: "policy templates are not supported here; link them into static policies" }]);
  }
  const out: Record<string, string> = {};
  parts.policies.forEach((text, i) => {
    const json = cedar.policyToJson(text);
    const annotated = json.type === "success" ? json.json.annotations?.["id"] : undefined;
    const id = annotated ?? `policy${i}`;
    if (Object.prototype.hasOwnProperty.call(out, id)) {
      throw new CedarPolicyError("invalid Cedar policies", [{ message: `two policies have the id ${JSON.stringify(id)}` }]);
    }
    out[id] = text;
  });
  return out;
}

/** A template-linked policy: `templateId` with its slots filled, evaluated under the id `policyId`. */
export interface CedarTemplateLink {
  readonly policyId: string;
  readonly templateId: string;
  /** `?principal` and/or `?resource`, as the template's slots need them. */
  readonly values: Readonly<Partial<Record<"?principal" | "?resource", { readonly type: string; readonly id: string }>>>;
}

/** Policies as id → text: `@id` annotations or `policy<N>` for text (loads cedar-wasm). */
export async function splitPolicyInput(input: PolicyInput): Promise<Record<string, string>> {
  return splitPolicies(await loadCedar(), input);
}

/** Options of {@link compileCedar}. */
export interface CedarEngineOptions {
  readonly policies: PolicyInput;
  /** Policy templates, id → text (each one template). */
  readonly templates?: Readonly<Record<string, string>>;
  /** Template-linked policies. */
  readonly templateLinks?: readonly CedarTemplateLink[];
  /**
   * The name cedar-wasm keeps the pre-parsed set (and schema) under. cedar-wasm cannot drop a
   * pre-parsed set, so a caller that recompiles (policy sync) passes one of two names in turn and
   * memory stays bounded; a fresh name otherwise.
   */
  readonly cacheId?: string;
  /** Cedar schema text or JSON. With it, policies are validated and requests checked against it. */
  readonly schema?: string | CedarSchemaJson;
  /** Validate policies against the schema at start; default `true` when there is a schema. */
  readonly validatePolicies?: boolean;
}

/** The raw answer of one evaluation. */
export type CedarAnswer =
  { readonly ok: true; readonly decision: "ALLOW" | "DENY"; readonly determiningPolicies: string[]; readonly errors: string[] } | { readonly ok: false; readonly errors: string[] };

/** Pre-parsed policies (and schema), ready to evaluate. */
export interface CedarEngine {
  /** Policy ids, in order. */
  readonly policyIds: readonly string[];
  /** The schema as JSON (types resolved), when there is one. */
  readonly schemaJson: CedarSchemaJson | undefined;
  evaluate(request: CedarRequest, extraEntities?: readonly CedarEntity[]): CedarAnswer;
}

let counter = 0;

/**
 * Load cedar-wasm, parse the policies and schema once (throws {@link CedarPolicyError} with
 * Cedar's message and line:column), validate the policies against the schema, and return an
 * engine evaluating with the pre-parsed set.
 */
export async function compileCedar(options: CedarEngineOptions): Promise<CedarEngine> {
  const cedar = await loadCedar();
  const policies = splitPolicies(cedar, options.policies);
  const templates: Record<string, string> = { ...options.templates };
  const templateLinks = (options.templateLinks ?? []).map((l) => ({ templateId: l.templateId, newId: l.policyId, values: { ...l.values } }));
  const policySet = { staticPolicies: policies, templates, templateLinks };
  const id = options.cacheId ?? `cognito-tenancy-${++counter}-${Math.random().toString(36).slice(2)}`;

  let schemaJson: CedarSchemaJson | undefined;
  let schemaName: string | undefined;
  if (options.schema !== undefined) {
    const schemaText = typeof options.schema === "string" ? options.schema : undefined;
    if (typeof options.schema === "string") {
      const json = cedar.schemaToJsonWithResolvedTypes(options.schema);
      if (json.type === "failure") throw new CedarPolicyError("invalid Cedar schema", details(json.errors as DetailedError[], schemaText));
      schemaJson = json.json as CedarSchemaJson;
    } else {
      schemaJson = options.schema;
    }
    const parsed = cedar.checkParseSchema(options.schema as never);
    if (parsed.type === "failure") throw new CedarPolicyError("invalid Cedar schema", details(parsed.errors as DetailedError[], schemaText));
  }

  // Parse and validate before pre-parsing: with a reused cacheId, pre-parsing replaces the set
  // in use, which must happen only for a set that passed.
  const checked = cedar.checkParsePolicySet(policySet);
  if (checked.type === "failure") {
    // Re-parse one by one to name the policy and locate the error inside its own text.
    const found: CedarPolicyError["details"][number][] = [];
    for (const [pid, text] of Object.entries(policies)) {
      const one = cedar.checkParsePolicySet({ staticPolicies: { [pid]: text } });
      if (one.type === "failure") found.push(...details(one.errors as DetailedError[], text, pid));
    }
    for (const [pid, text] of Object.entries(templates)) {
      const one = cedar.checkParsePolicySet({ templates: { [pid]: text } });
      if (one.type === "failure") found.push(...details(one.errors as DetailedError[], text, pid));
    }
    throw new CedarPolicyError("invalid Cedar policies", found.length > 0 ? found : details(checked.errors as DetailedError[], undefined));
  }

  if (options.schema !== undefined && options.validatePolicies !== false) {
    const v = cedar.validate({ schema: options.schema as never, policies: policySet });
    if (v.type === "failure") throw new CedarPolicyError("Cedar validation failed", details(v.errors as DetailedError[], undefined));
    if (v.validationErrors.length > 0) {
      throw new CedarPolicyError(
        "policies do not validate against the schema",
        v.validationErrors.flatMap((e) => details([e.error as DetailedError], policies[e.policyId] ?? templates[e.policyId], e.policyId)),
      );
    }
  }

  if (options.schema !== undefined) {
    const parsed = cedar.preparseSchema(id, options.schema as never);
    if (parsed.type === "failure") throw new CedarPolicyError("invalid Cedar schema", details(parsed.errors as DetailedError[], undefined));
    schemaName = id;
  }
  const parsed = cedar.preparsePolicySet(id, policySet);
  if (parsed.type === "failure") throw new CedarPolicyError("invalid Cedar policies", details(parsed.errors as DetailedError[], undefined));

  // Warm up: V8 compiles wasm functions on first call, which makes the first decision tens of
  // milliseconds slower than the rest. Pay that here, at start, with a throwaway evaluation.
  cedar.statefulIsAuthorized({
    principal: { type: "__cognito_tenancy_warmup", id: "" },
    action: { type: "__cognito_tenancy_warmup", id: "" },
    resource: { type: "__cognito_tenancy_warmup", id: "" },
    context: {},
    entities: [{ uid: { type: "__cognito_tenancy_warmup", id: "" }, attrs: { a: "" }, parents: [] }],
    preparsedPolicySetId: id,
  });

  return {
    policyIds: [...Object.keys(policies), ...templateLinks.map((l) => l.newId)],
    schemaJson,
    evaluate(request, extraEntities = []) {
      const answer = cedar.statefulIsAuthorized({
        principal: request.principal,
        action: request.action,
        resource: request.resource,
        context: request.context as never,
        entities: (extraEntities.length > 0 ? [...request.entities, ...extraEntities] : request.entities) as never,
        preparsedPolicySetId: id,
        ...(schemaName !== undefined ? { preparsedSchemaName: schemaName } : {}),
      });
      if (answer.type === "failure") return { ok: false, errors: answer.errors.map((e) => e.message) };
      const r = answer.response;
      return {
        ok: true,
        decision: r.decision === "allow" ? "ALLOW" : "DENY",
        determiningPolicies: [...r.diagnostics.reason],
        errors: r.diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
      };
    },
  };
}
