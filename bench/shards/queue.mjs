// Queue mode against the static plan and Jest/Vitest's hash split, in a simulator driven by the real
// timing corpora in ../shared/data/timings (and two Pareto suites). The true durations are hidden from
// the planner: 30 % of the tests have no timing, the rest are the previous run's, and every run
// differs by ±25 % per test. Each chunk pays a runner start-up, each shard job a start skew, claims
// cost a round trip each, and in one scenario a shard is killed halfway: its unfinished tests are run
// by collect afterwards. Judged by the lower bound on the true durations. The claim protocol and the
// chunking are the action's own code (packages/shards/src/queue.ts, bundled), driven by a simulated clock.
// Not a test: prints tables and writes bench/shards/queue-results.json.
//
//   node bench/shards/queue.mjs [--data ../shared/data/timings] [--seeds 3]
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLib } from '../build-lib.mjs';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const { values } = parseArgs({ options: { data: { type: 'string', default: path.resolve(repo, '../shared/data/timings') }, seeds: { type: 'string', default: '3' }, unknown: { type: 'string', default: '0.3' }, noise: { type: 'string', default: '0.25' } } });
const lib = await buildLib(here);
const { plan, estimate, atGranularity, durations, readTimings, queueChunks } = lib;

const STARTUP = 3; // seconds per chunk (a test runner's boot)
const JOB = 20; // seconds per shard job before its first chunk (checkout, install)
const SKEW = 10; // shard jobs start up to this late
const CLAIM = 0.2; // seconds per claim call (lookup or create)
const UNKNOWN = Number(values.unknown);
const NOISE = Number(values.noise);

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}
const sha1 = (s) => createHash('sha1').update(s).digest('hex');

function pareto(n, seed, alpha = 1.3) {
  const r = rng(seed);
  return new Map(Array.from({ length: n }, (_, i) => [`synthetic/p${seed}/test_${String(i).padStart(6, '0')}.spec.ts`, Math.round((1 / Math.pow(1 - r(), 1 / alpha)) * 1000) / 1000]));
}

/** One scenario: what the planner knows, what the run really takes, when shards start. */
function scenario(truth, m, seed) {
  const r = rng(seed);
  const keys = [...truth.keys()].sort();
  const known = new Map();
  for (const k of keys) if (r() >= UNKNOWN) known.set(k, truth.get(k));
  const actual = new Map(keys.map((k) => [k, truth.get(k) * (1 + (r() * 2 - 1) * NOISE)]));
  const starts = Array.from({ length: m }, () => r() * SKEW);
  return { keys, known, actual, starts };
}

const lowerBound = (actual, m) => {
  const xs = [...actual.values()];
  return JOB + STARTUP + Math.max(Math.max(...xs), xs.reduce((a, b) => a + b, 0) / m);
};

/** A static assignment run for real: each shard one start-up, then its tests; `kill` stops shard 0 halfway. */
function runStatic(groups, s, kill) {
  let end = 0;
  const missing = [];
  groups.forEach((items, i) => {
    const work = items.reduce((a, k) => a + s.actual.get(k), 0);
    let t = s.starts[i] + JOB + STARTUP;
    if (kill && i === 0) {
      const stop = t + work / 2;
      for (const k of items) {
        if (t + s.actual.get(k) > stop) missing.push(k);
        else t += s.actual.get(k);
      }
      end = Math.max(end, stop);
    } else end = Math.max(end, t + work);
  });
  return { makespan: end + collectCost(missing, s), missing: missing.length };
}

/** Collect runs what a dead shard left behind, in one more job after the others. */
const collectCost = (missing, s) => (missing.length ? JOB + STARTUP + missing.reduce((a, k) => a + s.actual.get(k), 0) : 0);

function runQueue(s, m, kill) {
  const ests = estimate(s.keys, s.known, { granularity: 'file' });
  const chunks = queueChunks(ests, { shards: m, startup: STARTUP });
  // Event simulation on a clock; the claim logic is drainQueue's (lookup newest, create next), step by step.
  const taken = new Set();
  let newest = -1;
  const calls = new Array(m).fill(0);
  const done = new Map();
  const free = s.starts.map((st, i) => ({ i, t: st + JOB, next: 0, alive: true, dieAt: kill && i === 0 ? Infinity : Infinity }));
  let end = 0;
  const missing = [];
  // Shard 0 dies halfway through the static expectation of its share.
  const killAt = kill ? s.starts[0] + JOB + [...s.actual.values()].reduce((a, b) => a + b, 0) / m / 2 : Infinity;
  for (;;) {
    const live = free.filter((f) => f.alive && f.next < chunks.length);
    if (!live.length) break;
    const f = live.reduce((a, b) => (b.t < a.t ? b : a));
    f.t += CLAIM;
    calls[f.i]++;
    f.next = Math.max(f.next, newest + 1);
    if (f.next >= chunks.length) {
      end = Math.max(end, f.t);
      continue;
    }
    const idx = f.next++;
    f.t += CLAIM;
    calls[f.i]++;
    if (taken.has(idx)) continue;
    taken.add(idx);
    newest = Math.max(newest, idx);
    const items = chunks[idx].items;
    let t = f.t + STARTUP;
    for (const k of items) {
      if (t + s.actual.get(k) > killAt && f.i === 0 && kill) {
        missing.push(...items.filter((x) => !done.has(x)));
        f.alive = false;
        end = Math.max(end, killAt);
        break;
      }
      t += s.actual.get(k);
      done.set(k, (done.get(k) ?? 0) + 1);
    }
    if (f.alive) {
      f.t = t;
      end = Math.max(end, t);
    }
  }
  for (const f of free) if (f.alive) end = Math.max(end, f.t);
  const once = s.keys.every((k) => (done.get(k) ?? 0) + (missing.includes(k) ? 1 : 0) === 1);
  return { makespan: end + collectCost(missing, s), missing: missing.length, chunks: chunks.length, maxCalls: Math.max(...calls), once };
}

function hashGroups(keys, m) {
  const sorted = [...keys].sort((a, b) => (sha1(a) < sha1(b) ? -1 : 1));
  const per = Math.ceil(sorted.length / m);
  return Array.from({ length: m }, (_, i) => sorted.slice(i * per, (i + 1) * per));
}

const suites = [];
for (const f of readdirSync(values.data).filter((f) => f.endsWith('.json')).sort()) {
  const src = readTimings(readFileSync(path.join(values.data, f), 'utf8'), f);
  suites.push({ name: f.replace(/\.json$/, ''), t: atGranularity(durations([src]), 'file') });
}
suites.push({ name: 'pareto-2000', t: pareto(2000, 1) }, { name: 'pareto-5000', t: pareto(5000, 2) });

const rows = [];
const seeds = Number(values.seeds);
for (const { name, t } of suites) {
  for (const m of [4, 8, 16, 32]) {
    for (const kill of [false, true]) {
      const acc = { static: [], queue: [], hash: [], calls: [], chunks: [], once: true };
      for (let seed = 1; seed <= seeds; seed++) {
        const s = scenario(t, m, seed * 7919 + m);
        const lb = lowerBound(s.actual, m);
        const p = plan(s.keys, s.known, { shards: m, granularity: 'file' });
        acc.static.push(runStatic(p.shards.map((x) => x.items), s, kill).makespan / lb);
        acc.hash.push(runStatic(hashGroups(s.keys, m), s, kill).makespan / lb);
        const q = runQueue(s, m, kill);
        acc.queue.push(q.makespan / lb);
        acc.calls.push(q.maxCalls);
        acc.chunks.push(q.chunks);
        acc.once &&= q.once;
      }
      const worst = (xs) => Math.max(...xs);
      rows.push({ suite: name, tests: t.size, m, kill, static: worst(acc.static), queue: worst(acc.queue), hash: worst(acc.hash), maxClaimCalls: worst(acc.calls), chunks: worst(acc.chunks), exactlyOnce: acc.once });
    }
  }
}

const fmt = (x) => x.toFixed(3);
console.log(`30 % unknown, ±25 % noise, start-up ${STARTUP} s per chunk, ${JOB} s per job, skew ≤ ${SKEW} s, claim ${CLAIM} s per call; worst of ${seeds} seeds; makespan / lower bound`);
console.log('suite | tests | m | shard killed | static plan | queue | hash split | claim calls (max per shard) | chunks | exactly once');
for (const r of rows) console.log(`${r.suite} | ${r.tests} | ${r.m} | ${r.kill ? 'yes' : 'no'} | ${fmt(r.static)} | ${fmt(r.queue)} | ${fmt(r.hash)} | ${r.maxClaimCalls} | ${r.chunks} | ${r.exactlyOnce ? 'yes' : 'NO'}`);
const alive = rows.filter((r) => !r.kill);
const summary = {
  queueWorst: Math.max(...alive.map((r) => r.queue)),
  queueMedian: alive.map((r) => r.queue).sort((a, b) => a - b)[Math.floor(alive.length / 2)],
  staticMedian: alive.map((r) => r.static).sort((a, b) => a - b)[Math.floor(alive.length / 2)],
  hashMedian: alive.map((r) => r.hash).sort((a, b) => a - b)[Math.floor(alive.length / 2)],
  within105: alive.filter((r) => r.queue <= 1.05).length,
  cases: alive.length,
  maxClaimCalls: Math.max(...rows.map((r) => r.maxClaimCalls)),
  exactlyOnce: rows.every((r) => r.exactlyOnce),
};
console.log(`\nno shard killed: queue ≤ 1.05 in ${summary.within105}/${summary.cases}; median queue ${fmt(summary.queueMedian)}, static ${fmt(summary.staticMedian)}, hash ${fmt(summary.hashMedian)}; worst queue ${fmt(summary.queueWorst)}; claim calls per shard ≤ ${summary.maxClaimCalls}; every test exactly once: ${summary.exactlyOnce ? 'yes' : 'NO'}`);
writeFileSync(path.join(here, 'queue-results.json'), JSON.stringify({ date: new Date().toISOString().slice(0, 10), params: { STARTUP, JOB, SKEW, CLAIM, UNKNOWN, NOISE, seeds }, summary, rows }, null, 2) + '\n');
