/**
 * The timing store: per key, the last k first-attempt durations with their
 * p50/p85, when it was last seen, and flake counts. `collect` merges one run's
 * reports (all shards) into it: measured values replace carried ones, retries
 * never count as durations, keys unseen for `dropAfter` runs are dropped.
 */
import type { Granularity } from './plan.js';
import type { TestResult, TimingSource } from './timings.js';

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

export interface TimingStore {
  version: 1;
  kind: 'maestro-timing-store';
  granularity: Granularity;
  updated: string;
  runs: number;
  tests: Record<string, StoreEntry>;
  flakes: Record<string, FlakeEntry>;
}

export function isStore(v: unknown): v is TimingStore {
  return !!v && typeof v === 'object' && (v as { kind?: unknown }).kind === 'maestro-timing-store' && (v as { version?: unknown }).version === 1 && typeof (v as { tests?: unknown }).tests === 'object';
}

export function emptyStore(granularity: Granularity): TimingStore {
  return { version: 1, kind: 'maestro-timing-store', granularity, updated: new Date(0).toISOString(), runs: 0, tests: {}, flakes: {} };
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
}

export interface MergeSummary {
  measured: number;
  added: number;
  dropped: string[];
  flaky: string[];
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
  const results = sources.flatMap((s) => s.results);
  // First attempts only; at file granularity the tests of a file add up.
  const measured = new Map<string, number>();
  for (const r of results) {
    if (r.attempt !== 1 || r.status === 'skipped') continue;
    const key = store.granularity === 'file' ? r.file : r.id;
    measured.set(key, (measured.get(key) ?? 0) + r.seconds);
  }
  const next: TimingStore = { ...store, updated: now, runs: store.runs + 1, tests: {}, flakes: { ...store.flakes } };
  const summary: MergeSummary = { measured: measured.size, added: 0, dropped: [], flaky: [] };
  for (const [key, e] of Object.entries(store.tests)) {
    if (measured.has(key)) continue;
    if (e.unseen + 1 > dropAfter) {
      summary.dropped.push(key);
      continue;
    }
    next.tests[key] = { ...e, unseen: e.unseen + 1 };
  }
  for (const [key, seconds] of measured) {
    const prev = store.tests[key];
    if (!prev) summary.added++;
    const samples = [Math.round(seconds * 1000) / 1000, ...(prev?.samples ?? [])].slice(0, keep);
    const sorted = [...samples].sort((a, b) => a - b);
    next.tests[key] = { samples, p50: quantile(sorted, 0.5), p85: quantile(sorted, 0.85), unseen: 0, lastSeen: now };
  }
  // Flake radar: per test id, this run counts once.
  const flaky = flakyTests(results);
  const ran = new Set(results.filter((r) => r.status !== 'skipped').map((r) => r.id));
  for (const id of ran) {
    const f = next.flakes[id] ?? { runs: 0, flaky: 0 };
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
  return Math.round((tests.filter((t) => store.tests[t] !== undefined).length / tests.length) * 10000) / 10000;
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
    const f = store.flakes[id];
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
