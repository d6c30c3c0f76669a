import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FakeCacheService, GitFixture, assertContract, pullRequestEvent, pushEvent, runAction, scopesFor, type RunResult } from '@maestro/harness';

const actionDir = path.resolve('actions/allocate-shards');
const REPO = { owner: 'acme', name: 'shop' };
const json = (r: RunResult, name: string) => JSON.parse(r.outputs[name]!);

let cache: FakeCacheService;
let fx: GitFixture;
let workspace: string;
let sha: string;
const TESTS = Array.from({ length: 12 }, (_, i) => `packages/p${i % 3}/test/t${String(i).padStart(2, '0')}.test.js`);

beforeAll(async () => {
  expect(existsSync(path.join(actionDir, 'dist/index.js'))).toBe(true);
  cache = await FakeCacheService.start();
  fx = GitFixture.create();
  const files: Record<string, string> = { 'package.json': '{"name":"shop","private":true}\n', 'README.md': '# shop\n' };
  for (const t of TESTS) files[t] = `test('x', () => expect(1).toBe(1));\n`;
  // Timings: one slow file, the rest spread; two files have no measurement yet.
  const timings: Record<string, number> = {};
  TESTS.slice(0, 10).forEach((t, i) => (timings[t] = i === 0 ? 40 : 5 + i));
  files['ci/test-timings.json'] = JSON.stringify(timings, null, 2) + '\n';
  sha = fx.commit('tests', files);
  fx.push('main');
  workspace = fx.checkoutLike(sha, { depth: 1 });
});

afterAll(async () => {
  await cache?.stop();
  fx?.dispose();
});

const event = () => pushEvent({ repo: REPO, before: '0'.repeat(40), after: sha });

describe('allocate-shards bundle under runner-sim', () => {
  let planJson = '';

  test('plan: auto shard count, matrix of indices only, every test exactly once, coverage and giants reported', async () => {
    const r = await runAction({ actionDir, workspace, event: event(), env: cache.env(scopesFor('refs/heads/main')), with: { 'tests-glob': 'packages/**/*.test.js', timings: 'ci/test-timings.json', shards: 'auto', overhead: '5', 'max-shards': '8' } });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    const matrix = json(r, 'matrix');
    const count = Number(r.outputs['count']);
    expect(matrix).toEqual({ shard: Array.from({ length: count }, (_, i) => i + 1) });
    expect(count).toBeGreaterThanOrEqual(2);
    planJson = r.outputs['plan']!;
    const plan = JSON.parse(planJson);
    expect(plan.shards.flatMap((s: { items: string[] }) => s.items).sort()).toEqual([...TESTS].sort());
    expect(Number(r.outputs['coverage'])).toBeCloseTo(10 / 12, 3);
    expect(r.summary).toContain('## Test shards');
    expect(r.summary).toMatch(/Timing coverage: 83\.3 %/);
    expect(r.annotations.some((a) => /only 83 % of tests have timings/.test(a.message))).toBe(true);
    expect(existsSync(path.join(path.dirname(r.outputs['plan-path']!), 'maestro-jest-sequencer.cjs'))).toBe(true);
  });

  test('shard: each job gets its own list; the union is the whole suite', async () => {
    const plan = JSON.parse(planJson);
    const seen: string[] = [];
    for (const s of plan.shards) {
      const r = await runAction({ actionDir, workspace, event: event(), with: { mode: 'shard', plan: planJson, shard: String(s.index) } });
      assertContract(r);
      const files = json(r, 'files');
      expect(readFileSync(r.outputs['files-path']!, 'utf8')).toBe(files.map((f: string) => `${f}\n`).join(''));
      seen.push(...files);
    }
    expect(seen.sort()).toEqual([...TESTS].sort());
    const bad = await runAction({ actionDir, workspace, event: event(), with: { mode: 'shard', plan: planJson, shard: '99' } });
    expect(bad.conclusion).toBe('failure');
    expect(bad.log).toMatch(/shard 99 does not exist/);
  });

  test('the generated Jest sequencer runs exactly the plan’s shards with real jest --shard', async () => {
    const plan = JSON.parse(planJson);
    const dir = path.join(workspace, '.maestro-jest');
    mkdirSync(dir, { recursive: true });
    const planPath = path.join(dir, 'shard-plan.json');
    writeFileSync(planPath, planJson);
    const r0 = await runAction({ actionDir, workspace, event: event(), with: { mode: 'shard', plan: planJson, shard: '1' } });
    const seq = path.join(path.dirname(r0.outputs['plan-path']!), 'maestro-jest-sequencer.cjs');
    const jestBin = path.resolve('node_modules/jest/bin/jest.js');
    const ran: string[] = [];
    for (const s of plan.shards) {
      const config = JSON.stringify({ rootDir: workspace, testMatch: ['**/packages/**/*.test.js'], testSequencer: seq });
      const out = spawnSync(process.execPath, [jestBin, '--config', config, `--shard=${s.index}/${plan.count}`, '--listTests'], {
        cwd: path.resolve('.'),
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '', MAESTRO_SHARD_PLAN: planPath, MAESTRO_SHARD_ROOT: workspace },
      });
      expect({ status: out.status, stderr: out.status ? out.stderr.slice(0, 800) : '' }).toEqual({ status: 0, stderr: '' });
      const listed = out.stdout.trim().split('\n').filter(Boolean).map((p) => path.relative(workspace, p).split(path.sep).join('/')).sort();
      expect(listed).toEqual([...s.items].sort());
      ran.push(...listed);
    }
    expect(ran.sort()).toEqual([...TESTS].sort());
  });

  test('the generated Vitest sequencer runs exactly the plan’s shards with real vitest --shard', async () => {
    const plan = JSON.parse(planJson);
    const r0 = await runAction({ actionDir, workspace, event: event(), with: { mode: 'shard', plan: planJson, shard: '1' } });
    const dir = path.dirname(r0.outputs['plan-path']!);
    const config = path.join(workspace, 'vitest.maestro.config.mjs');
    writeFileSync(config, `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nexport default { test: { globals: true, include: ['packages/**/*.test.js'], sequence: { sequencer: require(${JSON.stringify(path.join(dir, 'maestro-vitest-sequencer.cjs'))}) } } };\n`);
    const vitestBin = path.resolve('node_modules/vitest/vitest.mjs');
    // The project has its dependencies installed (the sequencer resolves vitest from the project).
    symlinkSync(path.resolve('node_modules'), path.join(workspace, 'node_modules'));
    const ran: string[] = [];
    for (const s of plan.shards) {
      const out = path.join(workspace, `vitest-${s.index}.json`);
      const res = spawnSync(process.execPath, [vitestBin, 'run', '--root', workspace, '--config', config, `--shard=${s.index}/${plan.count}`, '--reporter=json', `--outputFile=${out}`], {
        cwd: workspace,
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '', MAESTRO_SHARD_PLAN: path.join(dir, 'shard-plan.json'), CI: 'true' },
      });
      expect({ status: res.status, stderr: res.status ? res.stderr.slice(0, 800) : '' }).toEqual({ status: 0, stderr: '' });
      const report = JSON.parse(readFileSync(out, 'utf8')) as { testResults: Array<{ name: string }> };
      const listed = report.testResults.map((t) => path.relative(workspace, t.name).split(path.sep).join('/')).sort();
      expect(listed).toEqual([...s.items].sort());
      ran.push(...listed);
    }
    expect(ran.sort()).toEqual([...TESTS].sort());
    rmSync(path.join(workspace, 'node_modules'));
  });

  test('collect: JUnit from all shards goes into the cached store (retries not counted, flakes found); the next plan uses it', async () => {
    const reports = path.join(workspace, 'reports');
    mkdirSync(reports, { recursive: true });
    const tc = (file: string, time: number, extra = '') => `<testcase classname="x" name="y" file="${file}" time="${time}">${extra}</testcase>`;
    writeFileSync(path.join(reports, 'shard-1.xml'), `<testsuites><testsuite name="a">${TESTS.slice(0, 6).map((t) => tc(t, 3)).join('')}</testsuite></testsuites>`);
    // Shard 2: the last test failed, then passed on retry (flaky); its retry time must not count.
    const last = TESTS[11]!;
    writeFileSync(path.join(reports, 'shard-2.xml'), `<testsuites><testsuite name="b">${TESTS.slice(6, 11).map((t) => tc(t, 3)).join('')}${tc(last, 2, '<failure>boom</failure>')}${tc(last, 50)}</testsuite></testsuites>`);
    const env = cache.env(scopesFor('refs/heads/main'));
    const r = await runAction({ actionDir, workspace, event: event(), env, with: { mode: 'collect', reports: 'reports' } });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(Number(r.outputs['coverage'])).toBe(1);
    expect(Number(r.outputs['flake-rate'])).toBeCloseTo(1 / 12, 4);
    expect(json(r, 'quarantine')).toEqual([]); // once is not yet a pattern
    expect(r.summary).toContain(`Flaky this run** (failed, then passed on retry): \`${last}::x::y\``);
    const store = JSON.parse(readFileSync(r.outputs['store-path']!, 'utf8'));
    expect(store.tests[last].samples).toEqual([2]);
    expect(cache.entries.filter((e) => e.finalized && e.key.startsWith('maestro-timings-file-'))).toHaveLength(1);

    // Next plan on a fresh runner: the store comes back from the cache and covers every test.
    const fresh = fx.checkoutLike(sha, { depth: 1 });
    const p = await runAction({ actionDir, workspace: fresh, event: event(), env, with: { 'tests-glob': 'packages/**/*.test.js', shards: '3' } });
    assertContract(p);
    expect(Number(p.outputs['coverage'])).toBe(1);
    expect(p.log).toMatch(/timing store restored from cache key maestro-timings-file-/);
    expect(Number(p.outputs['skew'])).toBeLessThan(0.1);
  });

  test('collect on a pull request merges but does not save the store (only green default-branch runs refresh it)', async () => {
    const reports = path.join(workspace, 'reports');
    const before = cache.entries.filter((e) => e.finalized).length;
    const pr = pullRequestEvent({ repo: REPO, number: 3, base: sha, head: sha, merge: sha });
    const r = await runAction({ actionDir, workspace, event: pr, env: cache.env(scopesFor('refs/pull/3/merge')), with: { mode: 'collect', reports: path.relative(workspace, reports) } });
    expect(r.conclusion).toBe('success');
    expect(r.log).toMatch(/timing store not saved: refs\/pull\/3\/merge is not the default branch \(main\)/);
    expect(cache.entries.filter((e) => e.finalized)).toHaveLength(before);
  });

  test('bad input: malformed JUnit names file and line; negative durations; no tests; an empty list', async () => {
    mkdirSync(path.join(workspace, 'bad'), { recursive: true });
    writeFileSync(path.join(workspace, 'bad/junit.xml'), '<testsuites>\n<testsuite name="a">\n<testcase name="x" time="1">\n</testsuites>\n');
    const r = await runAction({ actionDir, workspace, event: event(), with: { mode: 'collect', reports: 'bad', store: 'off' } });
    expect(r.conclusion).toBe('failure');
    const err = r.annotations.find((a) => a.level === 'error')!;
    expect(err.file).toBe('bad/junit.xml');
    expect(err.line).toBeGreaterThanOrEqual(3);
    writeFileSync(path.join(workspace, 'bad/t.json'), '{"a.test.js": -3}\n');
    const neg = await runAction({ actionDir, workspace, event: event(), with: { tests: 'a.test.js', timings: 'bad/t.json', store: 'off' } });
    expect(neg.conclusion).toBe('failure');
    expect(neg.log).toMatch(/duration of 'a\.test\.js' is -3/);
    const none = await runAction({ actionDir, workspace, event: event(), with: { store: 'off' } });
    expect(none.conclusion).toBe('failure');
    expect(none.log).toMatch(/no tests given .*Fix: set `tests`, `tests-glob` or `tests-file`/);
    const empty = await runAction({ actionDir, workspace, event: event(), with: { tests: '[]', store: 'off' } });
    // Nothing affected: success with any=false and an empty matrix, never a failing empty job.
    expect(empty.conclusion).toBe('success');
    expect(empty.outputs['any']).toBe('false');
    expect(json(empty, 'matrix')).toEqual({ shard: [] });
    expect(empty.annotations.some((a) => /no tests to shard/.test(a.message))).toBe(true);
  });
});
