/**
 * Measurement helpers: interleaved rounds and medians. Every candidate runs once per round, in a
 * rotating order, so machine noise (other processes, GC, thermal) spreads over all of them alike.
 */

/** One thing to time: `run(n)` does `n` operations and resolves when they are done. */
export interface Candidate {
  readonly id: string;
  readonly label: string;
  /** Prepare state before each sample, outside the timed region (e.g. a fresh instance). */
  readonly setup?: () => void | Promise<void>;
  readonly run: (ops: number) => void | Promise<void>;
  /** Operations per sample; calibrated when omitted. */
  ops?: number;
  /** Cap on operations per sample (e.g. one pass over the distinct tokens). */
  readonly maxOps?: number;
  /** Operations to run before calibrating (JIT and wasm tier-up); default 64. */
  readonly warmupOps?: number;
}

export interface Sample {
  readonly id: string;
  /** Nanoseconds per operation, one value per round. */
  readonly nsPerOp: number[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Median over rounds of the per-round ratio a/b (paired: both ran in the same round). */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / (b[i] as number)));
}

/** Median absolute deviation relative to the median, as a rough noise figure. */
export function relativeMad(values: readonly number[]): number {
  const m = median(values);
  return m === 0 ? 0 : median(values.map((v) => Math.abs(v - m))) / m;
}

async function timeOnce(c: Candidate, ops: number): Promise<number> {
  if (c.setup) await c.setup();
  const start = process.hrtime.bigint();
  const r = c.run(ops);
  if (r !== undefined) await r;
  return Number(process.hrtime.bigint() - start);
}

/** Pick an operation count so one sample takes about `targetMs`. */
async function calibrate(c: Candidate, targetMs: number, maxOps: number): Promise<number> {
  let ops = 16;
  for (;;) {
    const ns = await timeOnce(c, ops);
    if (ns >= (targetMs * 1e6) / 4 || ops >= maxOps) {
      return Math.max(1, Math.min(maxOps, Math.round((ops * targetMs * 1e6) / Math.max(ns, 1))));
    }
    ops = Math.min(maxOps, ops * 4);
  }
}

export interface RoundsOptions {
  rounds: number;
  /** Target length of one sample. */
  targetMs: number;
  /** Default cap on operations per sample. */
  maxOps: number;
  onRound?: (round: number) => void;
}

/** Run every candidate once per round, rotating the order each round; return ns/op per round. */
export async function interleave(candidates: readonly Candidate[], options: RoundsOptions): Promise<Map<string, Sample>> {
  for (const c of candidates) {
    // Warm up (JIT, caches), then calibrate.
    const maxOps = c.maxOps ?? options.maxOps;
    await timeOnce(c, Math.min(maxOps, c.warmupOps ?? c.ops ?? 64));
    c.ops ??= await calibrate(c, options.targetMs, maxOps);
  }
  const out = new Map<string, Sample>(candidates.map((c) => [c.id, { id: c.id, nsPerOp: [] }]));
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[(i + round) % candidates.length] as Candidate;
      const ns = await timeOnce(c, c.ops as number);
      out.get(c.id)!.nsPerOp.push(ns / (c.ops as number));
    }
    options.onRound?.(round);
  }
  return out;
}
