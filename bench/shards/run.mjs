// allocate-shards planner vs the seed's greedy LPT and Jest/Vitest's built-in hash split, on every
// real timing file in ../shared/data/timings plus synthetic Pareto suites; a stale-timings case
// (30 % of entries unknown, judged by the true durations); and planning time for 100k tests.
// Not a test: prints tables and writes bench/shards/results.json.
//
//   node bench/shards/run.mjs [--data ../shared/data/timings]
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLib } from '../build-lib.mjs';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const { values } = parseArgs({ options: { data: { type: 'string', default: path.resolve(repo, '../shared/data/timings') } } });
// The planner under test: the same source the action bundles, built fresh with ncc.
const lib = await buildLib(here);
const { plan, atGranularity, durations, readTimings } = lib;

const sha1 = (s) => createHash('sha1').update(s).digest('hex');
const lbOf = (xs, m) => Math.max(Math.max(...xs), xs.reduce((a, b) => a + b, 0) / m);

function seedGreedy(t, m) {
  // The seed's allocator: sort by time descending, each file into the lightest bucket (no improvement).
  const loads = new Array(m).fill(0);
  for (const [, v] of [...t].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    let i = 0;
    for (let j = 1; j < m; j++) if (loads[j] < loads[i]) i = j;
    loads[i] += v;
  }
  return Math.max(...loads);
}

function hashSplit(t, m) {
  const keys = [...t.keys()].sort((a, b) => (sha1(a) < sha1(b) ? -1 : 1));
  const per = Math.ceil(keys.length / m);
  let worst = 0;
  for (let i = 0; i < keys.length; i += per) worst = Math.max(worst, keys.slice(i, i + per).reduce((a, k) => a + t.get(k), 0));
  return worst;
}

function pareto(n, seed, alpha = 1.3) {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  return new Map(Array.from({ length: n }, (_, i) => [`synthetic/p${seed}/test_${String(i).padStart(6, '0')}.spec.ts`, Math.round((1 / Math.pow(1 - rnd(), 1 / alpha)) * 1000) / 1000]));
}

const suites = [];
for (const f of readdirSync(values.data).filter((f) => f.endsWith('.json')).sort()) {
  const src = readTimings(readFileSync(path.join(values.data, f), 'utf8'), f);
  suites.push({ name: f.replace(/\.json$/, ''), t: atGranularity(durations([src]), 'file') });
}
suites.push({ name: 'pareto-2000 (seed 1)', t: pareto(2000, 1) }, { name: 'pareto-5000 (seed 2)', t: pareto(5000, 2) });

const rows = [];
for (const { name, t } of suites) {
  const xs = [...t.values()];
  for (const m of [4, 8, 16, 32]) {
    const lb = lbOf(xs, m);
    const p = plan([...t.keys()], t, { shards: m });
    // Stale: 30 % of entries unknown (every 10 keys, the first 3), plan judged by true durations.
    const hidden = new Map([...t].filter((_, i) => i % 10 >= 3));
    const ps = plan([...t.keys()], hidden, { shards: m });
    const stale = Math.max(...ps.shards.map((s) => s.items.reduce((a, k) => a + t.get(k), 0)));
    rows.push({ suite: name, m, lb: +lb.toFixed(1), maestro: +(p.makespan / lb).toFixed(3), seed: +(seedGreedy(t, m) / lb).toFixed(3), hash: +(hashSplit(t, m) / lb).toFixed(3), stale30: +(stale / lb).toFixed(3), pmaxBound: Math.max(...xs) >= xs.reduce((a, b) => a + b, 0) / m });
  }
}

// Planning time for 100k tests (median of 5).
const big = pareto(100_000, 3);
const keys = [...big.keys()];
const times = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  plan(keys, big, { shards: 32 });
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const planMs = Math.round(times[2]);

writeFileSync(path.join(here, 'results.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, rows, plan100kMs: planMs }, null, 2) + '\n');
console.log('| suite | m | LB s | maestro | seed greedy | jest/vitest hash | maestro, 30 % unknown |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.suite} | ${r.m} | ${r.lb}${r.pmaxBound ? '*' : ''} | ${r.maestro} | ${r.seed} | ${r.hash} | ${r.stale30} |`);
const max = (k) => Math.max(...rows.map((r) => r[k]));
const within = (k, x) => rows.filter((r) => r[k] <= x).length;
console.log(`\nmaestro fresh: worst ${max('maestro')} × LB (${within('maestro', 1.01)}/${rows.length} cases ≤ 1.01); 30 % unknown: ${within('stale30', 1.1)}/${rows.length} cases ≤ 1.10, worst ${max('stale30')}; planning 100k tests × 32 shards: ${planMs} ms median`);
