/**
 * The timing store: per key, the last k first-attempt durations with their
 * p50/p85, when it was last seen, and flake counts. `collect` merges one run's
 * reports (all shards) into it: measured values replace carried ones, retries
 * never count as durations, keys unseen for `dropAfter` runs are dropped.
 *
 * The store comes back from a cache any job of the repository can write, so
 * it is read as untrusted data: `readStore` checks every entry and drops the
 * bad ones (a single malformed entry must not break every later plan), and a
 * store written by a newer format is reported, never read or overwritten.
 * Stores form a chain of generations (`generation`), each recording the runs
 * merged into it (`merged`), so concurrent collects can merge instead of
 * overwriting each other (see chain.ts).
 */
import type { Granularity } from './plan.js';
import type { TestResult, TimingSource } from './timings.js';

/** The format this code reads and writes. */
export const STORE_VERSION = 1;
/** How many merged run ids a store remembers (enough to make a retry of any recent run a no-op). */
export const MERGED_KEEP = 200;
/** Samples kept per entry at most (the `keep` input is ≤ 100). */
const MAX_SAMPLES = 100;

export interface StoreEntry {
  /** Newest first, at most `keep`. */
  samples: number[];
  p50: number;
  p85: number;
  /** Runs since this key was last measured (0 = this run). */
  unseen: number;
  lastSeen: string;
}

export interface FlakeEntry {
  /** Runs in which the test ran. */
  runs: number;
  /** Runs in which it failed and then passed on retry. */
  flaky: number;
  lastFlaky?: string;
}

/** A workflow run (and attempt) whose reports were merged into a store. */
export interface RunId {
  runId: string;
  attempt: number;
}

export interface TimingStore {
  version: 1;
  kind: 'maestro-timing-store';
  granularity: Granularity;
  updated: string;
  runs: number;
  tests: Record<string, StoreEntry>;
  flakes: Record<string, FlakeEntry>;
  /** Position in the chain of cached stores (0 = never saved as a generation). */
  generation?: number;
  /** Runs merged into this store, oldest first, the last MERGED_KEEP. */
  merged?: RunId[];
}

export type StoreCheck =
  | { status: 'ok'; store: TimingStore; dropped: { tests: number; flakes: number; merged: number } }
  /** A store, but of a format this code does not know: never read, never overwritten. */
  | { status: 'newer'; version: number }
  | { status: 'invalid'; reason: string };

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSeconds = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
/** An entry of a record by a key from a report (`constructor` is not an entry). */
const own = <T>(r: Record<string, T>, k: string): T | undefined => (Object.hasOwn(r, k) ? r[k] : undefined);
/** `__proto__` as a key would set a prototype instead of adding an entry. */
const okKey = (k: string) => k !== '__proto__' && k.length > 0;

/** One store entry, or undefined when it is malformed (only known fields are kept). */
export function storeEntry(v: unknown): StoreEntry | undefined {
  if (!isRec(v) || !Array.isArray(v['samples']) || v['samples'].length > MAX_SAMPLES || !v['samples'].every(isSeconds)) return undefined;
  if (!isSeconds(v['p50']) || !isSeconds(v['p85']) || !isCount(v['unseen']) || typeof v['lastSeen'] !== 'string') return undefined;
  return { samples: [...(v['samples'] as number[])], p50: v['p50'], p85: v['p85'], unseen: v['unseen'], lastSeen: v['lastSeen'] };
}

/** One flake entry, or undefined when it is malformed (negative or fractional counts, more flakes than runs). */
export function flakeEntry(v: unknown): FlakeEntry | undefined {
  if (!isRec(v) || !isCount(v['runs']) || !isCount(v['flaky']) || v['flaky'] > v['runs']) return undefined;
  if (v['lastFlaky'] !== undefined && typeof v['lastFlaky'] !== 'string') return undefined;
  return v['lastFlaky'] === undefined ? { runs: v['runs'], flaky: v['flaky'] } : { runs: v['runs'], flaky: v['flaky'], lastFlaky: v['lastFlaky'] };
}

function runIdOf(v: unknown): RunId | undefined {
  if (!isRec(v) || typeof v['runId'] !== 'string' || !v['runId'] || v['runId'].length > 64 || !Number.isSafeInteger(v['attempt']) || (v['attempt'] as number) < 1) return undefined;
  return { runId: v['runId'], attempt: v['attempt'] as number };
}

function entries<T>(v: unknown, one: (x: unknown) => T | undefined): { kept: Record<string, T>; dropped: number } {
  const kept: Record<string, T> = {};
  let dropped = 0;
  if (!isRec(v)) return { kept, dropped };
  for (const [k, x] of Object.entries(v)) {
    const e = okKey(k) ? one(x) : undefined;
    if (e === undefined) dropped++;
    else kept[k] = e;
  }
  return { kept, dropped };
}

/**
 * Check a parsed store: the frame must be right (kind, version, granularity,
 * an object of tests), each entry is checked on its own and bad ones are
 * dropped and counted. Never throws.
 */
export function readStore(v: unknown): StoreCheck {
  if (!isRec(v) || v['kind'] !== 'maestro-timing-store') return { status: 'invalid', reason: 'not a Maestro timing store' };
  if (v['version'] !== STORE_VERSION) {
    if (typeof v['version'] === 'number' && Number.isFinite(v['version']) && v['version'] > STORE_VERSION) return { status: 'newer', version: v['version'] };
    return { status: 'invalid', reason: 'the store has no valid version' };
  }
  if (v['granularity'] !== 'file' && v['granularity'] !== 'test') return { status: 'invalid', reason: 'the store has no valid granularity' };
  if (!isRec(v['tests'])) return { status: 'invalid', reason: 'the store has no tests object' };
  if (v['flakes'] !== undefined && !isRec(v['flakes'])) return { status: 'invalid', reason: 'the store has no flakes object' };
  const tests = entries(v['tests'], storeEntry);
  const flakes = entries(v['flakes'], flakeEntry);
  const rawMerged: unknown[] = Array.isArray(v['merged']) ? v['merged'] : [];
  const valid = rawMerged.map(runIdOf).filter((r): r is RunId => r !== undefined);
  const store: TimingStore = {
    version: 1,
    kind: 'maestro-timing-store',
    granularity: v['granularity'],
    updated: typeof v['updated'] === 'string' ? v['updated'] : new Date(0).toISOString(),
    runs: isCount(v['runs']) ? v['runs'] : 0,
    tests: tests.kept,
    flakes: flakes.kept,
    generation: isCount(v['generation']) ? v['generation'] : 0,
    merged: valid.slice(-MERGED_KEEP),
  };
  return { status: 'ok', store, dropped: { tests: tests.dropped, flakes: flakes.dropped, merged: rawMerged.length - valid.length } };
}

/** True for a store this code can read as it is (see `readStore` to also drop bad entries). */
export function isStore(v: unknown): v is TimingStore {
  return readStore(v).status === 'ok';
}

/** Words for what `readStore` dropped, or '' when nothing was. */
export function droppedNote(d: { tests: number; flakes: number; merged: number }): string {
  const parts = [d.tests ? `${d.tests} malformed timing entr${d.tests === 1 ? 'y' : 'ies'}` : '', d.flakes ? `${d.flakes} malformed flake entr${d.flakes === 1 ? 'y' : 'ies'}` : '', d.merged ? `${d.merged} malformed run id(s)` : ''].filter(Boolean);
  return parts.join(', ');
}

export function emptyStore(granularity: Granularity): TimingStore {
  return { version: 1, kind: 'maestro-timing-store', granularity, updated: new Date(0).toISOString(), runs: 0, tests: {}, flakes: {}, generation: 0, merged: [] };
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return Math.round((sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)) * 1000) / 1000;
}

export interface MergeOptions {
  keep?: number;
  dropAfter?: number;
  now?: string;
  /** Commit the reports came from (recorded on flakes). */
  sha?: string;
  /** The run being merged: recorded in `merged`; a run already there is not merged again. */
  run?: RunId;
}

export interface MergeSummary {
  measured: number;
  added: number;
  dropped: string[];
  flaky: string[];
  /** The run was already in the store (`merged`): nothing was changed. */
  alreadyMerged: boolean;
}

/** Whether `run` is among the runs merged into `store`. */
export function hasRun(store: TimingStore, run: RunId): boolean {
  return (store.merged ?? []).some((r) => r.runId === run.runId && r.attempt === run.attempt);
}

/** Flaky in this run: some attempt failed and a later one passed. */
export function flakyTests(results: readonly TestResult[]): Set<string> {
  const seen = new Map<string, { failed: boolean; passed: boolean }>();
  for (const r of results) {
    const s = seen.get(r.id) ?? { failed: false, passed: false };
    if (r.status === 'failed') s.failed = true;
    if (r.status === 'passed') s.passed = true;
    seen.set(r.id, s);
  }
  return new Set([...seen].filter(([, s]) => s.failed && s.passed).map(([id]) => id));
}

export function mergeRun(store: TimingStore, sources: readonly TimingSource[], opts: MergeOptions = {}): { store: TimingStore; summary: MergeSummary } {
  const keep = opts.keep ?? 10;
  const dropAfter = opts.dropAfter ?? 20;
  const now = opts.now ?? new Date().toISOString();
  if (opts.run && hasRun(store, opts.run)) return { store, summary: { measured: 0, added: 0, dropped: [], flaky: [], alreadyMerged: true } };
  const results = sources.flatMap((s) => s.results);
  // First attempts only; at file granularity the tests of a file add up.
  const measured = new Map<string, number>();
  for (const r of results) {
    if (r.attempt !== 1 || r.status === 'skipped') continue;
    const key = store.granularity === 'file' ? r.file : r.id;
    if (!okKey(key)) continue;
    measured.set(key, (measured.get(key) ?? 0) + r.seconds);
  }
  const next: TimingStore = { ...store, updated: now, runs: store.runs + 1, tests: {}, flakes: { ...store.flakes } };
  if (opts.run) next.merged = [...(store.merged ?? []), { runId: opts.run.runId, attempt: opts.run.attempt }].slice(-MERGED_KEEP);
  const summary: MergeSummary = { measured: measured.size, added: 0, dropped: [], flaky: [], alreadyMerged: false };
  for (const [key, e] of Object.entries(store.tests)) {
    if (measured.has(key)) continue;
    if (e.unseen + 1 > dropAfter) {
      summary.dropped.push(key);
      continue;
    }
    next.tests[key] = { ...e, unseen: e.unseen + 1 };
  }
  for (const [key, seconds] of measured) {
    const prev = own(store.tests, key);
    if (!prev) summary.added++;
    const samples = [Math.round(seconds * 1000) / 1000, ...(prev?.samples ?? [])].slice(0, keep);
    const sorted = [...samples].sort((a, b) => a - b);
    next.tests[key] = { samples, p50: quantile(sorted, 0.5), p85: quantile(sorted, 0.85), unseen: 0, lastSeen: now };
  }
  // Flake radar: per test id, this run counts once.
  const flaky = flakyTests(results);
  const ran = new Set(results.filter((r) => r.status !== 'skipped' && okKey(r.id)).map((r) => r.id));
  for (const id of ran) {
    const f = own(next.flakes, id) ?? { runs: 0, flaky: 0 };
    const entry: FlakeEntry = { runs: f.runs + 1, flaky: f.flaky + (flaky.has(id) ? 1 : 0) };
    const last = flaky.has(id) ? (opts.sha ?? now) : f.lastFlaky;
    if (last !== undefined) entry.lastFlaky = last;
    next.flakes[id] = entry;
  }
  summary.flaky = [...flaky].sort();
  return { store: next, summary };
}

export interface FlakeReport {
  /** Share of test runs (over the store's history) that were flaky. */
  rate: number;
  tests: Array<{ id: string; runs: number; flaky: number; rate: number }>;
  /** Suggested quarantine: flaky at least twice and in at least 10 % of its runs. */
  quarantine: string[];
}

export function flakeReport(store: TimingStore): FlakeReport {
  const entries = Object.entries(store.flakes);
  const runs = entries.reduce((a, [, f]) => a + f.runs, 0);
  const flaky = entries.reduce((a, [, f]) => a + f.flaky, 0);
  const tests = entries
    .filter(([, f]) => f.flaky > 0)
    .map(([id, f]) => ({ id, runs: f.runs, flaky: f.flaky, rate: Math.round((f.flaky / f.runs) * 1000) / 1000 }))
    .sort((a, b) => b.rate - a.rate || b.flaky - a.flaky || a.id.localeCompare(b.id));
  return { rate: runs ? Math.round((flaky / runs) * 10000) / 10000 : 0, tests, quarantine: tests.filter((t) => t.flaky >= 2 && t.rate >= 0.1).map((t) => t.id) };
}

/** Share of the given tests that the store has a duration for. */
export function coverage(store: TimingStore, tests: readonly string[]): number {
  if (!tests.length) return 1;
  return Math.round((tests.filter((t) => own(store.tests, t) !== undefined).length / tests.length) * 10000) / 10000;
}

export interface FlakeOutlook {
  /** Probability that at least one of the tests flakes in one run (independent tests assumed). */
  probability: number;
  /** Tests with a flake history, riskiest first. */
  top: Array<{ id: string; probability: number; flaky: number; runs: number }>;
  /** How many of the tests have any history in the store. */
  known: number;
}

/**
 * Flake outlook for a set of tests from the store's history. Each test's rate
 * is flaky / (runs + 1): one clean run of prior keeps a single flake in two
 * runs from reading as a coin toss.
 */
export function flakeOutlook(store: TimingStore | undefined, tests: readonly string[]): FlakeOutlook {
  if (!store) return { probability: 0, top: [], known: 0 };
  let clean = 1;
  let known = 0;
  const top: FlakeOutlook['top'] = [];
  for (const id of tests) {
    const f = own(store.flakes, id);
    if (!f) continue;
    known++;
    if (!f.flaky) continue;
    const p = f.flaky / (f.runs + 1);
    clean *= 1 - p;
    top.push({ id, probability: Math.round(p * 1000) / 1000, flaky: f.flaky, runs: f.runs });
  }
  top.sort((a, b) => b.probability - a.probability || a.id.localeCompare(b.id));
  return { probability: Math.round((1 - clean) * 1000) / 1000, top: top.slice(0, 20), known };
}
