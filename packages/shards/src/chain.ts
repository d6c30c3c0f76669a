/**
 * The timing store in a create-only cache: a chain of generations.
 *
 * Cache keys can be created once and never overwritten, and a restore by
 * prefix returns the newest entry. Two `collect` runs that both restored
 * generation N and both saved "the store" would each write their own merge of
 * N, and the next plan would see only one of them. Instead each run saves
 * generation N+1 under its own key (`<prefix>N+1`); when that key already
 * exists, another run got there first: read that generation, merge this run
 * into it (a run already merged is not merged twice) and try N+2, a bounded
 * number of times. The cache I/O is passed in, so this stays pure.
 */
import type { Granularity } from './plan.js';
import type { TimingStore } from './store.js';

/** `<store-key>-<granularity>-gen-`: every generation's key starts with it. */
export function generationPrefix(storeKey: string, granularity: Granularity): string {
  return `${storeKey}-${granularity}-gen-`;
}

/** Keys written before generations existed (`<store-key>-<granularity>-<run id>-<attempt>`): read once, as generation 0. */
export function legacyPrefix(storeKey: string, granularity: Granularity): string {
  return `${storeKey}-${granularity}-`;
}

export function generationKey(prefix: string, generation: number): string {
  return `${prefix}${generation}`;
}

/** The generation a restored key names (0 for a legacy key or anything else). */
export function generationOf(key: string, prefix: string): number {
  if (!key.startsWith(prefix)) return 0;
  const n = key.slice(prefix.length);
  return /^\d{1,9}$/.test(n) ? Number(n) : 0;
}

/** A generation read back from the cache. */
export type Restored = { status: 'ok'; store: TimingStore } | { status: 'newer'; version: number };

export interface ChainIO {
  /** Write `store` as generation `generation`: `created`, `exists` (another run created that key first) or `failed`. */
  save(generation: number, store: TimingStore): Promise<'created' | 'exists' | 'failed'>;
  /** Read exactly generation `generation`; undefined while it is not readable (still uploading, or gone). */
  restore(generation: number): Promise<Restored | undefined>;
  /** Pause before reading a generation again. */
  wait(ms: number): Promise<void>;
}

export interface CommitOptions {
  /** Save attempts in all (each a new generation). */
  attempts?: number;
  /** Pauses while a generation another run created is not readable yet. */
  waits?: readonly number[];
}

export type CommitResult<S> =
  | { status: 'saved'; generation: number; store: TimingStore; summary: S; conflicts: number; skipped: number[] }
  /** The newest generation already holds this run. */
  | { status: 'already'; generation: number; store: TimingStore; summary: S; conflicts: number; skipped: number[] }
  /** Another run wrote a newer store format: nothing is saved over it. */
  | { status: 'newer'; generation: number; version: number; store: TimingStore; summary: S; conflicts: number; skipped: number[] }
  /** The cache refused the write, or every attempt met a newer generation. */
  | { status: 'failed' | 'gave-up'; generation: number; store: TimingStore; summary: S; conflicts: number; skipped: number[] };

/**
 * Merge this run into generation `base.generation` and save the next
 * generation; on a conflict, merge into the generation that won and try the
 * one after it. `merge` must be idempotent for a run (see `mergeRun`'s `run`).
 */
export async function commitRun<S extends { alreadyMerged: boolean }>(
  base: { store: TimingStore; generation: number },
  merge: (store: TimingStore) => { store: TimingStore; summary: S },
  io: ChainIO,
  opts: CommitOptions = {},
): Promise<CommitResult<S>> {
  const attempts = opts.attempts ?? 5;
  const waits = opts.waits ?? [1000, 2000, 4000];
  let current = base;
  let conflicts = 0;
  const skipped: number[] = [];
  let merged = merge(current.store);
  for (let attempt = 1; ; attempt++) {
    if (merged.summary.alreadyMerged) return { status: 'already', generation: current.generation, store: merged.store, summary: merged.summary, conflicts, skipped };
    const generation = current.generation + 1;
    const store: TimingStore = { ...merged.store, generation };
    const saved = await io.save(generation, store);
    if (saved === 'created') return { status: 'saved', generation, store, summary: merged.summary, conflicts, skipped };
    if (saved === 'failed') return { status: 'failed', generation, store, summary: merged.summary, conflicts, skipped };
    conflicts++;
    if (attempt >= attempts) return { status: 'gave-up', generation, store, summary: merged.summary, conflicts, skipped };
    let next = await io.restore(generation);
    for (const ms of waits) {
      if (next) break;
      await io.wait(ms);
      next = await io.restore(generation);
    }
    if (next?.status === 'newer') return { status: 'newer', generation, version: next.version, store: merged.store, summary: merged.summary, conflicts, skipped };
    if (!next) {
      // Created but never readable (a job that died while uploading): step over it with what we have.
      skipped.push(generation);
      current = { store: current.store, generation };
      continue;
    }
    current = { store: next.store, generation };
    merged = merge(current.store);
  }
}
