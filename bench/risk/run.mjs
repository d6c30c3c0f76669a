// risk-score model vs lines-added alone, on the four public JIT data sets (time-aware: train on the first
// 70 % of commits by date, test on the last 30 %). Reads ../shared/data/jit directly. Not a test.
//   node bench/risk/run.mjs [--data ../shared/data/jit]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildLib } from '../build-lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const { values } = parseArgs({ options: { data: { type: 'string', default: path.resolve(repo, '../shared/data/jit') } } });
const { auc, ece, fit, fitAnchored, readJitCsv, recallAtBudget, score, seedScore, withBaseRate, DEFAULT_MODEL } = await buildLib(here);

const r3 = (x) => Math.round(x * 1000) / 1000;
/** The seed's KPI "FN = 0, FP < 15 %": what catching every defect costs, and what FP 15 % catches. */
function costOfSeedKpi(s, y) {
  const order = s.map((v, i) => [v, y[i]]).sort((a, b) => b[0] - a[0]);
  const P = y.filter((v) => v === 1).length;
  const N = y.length - P;
  let tp = 0, fp = 0, fprAtFullRecall = 1, recallAtFpr15 = 0;
  for (const [, label] of order) {
    if (label === 1) tp++; else fp++;
    if (tp === P && fprAtFullRecall === 1) fprAtFullRecall = fp / N;
    if (fp / N <= 0.15) recallAtFpr15 = tp / P;
  }
  return { fprAtFullRecall: r3(fprAtFullRecall), recallAtFpr15: r3(recallAtFpr15) };
}
const rows = [];
for (const name of ['qt', 'openstack', 'go', 'gerrit']) {
  // The shared files carry a pandas index and a label-duplicate column; readJitCsv picks columns by name.
  const data = readJitCsv(readFileSync(path.join(values.data, `${name}.lapredict.csv`), 'utf8'), name);
  const cut = Math.floor(data.length * 0.7);
  const train = data.slice(0, cut);
  const test = data.slice(cut);
  const y = test.map((r) => r.y);
  const la = test.map((r) => r.x.la);
  const own = fit(train);
  const recent = fit(train.filter((r) => r.date >= train[train.length - 1].date - 182 * 86400));
  const shifted = withBaseRate(DEFAULT_MODEL, train.reduce((a, r) => a + r.y, 0) / train.length);
  // The seed's weighted sum with the closest columns the data has (as in shared/research/risk.md §3a):
  // loc = la + ld, files = nf, owners = ndev; the other six signals are not in the data and enter as the seed's 0.
  const seed = test.map((r) => seedScore({ locChanged: r.x.la + r.x.ld, filesTouched: r.x.nf, ownersTouched: r.x.ndev }).score);
  // What `maestro risk calibrate` fits: window and lines-added anchor chosen on the newest 30 % of the
  // training part (never on the test part), then recalibrated on it.
  const anchored = fitAnchored(train);
  console.error(`${name}: calibrate's fit chose a ${anchored.choice.windowDays}-day window, lines-added weight ${anchored.choice.laWeight} (validation AUC ${anchored.choice.validationAuc})`);
  const evals = { 'seed formula': seed, 'lines added': la, 'default model (pooled, all four)': test.map((r) => score(DEFAULT_MODEL, r.x, 0).probability), 'default + repo base rate': test.map((r) => score(shifted, r.x, 0).probability), 'repo LR (train 70 %)': test.map((r) => score(own, r.x, 0).probability), 'repo LR (last 6 months)': test.map((r) => score(recent, r.x, 0).probability), 'repo model (calibrate: anchored to lines added)': test.map((r) => score(anchored.model, r.x, 0).probability) };
  for (const [model, s] of Object.entries(evals)) {
    // The seed's own gate, "reviewer if score ≥ 0.70": the share of changes it flags and of defects it catches.
    const at70 = model === 'lines added' ? null : { flagged: r3(s.filter((v) => v >= 0.7).length / s.length), caught: r3(s.filter((v, i) => v >= 0.7 && y[i] === 1).length / y.filter((v) => v === 1).length) };
    // ECE needs probabilities: neither lines added nor the seed's weighted sum is one.
    rows.push({ data: name, model, auc: r3(auc(s, y)), recallAt20: r3(recallAtBudget(s, y, 0.2)), ece: model === 'lines added' || model === 'seed formula' ? null : r3(ece(s, y)), ...costOfSeedKpi(s, y), at70 });
  }
}
writeFileSync(path.join(here, 'results.json'), JSON.stringify({ date: new Date().toISOString(), rows }, null, 2) + '\n');
const lines = ['| data | model | AUC | recall @ 20 % budget | ECE | FN = 0 costs (share of clean changes flagged) | recall at FP 15 % | score ≥ 0.70: flagged / caught |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
for (const r of rows) lines.push(`| ${r.data} | ${r.model} | ${r.auc} | ${r.recallAt20} | ${r.ece ?? '—'} | ${r.fprAtFullRecall} | ${r.recallAtFpr15} | ${r.at70 ? `${r.at70.flagged} / ${r.at70.caught}` : '—'} |`);
writeFileSync(path.join(here, 'results.md'), lines.join('\n') + '\n');
console.log(lines.join('\n'));
