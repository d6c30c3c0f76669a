import { describe, expect, test } from '@jest/globals';
import { MemoryClaims, claimIndex, claimKey, drainQueue, estimate, queueChunks, type ClaimStore } from '../src/index.js';

const tests = Array.from({ length: 200 }, (_, i) => `t/${String(i).padStart(3, '0')}.test.ts`);
const timings = new Map(tests.slice(0, 140).map((t, i) => [t, 1 + ((i * 37) % 50)]));

describe('queue chunks', () => {
  test('every test in exactly one chunk; unknown tests first; chunks shrink toward the end', () => {
    const ests = estimate(tests, timings);
    const chunks = queueChunks(ests, { shards: 4, startup: 2 });
    const all = chunks.flatMap((c) => c.items);
    expect(all.slice().sort()).toEqual(tests.slice().sort());
    expect(new Set(all).size).toBe(all.length);
    expect(chunks[0]!.items.every((k) => !timings.has(k))).toBe(true);
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    const known = chunks.filter((c) => c.items.every((k) => timings.has(k)));
    expect(known.at(-1)!.seconds).toBeLessThan(known[0]!.seconds);
  });

  test('the same inputs give the same chunks (every shard computes the list itself)', () => {
    const a = queueChunks(estimate(tests, timings), { shards: 8, startup: 3 });
    const b = queueChunks(estimate([...tests].reverse(), new Map([...timings].reverse())), { shards: 8, startup: 3 });
    expect(b).toEqual(a);
  });
});

describe('claims', () => {
  /** A store whose calls interleave at random (a seeded scheduler): the race the cache service arbitrates. */
  function racy(seed: number): ClaimStore & { calls: number } {
    const inner = new MemoryClaims();
    let s = seed;
    const tick = () => new Promise<void>((r) => setTimeout(r, ((s = (s * 1103515245 + 12345) % 2147483648) % 3)));
    return {
      calls: 0,
      async latest() {
        this.calls++;
        await tick();
        return inner.latest();
      },
      async claim(i: number) {
        this.calls++;
        await tick();
        return inner.claim(i);
      },
    };
  }

  test('concurrent shards claim every chunk exactly once, in index order, whatever the interleaving', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const store = racy(seed);
      const ran: number[][] = [[], [], [], [], []];
      const stats = await Promise.all(ran.map((mine) => drainQueue(store, 40, async (i) => void mine.push(i))));
      const all = ran.flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 40 }, (_, i) => i));
      for (const mine of ran) expect(mine).toEqual([...mine].sort((a, b) => a - b));
      // One lookup and at most one create per attempt: a shard never needs more than two calls per chunk it looks at.
      for (const st of stats) expect(st.creates).toBeLessThanOrEqual(st.lookups);
    }
  });

  test('a shard that stops mid-queue leaves no gap for the others', async () => {
    const store = new MemoryClaims();
    let held = -1;
    // The first shard claims one chunk and dies (never runs it).
    await drainQueue(store, 10, async (i) => {
      held = i;
      throw new Error('killed');
    }).catch(() => undefined);
    const rest: number[] = [];
    await drainQueue(store, 10, async (i) => void rest.push(i));
    expect(held).toBe(0);
    expect(rest).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('claim keys sort by index and round-trip', () => {
    expect(claimKey('q-1-1-abc', 7)).toBe('q-1-1-abc-000007');
    expect(claimIndex('q-1-1-abc', 'q-1-1-abc-000007')).toBe(7);
    expect(claimIndex('q-1-1-abc', 'q-1-2-abc-000007')).toBe(-1);
    expect(claimIndex('q-1-1-abc', undefined)).toBe(-1);
  });
});
