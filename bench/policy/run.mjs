// policy-gate on a 100k-file change (issue goal: evaluated in < 1 s).
// 1. Rule evaluation alone: 100k changed paths × a 24-rule policy, for each actor kind, against a
//    baseline that calls minimatch(file, glob) per pair as a hand-written gate would.
// 2. End to end on a real git repository whose head commit changes 100k files: the built
//    `maestro policy check` (git diff + policy from the base + evaluation), next to `git diff`
//    alone, which is the floor.
// Not a test: prints a table and writes bench/policy/results.json.
//
//   node bench/policy/run.mjs [--files 100000] [--runs 5]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLib } from '../build-lib.mjs';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const { values } = parseArgs({ options: { files: { type: 'string', default: '100000' }, runs: { type: 'string', default: '5' } } });
const N = Number(values.files);
const RUNS = Number(values.runs);
const lib = await buildLib(here);
const { loadPolicy, evaluatePaths } = lib;
const { minimatch } = await import(path.join(repo, 'packages/policy/node_modules/minimatch/dist/esm/index.js'));

const POLICY = `version: 1
mode: warn
paths:
${[
  ['infra-frozen', 'deny', '["infra/**"]', 'enforce'],
  ['infra-docs', 'allow', '["infra/**/*.md"]'],
  ['workflows', 'deny', '[".github/workflows/**"]', 'enforce'],
  ['codeowners', 'deny', '[".github/CODEOWNERS", "CODEOWNERS"]'],
  ['secrets-dir', 'deny', '["secrets/**", "**/.env", "**/.env.*"]', 'enforce'],
  ['lockfiles', 'deny', '["**/pnpm-lock.yaml", "**/package-lock.json", "**/yarn.lock"]'],
  ['migrations', 'deny', '["packages/*/migrations/**"]'],
  ['payments', 'deny', '["packages/payments/**"]'],
  ['payments-tests', 'allow', '["packages/payments/test/**"]'],
  ['generated', 'deny', '["**/*.generated.ts", "**/__generated__/**"]'],
  ['vendor', 'deny', '["vendor/**", "third_party/**"]'],
  ['release', 'deny', '["release/**", "CHANGELOG.md"]'],
  ['docker', 'deny', '["**/Dockerfile", "docker/**"]'],
  ['terraform', 'deny', '["**/*.tf", "**/*.tfvars"]'],
  ['k8s', 'deny', '["deploy/**/*.{yaml,yml}"]'],
  ['root-config', 'deny', '["tsconfig*.json", "package.json", "pnpm-workspace.yaml"]'],
  ['scripts', 'deny', '["scripts/release/**"]'],
  ['policy-file', 'deny', '["policy/**"]', 'enforce'],
  ['docs-open', 'allow', '["docs/**"]'],
  ['src-open', 'allow', '["packages/*/src/**"]'],
  ['tests-open', 'allow', '["packages/*/test/**"]'],
  ['binary-assets', 'deny', '["**/*.{png,jpg,zip,jar}"]'],
  ['db', 'deny', '["db/**"]'],
  ['agents-ci', 'deny', '["ci/**", ".ci/**"]'],
]
  .map(([id, effect, paths, mode]) => `  - id: ${id}\n    reason: bench rule ${id}\n    effect: ${effect}\n    paths: ${paths}\n${mode ? `    mode: ${mode}\n` : ''}`)
  .join('')}`;

/** A monorepo-shaped change: mostly package sources and tests, some infra, dotfiles, docs. */
function changedPaths(n) {
  const out = [];
  const kinds = [
    (i) => `packages/pkg-${i % 400}/src/mod-${i % 37}/file-${i}.ts`,
    (i) => `packages/pkg-${i % 400}/test/file-${i}.test.ts`,
    (i) => `docs/section-${i % 50}/page-${i}.md`,
    (i) => `infra/env-${i % 5}/module-${i % 40}/main-${i}.tf`,
    (i) => `packages/pkg-${i % 400}/src/__generated__/g-${i}.ts`,
    (i) => `services/svc-${i % 30}/.env.local-${i}`,
    (i) => `deploy/cluster-${i % 3}/app-${i}.yaml`,
    (i) => `packages/payments/src/p-${i}.ts`,
  ];
  const weights = [60, 20, 6, 4, 4, 2, 2, 2];
  const table = weights.flatMap((w, k) => Array(w).fill(k));
  for (let i = 0; i < n; i++) out.push(kinds[table[i % table.length]](i));
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function time(fn) {
  const t = [];
  let r;
  for (let i = 0; i < RUNS; i++) {
    const s = process.hrtime.bigint();
    r = fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return { ms: median(t), result: r };
}

const policy = loadPolicy(POLICY);
const paths = changedPaths(N);
const changes = paths.map((p) => ({ path: p, action: 'write' }));
const rows = [];
for (const actor of ['human', 'agent']) {
  const ours = time(() => evaluatePaths(policy, changes, actor));
  // Baseline: minimatch(file, glob) for every pair, then the same precedence.
  const naive = time(() => {
    let denied = 0;
    for (const f of paths) {
      let best;
      for (const r of policy.paths) for (const g of r.paths) if (minimatch(f, g, { dot: true })) best = !best || g.length > best.g.length ? { r, g } : best;
      if (best?.r.effect === 'deny') denied++;
    }
    return denied;
  });
  rows.push({ case: `evaluate ${N} paths, ${policy.paths.length} rules, actor ${actor}`, maestroMs: ours.ms, baselineMs: naive.ms, violations: ours.result.length, baselineViolations: naive.result });
}

// End to end on a real repository.
const dir = mkdtempSync(path.join(tmpdir(), 'policy-bench-'));
const git = (...a) => execFileSync('git', a, { cwd: dir, maxBuffer: 1 << 30, env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' } });
git('init', '-q', '-b', 'main');
mkdirSync(path.join(dir, 'policy'));
writeFileSync(path.join(dir, 'policy/rules.yaml'), POLICY);
git('add', '.');
git('commit', '-qm', 'base');
const t0 = Date.now();
for (const p of paths) {
  mkdirSync(path.join(dir, path.dirname(p)), { recursive: true });
  writeFileSync(path.join(dir, p), `${p}\n`);
}
execFileSync('git', ['add', '-A'], { cwd: dir });
git('commit', '-qm', `change ${N} files`);
const setupS = (Date.now() - t0) / 1000;
const cli = path.join(repo, 'packages/cli/dist/index.js');
const wall = (cmd, args) => {
  const t = [];
  let out;
  for (let i = 0; i < RUNS; i++) {
    const s = process.hrtime.bigint();
    out = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return { ms: median(t), out };
};
const diff = wall('git', ['diff', '--name-status', '-z', '--find-renames', 'HEAD~1', 'HEAD']);
const check = wall(process.execPath, [cli, 'policy', 'check', '--base', 'HEAD~1', '--json']);
const report = JSON.parse(check.out.stdout);
rows.push({ case: `maestro policy check, ${N}-file commit (git diff + evaluation)`, maestroMs: check.ms, baselineMs: diff.ms, violations: report.violations.length, baseline: 'git diff alone', changedFiles: report.changedFiles });
rmSync(dir, { recursive: true, force: true });

console.log(`\n| case | maestro (median of ${RUNS}) | baseline | violations |\n| --- | --- | --- | --- |`);
for (const r of rows) console.log(`| ${r.case} | ${r.maestroMs.toFixed(0)} ms | ${r.baselineMs.toFixed(0)} ms (${r.baseline ?? 'minimatch per pair'}) | ${r.violations} |`);
console.log(`\n(repository set-up: ${setupS.toFixed(1)} s, not timed)`);
writeFileSync(path.join(here, 'results.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, files: N, runs: RUNS, rows }, null, 2) + '\n');
