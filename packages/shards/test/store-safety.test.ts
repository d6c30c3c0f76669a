import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { ConfigError } from '@maestro/core';
import {
  MERGED_KEEP,
  commitRun,
  durations,
  emptyStore,
  estimate,
  generationKey,
  generationOf,
  generationPrefix,
  legacyPrefix,
  mergeRun,
  readFlatMap,
  readPlan,
  readStore,
  readTimings,
  stripExt,
  type ChainIO,
  type Restored,
  type TimingSource,
  type TimingStore,
} from '../src/index.js';

const source = (entries: Array<[string, number, 'passed' | 'failed', number?]>): TimingSource => ({
  file: 'r.xml',
  kind: 'junit',
  warnings: [],
  results: entries.map(([id, seconds, status, attempt]) => ({ id, file: id.split('::')[0]!, seconds, status, attempt: attempt ?? 1 })),
});

const goodEntry = { samples: [2, 1], p50: 1.5, p85: 1.85, unseen: 0, lastSeen: 't' };

describe('reading a cached store as untrusted data', () => {
  test('one malformed entry is dropped and counted; the rest is kept', () => {
    const raw = {
      version: 1,
      kind: 'maestro-timing-store',
      granularity: 'file',
      updated: 't',
      runs: 3,
      tests: { 'a.test.ts': goodEntry, 'b.test.ts': { samples: 'x' }, 'c.test.ts': { ...goodEntry, p85: -1 }, 'd.test.ts': { ...goodEntry, samples: [1, Number.NaN] }, 'e.test.ts': null },
      flakes: { 'a.test.ts::x': { runs: 4, flaky: 1 }, 'b.test.ts::y': { runs: -1, flaky: 0 }, 'c.test.ts::z': { runs: 1, flaky: 2 }, 'd.test.ts::w': { runs: 1.5, flaky: 0 } },
      merged: [{ runId: '1', attempt: 1 }, { runId: 2, attempt: 1 }, 'x'],
      extra: 'ignored',
    };
    const r = readStore(JSON.parse(JSON.stringify(raw)));
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(Object.keys(r.store.tests)).toEqual(['a.test.ts']);
    expect(Object.keys(r.store.flakes)).toEqual(['a.test.ts::x']);
    expect(r.store.merged).toEqual([{ runId: '1', attempt: 1 }]);
    expect(r.dropped).toEqual({ tests: 4, flakes: 3, merged: 2 });
    expect(r.store.generation).toBe(0);
    // The kept store plans and merges without an internal error.
    const next = mergeRun(r.store, [source([['a.test.ts::x', 1, 'passed']])]).store;
    expect(next.tests['a.test.ts']!.samples).toEqual([1, 2, 1]);
    expect(next.flakes['a.test.ts::x']).toEqual({ runs: 5, flaky: 1 });
  });

  test('`__proto__` as a key is dropped, never assigned', () => {
    const r = readStore(JSON.parse('{"version":1,"kind":"maestro-timing-store","granularity":"file","runs":1,"tests":{"__proto__":{"samples":[1],"p50":1,"p85":1,"unseen":0,"lastSeen":"t"}},"flakes":{}}'));
    expect(r.status === 'ok' && Object.keys(r.store.tests)).toEqual([]);
    expect(r.status === 'ok' && Object.getPrototypeOf(r.store.tests)).toBe(Object.prototype);
  });

  test('a newer format is reported, not read; a broken frame is invalid', () => {
    expect(readStore({ version: 2, kind: 'maestro-timing-store', granularity: 'file', tests: {} })).toEqual({ status: 'newer', version: 2 });
    expect(readStore({ version: 1, kind: 'maestro-timing-store', granularity: 'file', tests: [] }).status).toBe('invalid');
    expect(readStore({ version: 1, kind: 'maestro-timing-store', granularity: 'dir', tests: {} }).status).toBe('invalid');
    expect(readStore({ version: '1', kind: 'maestro-timing-store', granularity: 'file', tests: {} }).status).toBe('invalid');
    expect(readStore([]).status).toBe('invalid');
  });

  test('as a timing file: bad entries dropped with a warning; a newer store ignored with a warning', () => {
    const text = JSON.stringify({ ...emptyStore('file'), tests: { 'a.test.ts': goodEntry, 'b.test.ts': { samples: 'x' } }, flakes: { x: { runs: -2, flaky: 0 } } });
    const s = readTimings(text, 'store.json');
    expect(durations([s])).toEqual(new Map([['a.test.ts', 1.85]]));
    expect(s.warnings).toEqual(['store.json: 1 malformed timing entry, 1 malformed flake entry dropped from the timing store']);
    const newer = readTimings(JSON.stringify({ ...emptyStore('file'), version: 2 }), 'v2.json');
    expect(newer.store).toBeUndefined();
    expect(newer.warnings[0]).toMatch(/written by a newer allocate-shards \(format 2\); ignored/);
  });
});

describe('merging is idempotent per run', () => {
  test('a run already merged is not merged again; run ids are kept up to MERGED_KEEP', () => {
    const run = { runId: '16823450912', attempt: 1 };
    const once = mergeRun(emptyStore('file'), [source([['a.test.ts::x', 1, 'passed']])], { run, now: 't1' });
    expect(once.store.merged).toEqual([run]);
    expect(once.summary.alreadyMerged).toBe(false);
    const twice = mergeRun(once.store, [source([['a.test.ts::x', 9, 'passed']])], { run, now: 't2' });
    expect(twice.summary.alreadyMerged).toBe(true);
    expect(twice.store).toBe(once.store);
    // A re-run (next attempt) is a new run.
    expect(mergeRun(once.store, [source([['a.test.ts::x', 2, 'passed']])], { run: { ...run, attempt: 2 } }).store.tests['a.test.ts']!.samples).toEqual([2, 1]);
    let s = emptyStore('file');
    for (let i = 0; i < MERGED_KEEP + 5; i++) s = mergeRun(s, [], { run: { runId: String(i), attempt: 1 } }).store;
    expect(s.merged).toHaveLength(MERGED_KEEP);
    expect(s.merged![0]).toEqual({ runId: '5', attempt: 1 });
  });

  test('keys that are Object.prototype names are ordinary tests', () => {
    const s = mergeRun(emptyStore('test'), [source([['constructor', 1, 'passed'], ['toString', 2, 'failed'], ['toString', 2, 'passed', 2]])]).store;
    expect(s.tests['constructor']!.samples).toEqual([1]);
    expect(s.flakes['toString']).toEqual({ runs: 1, flaky: 1, lastFlaky: expect.any(String) });
  });
});

describe('generation chain', () => {
  test('keys', () => {
    const prefix = generationPrefix('maestro-timings', 'file');
    expect(prefix).toBe('maestro-timings-file-gen-');
    expect(generationKey(prefix, 7)).toBe('maestro-timings-file-gen-7');
    expect(generationOf('maestro-timings-file-gen-7', prefix)).toBe(7);
    expect(generationOf('maestro-timings-file-4242-1', prefix)).toBe(0); // a store saved before generations
    expect(legacyPrefix('maestro-timings', 'file')).toBe('maestro-timings-file-');
  });

  /** An in-memory create-only cache: keys are created once; `pending` keys exist but cannot be read yet. */
  function fakeCache(initial: Record<number, TimingStore> = {}) {
    const entries = new Map<number, TimingStore>(Object.entries(initial).map(([k, v]) => [Number(k), v]));
    const pending = new Set<number>();
    const log: string[] = [];
    let onSave: ((g: number) => void) | undefined;
    const io: ChainIO = {
      async save(g, store) {
        onSave?.(g);
        log.push(`save ${g}`);
        if (entries.has(g) || pending.has(g)) return 'exists';
        entries.set(g, JSON.parse(JSON.stringify(store)));
        return 'created';
      },
      async restore(g): Promise<Restored | undefined> {
        log.push(`restore ${g}`);
        const s = entries.get(g);
        if (!s) return undefined;
        const r = readStore(JSON.parse(JSON.stringify(s)));
        return r.status === 'ok' ? { status: 'ok', store: r.store } : r.status === 'newer' ? r : undefined;
      },
      async wait() {
        log.push('wait');
      },
    };
    return { entries, pending, log, io, setOnSave: (f: (g: number) => void) => (onSave = f) };
  }

  const runA = { runId: '100', attempt: 1 };
  const runB = { runId: '200', attempt: 1 };
  const mergeWith = (run: typeof runA, entries: Array<[string, number, 'passed' | 'failed', number?]>) => (s: TimingStore) => mergeRun(s, [source(entries)], { run, now: run.runId });

  test('two runs that restored the same generation: the second merges into the first’s and saves the next one', async () => {
    const gen1 = { ...mergeRun(emptyStore('file'), [source([['old.test.ts::x', 5, 'passed']])], { run: { runId: '1', attempt: 1 } }).store, generation: 1 };
    const c = fakeCache({ 1: gen1 });
    const a = await commitRun({ store: gen1, generation: 1 }, mergeWith(runA, [['a.test.ts::x', 1, 'passed'], ['f.test.ts::y', 1, 'failed'], ['f.test.ts::y', 1, 'passed', 2]]), c.io);
    expect(a).toMatchObject({ status: 'saved', generation: 2, conflicts: 0 });
    // B restored generation 1 before A saved generation 2.
    const b = await commitRun({ store: gen1, generation: 1 }, mergeWith(runB, [['b.test.ts::x', 2, 'passed'], ['f.test.ts::y', 1, 'failed'], ['f.test.ts::y', 1, 'passed', 2]]), c.io, { waits: [] });
    expect(b).toMatchObject({ status: 'saved', generation: 3, conflicts: 1 });
    const final = c.entries.get(3)!;
    expect(Object.keys(final.tests).sort()).toEqual(['a.test.ts', 'b.test.ts', 'f.test.ts', 'old.test.ts']);
    expect(final.flakes['f.test.ts::y']).toMatchObject({ runs: 2, flaky: 2 });
    expect(final.merged).toEqual([{ runId: '1', attempt: 1 }, runA, runB]);
    expect(final.runs).toBe(3);
    expect(final.generation).toBe(3);
    expect(c.log).toEqual(['save 2', 'save 2', 'restore 2', 'save 3']);
  });

  test('a generation that already holds this run is not saved again', async () => {
    const c = fakeCache();
    const merge = mergeWith(runA, [['a.test.ts::x', 1, 'passed']]);
    expect((await commitRun({ store: emptyStore('file'), generation: 0 }, merge, c.io)).status).toBe('saved');
    // The same run again from generation 0 (e.g. its first save looked failed): finds itself in generation 1.
    const again = await commitRun({ store: emptyStore('file'), generation: 0 }, merge, c.io);
    expect(again).toMatchObject({ status: 'already', generation: 1 });
    expect([...c.entries.keys()]).toEqual([1]);
  });

  test('a generation written by a newer format stops the chain: nothing saved over it', async () => {
    const c = fakeCache({ 1: { ...emptyStore('file'), version: 2 } as unknown as TimingStore });
    const r = await commitRun({ store: emptyStore('file'), generation: 0 }, mergeWith(runA, [['a.test.ts::x', 1, 'passed']]), c.io, { waits: [] });
    expect(r).toMatchObject({ status: 'newer', version: 2 });
    expect([...c.entries.keys()]).toEqual([1]);
  });

  test('a generation created but never readable is waited for (bounded), then stepped over', async () => {
    const c = fakeCache();
    c.pending.add(1);
    const r = await commitRun({ store: emptyStore('file'), generation: 0 }, mergeWith(runA, [['a.test.ts::x', 1, 'passed']]), c.io, { waits: [1, 2] });
    expect(r).toMatchObject({ status: 'saved', generation: 2, skipped: [1] });
    expect(c.log).toEqual(['save 1', 'restore 1', 'wait', 'restore 1', 'wait', 'restore 1', 'save 2']);
  });

  test('bounded: when other runs keep winning, it gives up after `attempts` saves', async () => {
    const c = fakeCache({ 1: { ...emptyStore('file'), generation: 1 } });
    // Every time this run tries generation g, another run has just created it.
    c.setOnSave((g) => {
      if (!c.entries.has(g)) c.entries.set(g, { ...mergeRun(c.entries.get(g - 1)!, [], { run: { runId: `other-${g}`, attempt: 1 } }).store, generation: g });
    });
    const r = await commitRun({ store: c.entries.get(1)!, generation: 1 }, mergeWith(runA, [['a.test.ts::x', 1, 'passed']]), c.io, { attempts: 3, waits: [] });
    expect(r).toMatchObject({ status: 'gave-up', conflicts: 3 });
    expect(c.log.filter((l) => l.startsWith('save'))).toHaveLength(3);
  });
});

describe('large timing files: work per entry stays constant', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  test('200,000 entries: one pass, no JSON.parse per key, duplicates still found', () => {
    const n = 200_000;
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(`"packages/p${i % 97}/test/t${i}.test.js": ${(i % 1000) / 8}`);
    const text = `{${parts.join(',\n')}}\n`;
    const parse = jest.spyOn(JSON, 'parse');
    const src = readTimings(text, 'big.json');
    // Before: the duplicate-key scan called JSON.parse once per key (200,001 calls) and the map was built twice.
    expect(parse).toHaveBeenCalledTimes(0);
    expect(src.results).toHaveLength(n);
    expect(src.results[12345]).toEqual({ id: 'packages/p26/test/t12345.test.js', file: 'packages/p26/test/t12345.test.js', seconds: 345 / 8, status: 'passed', attempt: 1 });
    parse.mockClear();
    const dup = `{${parts.join(',')}, "packages/p5/test/t5.test.js": 1}`;
    expect(() => readTimings(dup, 'dup.json')).toThrow(/lists 'packages\/p5\/test\/t5\.test\.js' more than once/);
    expect(parse).toHaveBeenCalledTimes(0);
    // The spy does see the general reader's parse (so the zero above is real).
    readTimings('{"testResults": []}', 'jest.json');
    expect(parse).toHaveBeenCalledTimes(1);
  });

  test('renames and moves are still found among 200,000 known keys (the rename index holds only what unmatched tests ask for)', () => {
    const known = new Map<string, number>();
    for (let i = 0; i < 200_000; i++) known.set(`src/d${i % 50}/t${i}.test.js`, 1 + (i % 7));
    const est = estimate(['src/d1/t1.test.ts', 'src/moved/t2.test.js', 'src/d3/brand-new.test.js', 'src/d4/t4.test.js'], known);
    expect(est.map((e) => [e.key, e.source, e.from])).toEqual([
      ['src/d1/t1.test.ts', 'renamed', 'src/d1/t1.test.js'],
      ['src/moved/t2.test.js', 'moved', 'src/d2/t2.test.js'],
      ['src/d3/brand-new.test.js', 'global-median', undefined],
      ['src/d4/t4.test.js', 'exact', undefined],
    ]);
  });

  test('the flat-map reader accepts exactly JSON; anything else goes to the general reader', () => {
    expect(readFlatMap('{}')).toEqual({ entries: [], duplicates: [] });
    expect(readFlatMap(' { "a" : 1 , "b\\"c": 2e-1 }\n')).toEqual({ entries: [['a', 1], ['b"c', 0.2]], duplicates: [] });
    for (const bad of ['{"a": 1,}', '{"a": 01}', '{"a": .5}', '{"a": 1} x', '{"a": "1"}', '{"a": {"b": 1}}', '{"a\u0001": 1}', '{a: 1}', '[1]', '{"a": 1']) expect(readFlatMap(bad)).toBeUndefined();
    expect(stripExt('a/b.test.ts')).toBe('a/b');
    expect(stripExt('a/b.Spec.TSX')).toBe('a/b');
    expect(stripExt('a/b.')).toBe('a/b.');
    expect(stripExt('a/.hidden')).toBe('a/');
    expect(stripExt('a/b-c.d_e')).toBe('a/b-c.d_e');
  });

  test('errors name the entry but never quote a value', () => {
    const e = (() => {
      try {
        readTimings(JSON.stringify({ 'a.test.ts': { token: 'ghp_notquoted' } }), 't.json');
      } catch (x) {
        return x as ConfigError;
      }
    })()!;
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe("duration of 'a.test.ts' is an object: durations must be finite, non-negative numbers of seconds");
  });
});

describe('plans read back from a file', () => {
  test('a plan is checked before use', () => {
    const plan = { version: 1, count: 1, shards: [{ index: 1, items: ['a'], predicted: 1 }] };
    expect(readPlan(plan)).toBe(plan);
    for (const bad of [null, [], { ...plan, version: 2 }, { ...plan, shards: [null] }, { ...plan, shards: [{ index: 1, items: [1], predicted: 1 }] }, { ...plan, count: 2 }]) expect(readPlan(bad)).toBeUndefined();
  });
});
