// risk-score on data nobody here fitted on: seven public JIT data sets (packages/risk/test/fixtures/unseen/, MIT, from
// ZZR0/ISSTA21-JIT-DP; see its README.md) — two projects the default model never saw (Eclipse JDT and
// Platform, two time windows each) and the 2011–2014 windows of three of the four projects it was fitted
// on (fitted on 2015–2018). Time-ordered 70/30 split per file; the newest 30 % is never used to fit.
// Each model's AUC on that part with a paired bootstrap 95 % interval of its difference to lines added.
// Not a test.
//   node bench/risk/unseen.mjs [--resamples 1000]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { buildLib } from '../build-lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { resamples: { type: 'string', default: '1000' } } });
const B = Number(values.resamples);
const { auc, ece, fit, fitAnchored, readJitCsv, score, DEFAULT_MODEL, seededRandom: rng } = await buildLib(here);

const SETS = [
  ['jdt', 'Eclipse JDT 2014–2016 (unseen project)'],
  ['jdt.old', 'Eclipse JDT 2011–2014 (unseen project)'],
  ['platform', 'Eclipse Platform 2015–2018 (unseen project)'],
  ['platform.old', 'Eclipse Platform 2011–2014 (unseen project)'],
  ['openstack.old', 'OpenStack 2011–2014 (earlier window of a fitted project)'],
  ['go.old', 'Go 2011–2014 (earlier window of a fitted project)'],
  ['gerrit.old', 'Gerrit 2011–2014 (earlier window of a fitted project)'],
];

/** AUC of a resample given as per-row multiplicities, over rows pre-sorted by score (O(n) per resample). */
function weightedAuc(order, s, y, w) {
  let negBelow = 0, num = 0, P = 0, N = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    let pos = 0, neg = 0;
    while (j < order.length && s[order[j]] === s[order[i]]) {
      const k = order[j];
      if (y[k]) pos += w[k]; else neg += w[k];
      j++;
    }
    num += pos * (negBelow + neg / 2);
    negBelow += neg;
    P += pos;
    N += neg;
    i = j;
  }
  return P && N ? num / (P * N) : NaN;
}

const r3 = (x) => Math.round(x * 1000) / 1000;
const pct = (xs, q) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.max(0, Math.floor(q * (v.length - 1))))];
};

const rows = [];
for (const [name, label] of SETS) {
  const data = readJitCsv(gunzipSync(readFileSync(path.join(here, '../../packages/risk/test/fixtures/unseen', `${name}.lapredict.csv.gz`))).toString('utf8'), name);
  const cut = Math.floor(data.length * 0.7);
  const train = data.slice(0, cut);
  const test = data.slice(cut);
  const y = test.map((r) => r.y);
  const anchored = fitAnchored(train);
  const own = fit(train);
  const scores = {
    'lines added': test.map((r) => r.x.la),
    'default model': test.map((r) => score(DEFAULT_MODEL, r.x, 0).probability),
    'per-repository LR (train 70 %)': test.map((r) => score(own, r.x, 0).probability),
    'calibrate (anchored to lines added)': test.map((r) => score(anchored.model, r.x, 0).probability),
  };
  const orders = Object.fromEntries(Object.entries(scores).map(([k, s]) => [k, s.map((_, i) => i).sort((a, b) => s[a] - s[b])]));
  // Paired bootstrap: the same resample for every model, so differences keep their pairing.
  const next = rng(0x5eed ^ name.length * 7919);
  const boot = Object.fromEntries(Object.keys(scores).map((k) => [k, []]));
  const w = new Float64Array(test.length);
  for (let b = 0; b < B; b++) {
    w.fill(0);
    for (let i = 0; i < test.length; i++) w[Math.floor(next() * test.length)]++;
    for (const k of Object.keys(scores)) boot[k].push(weightedAuc(orders[k], scores[k], y, w));
  }
  const la = boot['lines added'];
  for (const [model, s] of Object.entries(scores)) {
    const diffs = boot[model].map((v, i) => v - la[i]);
    const lo = pct(diffs, 0.025), hi = pct(diffs, 0.975);
    const a = auc(s, y);
    rows.push({
      data: name, label, rows: test.length, positives: y.reduce((p, v) => p + v, 0), model, auc: r3(a),
      ci: [r3(pct(boot[model], 0.025)), r3(pct(boot[model], 0.975))],
      vsLa: model === 'lines added' ? null : { diff: r3(a - auc(scores['lines added'], y)), ci: [r3(lo), r3(hi)], verdict: lo > 0 ? 'better' : hi < 0 ? 'worse' : 'tied' },
      ece: model === 'lines added' ? null : r3(ece(s, y)),
      ...(model.startsWith('calibrate') ? { choice: anchored.choice } : {}),
    });
  }
  console.error(`${name}: done (${test.length} test rows)`);
}
const summary = {};
for (const model of ['default model', 'per-repository LR (train 70 %)', 'calibrate (anchored to lines added)']) {
  const mine = rows.filter((r) => r.model === model);
  const laRows = rows.filter((r) => r.model === 'lines added');
  summary[model] = {
    aucRange: [Math.min(...mine.map((r) => r.auc)), Math.max(...mine.map((r) => r.auc))],
    meanAuc: r3(mine.reduce((a, r) => a + r.auc, 0) / mine.length),
    meanLaAuc: r3(laRows.reduce((a, r) => a + r.auc, 0) / laRows.length),
    better: mine.filter((r) => r.vsLa.verdict === 'better').length,
    tied: mine.filter((r) => r.vsLa.verdict === 'tied').length,
    worse: mine.filter((r) => r.vsLa.verdict === 'worse').map((r) => r.data),
    eceRange: [Math.min(...mine.map((r) => r.ece)), Math.max(...mine.map((r) => r.ece))],
  };
}
writeFileSync(path.join(here, 'unseen-results.json'), JSON.stringify({ date: new Date().toISOString(), resamples: B, rows, summary }, null, 2) + '\n');
const lines = ['| data | test rows (defects) | model | AUC [95 % CI] | Δ vs lines added [95 % CI] | verdict | ECE |', '| --- | --- | --- | --- | --- | --- | --- |'];
for (const r of rows) lines.push(`| ${r.label} | ${r.rows} (${r.positives}) | ${r.model} | ${r.auc} [${r.ci[0]}, ${r.ci[1]}] | ${r.vsLa ? `${r.vsLa.diff > 0 ? '+' : ''}${r.vsLa.diff} [${r.vsLa.ci[0]}, ${r.vsLa.ci[1]}]` : '—'} | ${r.vsLa?.verdict ?? '—'} | ${r.ece ?? '—'} |`);
lines.push('', '| model | AUC range | mean AUC (lines added) | vs lines added: better / tied / worse | ECE range |', '| --- | --- | --- | --- | --- |');
for (const [m, s] of Object.entries(summary)) lines.push(`| ${m} | ${s.aucRange[0]}–${s.aucRange[1]} | ${s.meanAuc} (${s.meanLaAuc}) | ${s.better} / ${s.tied} / ${s.worse.length}${s.worse.length ? ` (${s.worse.join(', ')})` : ''} | ${s.eceRange[0]}–${s.eceRange[1]} |`);
writeFileSync(path.join(here, 'unseen-results.md'), lines.join('\n') + '\n');
console.log(lines.join('\n'));
