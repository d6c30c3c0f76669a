/**
 * Queue mode: shards pull work at run time instead of following a static
 * plan, so a test whose timing was unknown or noisy delays only the shard
 * that drew it. There is no server: chunks are claimed through a primitive
 * GitHub gives every job, the Actions cache service, whose create call fails
 * when the key already exists (atomic, server-side, and writable on fork pull
 * requests too, because it uses the job's runtime token, not GITHUB_TOKEN).
 *
 * The chunk list is a pure function of the plan's inputs, so every shard
 * computes the same one. Chunk sizes follow guided self-scheduling: a chunk
 * is about remaining / (2 m) seconds of estimated work, never less than
 * `minChunkSeconds` (a few runner start-ups, so start-up stays a small share),
 * tests without a timing of their own first, then the known ones longest first.
 *
 * Claiming: one lookup (the newest claimed index under the run's prefix) and
 * one create per attempt. Claims are taken in index order, so every index
 * below a claimed one was claimed before: the claimed set is a prefix, no
 * chunk is skipped. A shard that dies leaves its chunk's tests without
 * results; `collect` finds them (exactly once: results are deduplicated by
 * test id) and runs them or fails with the list.
 */
import type { Estimate } from './plan.js';

export interface Chunk {
  index: number;
  items: string[];
  /** Estimated seconds of work (unknown tests at their estimate). */
  seconds: number;
}

export interface ChunkOptions {
  shards: number;
  /** Seconds a chunk costs before its first test (runner start-up: jest boots, pytest collects). */
  startup: number;
  /** Smallest chunk in estimated seconds (default: 4 × startup, at least 1 s). */
  minChunkSeconds?: number;
}

/** The chunk list every shard computes the same way from the same estimates. */
export function queueChunks(items: readonly Estimate[], o: ChunkOptions): Chunk[] {
  if (o.shards < 1) throw new Error('queue: at least one shard');
  // Known: a timing for this test (or the file it was renamed or moved from); the rest are medians or a default.
  const isKnown = (i: Estimate) => i.source === 'exact' || i.source === 'renamed' || i.source === 'moved';
  const known = items.filter(isKnown).sort((a, b) => b.seconds - a.seconds || (a.key < b.key ? -1 : 1));
  const unknown = items.filter((i) => !isKnown(i)).sort((a, b) => (a.key < b.key ? -1 : 1));
  // Unknown tests go first: their true length is the risk, and early on there is still enough known work
  // left to absorb a long one (online scheduling with uncertain jobs: uncertain first, then longest first).
  // Chunked at a pessimistic weight (the 90th percentile of the known timings, or their estimate if higher), so a
  // chunk holds few of them: one that turns out long delays one shard early, when the others can still absorb it.
  const sortedKnown = known.map((k) => k.seconds).sort((a, b) => a - b);
  const p90 = sortedKnown.length ? sortedKnown[Math.floor(sortedKnown.length * 0.9)]! : 0;
  const ordered: Estimate[] = [...unknown.map((u) => ({ ...u, seconds: Math.max(u.seconds, p90) })), ...known];
  let remaining = ordered.reduce((a, i) => a + i.seconds, 0);
  // Small chunks shorten the tail, each one pays a start-up: balance the two (tail ≈ one chunk, start-ups ≈
  // share / chunk × startup), i.e. a chunk of about √(startup × share), and never under 4 start-ups.
  const minChunk = o.minChunkSeconds ?? Math.max(1, 4 * o.startup, Math.sqrt(o.startup * (remaining / o.shards)));
  const chunks: Chunk[] = [];
  let cur: Estimate[] = [];
  let curSeconds = 0;
  let target = Math.max(minChunk, remaining / (2 * o.shards));
  for (const it of ordered) {
    cur.push(it);
    curSeconds += it.seconds;
    remaining -= it.seconds;
    if (curSeconds >= target) {
      chunks.push({ index: chunks.length, items: cur.map((x) => x.key), seconds: curSeconds });
      cur = [];
      curSeconds = 0;
      target = Math.max(minChunk, remaining / (2 * o.shards));
    }
  }
  if (cur.length) chunks.push({ index: chunks.length, items: cur.map((x) => x.key), seconds: curSeconds });
  return chunks;
}

/** What claims need from a store (the Actions cache in the action; an in-memory map in tests and the simulator). */
export interface ClaimStore {
  /** The highest chunk index claimed so far in this queue, or -1 (one call). */
  latest(): Promise<number>;
  /** Claim chunk `index` atomically; false when it is taken (one call). */
  claim(index: number): Promise<boolean>;
}

export interface ClaimStats {
  lookups: number;
  creates: number;
  claimed: number[];
}

/**
 * Claim chunks one at a time until the queue is empty. `run` is called for
 * each claimed chunk before the next claim (a shard runs what it holds).
 */
export async function drainQueue(store: ClaimStore, total: number, run: (index: number) => Promise<void>): Promise<ClaimStats> {
  const stats: ClaimStats = { lookups: 0, creates: 0, claimed: [] };
  let next = 0;
  while (next < total) {
    stats.lookups++;
    next = Math.max(next, (await store.latest()) + 1);
    if (next >= total) break;
    stats.creates++;
    if (await store.claim(next)) {
      stats.claimed.push(next);
      await run(next);
    }
    next++;
  }
  return stats;
}

/** An in-memory claim store (one per queue): what the cache service does, for tests and the simulator. */
export class MemoryClaims implements ClaimStore {
  private readonly taken = new Set<number>();
  private newest = -1;
  async latest(): Promise<number> {
    return this.newest;
  }
  async claim(index: number): Promise<boolean> {
    if (this.taken.has(index)) return false;
    this.taken.add(index);
    this.newest = Math.max(this.newest, index);
    return true;
  }
}

/** The cache key of a claim: one queue per run attempt and plan (a re-run of failed jobs starts a new attempt, and a new queue). */
export function claimKey(queue: string, index: number): string {
  return `${queue}-${String(index).padStart(6, '0')}`;
}

/** Index of the newest claim from a key the cache returned for the queue's prefix. */
export function claimIndex(queue: string, key: string | undefined): number {
  if (!key?.startsWith(`${queue}-`)) return -1;
  const n = Number(key.slice(queue.length + 1));
  return Number.isInteger(n) && n >= 0 ? n : -1;
}
