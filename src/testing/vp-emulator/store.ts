/**
 * The emulated policy store's content and its management operations (`ListPolicies`, `GetPolicy`,
 * `BatchGetPolicy`, `CreatePolicy`, `UpdatePolicy`, `DeletePolicy`, the template and schema
 * operations), with the input validation and paging of the service's API model. Every change
 * recompiles the set the emulator evaluates with, so a test can change the store while an app runs.
 */
import { randomBytes } from "node:crypto";
import type { CedarSchemaJson } from "../../core/cedar/schema.js";
import type { CedarEngine, CedarTemplateLink } from "../../authorizers/cedar-engine.js";
import { CedarPolicyError, compileCedar, loadCedar } from "../../authorizers/cedar-engine.js";
import { AwsServiceError } from "../aws-emulator-server.js";
import { ConstraintViolation, ERROR_STATUS, LIMITS, SHAPES, checkString } from "./limits.js";

/** The management operations the store answers. */
export const STORE_OPERATIONS = [
  "ListPolicies",
  "GetPolicy",
  "BatchGetPolicy",
  "CreatePolicy",
  "UpdatePolicy",
  "DeletePolicy",
  "ListPolicyTemplates",
  "GetPolicyTemplate",
  "CreatePolicyTemplate",
  "UpdatePolicyTemplate",
  "GetSchema",
  "PutSchema",
] as const;

/** A management operation of the emulated store. */
export type StoreOperation = (typeof STORE_OPERATIONS)[number];

type Uid = { readonly type: string; readonly id: string };

interface HeldPolicy {
  readonly policyId: string;
  readonly policyType: "STATIC" | "TEMPLATE_LINKED";
  readonly statement?: string;
  readonly description?: string;
  readonly policyTemplateId?: string;
  readonly principal?: Uid;
  readonly resource?: Uid;
  readonly createdDate: string;
  readonly lastUpdatedDate: string;
}

interface HeldTemplate {
  readonly policyTemplateId: string;
  readonly statement: string;
  readonly description?: string;
  readonly createdDate: string;
  readonly lastUpdatedDate: string;
}

interface HeldSchema {
  /** What the engine is compiled with: the text given at start, or the JSON last put. */
  readonly input: string | CedarSchemaJson;
  /** What `GetSchema` answers: the schema as JSON text. */
  readonly cedarJson: string;
  readonly namespaces: readonly string[];
  readonly createdDate: string;
  readonly lastUpdatedDate: string;
}

/** What the store starts with. */
export interface InitialStore {
  readonly policyStoreId: string;
  /** Static policies, id → text. */
  readonly policies: Readonly<Record<string, string>>;
  readonly schema?: string | CedarSchemaJson;
  readonly validationMode: "STRICT" | "OFF";
}

/** The store: its content, the engine evaluating it, and the management operations. */
export interface EmulatedStore {
  /** The engine with the store's current policies (template-linked ones included). */
  readonly engine: CedarEngine;
  readonly validationMode: "STRICT" | "OFF";
  /**
   * The same policies without the schema, for requests without a principal or resource (they
   * cannot pass the schema's request validation); compiled on first use after each change.
   */
  engineWithoutSchema(): Promise<CedarEngine>;
  /** Answer one management operation (input already routed; the store id is checked by the caller). */
  handle(operation: StoreOperation, body: Record<string, unknown>): Promise<unknown>;
}

const validation = (message: string): AwsServiceError => new AwsServiceError("ValidationException", ERROR_STATUS.ValidationException, message);

/** Run a shape check, turning its violation into the service's `ValidationException`. */
export function shape(check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof ConstraintViolation) throw new AwsServiceError("ValidationException", 400, err.message, { fieldList: [{ path: err.path, message: err.detail }] });
    throw err;
  }
}

const notFound = (kind: "POLICY" | "POLICY_TEMPLATE" | "SCHEMA", id: string, what: string): AwsServiceError =>
  new AwsServiceError("ResourceNotFoundException", ERROR_STATUS.ResourceNotFoundException, `${what} ${id} not found`, { resourceId: id, resourceType: kind });

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** A new id in the service's look: 22 letters and digits. */
function newId(): string {
  let id = "";
  for (const b of randomBytes(22)) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

interface Scope {
  readonly effect: "permit" | "forbid";
  readonly principal: { op: string; entity?: Uid; slot?: string };
  readonly action: { op: string; entity?: Uid; entities?: Uid[] };
  readonly resource: { op: string; entity?: Uid; slot?: string; in?: { entity?: Uid; slot?: string } };
}

const uidOf = (e: unknown): Uid | undefined => {
  if (typeof e !== "object" || e === null) return undefined;
  const v = (e as { __entity?: Uid }).__entity ?? (e as Uid);
  return typeof v.type === "string" && typeof v.id === "string" ? { type: v.type, id: v.id } : undefined;
};

/** The entity a scope constraint names (`==` or `in` an entity, or `is ... in` one). */
function scopeEntity(c: Scope["principal"] | Scope["resource"]): Uid | undefined {
  return uidOf(c.entity) ?? uidOf((c as Scope["resource"]).in?.entity);
}

function hasSlot(c: Scope["principal"] | Scope["resource"]): boolean {
  return c.slot !== undefined || (c as Scope["resource"]).in?.slot !== undefined;
}

/**
 * Start the store: the initial content is compiled (and, in STRICT mode, validated against the
 * schema) at once, so invalid input rejects here with Cedar's message.
 */
export async function createEmulatedStore(initial: InitialStore): Promise<EmulatedStore> {
  const cedar = await loadCedar();
  let last = 0;
  /** Strictly increasing timestamps: two changes never share a `lastUpdatedDate`. */
  const now = (): string => {
    last = Math.max(Date.now(), last + 1);
    return new Date(last).toISOString();
  };
  const start = now();
  const policies = new Map<string, HeldPolicy>();
  for (const [policyId, statement] of Object.entries(initial.policies)) {
    policies.set(policyId, { policyId, policyType: "STATIC", statement, createdDate: start, lastUpdatedDate: start });
  }
  const templates = new Map<string, HeldTemplate>();
  let schema: HeldSchema | undefined;
  if (initial.schema !== undefined) {
    const json = typeof initial.schema === "string" ? cedar.schemaToJson(initial.schema) : { type: "success" as const, json: initial.schema };
    if (json.type === "failure")
      throw new CedarPolicyError(
        "invalid Cedar schema",
        json.errors.map((e) => ({ message: e.message })),
      );
    schema = { input: initial.schema, cedarJson: JSON.stringify(json.json), namespaces: Object.keys(json.json as object), createdDate: start, lastUpdatedDate: start };
  }

  const strict = (): boolean => initial.validationMode === "STRICT" && schema !== undefined;

  function setOf(p: ReadonlyMap<string, HeldPolicy>, t: ReadonlyMap<string, HeldTemplate>) {
    const statics: Record<string, string> = {};
    const links: CedarTemplateLink[] = [];
    for (const x of p.values()) {
      if (x.policyType === "STATIC") statics[x.policyId] = x.statement!;
      else {
        links.push({
          policyId: x.policyId,
          templateId: x.policyTemplateId!,
          values: { ...(x.principal ? { "?principal": x.principal } : {}), ...(x.resource ? { "?resource": x.resource } : {}) },
        });
      }
    }
    const temps = Object.fromEntries([...t.values()].map((x) => [x.policyTemplateId, x.statement]));
    return { policies: statics, templates: temps, templateLinks: links };
  }

  // The service evaluates whatever it holds; validation happens when a policy is written.
  const compile = (p: ReadonlyMap<string, HeldPolicy>, t: ReadonlyMap<string, HeldTemplate>, validate: boolean) =>
    compileCedar({ ...setOf(p, t), ...(schema ? { schema: schema.input } : {}), validatePolicies: validate && strict() });

  let engine = await compile(policies, templates, true);
  let unvalidated: { for: CedarEngine; engine: Promise<CedarEngine> } | undefined;

  /** Check a candidate change: parse it and, in STRICT mode, validate what it adds or changes. */
  async function check(p: ReadonlyMap<string, HeldPolicy>, t: ReadonlyMap<string, HeldTemplate>, changed: { policyId?: string; templateId?: string }): Promise<void> {
    const onlyP = new Map<string, HeldPolicy>();
    const onlyT = new Map<string, HeldTemplate>();
    if (changed.policyId !== undefined) {
      const x = p.get(changed.policyId)!;
      onlyP.set(x.policyId, x);
      if (x.policyTemplateId !== undefined) onlyT.set(x.policyTemplateId, t.get(x.policyTemplateId)!);
    }
    if (changed.templateId !== undefined) {
      onlyT.set(changed.templateId, t.get(changed.templateId)!);
      for (const x of p.values()) if (x.policyTemplateId === changed.templateId) onlyP.set(x.policyId, x);
    }
    try {
      await compile(onlyP, onlyT, true);
    } catch (err) {
      if (err instanceof CedarPolicyError) throw validation(err.message);
      throw err;
    }
  }

  async function commit(p: Map<string, HeldPolicy>, t: Map<string, HeldTemplate>): Promise<void> {
    const next = await compile(p, t, false);
    policies.clear();
    for (const [k, v] of p) policies.set(k, v);
    templates.clear();
    for (const [k, v] of t) templates.set(k, v);
    engine = next;
  }

  function parseScope(text: string, template: boolean): Scope {
    const json = template ? cedar.templateToJson(text) : cedar.policyToJson(text);
    if (json.type === "failure") throw validation(`statement is not a Cedar ${template ? "policy template" : "policy"}: ${json.errors.map((e) => e.message).join("; ")}`);
    return json.json as unknown as Scope;
  }

  /** A statement must hold exactly one policy (or template). */
  function single(text: string, template: boolean): void {
    const parts = cedar.policySetTextToParts(text);
    if (parts.type === "failure") throw validation(`statement is not valid Cedar: ${parts.errors.map((e) => e.message).join("; ")}`);
    const n = parts.policies.length + parts.policy_templates.length;
    if (n !== 1) throw validation(`statement must hold exactly one ${template ? "policy template" : "policy"}, it holds ${n}`);
    if (template && parts.policy_templates.length !== 1) throw validation("statement must be a policy template (with ?principal and/or ?resource)");
    if (!template && parts.policies.length !== 1) throw validation("statement holds a template slot (?principal or ?resource): create a policy template instead");
  }

  function itemFields(x: HeldPolicy) {
    const scope = x.policyType === "STATIC" ? parseScope(x.statement!, false) : parseScope(templates.get(x.policyTemplateId!)!.statement, true);
    const principal = x.policyType === "STATIC" ? scopeEntity(scope.principal) : x.principal;
    const resource = x.policyType === "STATIC" ? scopeEntity(scope.resource) : x.resource;
    const actions = scope.action.op === "==" ? [uidOf(scope.action.entity)] : scope.action.op === "in" ? (scope.action.entities ?? [scope.action.entity]).map(uidOf) : [];
    return {
      policyStoreId: initial.policyStoreId,
      policyId: x.policyId,
      policyType: x.policyType,
      ...(principal ? { principal: { entityType: principal.type, entityId: principal.id } } : {}),
      ...(resource ? { resource: { entityType: resource.type, entityId: resource.id } } : {}),
      ...(actions.length > 0 ? { actions: actions.filter((a): a is Uid => a !== undefined).map((a) => ({ actionType: a.type, actionId: a.id })) } : {}),
      effect: scope.effect === "permit" ? "Permit" : "Forbid",
      createdDate: x.createdDate,
      lastUpdatedDate: x.lastUpdatedDate,
    };
  }

  function definition(x: HeldPolicy, withStatement: boolean) {
    if (x.policyType === "STATIC") {
      return { static: { ...(x.description !== undefined ? { description: x.description } : {}), ...(withStatement ? { statement: x.statement } : {}) } };
    }
    const e = (u: Uid | undefined) => (u ? { entityType: u.type, entityId: u.id } : undefined);
    return { templateLinked: { policyTemplateId: x.policyTemplateId, ...(x.principal ? { principal: e(x.principal) } : {}), ...(x.resource ? { resource: e(x.resource) } : {}) } };
  }

  /** `maxResults` and `nextToken` of the list operations: a page of `items` and the next token. */
  function page<T>(items: readonly T[], body: Record<string, unknown>, kind: string): { page: T[]; nextToken?: string } {
    const max = body["maxResults"];
    const { min, max: top, default: size0 } = LIMITS.listPoliciesMaxResults;
    if (max !== undefined && (typeof max !== "number" || !Number.isInteger(max) || max < min || max > top)) {
      shape(() => {
        throw new ConstraintViolation(
          "maxResults",
          max !== undefined && typeof max === "number" && max > top ? `Member must have value less than or equal to ${top}` : `Member must have value greater than or equal to ${min}`,
          max,
        );
      });
    }
    shape(() => checkString(body["nextToken"], "nextToken", SHAPES.nextToken, false));
    let startAt = 0;
    if (body["nextToken"] !== undefined) {
      const decoded = new RegExp(`^emulator-${kind}-(\\d+)$`).exec(Buffer.from(body["nextToken"] as string, "base64url").toString("utf8"));
      if (!decoded) throw validation("nextToken is not one this service issued");
      startAt = Number(decoded[1]);
    }
    const size = (max as number | undefined) ?? size0;
    const out = items.slice(startAt, startAt + size);
    const next = startAt + size < items.length ? Buffer.from(`emulator-${kind}-${startAt + size}`).toString("base64url") : undefined;
    return { page: out, ...(next !== undefined ? { nextToken: next } : {}) };
  }

  function entityIdentifier(value: unknown, path: string): Uid | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object") throw validation(`${path} must be an EntityIdentifier`);
    const v = value as { entityType?: unknown; entityId?: unknown };
    shape(() => checkString(v.entityType, `${path}.entityType`, SHAPES.entityType));
    shape(() => checkString(v.entityId, `${path}.entityId`, SHAPES.entityId));
    return { type: v.entityType as string, id: v.entityId as string };
  }

  function listPolicies(body: Record<string, unknown>) {
    const filter = (body["filter"] ?? {}) as Record<string, unknown>;
    if (typeof filter !== "object" || filter === null) throw validation("filter must be a PolicyFilter");
    const type = filter["policyType"];
    if (type !== undefined && type !== "STATIC" && type !== "TEMPLATE_LINKED") throw validation(`filter.policyType must be STATIC or TEMPLATE_LINKED, got ${JSON.stringify(type)}`);
    shape(() => checkString(filter["policyTemplateId"], "filter.policyTemplateId", SHAPES.policyTemplateId, false));
    const entityFilter = (slot: "principal" | "resource") => {
      const f = filter[slot] as { unspecified?: unknown; identifier?: unknown } | undefined;
      if (f === undefined) return undefined;
      if (typeof f !== "object" || f === null || (f.unspecified !== undefined) === (f.identifier !== undefined)) {
        throw validation(`filter.${slot} must have exactly one of unspecified and identifier`);
      }
      return f.unspecified !== undefined ? ("unspecified" as const) : entityIdentifier(f.identifier, `filter.${slot}.identifier`);
    };
    const principal = entityFilter("principal");
    const resource = entityFilter("resource");
    const matches = (got: { entityType: string; entityId: string } | undefined, want: Uid | "unspecified" | undefined): boolean =>
      want === undefined || (want === "unspecified" ? got === undefined : got?.entityType === want.type && got.entityId === want.id);
    const items = [...policies.values()]
      .map((x) => ({ x, item: itemFields(x) }))
      .filter(({ x }) => (type === undefined || x.policyType === type) && (filter["policyTemplateId"] === undefined || x.policyTemplateId === filter["policyTemplateId"]))
      .filter(({ item }) => matches(item.principal, principal) && matches(item.resource, resource))
      .map(({ x, item }) => ({ ...item, definition: definition(x, false) }));
    const p = page(items, body, "policies");
    return { policies: p.page, ...(p.nextToken !== undefined ? { nextToken: p.nextToken } : {}) };
  }

  function getPolicy(policyId: unknown) {
    shape(() => checkString(policyId, "policyId", SHAPES.policyId));
    const x = policies.get(policyId as string);
    if (!x) throw notFound("POLICY", policyId as string, "Policy");
    return { ...itemFields(x), definition: definition(x, true) };
  }

  function batchGetPolicy(body: Record<string, unknown>) {
    const requests = body["requests"];
    if (!Array.isArray(requests)) shape(() => checkString(undefined, "requests", SHAPES.policyId));
    const list = requests as unknown[];
    if (list.length < LIMITS.batchGetPolicy.min || list.length > LIMITS.batchGetPolicy.max) {
      shape(() => {
        throw new ConstraintViolation(
          "requests",
          list.length < LIMITS.batchGetPolicy.min
            ? `Member must have length greater than or equal to ${LIMITS.batchGetPolicy.min}`
            : `Member must have length less than or equal to ${LIMITS.batchGetPolicy.max}`,
          list,
        );
      });
    }
    const results = [];
    const errors = [];
    for (const [i, r] of list.entries()) {
      const item = (typeof r === "object" && r !== null ? r : {}) as Record<string, unknown>;
      shape(() => checkString(item["policyStoreId"], `requests.${i + 1}.policyStoreId`, SHAPES.policyStoreId));
      shape(() => checkString(item["policyId"], `requests.${i + 1}.policyId`, SHAPES.policyId));
      const ids = { policyStoreId: item["policyStoreId"] as string, policyId: item["policyId"] as string };
      if (ids.policyStoreId !== initial.policyStoreId) {
        errors.push({ code: "POLICY_STORE_NOT_FOUND", ...ids, message: `Policy store ${ids.policyStoreId} not found` });
        continue;
      }
      const x = policies.get(ids.policyId);
      if (!x) {
        errors.push({ code: "POLICY_NOT_FOUND", ...ids, message: `Policy ${ids.policyId} not found` });
        continue;
      }
      results.push({
        policyStoreId: initial.policyStoreId,
        policyId: x.policyId,
        policyType: x.policyType,
        definition: definition(x, true),
        createdDate: x.createdDate,
        lastUpdatedDate: x.lastUpdatedDate,
      });
    }
    return { results, errors };
  }

  /** The definition union of `CreatePolicy`/`UpdatePolicy`: exactly one member. */
  function definitionInput(value: unknown, allowLinked: boolean): { static?: Record<string, unknown>; templateLinked?: Record<string, unknown> } {
    if (value === undefined || value === null) shape(() => checkString(undefined, "definition", SHAPES.policyStatement));
    const d = value as Record<string, unknown>;
    const keys = typeof d === "object" ? Object.keys(d).filter((k) => d[k] !== undefined && d[k] !== null) : [];
    if (keys.length !== 1 || (keys[0] !== "static" && (keys[0] !== "templateLinked" || !allowLinked))) {
      throw validation(`definition must have exactly one of ${allowLinked ? "static and templateLinked" : "static"}`);
    }
    return d as never;
  }

  function staticInput(s: Record<string, unknown>): { statement: string; description?: string } {
    shape(() => checkString(s["statement"], "definition.static.statement", SHAPES.policyStatement));
    shape(() => checkString(s["description"], "definition.static.description", SHAPES.description, false));
    single(s["statement"] as string, false);
    return { statement: s["statement"] as string, ...(s["description"] !== undefined ? { description: s["description"] as string } : {}) };
  }

  async function createPolicy(body: Record<string, unknown>) {
    shape(() => checkString(body["clientToken"], "clientToken", SHAPES.clientToken, false));
    const d = definitionInput(body["definition"], true);
    const date = now();
    let x: HeldPolicy;
    if (d.static) {
      x = { policyId: newId(), policyType: "STATIC", ...staticInput(d.static), createdDate: date, lastUpdatedDate: date };
    } else {
      const l = d.templateLinked!;
      shape(() => checkString(l["policyTemplateId"], "definition.templateLinked.policyTemplateId", SHAPES.policyTemplateId));
      const t = templates.get(l["policyTemplateId"] as string);
      if (!t) throw notFound("POLICY_TEMPLATE", l["policyTemplateId"] as string, "Policy template");
      const principal = entityIdentifier(l["principal"], "definition.templateLinked.principal");
      const resource = entityIdentifier(l["resource"], "definition.templateLinked.resource");
      const scope = parseScope(t.statement, true);
      for (const [slot, given] of [
        ["principal", principal],
        ["resource", resource],
      ] as const) {
        const wanted = hasSlot(scope[slot]);
        if (wanted && !given) throw validation(`the policy template has a ?${slot} slot: give definition.templateLinked.${slot}`);
        if (!wanted && given) throw validation(`the policy template has no ?${slot} slot: leave definition.templateLinked.${slot} out`);
      }
      x = {
        policyId: newId(),
        policyType: "TEMPLATE_LINKED",
        policyTemplateId: t.policyTemplateId,
        ...(principal ? { principal } : {}),
        ...(resource ? { resource } : {}),
        createdDate: date,
        lastUpdatedDate: date,
      };
    }
    const next = new Map(policies).set(x.policyId, x);
    await check(next, templates, { policyId: x.policyId });
    await commit(next, new Map(templates));
    const { policyStoreId, policyId, policyType, principal, resource, actions, effect, createdDate, lastUpdatedDate } = itemFields(x);
    return { policyStoreId, policyId, policyType, principal, resource, actions, effect, createdDate, lastUpdatedDate };
  }

  async function updatePolicy(body: Record<string, unknown>) {
    shape(() => checkString(body["policyId"], "policyId", SHAPES.policyId));
    const old = policies.get(body["policyId"] as string);
    if (!old) throw notFound("POLICY", body["policyId"] as string, "Policy");
    const d = definitionInput(body["definition"], false);
    if (old.policyType !== "STATIC") throw validation("a template-linked policy cannot be updated: update its policy template instead");
    const input = staticInput(d.static!);
    // The service lets an update change the action and the conditions, not the effect or the principal and resource scope.
    const was = parseScope(old.statement!, false);
    const now_ = parseScope(input.statement, false);
    if (was.effect !== now_.effect) throw validation("UpdatePolicy cannot change the effect (permit or forbid) of a policy");
    if (JSON.stringify(was.principal) !== JSON.stringify(now_.principal)) throw validation("UpdatePolicy cannot change the principal of a policy's scope");
    if (JSON.stringify(was.resource) !== JSON.stringify(now_.resource)) throw validation("UpdatePolicy cannot change the resource of a policy's scope");
    const x: HeldPolicy = { ...old, ...input, ...(input.description === undefined ? { description: undefined } : {}), lastUpdatedDate: now() };
    const next = new Map(policies).set(x.policyId, x);
    await check(next, templates, { policyId: x.policyId });
    await commit(next, new Map(templates));
    const { policyStoreId, policyId, policyType, principal, resource, actions, effect, createdDate, lastUpdatedDate } = itemFields(x);
    return { policyStoreId, policyId, policyType, principal, resource, actions, effect, createdDate, lastUpdatedDate };
  }

  async function deletePolicy(body: Record<string, unknown>) {
    shape(() => checkString(body["policyId"], "policyId", SHAPES.policyId));
    if (!policies.has(body["policyId"] as string)) throw notFound("POLICY", body["policyId"] as string, "Policy");
    const next = new Map(policies);
    next.delete(body["policyId"] as string);
    await commit(next, new Map(templates));
    return {};
  }

  function templateInput(body: Record<string, unknown>): { statement: string; description?: string } {
    shape(() => checkString(body["statement"], "statement", SHAPES.policyStatement));
    shape(() => checkString(body["description"], "description", SHAPES.description, false));
    single(body["statement"] as string, true);
    return { statement: body["statement"] as string, ...(body["description"] !== undefined ? { description: body["description"] as string } : {}) };
  }

  async function putTemplate(body: Record<string, unknown>, update: boolean) {
    let x: HeldTemplate;
    if (update) {
      shape(() => checkString(body["policyTemplateId"], "policyTemplateId", SHAPES.policyTemplateId));
      const old = templates.get(body["policyTemplateId"] as string);
      if (!old) throw notFound("POLICY_TEMPLATE", body["policyTemplateId"] as string, "Policy template");
      const input = templateInput(body);
      // Linked policies fill the slots the template had; the slots cannot change under them.
      const was = parseScope(old.statement, true);
      const next = parseScope(input.statement, true);
      if (hasSlot(was.principal) !== hasSlot(next.principal) || hasSlot(was.resource) !== hasSlot(next.resource)) {
        throw validation("UpdatePolicyTemplate cannot add or remove a template slot");
      }
      x = { policyTemplateId: old.policyTemplateId, ...input, createdDate: old.createdDate, lastUpdatedDate: now() };
    } else {
      shape(() => checkString(body["clientToken"], "clientToken", SHAPES.clientToken, false));
      const date = now();
      x = { policyTemplateId: newId(), ...templateInput(body), createdDate: date, lastUpdatedDate: date };
    }
    const next = new Map(templates).set(x.policyTemplateId, x);
    await check(policies, next, { templateId: x.policyTemplateId });
    await commit(new Map(policies), next);
    return { policyStoreId: initial.policyStoreId, policyTemplateId: x.policyTemplateId, createdDate: x.createdDate, lastUpdatedDate: x.lastUpdatedDate };
  }

  async function putSchema(body: Record<string, unknown>) {
    const d = body["definition"] as { cedarJson?: unknown } | undefined;
    if (typeof d !== "object" || d === null || d.cedarJson === undefined) throw validation("definition must have cedarJson");
    shape(() => checkString(d.cedarJson, "definition.cedarJson", SHAPES.schemaJson));
    let json: CedarSchemaJson;
    try {
      json = JSON.parse(d.cedarJson as string) as CedarSchemaJson;
    } catch (err) {
      throw validation(`definition.cedarJson is not JSON: ${(err as Error).message}`);
    }
    const parsed = cedar.checkParseSchema(json as never);
    if (parsed.type === "failure") throw validation(`the schema is not valid: ${parsed.errors.map((e) => e.message).join("; ")}`);
    const date = now();
    const previous = schema;
    schema = { input: json, cedarJson: d.cedarJson as string, namespaces: Object.keys(json), createdDate: previous?.createdDate ?? date, lastUpdatedDate: date };
    try {
      engine = await compile(policies, templates, false);
    } catch (err) {
      schema = previous;
      if (err instanceof CedarPolicyError) throw validation(err.message);
      throw err;
    }
    return { policyStoreId: initial.policyStoreId, namespaces: schema.namespaces, createdDate: schema.createdDate, lastUpdatedDate: schema.lastUpdatedDate };
  }

  // Writes compile asynchronously: one at a time, so no write is built on a state another replaces.
  let writing: Promise<unknown> = Promise.resolve();
  const WRITES = new Set<StoreOperation>(["CreatePolicy", "UpdatePolicy", "DeletePolicy", "CreatePolicyTemplate", "UpdatePolicyTemplate", "PutSchema"]);

  return {
    get engine() {
      return engine;
    },
    validationMode: initial.validationMode,
    engineWithoutSchema() {
      if (unvalidated?.for !== engine) {
        const e = engine;
        unvalidated = { for: e, engine: compileCedar(setOf(policies, templates)) };
      }
      return unvalidated.engine;
    },
    handle(operation, body) {
      if (!WRITES.has(operation)) return run(operation, body);
      const result = writing.then(() => run(operation, body));
      writing = result.catch(() => undefined);
      return result;
    },
  };

  async function run(operation: StoreOperation, body: Record<string, unknown>): Promise<unknown> {
    {
      switch (operation) {
        case "ListPolicies":
          return listPolicies(body);
        case "GetPolicy":
          return getPolicy(body["policyId"]);
        case "BatchGetPolicy":
          return batchGetPolicy(body);
        case "CreatePolicy":
          return createPolicy(body);
        case "UpdatePolicy":
          return updatePolicy(body);
        case "DeletePolicy":
          return deletePolicy(body);
        case "ListPolicyTemplates": {
          const items = [...templates.values()].map((t) => ({
            policyStoreId: initial.policyStoreId,
            policyTemplateId: t.policyTemplateId,
            ...(t.description !== undefined ? { description: t.description } : {}),
            createdDate: t.createdDate,
            lastUpdatedDate: t.lastUpdatedDate,
          }));
          const p = page(items, body, "templates");
          return { policyTemplates: p.page, ...(p.nextToken !== undefined ? { nextToken: p.nextToken } : {}) };
        }
        case "GetPolicyTemplate": {
          shape(() => checkString(body["policyTemplateId"], "policyTemplateId", SHAPES.policyTemplateId));
          const t = templates.get(body["policyTemplateId"] as string);
          if (!t) throw notFound("POLICY_TEMPLATE", body["policyTemplateId"] as string, "Policy template");
          return { policyStoreId: initial.policyStoreId, ...t };
        }
        case "CreatePolicyTemplate":
          return putTemplate(body, false);
        case "UpdatePolicyTemplate":
          return putTemplate(body, true);
        case "GetSchema":
          if (!schema) throw notFound("SCHEMA", initial.policyStoreId, "Schema of policy store");
          return { policyStoreId: initial.policyStoreId, schema: schema.cedarJson, namespaces: schema.namespaces, createdDate: schema.createdDate, lastUpdatedDate: schema.lastUpdatedDate };
        case "PutSchema":
          return putSchema(body);
      }
    }
  }
}
