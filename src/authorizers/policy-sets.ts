/**
 * Where `createCedarAuthorizer` gets the policy set for a request: one fixed set, one synced
 * policy store, or one set (or store) per tenant, chosen by a function of the principal, each
 * compiled or synced once and kept in a bounded least-recently-used cache. Internal.
 */
import type { TenantPrincipal } from "../core/principal.js";
import { TenantAuthError } from "../core/errors.js";
import type { CedarEngine, PolicyInput } from "./cedar-engine.js";
import type { PolicySync } from "./policy-sync.js";

/** The policy set(s) of one authorizer. */
export interface PolicySource {
  /** The set for this principal; evaluate with it synchronously (cache names are reused). */
  engine(principal: TenantPrincipal): CedarEngine | Promise<CedarEngine>;
  ready(): Promise<void>;
  /** Refresh the synced store(s) now; `true` when a new set is in use. */
  refresh(): Promise<boolean>;
  close(): void;
  readonly policyIds: readonly string[];
}

function unavailable(message: string, cause?: unknown): TenantAuthError {
  return new TenantAuthError("authorizer_unavailable", "The policy engine could not decide", { cause: new Error(message, cause !== undefined ? { cause } : undefined) });
}

/** One fixed set, compiled once. */
export function fixedSource(compile: () => Promise<CedarEngine>): PolicySource {
  let engine: CedarEngine | undefined;
  let starting: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    starting ??= compile().then((e) => {
      engine = e;
    });
    return starting;
  };
  return {
    engine() {
      if (engine) return engine;
      return ready().then(
        () => engine!,
        (err: unknown) => {
          throw new TenantAuthError("authorizer_unavailable", "The policy engine could not decide", { cause: err });
        },
      );
    },
    ready,
    refresh: async () => false,
    close() {},
    get policyIds() {
      return engine?.policyIds ?? [];
    },
  };
}

/** One synced store. */
export function syncSource(sync: PolicySync): PolicySource {
  let closed = false;
  return {
    engine: () => sync.engine(),
    ready: () => sync.ready(),
    refresh: () => sync.refresh(),
    close() {
      closed = true;
      sync.close();
    },
    get policyIds() {
      if (closed) return [];
      try {
        return sync.current().policyIds;
      } catch {
        return [];
      }
    },
  };
}

/**
 * A least-recently-used map of at most `max` entries whose evicted values give their cache name
 * back only once they are settled and a macrotask has passed: a decision that got an engine
 * evaluates with it in the same microtask run, so it never meets a set compiled over it.
 */
class SlotCache<K, V> {
  private readonly map = new Map<K, { value: V; slot: string }>();
  private readonly free: string[] = [];
  private made = 0;

  constructor(
    private readonly max: number,
    private readonly prefix: string,
    private readonly settle: (value: V) => Promise<unknown>,
    private readonly evicted: (value: V) => void,
  ) {}

  get(key: K): V | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key);
    this.map.set(key, hit);
    return hit.value;
  }

  add(key: K, make: (slot: string) => V): V {
    if (this.map.size >= this.max) {
      const [oldKey, old] = this.map.entries().next().value as [K, { value: V; slot: string }];
      this.map.delete(oldKey);
      this.evicted(old.value);
      const release = () => setImmediate(() => this.free.push(old.slot));
      this.settle(old.value).then(release, release);
    }
    const slot = this.free.shift() ?? `${this.prefix}-${++this.made}`;
    const value = make(slot);
    this.map.set(key, { value, slot });
    return value;
  }

  values(): V[] {
    return [...this.map.values()].map((e) => e.value);
  }

  clear(): void {
    for (const e of this.map.values()) this.evicted(e.value);
    this.map.clear();
  }
}

let sources = 0;

/** Call the app's function of the principal; its error or a wrong answer is a 503, never a default set. */
async function choose<T>(fn: (principal: TenantPrincipal) => T | Promise<T>, principal: TenantPrincipal, what: string, check: (v: unknown) => v is T): Promise<T> {
  let value: unknown;
  try {
    value = await fn(principal);
  } catch (err) {
    throw unavailable(`the ${what} function threw`, err);
  }
  if (!check(value)) throw unavailable(`the ${what} function returned ${value === undefined ? "undefined" : typeof value}, not a ${what}`);
  return value;
}

const isPolicyInput = (v: unknown): v is PolicyInput => typeof v === "string" || (typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string"));
const isStoreId = (v: unknown): v is string => typeof v === "string" && v !== "";

/**
 * A set per tenant: `choose(principal)` returns Cedar text or an object of id → text; the same
 * string (or the same object) is compiled once. An invalid set refuses its tenant's requests (503)
 * and is not compiled again while it stays in the cache.
 */
export function tenantPolicySource(
  chooser: (principal: TenantPrincipal) => PolicyInput | Promise<PolicyInput>,
  compile: (input: PolicyInput, cacheId: string) => Promise<CedarEngine>,
  max: number,
  warm: () => Promise<unknown>,
): PolicySource {
  const cache = new SlotCache<PolicyInput, Promise<CedarEngine>>(
    max,
    `cognito-tenancy-tenant-${++sources}`,
    (p) => p,
    () => {},
  );
  return {
    async engine(principal) {
      const input = await choose(chooser, principal, "policy set", isPolicyInput);
      const promise = cache.get(input) ?? cache.add(input, (slot) => compile(input, slot));
      try {
        return await promise;
      } catch (err) {
        throw unavailable("the tenant's policy set does not pass Cedar", err);
      }
    },
    ready: async () => {
      await warm();
    },
    refresh: async () => false,
    close: () => cache.clear(),
    policyIds: [],
  };
}

/** A synced store per tenant: `choose(principal)` returns the store id; one sync per store, bounded. */
export function tenantStoreSource(
  chooser: (principal: TenantPrincipal) => string | Promise<string>,
  makeSync: (policyStoreId: string, slot: string) => PolicySync,
  max: number,
  warm: () => Promise<unknown>,
): PolicySource {
  const cache = new SlotCache<string, PolicySync>(
    max,
    `cognito-tenancy-stores-${++sources}`,
    (s) => s.settled(),
    (s) => s.close(),
  );
  return {
    async engine(principal) {
      const id = await choose(chooser, principal, "policy store id", isStoreId);
      const sync = cache.get(id) ?? cache.add(id, (slot) => makeSync(id, slot));
      return sync.engine();
    },
    ready: async () => {
      await warm();
    },
    async refresh() {
      const results = await Promise.allSettled(cache.values().map((s) => s.refresh()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
      return results.some((r) => r.status === "fulfilled" && r.value);
    },
    close: () => cache.clear(),
    policyIds: [],
  };
}
