#!/usr/bin/env node
// Fits the default risk model from the JIT fixtures and writes policy/risk-model.default.json.
//   node scripts/fit-risk-model.mjs [--check]
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(path.join(tmpdir(), 'risk-lib-'));
await bundle(path.join(root, 'packages/risk/bundle-entry.ts'), path.join(out, 'index.js'), { typeModuleDir: out });
const { fitDefaultModel, readJitCsv } = await import(path.join(out, 'index.js'));
const names = ['qt', 'openstack', 'go', 'gerrit'];
const datasets = names.map((name) => {
  const file = `packages/risk/test/fixtures/${name}.jit.csv`;
  return { name, rows: readJitCsv(readFileSync(path.join(root, file), 'utf8'), file), source: `${name}_k_feature.csv @ ZZR0/ISSTA21-JIT-DP 8e7874ec` };
});
const model = fitDefaultModel(datasets);
const text = JSON.stringify(model, null, 2) + '\n';
const target = path.join(root, 'policy/risk-model.default.json');
if (process.argv.includes('--check')) {
  const same = readFileSync(target, 'utf8') === text;
  console.log(same ? 'policy/risk-model.default.json is reproducible' : 'policy/risk-model.default.json differs from a fresh fit');
  process.exit(same ? 0 : 1);
}
writeFileSync(target, text);
console.log(`wrote ${path.relative(root, target)}`);
for (const [k, v] of Object.entries(model.provenance.evaluation)) console.log(`  ${k}: AUC ${v.auc} (lines added ${v.laAuc}), ECE ${v.ece} (${v.eceWithRepoBaseRate} with the repo's base rate), recall@20% ${v.recallAt20} (LA ${v.laRecallAt20})`);
