/**
 * Shard planning: estimate every test (exact key, then rename-tolerant
 * matches, then the median of its directory, then the global median), pick
 * the shard count (fixed, or `auto` from a per-shard overhead), place items
 * longest-first on the least-loaded shard (LPT), then improve with moves and
 * swaps between the fullest and emptiest shards. Every test lands in exactly
 * one shard; that is checked, not assumed.
 */
import { createHash } from 'node:crypto';
import path from 'node:path/posix';
import { ConfigError } from '@maestro/core/errors';

export type Granularity = 'file' | 'test';

export interface Estimate {
  key: string;
  seconds: number;
  /** How the estimate was found. */
  source: 'exact' | 'renamed' | 'moved' | 'directory-median' | 'global-median' | 'default';
  /** The timing key used, when it differs from `key`. */
  from?: string;
}

export interface Shard {
  index: number; // 1-based, as in `--shard=i/m`
  items: string[];
  predicted: number;
}

export interface AutoChoice {
  overhead: number;
  candidates: Array<{ shards: number; wall: number }>;
}

export interface Plan {
  version: 1;
  granularity: Granularity;
  count: number;
  shards: Shard[];
  total: number;
  lowerBound: number;
  makespan: number;
  /** makespan / lowerBound − 1 (0 = perfect). */
  skew: number;
  /** Items longer than total/m: they set the floor and should be split. */
  giants: Array<{ key: string; seconds: number }>;
  unknown: { count: number; seconds: number; keys: string[] };
  coverage: { items: number; known: number; share: number };
  auto?: AutoChoice;
  /** sha256 of the assignment: a re-run with the same plan hash runs the same tests. */
  hash: string;
}

export interface PlanOptions {
  shards: number | 'auto';
  /** Seconds each shard costs before its first test (runner, checkout, install); used by `auto`. */
  overhead?: number;
  maxShards?: number;
  /** `auto` picks the smallest m within this fraction of the best predicted wall time. */
  tolerance?: number;
  granularity?: Granularity;
  /** Estimate for unknown tests when nothing is known at all. */
  defaultSeconds?: number;
}

export function normalizeKey(k: string): string {
  const c = k.charCodeAt(0);
  if (c !== 46 /* . */ && c !== 47 /* / */ && !k.includes('\\')) return k; // already normal: the common case
  return k.replace(/\\/g, '/').replace(/^\.\//, '').replace(/^\/+/, '');
}

/** The file part of a test id (`a/b_test.py::Class::test` → `a/b_test.py`). */
export function fileOf(key: string): string {
  const at = key.indexOf('::');
  return at < 0 ? key : key.slice(0, at);
}


function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Timings at the requested granularity: test ids are summed per file for `file`. */
export function atGranularity(timings: ReadonlyMap<string, number>, granularity: Granularity): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of timings) {
    const key = granularity === 'file' ? fileOf(normalizeKey(k)) : normalizeKey(k);
    out.set(key, (out.get(key) ?? 0) + v);
  }
  return out;
}

/** `a/b.test.ts` → `a/b` (every trailing `.ext`), like `/(\.[a-z0-9]+)+$/i` without a regex per key. */
export function stripExt(p: string): string {
  let end = p.length;
  for (;;) {
    let j = end;
    while (j > 0) {
      const c = p.charCodeAt(j - 1) | 32; // lower-cases letters; digits stay digits
      if ((c >= 97 && c <= 122) || (p.charCodeAt(j - 1) >= 48 && p.charCodeAt(j - 1) <= 57)) j--;
      else break;
    }
    if (j < end && j > 0 && p.charCodeAt(j - 1) === 46 /* . */) end = j - 1;
    else return p.slice(0, end);
  }
}

/** The rename key (`stem`, path without extensions) and the move key (`base`, file name without extensions) of a key. */
function renameKeys(k: string): { stem: string; base: string } {
  const f = fileOf(k);
  const rest = k.slice(f.length);
  const s = stripExt(f);
  return { stem: s + rest, base: path.basename(s) + rest };
}

export function estimate(tests: readonly string[], timings: ReadonlyMap<string, number>, opts: { granularity?: Granularity; defaultSeconds?: number } = {}): Estimate[] {
  const granularity = opts.granularity ?? 'file';
  const known = atGranularity(timings, granularity);
  const used = new Set<string>();
  const keys = tests.map(normalizeKey);
  const wanted = new Set(keys);
  // Keys that no longer name a test are candidates for rename/move matching, indexed only by the
  // stems and bases some unmatched test asks for (a store of 1M keys and 3 new tests costs one cheap pass).
  const byStem = new Map<string, string[]>();
  const byBase = new Map<string, string[]>();
  const unmatched = keys.filter((k) => !known.has(k)).map(renameKeys);
  if (unmatched.length) {
    const stems = new Set(unmatched.map((u) => u.stem));
    const bases = new Set(unmatched.map((u) => u.base));
    for (const k of known.keys()) {
      if (wanted.has(k)) continue;
      const { stem, base } = renameKeys(k);
      if (stems.has(stem)) (byStem.get(stem) ?? byStem.set(stem, []).get(stem)!).push(k);
      if (bases.has(base)) (byBase.get(base) ?? byBase.set(base, []).get(base)!).push(k);
    }
  }
  const out: Estimate[] = [];
  const pending: number[] = [];
  for (const key of keys) {
    const exact = known.get(key);
    if (exact !== undefined) {
      out.push({ key, seconds: exact, source: 'exact' });
      continue;
    }
    const { stem, base } = renameKeys(key);
    const stemHits = (byStem.get(stem) ?? []).filter((k) => !used.has(k));
    if (stemHits.length === 1) {
      used.add(stemHits[0]!);
      out.push({ key, seconds: known.get(stemHits[0]!)!, source: 'renamed', from: stemHits[0]! });
      continue;
    }
    const baseHits = (byBase.get(base) ?? []).filter((k) => !used.has(k));
    if (baseHits.length === 1) {
      used.add(baseHits[0]!);
      out.push({ key, seconds: known.get(baseHits[0]!)!, source: 'moved', from: baseHits[0]! });
      continue;
    }
    pending.push(out.length);
    out.push({ key, seconds: NaN, source: 'default' });
  }
  // Unknown: the median of known tests in the same directory, else of all known tests.
  if (!pending.length) return out;
  const byDir = new Map<string, number[]>();
  const all: number[] = [];
  for (const e of out) {
    if (Number.isNaN(e.seconds)) continue;
    const d = path.dirname(fileOf(e.key));
    (byDir.get(d) ?? byDir.set(d, []).get(d)!).push(e.seconds);
    all.push(e.seconds);
  }
  const global = all.length ? median(all) : median([...known.values()]);
  for (const i of pending) {
    const e = out[i]!;
    const local = byDir.get(path.dirname(fileOf(e.key)));
    if (local && local.length) {
      e.seconds = median(local);
      e.source = 'directory-median';
    } else if (!Number.isNaN(global)) {
      e.seconds = global;
      e.source = 'global-median';
    } else e.seconds = opts.defaultSeconds ?? 1;
  }
  return out;
}

/** Min-heap of shards by (load, index): deterministic LPT placement. */
class ShardHeap {
  private readonly h: Array<{ load: number; index: number }> = [];
  constructor(m: number) {
    for (let i = 0; i < m; i++) this.h.push({ load: 0, index: i });
  }
  private less(a: { load: number; index: number }, b: { load: number; index: number }) {
    return a.load < b.load || (a.load === b.load && a.index < b.index);
  }
  popPush(add: number): number {
    const top = this.h[0]!;
    const index = top.index;
    top.load += add;
    // sift down
    let i = 0;
    const n = this.h.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let s = i;
      if (l < n && this.less(this.h[l]!, this.h[s]!)) s = l;
      if (r < n && this.less(this.h[r]!, this.h[s]!)) s = r;
      if (s === i) break;
      [this.h[i], this.h[s]] = [this.h[s]!, this.h[i]!];
      i = s;
    }
    return index;
  }
}

function lpt(items: readonly Estimate[], m: number): { bins: Estimate[][]; loads: number[] } {
  const byKey = (a: Estimate, b: Estimate) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  const bins: Estimate[][] = Array.from({ length: m }, () => []);
  const loads = new Array<number>(m).fill(0);
  const heap = new ShardHeap(m);
  const sorted = [...items].sort((a, b) => b.seconds - a.seconds || byKey(a, b));
  for (const it of sorted) {
    const i = heap.popPush(it.seconds);
    bins[i]!.push(it);
    loads[i]! += it.seconds;
  }
  return { bins, loads };
}

/** Moves and swaps between the fullest and the emptiest shard while the makespan drops. */
function improve(bins: Estimate[][], loads: number[], maxRounds = 200): void {
  const m = bins.length;
  if (m < 2) return;
  for (let round = 0; round < maxRounds; round++) {
    let hi = 0;
    let lo = 0;
    for (let i = 1; i < m; i++) {
      if (loads[i]! > loads[hi]!) hi = i;
      if (loads[i]! < loads[lo]!) lo = i;
    }
    const gap = loads[hi]! - loads[lo]!;
    if (gap <= 1e-9) return;
    // Best single move: an item of size < gap, as close to gap/2 as possible.
    let best: { a: number; b: number; gain: number } | undefined;
    const A = bins[hi]!;
    const B = [...bins[lo]!].map((e, i) => ({ s: e.seconds, i })).sort((x, y) => x.s - y.s);
    for (let a = 0; a < A.length; a++) {
      const sa = A[a]!.seconds;
      if (sa > 0 && sa < gap) {
        const after = Math.max(loads[hi]! - sa, loads[lo]! + sa);
        const gain = loads[hi]! - after;
        if (gain > 1e-9 && (!best || gain > best.gain)) best = { a, b: -1, gain };
      }
      // Swap with b where 0 < sa − sb < gap; ideal sb = sa − gap/2.
      const target = sa - gap / 2;
      let l = 0;
      let r = B.length;
      while (l < r) {
        const mid = (l + r) >> 1;
        if (B[mid]!.s < target) l = mid + 1;
        else r = mid;
      }
      for (const j of [l - 1, l]) {
        const cand = B[j];
        if (!cand) continue;
        const d = sa - cand.s;
        if (d <= 0 || d >= gap) continue;
        const after = Math.max(loads[hi]! - d, loads[lo]! + d);
        const gain = loads[hi]! - after;
        if (gain > 1e-9 && (!best || gain > best.gain)) best = { a, b: cand.i, gain };
      }
    }
    if (!best) return;
    const item = A[best.a]!;
    A.splice(best.a, 1);
    loads[hi]! -= item.seconds;
    if (best.b >= 0) {
      const other = bins[lo]![best.b]!;
      bins[lo]!.splice(best.b, 1);
      A.push(other);
      loads[hi]! += other.seconds;
      loads[lo]! -= other.seconds;
    }
    bins[lo]!.push(item);
    loads[lo]! += item.seconds;
  }
}

export function chooseShardCount(items: readonly Estimate[], overhead: number, maxShards: number, tolerance = 0.05): AutoChoice & { shards: number } {
  const total = items.reduce((a, e) => a + e.seconds, 0);
  const pmax = items.reduce((a, e) => Math.max(a, e.seconds), 0);
  const limit = Math.max(1, Math.min(maxShards, items.length));
  // LPT stays within ~1 % of the lower bound on real suites, so the bound predicts wall time well.
  const candidates = Array.from({ length: limit }, (_, i) => ({ shards: i + 1, wall: overhead + Math.max(pmax, total / (i + 1)) }));
  const best = Math.min(...candidates.map((c) => c.wall));
  const pick = candidates.find((c) => c.wall <= best * (1 + tolerance))!;
  return { shards: pick.shards, overhead, candidates };
}

export function plan(tests: readonly string[], timings: ReadonlyMap<string, number>, opts: PlanOptions): Plan {
  const granularity = opts.granularity ?? 'file';
  const keys = [...new Set(tests.map(normalizeKey))];
  if (keys.length !== tests.length) {
    const seen = new Set<string>();
    const dups = tests.map(normalizeKey).filter((k) => (seen.has(k) ? true : (seen.add(k), false)));
    throw new ConfigError(`the test list names ${[...new Set(dups)].slice(0, 3).join(', ')} more than once`, { file: 'test list', fix: 'list each test once (paths are compared after removing ./ and leading /)' });
  }
  const items = estimate(keys, timings, { granularity, ...(opts.defaultSeconds !== undefined ? { defaultSeconds: opts.defaultSeconds } : {}) });
  const maxShards = Math.min(opts.maxShards ?? 256, 256);
  let auto: AutoChoice | undefined;
  let m: number;
  if (opts.shards === 'auto') {
    const c = chooseShardCount(items, opts.overhead ?? 60, maxShards, opts.tolerance);
    auto = { overhead: c.overhead, candidates: c.candidates };
    m = c.shards;
  } else {
    if (!Number.isInteger(opts.shards) || opts.shards < 1) throw new ConfigError(`shard count must be a positive integer or auto, got ${opts.shards}`, { file: 'shards', fix: 'pass a number from 1 to 256, or auto' });
    m = opts.shards;
  }
  // Never emit an empty shard: with fewer tests than shards, use one shard per test.
  m = Math.min(m, Math.max(items.length, 0));
  const total = items.reduce((a, e) => a + e.seconds, 0);
  const pmax = items.reduce((a, e) => Math.max(a, e.seconds), 0);
  const { bins, loads } = m > 0 ? lpt(items, m) : { bins: [], loads: [] };
  improve(bins, loads);
  // Placement order is deterministic (longest first, ties by name), so shards need no further sort.
  const shards: Shard[] = bins.map((b, i) => ({ index: i + 1, items: b.map((e) => e.key), predicted: round(loads[i]!) }));
  assertExactlyOnce(keys, shards);
  const makespan = Math.max(0, ...loads);
  const lowerBound = m > 0 ? Math.max(pmax, total / m) : 0;
  const unknown = items.filter((e) => e.source === 'default' || e.source === 'directory-median' || e.source === 'global-median');
  const h = createHash('sha256');
  for (const s of shards) h.update(`${s.index}\n${s.items.join('\n')}\n`);
  const p: Plan = {
    version: 1,
    granularity,
    count: m,
    shards,
    total: round(total),
    lowerBound: round(lowerBound),
    makespan: round(makespan),
    skew: lowerBound > 0 ? round(makespan / lowerBound - 1, 4) : 0,
    giants: m > 0 ? items.filter((e) => e.seconds > total / m && m > 1).map((e) => ({ key: e.key, seconds: round(e.seconds) })) : [],
    unknown: { count: unknown.length, seconds: round(unknown.reduce((a, e) => a + e.seconds, 0)), keys: unknown.map((e) => e.key).slice(0, 50) },
    coverage: { items: items.length, known: items.length - unknown.length, share: items.length ? round((items.length - unknown.length) / items.length, 4) : 1 },
    hash: h.digest('hex'),
  };
  if (auto) p.auto = auto;
  return p;
}

/** Union of shards equals the test list; shards are pairwise disjoint. Throws otherwise. */
export function assertExactlyOnce(tests: readonly string[], shards: readonly Shard[]): void {
  const seen = new Set<string>();
  let placed = 0;
  for (const s of shards) {
    for (const t of s.items) {
      placed++;
      if (seen.has(t)) throw new Error(`internal: ${t} is in more than one shard (found again in shard ${s.index})`);
      seen.add(t);
    }
  }
  if (placed !== tests.length || tests.some((t) => !seen.has(normalizeKey(t)))) {
    const missing = tests.filter((t) => !seen.has(normalizeKey(t)));
    throw new Error(`internal: the plan has ${placed} tests for ${tests.length} given; missing ${missing.slice(0, 3).join(', ')}`);
  }
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
