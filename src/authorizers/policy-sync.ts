/**
 * Policy sync: a Verified Permissions policy store's static policies, templates, template-linked
 * policies and schema, pulled through the AWS SDK and kept fresh, for `createCedarAuthorizer` to
 * decide with in process. Internal: used by `cognito-tenancy/cedar`.
 *
 * Cost: the change check is the policy list (`ListPolicies`, 50 a page), the schema (`GetSchema`)
 * and, only when template-linked policies exist, the template list; an unchanged store costs those
 * pages and nothing else. Statements are fetched with `BatchGetPolicy` (up to 100 a call) only for
 * policies that are new or whose `lastUpdatedDate` moved: it is billed per policy like `GetPolicy`,
 * so it saves round trips and request quota, not money; fetching only changes is what saves money.
 */
import type { CedarSchemaJson } from "../core/cedar/schema.js";
import { TenantAuthError } from "../core/errors.js";
import type { CedarEngine, CedarTemplateLink } from "./cedar-engine.js";
import { compileCedar, CedarPolicyError } from "./cedar-engine.js";
import type { SdkModule } from "./vp/client.js";
import { isRetryable, loadSdk } from "./vp/client.js";
import { errorName, field } from "./vp/errors.js";

/** The management reads the sync makes (IAM: `verifiedpermissions:` + the name; `BatchGetPolicy` is authorized as `GetPolicy`). */
export type SyncOperation = "ListPolicies" | "BatchGetPolicy" | "ListPolicyTemplates" | "GetPolicyTemplate" | "GetSchema";

const METHODS: Record<SyncOperation, string> = {
  ListPolicies: "listPolicies",
  BatchGetPolicy: "batchGetPolicy",
  ListPolicyTemplates: "listPolicyTemplates",
  GetPolicyTemplate: "getPolicyTemplate",
  GetSchema: "getSchema",
};

/** What the sync needs of a client: the SDK client (`send`) or the aggregated one (its methods). */
export type PolicyStoreClientLike = { send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> } | Readonly<Record<string, unknown>>;

/** Settings of one synced store. */
export interface PolicySyncConfig {
  readonly policyStoreId: string;
  /** The client, made on first use. */
  readonly client: () => Promise<PolicyStoreClientLike>;
  readonly loadSdk: () => Promise<SdkModule>;
  readonly refreshMs: number;
  readonly maxStaleMs: number;
  /** The longest one call may take. */
  readonly timeoutMs: number;
  readonly validatePolicies: boolean;
  /** A refresh that failed, or a set refused by Cedar (the previous set stays). */
  readonly onError: ((error: Error) => void) | undefined;
  /** A new set is in use. */
  readonly onChange?: () => void;
  /** The cache name prefix of the sync's two sets in cedar-wasm (reused from a closed sync to bound memory); default a fresh one. */
  readonly slot?: string;
}

/** A synced store. */
export interface PolicySync {
  /** Resolve once a set is loaded (loading it now if none is); reject with why the first load failed. */
  ready(): Promise<void>;
  /**
   * The set to decide with, waiting for the first load when none was tried yet or one is under way;
   * after a failed first load it throws at once (the timer keeps trying), so a store that is down
   * does not get one load per request.
   */
  engine(): CedarEngine | Promise<CedarEngine>;
  /** Resolves when no load is under way (a closed sync's cache names are free after that). */
  settled(): Promise<void>;
  /** The set to decide with; throws `authorizer_unavailable` with none yet, past `maxStaleMs`, or closed. */
  current(): CedarEngine;
  /** Check the store now and load what changed; resolves `true` when a new set is in use. Rejects with why it failed. */
  refresh(): Promise<boolean>;
  /** Stop refreshing; decisions are then refused. */
  close(): void;
  /** When the store was last confirmed (epoch ms), or `undefined`. */
  readonly syncedAt: number | undefined;
  /** Increments with every set put in use. */
  readonly version: number;
}

type Item = Record<string, unknown>;

const MAX_PAGES = 1000;
const PAGE_SIZE = 50;
const BATCH_GET = 100;

let instances = 0;

const time = (v: unknown): number => (v instanceof Date ? v.getTime() : typeof v === "string" ? Date.parse(v) : NaN);

function unavailable(message: string, cause?: unknown): TenantAuthError {
  return new TenantAuthError("authorizer_unavailable", "The policy engine could not decide", { cause: new Error(message, cause !== undefined ? { cause } : undefined) });
}

/** Why the store could not be read, in words an operator can act on. */
function readError(policyStoreId: string, operation: SyncOperation, err: unknown): Error {
  const name = errorName(err);
  const hint: Record<string, string> = {
    ResourceNotFoundException: "no policy store with this id in the client's account and region: check policyStoreId and region",
    ValidationException: "the service refused the request: check that policyStoreId is a policy store id",
    AccessDeniedException: `the credentials may not call verifiedpermissions:${operation === "BatchGetPolicy" ? "GetPolicy" : operation}: grant it (policy sync reads the store's policies, templates and schema)`,
    UnrecognizedClientException: "the credentials are not valid for this region",
  };
  const message = field(err, "message");
  const detail = typeof message === "string" && message !== "" ? `: ${message}` : "";
  return new Error(`policy store ${JSON.stringify(policyStoreId)} could not be read (${operation}): ${name}${detail}${hint[name] ? `; ${hint[name]}` : ""}`, { cause: err });
}

interface Loaded {
  readonly engine: CedarEngine;
  readonly fingerprint: string;
  readonly statements: ReadonlyMap<string, { readonly updated: number; readonly statement: string }>;
  readonly templates: ReadonlyMap<string, { readonly updated: number; readonly statement: string }>;
}

/** Start syncing one store (nothing is called until `ready()`, `refresh()` or a decision). */
export function createPolicySync(config: PolicySyncConfig): PolicySync {
  const { policyStoreId } = config;
  const slot = config.slot ?? `cognito-tenancy-sync-${++instances}`;
  let refused: { fingerprint: string; error: Error } | undefined;
  let flip = false;
  let loaded: Loaded | undefined;
  let syncedAt: number | undefined;
  let version = 0;
  let inFlight: Promise<boolean> | undefined;
  let firstError: Error | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  async function call(operation: SyncOperation, input: Item): Promise<Item> {
    const client = await config.client();
    const controller = new AbortController();
    const t = setTimeout(() => controller.abort(), config.timeoutMs);
    t.unref?.();
    try {
      let out: unknown;
      for (let attempt = 1; ; attempt++) {
        try {
          if (typeof (client as { send?: unknown }).send === "function") {
            const m = (await config.loadSdk()) as unknown as Record<string, new (input: never) => unknown>;
            const Command = m[`${operation}Command`]!;
            out = await (client as { send(c: unknown, o: unknown): Promise<unknown> }).send(new Command(input as never), { abortSignal: controller.signal });
          } else {
            const method = (client as Record<string, unknown>)[METHODS[operation]];
            if (typeof method !== "function") throw new TypeError(`the client has neither send() nor ${METHODS[operation]}()`);
            out = await (method as (i: unknown, o: unknown) => Promise<unknown>).call(client, input, { abortSignal: controller.signal });
          }
          break;
        } catch (err) {
          // Throttling and internal errors are retried once, inside the call's deadline.
          if (controller.signal.aborted || attempt >= 2 || !isRetryable(err)) throw err;
          await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
        }
      }
      return typeof out === "object" && out !== null ? (out as Item) : {};
    } catch (err) {
      if (controller.signal.aborted) throw readError(policyStoreId, operation, new Error(`no answer within ${config.timeoutMs} ms`, { cause: err }));
      throw readError(policyStoreId, operation, err);
    } finally {
      clearTimeout(t);
    }
  }

  async function listAll(operation: "ListPolicies" | "ListPolicyTemplates", key: string): Promise<Item[]> {
    const out: Item[] = [];
    let nextToken: unknown;
    for (let page = 0; page < MAX_PAGES; page++) {
      const list = await call(operation, { policyStoreId, maxResults: PAGE_SIZE, ...(typeof nextToken === "string" ? { nextToken } : {}) });
      const items = list[key];
      if (Array.isArray(items)) out.push(...(items as Item[]));
      nextToken = list["nextToken"];
      if (typeof nextToken !== "string" || nextToken === "") return out;
    }
    throw new Error(`policy store ${JSON.stringify(policyStoreId)}: ${operation} handed out more than ${MAX_PAGES} pages`);
  }

  async function getSchema(): Promise<Item | undefined> {
    try {
      return await call("GetSchema", { policyStoreId });
    } catch (err) {
      // The store exists (ListPolicies answered): a missing schema is a store without one.
      if (errorName((err as Error).cause) === "ResourceNotFoundException") return undefined;
      throw err;
    }
  }

  const uid = (v: unknown): { type: string; id: string } | undefined => {
    const e = v as { entityType?: unknown; entityId?: unknown } | undefined;
    return typeof e?.entityType === "string" && typeof e.entityId === "string" ? { type: e.entityType, id: e.entityId } : undefined;
  };

  /** Check the store; load and swap in what changed. */
  async function load(): Promise<boolean> {
    const [policies, schema] = await Promise.all([listAll("ListPolicies", "policies"), getSchema()]);
    // A policy of a type this sync cannot load (a type the service adds later) may be a forbid:
    // leaving it out could allow what the store denies, so the load fails instead.
    for (const p of policies) {
      if (p["policyType"] !== "STATIC" && p["policyType"] !== "TEMPLATE_LINKED") {
        throw new Error(`policy store ${JSON.stringify(policyStoreId)}: policy ${JSON.stringify(p["policyId"])} has a type this sync cannot load: ${JSON.stringify(p["policyType"])}`);
      }
    }
    const linked = policies.filter((p) => p["policyType"] === "TEMPLATE_LINKED");
    // Templates alone decide nothing: they are read only when a policy links one.
    const templates = linked.length > 0 ? await listAll("ListPolicyTemplates", "policyTemplates") : [];
    const fingerprint = JSON.stringify([
      policies.map((p) => [p["policyId"], p["policyType"], time(p["lastUpdatedDate"]), field(p["definition"], "templateLinked") ?? null]).sort(),
      templates.map((t) => [t["policyTemplateId"], time(t["lastUpdatedDate"])]).sort(),
      schema ? time(schema["lastUpdatedDate"]) : null,
      schema ? schema["schema"] : null,
    ]);
    if (loaded && fingerprint === loaded.fingerprint) return false;
    // The same refused set again: no reads, no recompile, the same error.
    if (refused && fingerprint === refused.fingerprint) throw refused.error;

    const statements = new Map<string, { updated: number; statement: string }>();
    const missing: string[] = [];
    for (const p of policies) {
      if (p["policyType"] !== "STATIC") continue;
      const id = String(p["policyId"]);
      const known = loaded?.statements.get(id);
      if (known && known.updated === time(p["lastUpdatedDate"])) statements.set(id, known);
      else missing.push(id);
    }
    for (let i = 0; i < missing.length; i += BATCH_GET) {
      const out = await call("BatchGetPolicy", { requests: missing.slice(i, i + BATCH_GET).map((policyId) => ({ policyStoreId, policyId })) });
      const errors = Array.isArray(out["errors"]) ? (out["errors"] as Item[]) : [];
      if (errors.length > 0) {
        // Deleted between the list and the read: the next refresh sees a consistent store.
        throw new Error(`policy store ${JSON.stringify(policyStoreId)} changed while it was read (BatchGetPolicy: ${errors.map((e) => `${String(e["policyId"])} ${String(e["code"])}`).join(", ")})`);
      }
      for (const r of Array.isArray(out["results"]) ? (out["results"] as Item[]) : []) {
        const statement = field(field(r["definition"], "static"), "statement");
        if (typeof statement !== "string") throw new Error(`policy store ${JSON.stringify(policyStoreId)}: policy ${String(r["policyId"])} came without its statement`);
        statements.set(String(r["policyId"]), { updated: time(r["lastUpdatedDate"]), statement });
      }
    }
    for (const id of missing) if (!statements.has(id)) throw new Error(`policy store ${JSON.stringify(policyStoreId)}: BatchGetPolicy did not return policy ${id}`);

    const templateTexts = new Map<string, { updated: number; statement: string }>();
    const wanted = new Set(linked.map((p) => String(field(field(p["definition"], "templateLinked"), "policyTemplateId"))));
    for (const t of templates) {
      const id = String(t["policyTemplateId"]);
      if (!wanted.has(id)) continue;
      const known = loaded?.templates.get(id);
      if (known && known.updated === time(t["lastUpdatedDate"])) {
        templateTexts.set(id, known);
        continue;
      }
      const got = await call("GetPolicyTemplate", { policyStoreId, policyTemplateId: id });
      if (typeof got["statement"] !== "string") throw new Error(`policy store ${JSON.stringify(policyStoreId)}: template ${id} came without its statement`);
      templateTexts.set(id, { updated: time(got["lastUpdatedDate"]), statement: got["statement"] });
    }
    const links: CedarTemplateLink[] = linked.map((p) => {
      const d = field(p["definition"], "templateLinked") as Item;
      const principal = uid(d["principal"]);
      const resource = uid(d["resource"]);
      return {
        policyId: String(p["policyId"]),
        templateId: String(d["policyTemplateId"]),
        values: { ...(principal ? { "?principal": principal } : {}), ...(resource ? { "?resource": resource } : {}) },
      };
    });
    for (const l of links)
      if (!templateTexts.has(l.templateId)) throw new Error(`policy store ${JSON.stringify(policyStoreId)} changed while it was read (template ${l.templateId} of policy ${l.policyId} is not listed)`);

    let schemaJson: CedarSchemaJson | undefined;
    if (schema) {
      try {
        schemaJson = JSON.parse(String(schema["schema"])) as CedarSchemaJson;
      } catch (err) {
        throw new Error(`policy store ${JSON.stringify(policyStoreId)}: its schema is not JSON`, { cause: err });
      }
    }
    // The other of two cache names: the set in use stays intact until this one has passed.
    flip = !flip;
    const engine = await compileCedar({
      policies: Object.fromEntries([...statements].map(([id, s]) => [id, s.statement])),
      templates: Object.fromEntries([...templateTexts].map(([id, t]) => [id, t.statement])),
      templateLinks: links,
      ...(schemaJson ? { schema: schemaJson } : {}),
      validatePolicies: config.validatePolicies,
      cacheId: `${slot}-${flip ? "a" : "b"}`,
    }).catch((err: unknown) => {
      flip = !flip;
      // Only Cedar's refusal is remembered for this fingerprint; a failure to load or run the
      // engine is an ordinary failed refresh, tried again next time.
      if (!(err instanceof CedarPolicyError)) throw err;
      const error = new Error(
        `policy store ${JSON.stringify(policyStoreId)}: the policies do not pass Cedar; ${loaded ? "the previous set stays in use" : "no set is in use"}: ${(err as Error).message}`,
        { cause: err },
      );
      refused = { fingerprint, error };
      throw error;
    });
    refused = undefined;
    if (closed) return false;
    loaded = { engine, fingerprint, statements, templates: templateTexts };
    version++;
    config.onChange?.();
    return true;
  }

  function refresh(): Promise<boolean> {
    if (closed) return Promise.reject(new Error(`policy store ${JSON.stringify(policyStoreId)}: the sync is closed`));
    startTimer();
    inFlight ??= load()
      .then(
        (changed) => {
          syncedAt = Date.now();
          firstError = undefined;
          return changed;
        },
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          if (!loaded) firstError = e;
          report(e);
          throw e;
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  function startTimer(): void {
    if (timer || closed) return;
    timer = setInterval(() => {
      // Reported through onError by refresh itself.
      refresh().catch(() => undefined);
    }, config.refreshMs);
    // A background refresh must not keep the process alive.
    timer.unref?.();
  }

  function report(err: unknown): void {
    if (!config.onError) return;
    try {
      config.onError(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // A throwing hook must not become an unhandled rejection.
    }
  }

  function current(): CedarEngine {
    if (closed) throw unavailable(`policy store ${JSON.stringify(policyStoreId)}: the authorizer is closed`);
    if (!loaded || syncedAt === undefined) throw unavailable(`policy store ${JSON.stringify(policyStoreId)}: no policy set loaded yet`, firstError);
    const age = Date.now() - syncedAt;
    if (age > config.maxStaleMs) throw unavailable(`policy store ${JSON.stringify(policyStoreId)}: the policy set was last confirmed ${age} ms ago, more than maxStaleMs (${config.maxStaleMs})`);
    return loaded.engine;
  }

  return {
    async ready() {
      if (loaded) return;
      await refresh();
    },
    engine() {
      if (loaded || closed) return current();
      if (inFlight) return inFlight.then(current, () => current());
      if (firstError) return current();
      return refresh().then(current, () => current());
    },
    settled() {
      return inFlight
        ? inFlight.then(
            () => undefined,
            () => undefined,
          )
        : Promise.resolve();
    },
    current,
    refresh,
    close() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    get syncedAt() {
      return syncedAt;
    },
    get version() {
      return version;
    },
  };
}

/** The client maker of a sync: the given client, or one from the SDK made on first use. */
export function syncClient(options: { client?: PolicyStoreClientLike; region?: string; clientConfig?: Readonly<Record<string, unknown>> }): () => Promise<PolicyStoreClientLike> {
  let made: Promise<PolicyStoreClientLike> | undefined = options.client ? Promise.resolve(options.client) : undefined;
  return () => {
    if (!made) {
      made = loadSdk().then((m) => new m.VerifiedPermissionsClient({ ...(options.region ? { region: options.region } : {}), ...options.clientConfig }) as unknown as PolicyStoreClientLike);
      made.catch(() => {
        made = undefined;
      });
    }
    return made;
  };
}
