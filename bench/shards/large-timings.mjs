// Cost per entry of a large flat timing map (pytest-split / ci/test-timings.json shape): read,
// durations and a plan for a handful of tests against it, as the action's plan mode does.
// Not a test: prints µs per entry. The action refuses timing files over 50 MiB (~1M entries).
//
//   node bench/shards/large-timings.mjs [--entries 1000000] [--runs 3]
import { parseArgs } from 'node:util';
import { buildLib } from '../build-lib.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { entries: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' } } });
const { readTimings, durations, plan } = await buildLib(here);

const n = Number(values.entries);
const parts = [];
for (let i = 0; i < n; i++) parts.push(`"packages/p${i % 97}/test/t${i}.test.js": ${(i % 1000) / 7}`);
const text = `{${parts.join(',\n')}}\n`;
const tests = ['packages/p1/test/t1.test.js', 'packages/p2/test/t2.test.js', 'packages/new/test/brand-new.test.js'];
const times = [];
for (let r = 0; r < Number(values.runs); r++) {
  const t0 = performance.now();
  const src = readTimings(text, 'timings.json');
  const p = plan(tests, durations([src]), { shards: 2 });
  times.push(performance.now() - t0);
  if (p.count !== 2) throw new Error('unexpected plan');
}
times.sort((a, b) => a - b);
const median = times[times.length >> 1];
console.log(`${n} entries (${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1)} MiB): median ${median.toFixed(0)} ms, ${((median * 1000) / n).toFixed(2)} µs per entry`);
