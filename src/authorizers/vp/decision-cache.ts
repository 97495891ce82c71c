/**
 * The decision cache: answers kept for `ttlMs`, never for a principal whose token has expired;
 * one service call for concurrent identical questions; and generations, so a decision asked for
 * before `clear()` (made under the old policies) is never stored after it.
 */
import { BoundedCache } from "../../core/cache.js";

/** The decision cache part of the authorizer. */
export interface DecisionCache<D> {
  /**
   * The cached answer for `key`, or `undefined`. Never an answer for a principal whose token
   * expired (`principalExpiresAtMs` ≤ now), nor one older than `ttlMs` (it is dropped).
   */
  lookup(key: string, principalExpiresAtMs: number): D | undefined;
  /**
   * The answer for `key` already on its way, else `ask(store)`'s. `store(d)` keeps `d` for `key`
   * unless `clear()` ran since `ask` was called. The promise is shared until it settles.
   */
  share(key: string, ask: (store: (d: D) => void) => Promise<D>): Promise<D>;
  /** Forget every answer, and let none asked for before now be stored. */
  clear(): void;
  /** Entries held. */
  readonly size: number;
}

/** `false`/absent `settings`: nothing is stored, but concurrent identical questions still share one call. */
export function createDecisionCache<D>(settings: { readonly maxEntries: number; readonly ttlMs: number } | undefined): DecisionCache<D> {
  const cache = settings ? new BoundedCache<{ value: D; expiresAtMs: number }>(settings.maxEntries) : undefined;
  const ttlMs = settings?.ttlMs ?? 0;
  const inflight = new Map<string, Promise<D>>();
  // Bumped by clear(): answers already on their way were made under the old policies.
  let generation = 0;

  return {
    lookup(key, principalExpiresAtMs) {
      const now = Date.now();
      // An entry lives ttlMs and serves any principal whose token is still valid and whose key is
      // the same. A principal whose own token has expired is never answered from here.
      if (!cache || principalExpiresAtMs <= now) return undefined;
      const hit = cache.get(key);
      if (hit && hit.expiresAtMs > now) return hit.value;
      if (hit) cache.delete(key);
      return undefined;
    },
    share(key, ask) {
      const running = inflight.get(key);
      if (running) return running;
      const asked = generation;
      const store = (d: D): void => {
        if (cache && asked === generation) cache.set(key, { value: d, expiresAtMs: Date.now() + ttlMs });
      };
      const promise = ask(store).finally(() => {
        if (inflight.get(key) === promise) inflight.delete(key);
      });
      inflight.set(key, promise);
      return promise;
    },
    clear() {
      generation++;
      inflight.clear();
      cache?.clear();
    },
    get size() {
      return cache?.size ?? 0;
    },
  };
}
