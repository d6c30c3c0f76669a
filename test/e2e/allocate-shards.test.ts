import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FakeCacheService, GitFixture, assertContract, node24Path, pullRequestEvent, pushEvent, runAction, scopesFor, type RunResult } from '@maestro/harness';

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

// ---------------------------------------------------------------------------------------------
// Security review findings: timing-store data loss, large plans, symlinks, clear errors.

/** The HOME runner-sim gives every step of this test process (one path, like /home/runner on hosted runners). */
const simHome = () => path.join(tmpdir(), `runner-sim-home-${process.pid}`);
const STORE_DIR = '.maestro-timings';

/**
 * Save or read a timing store in the fake cache with the real @actions/cache, the way the action
 * does (`~/.maestro-timings`, same HOME and workspace, so the archive unpacks where the action
 * looks). Async: the fake cache answers from this process.
 */
async function cacheStore(op: 'save' | 'restore', key: string, content?: unknown): Promise<{ key?: string; store?: any }> {
  const home = simHome();
  rmSync(home, { recursive: true, force: true });
  mkdirSync(path.join(home, STORE_DIR), { recursive: true });
  if (content !== undefined) writeFileSync(path.join(home, STORE_DIR, 'maestro-timing-store.json'), JSON.stringify(content));
  const lib = pathToFileURL(path.join(realpathSync(path.resolve('actions/allocate-shards/node_modules/@actions/cache')), 'lib/cache.js')).href;
  const dir = mkdtempSync(path.join(tmpdir(), 'cache-helper-'));
  const script = path.join(dir, 'helper.mjs');
  writeFileSync(
    script,
    `const cache = await import(${JSON.stringify(lib)});
const [op, key] = process.argv.slice(2);
const r = op === 'save' ? await cache.saveCache(['~/${STORE_DIR}'], key) : await cache.restoreCache(['~/${STORE_DIR}'], key, [key]);
process.stdout.write('\\nRESULT ' + JSON.stringify(r ?? null) + '\\n');
`,
  );
  const env = { PATH: process.env['PATH'] ?? '', HOME: home, GITHUB_WORKSPACE: workspace, RUNNER_TEMP: dir, ...cache.env(scopesFor('refs/heads/main')) };
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(node24Path() ?? process.execPath, [script, op, key], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => (text += c.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(text));
  });
  const result = JSON.parse(/RESULT (.*)/.exec(out)?.[1] ?? 'null');
  rmSync(dir, { recursive: true, force: true });
  if (op === 'save') {
    if (result === -1 || result === null) throw new Error(`seeding ${key} failed:\n${out}`);
    return { key };
  }
  const file = path.join(home, STORE_DIR, 'maestro-timing-store.json');
  return result ? { key: result, store: JSON.parse(readFileSync(file, 'utf8')) } : {};
}

const tcase = (file: string, time: number, name = 'y', extra = '') => `<testcase classname="x" name="${name}" file="${file}" time="${time}">${extra}</testcase>`;
const junit = (cases: string[]) => `<testsuites><testsuite name="s">${cases.join('')}</testsuite></testsuites>\n`;
const writeReports = (dir: string, files: Record<string, string>) => {
  const abs = path.join(workspace, dir);
  rmSync(abs, { recursive: true, force: true });
  mkdirSync(abs, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(abs, f), text);
  return dir;
};
const mainEnv = () => cache.env(scopesFor('refs/heads/main'));
const finalized = (prefix: string) => cache.entries.filter((e) => e.finalized && e.key.startsWith(prefix)).map((e) => e.key).sort();
const errors = (r: RunResult) => r.annotations.filter((a) => a.level === 'error');
const warnings = (r: RunResult) => r.annotations.filter((a) => a.level === 'warning');

/** A loopback proxy in front of the fake cache that runs `before` once, when the first request matching `when` arrives. */
async function holdingProxy(when: (rpc: string, body: Record<string, unknown>) => boolean, before: () => Promise<void>): Promise<{ url: string; server: Server; fired: () => boolean }> {
  let fired = false;
  const target = new URL(cache.url);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const rpc = (req.url ?? '').split('/').pop() ?? '';
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        // blob uploads are not JSON
      }
      if (!fired && when(rpc, parsed)) {
        fired = true;
        await before();
      }
      const fwd = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      });
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server, fired: () => fired };
}

describe('allocate-shards: timing store integrity (bundle under runner-sim)', () => {
  test('two collects racing on the same generation: the store ends with both runs’ timings and flake counts', async () => {
    const key = 'race';
    const flaky = (f: string) => [tcase(f, 1, 'flaky', '<failure>boom</failure>'), tcase(f, 1, 'flaky')];
    const r0 = writeReports('race/r0', { 'r.xml': junit([tcase('t/zero.test.js', 5), tcase('t/f.test.js', 1, 'flaky')]) });
    const ra = writeReports('race/a', { 'r.xml': junit([tcase('t/a.test.js', 3), ...flaky('t/f.test.js')]) });
    const rb = writeReports('race/b', { 'r.xml': junit([tcase('t/b.test.js', 4), ...flaky('t/f.test.js')]) });
    const collect = (reports: string, id: number, env: Record<string, string>) =>
      runAction({ actionDir, workspace, event: event(), env, run: { id }, timeoutMs: 170_000, with: { mode: 'collect', reports, 'store-key': key } });
    const first = await collect(r0, 9_000_000_001, mainEnv());
    expect(first.conclusion).toBe('success');
    expect(finalized('race-file-gen-')).toEqual(['race-file-gen-1']);

    // B restores generation 1 and tries to create generation 2; just before its create reaches the
    // cache, A runs from start to end (restores 1, saves 2). No timing involved: the proxy holds B's request.
    let a: RunResult | undefined;
    const proxy = await holdingProxy(
      (rpc, body) => rpc === 'CreateCacheEntry' && body['key'] === 'race-file-gen-2',
      async () => {
        a = await collect(ra, 9_000_000_002, mainEnv());
      },
    );
    try {
      const b = await collect(rb, 9_000_000_003, { ...mainEnv(), ACTIONS_RESULTS_URL: proxy.url });
      expect(proxy.fired()).toBe(true);
      assertContract(a!);
      assertContract(b);
      expect([a!.conclusion, b.conclusion]).toEqual(['success', 'success']);
      expect(a!.log).toMatch(/timing store saved as race-file-gen-2\b/);
      expect(b.log).toMatch(/timing store saved as race-file-gen-3 after 1 concurrent update\(s\) by other runs, merged in/);
    } finally {
      proxy.server.close();
    }
    expect(finalized('race-file-gen-')).toEqual(['race-file-gen-1', 'race-file-gen-2', 'race-file-gen-3']);
    const { key: newest, store } = await cacheStore('restore', 'race-file-gen-');
    expect(newest).toBe('race-file-gen-3');
    expect(Object.keys(store.tests).sort()).toEqual(['t/a.test.js', 't/b.test.js', 't/f.test.js', 't/zero.test.js']);
    expect(store.tests['t/a.test.js'].samples).toEqual([3]);
    expect(store.tests['t/b.test.js'].samples).toEqual([4]);
    expect(store.flakes['t/f.test.js::x::flaky']).toMatchObject({ runs: 3, flaky: 2 });
    expect(store.runs).toBe(3);
    expect(store.generation).toBe(3);
    expect(store.merged.map((m: { runId: string }) => m.runId)).toEqual(['9000000001', '9000000002', '9000000003']);

    // A re-run of B's collect (same run, same attempt) finds itself in the newest generation and saves nothing.
    const again = await collect(rb, 9_000_000_003, mainEnv());
    expect(again.conclusion).toBe('success');
    expect(again.summary).toMatch(/already merged into race-file-gen-3/);
    expect(finalized('race-file-gen-')).toHaveLength(3);
  });

  test('a store written by a newer format (version 2) is never read or overwritten', async () => {
    await cacheStore('save', 'v2-file-gen-5', { version: 2, kind: 'maestro-timing-store', granularity: 'file', shape: 'new', tests: [] });
    const plan = await runAction({ actionDir, workspace, event: event(), env: mainEnv(), with: { 'tests-glob': 'packages/**/*.test.js', timings: 'ci/test-timings.json', 'store-key': 'v2' } });
    assertContract(plan);
    expect(plan.conclusion).toBe('success');
    expect(warnings(plan).some((w) => /the cached timing store \(v2-file-gen-5\) was written by a newer allocate-shards \(format 2\); planning without it/.test(w.message))).toBe(true);
    expect(Number(plan.outputs['coverage'])).toBeCloseTo(10 / 12, 3);
    const reports = writeReports('v2reports', { 'r.xml': junit([tcase(TESTS[0]!, 2)]) });
    const collect = await runAction({ actionDir, workspace, event: event(), env: mainEnv(), with: { mode: 'collect', reports, 'store-key': 'v2' } });
    assertContract(collect);
    expect(collect.conclusion).toBe('success');
    expect(warnings(collect).some((w) => /timing store not saved: the newest cached store \(v2-file-gen-5\) was written by a newer allocate-shards \(format 2\); this run's 1 timings and its flake counts were not saved/.test(w.message))).toBe(true);
    expect(Object.keys(collect.outputs).sort()).toEqual(['coverage', 'flake-rate', 'quarantine', 'store-path']);
    expect(finalized('v2-')).toEqual(['v2-file-gen-5']);
    const { store } = await cacheStore('restore', 'v2-file-gen-');
    expect(store).toMatchObject({ version: 2, shape: 'new' });
  });

  test('malformed entries in the cached store are dropped and counted; plan and collect go on with the rest', async () => {
    const good = { samples: [7], p50: 7, p85: 7, unseen: 0, lastSeen: 't' };
    await cacheStore('save', 'bad-file-gen-3', {
      version: 1,
      kind: 'maestro-timing-store',
      granularity: 'file',
      updated: 't',
      runs: 2,
      tests: { [TESTS[0]!]: good, [TESTS[1]!]: { samples: 'x' } },
      flakes: { [`${TESTS[0]}::x::y`]: { runs: 2, flaky: 1 }, 'bad::flake': { runs: -1, flaky: 0 } },
    });
    const plan = await runAction({ actionDir, workspace, event: event(), env: mainEnv(), with: { tests: TESTS.slice(0, 2).join(','), shards: '2', 'store-key': 'bad' } });
    assertContract(plan);
    expect(plan.conclusion).toBe('success');
    expect(warnings(plan).some((w) => /\(bad-file-gen-3\) had 1 malformed timing entry, 1 malformed flake entry; they were dropped and the rest kept/.test(w.message))).toBe(true);
    expect(Number(plan.outputs['coverage'])).toBe(0.5);
    const reports = writeReports('badreports', { 'r.xml': junit([tcase(TESTS[2]!, 2)]) });
    const collect = await runAction({ actionDir, workspace, event: event(), env: mainEnv(), with: { mode: 'collect', reports, 'store-key': 'bad' } });
    assertContract(collect);
    expect(collect.conclusion).toBe('success');
    expect(collect.log).toMatch(/timing store saved as bad-file-gen-4\b/);
    const { store } = await cacheStore('restore', 'bad-file-gen-');
    expect(Object.keys(store.tests).sort()).toEqual([TESTS[0], TESTS[2]].sort());
    expect(store.flakes).toEqual({ [`${TESTS[0]}::x::y`]: { runs: 2, flaky: 1 }, [`${TESTS[2]}::x::y`]: { runs: 1, flaky: 0 } });
  });

  test('one truncated shard report is skipped with a warning naming it; the others are merged', async () => {
    const marker = 'TRUNCATED-CONTENT-MARKER';
    const reports = writeReports('partial', {
      'shard-1.xml': junit([tcase(TESTS[0]!, 2), tcase(TESTS[1]!, 3)]),
      'shard-2.xml': `<testsuites>\n<testsuite name="${marker}">\n<testcase classname="${marker}" name="${marker}" file="${TESTS[2]}" time="1">\n`,
      'shard-3.json': `{"${TESTS[3]}": -1, "${marker}": 1}`,
    });
    const r = await runAction({ actionDir, workspace, event: event(), env: mainEnv(), with: { mode: 'collect', reports, store: 'off' } });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    const w = warnings(r).filter((a) => /report skipped/.test(a.message));
    expect(w.map((a) => a.file).sort()).toEqual(['partial/shard-2.xml', 'partial/shard-3.json']);
    expect(w.find((a) => a.file === 'partial/shard-2.xml')!.message).toMatch(/is not well-formed JUnit XML at line \d+/);
    expect(r.summary).toMatch(/\*\*Skipped 2 report file\(s\)\*\* \(the rest were merged\)/);
    expect(r.summary).toContain('`partial/shard-2.xml`');
    const store = JSON.parse(readFileSync(r.outputs['store-path']!, 'utf8'));
    expect(Object.keys(store.tests).sort()).toEqual([TESTS[0], TESTS[1]].sort());
    for (const text of [r.log, r.summary, JSON.stringify(r.annotations), JSON.stringify(r.outputs)]) expect(text).not.toContain(marker);
  });
});

describe('allocate-shards: large plans travel as a file', () => {
  test('3,000 test files: every output stays under 32 KiB, the plan is in plan-path, and shard mode works from it', async () => {
    const files = Array.from({ length: 3000 }, (_, i) => `packages/pkg-${String(i % 40).padStart(2, '0')}/src/components/feature-${i}/component-${i}.test.tsx`);
    mkdirSync(path.join(workspace, 'big'), { recursive: true });
    writeFileSync(path.join(workspace, 'big/tests.txt'), files.join('\n') + '\n');
    const timings = Object.fromEntries(files.map((f, i) => [f, 1 + (i % 17)]));
    writeFileSync(path.join(workspace, 'big/timings.json'), JSON.stringify(timings));
    const r = await runAction({ actionDir, workspace, event: event(), with: { 'tests-file': 'big/tests.txt', timings: 'big/timings.json', shards: '8', store: 'off' } });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    const sizes = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, Buffer.byteLength(v)]));
    expect(Object.values(sizes).reduce((a, b) => a + b, 0)).toBeLessThan(32 * 1024);
    expect(r.outputs['plan']).toBe('');
    expect(r.annotations.some((a) => a.level === 'notice' && /the plan is \d+ KiB, over the 32 KiB output limit/.test(a.message))).toBe(true);
    const planFile = readFileSync(r.outputs['plan-path']!, 'utf8');
    expect(Buffer.byteLength(planFile)).toBeGreaterThan(128 * 1024); // what used to be passed through an env var
    // The template uploads plan-path as an artifact and each shard job downloads it into the workspace.
    mkdirSync(path.join(workspace, '.artifacts'), { recursive: true });
    copyFileSync(r.outputs['plan-path']!, path.join(workspace, '.artifacts/shard-plan.json'));
    const plan = JSON.parse(planFile);
    const seen: string[] = [];
    for (const s of plan.shards) {
      const sh = await runAction({ actionDir, workspace, event: event(), with: { mode: 'shard', 'plan-path': '.artifacts/shard-plan.json', shard: String(s.index) } });
      assertContract(sh);
      expect(sh.conclusion).toBe('success');
      const list = readFileSync(sh.outputs['files-path']!, 'utf8').trim().split('\n');
      expect(list).toEqual(s.items);
      expect(JSON.parse(sh.outputs['files']!)).toEqual(s.items);
      seen.push(...list);
    }
    expect(seen.sort()).toEqual([...files].sort());
  });
});

describe('allocate-shards: files named by inputs', () => {
  const SECRET = 'FAKE-SECRET-d41d8cd98f00b204';
  let outside: string;

  beforeAll(() => {
    outside = mkdtempSync(path.join(tmpdir(), 'outside-'));
    writeFileSync(path.join(outside, 'secret.json'), `{"${SECRET}": 1}\n`);
    writeFileSync(path.join(outside, 'secret.txt'), `${SECRET}\n`);
    writeFileSync(path.join(outside, 'secret.xml'), junit([tcase(`${SECRET}.test.js`, 1, SECRET)]));
    const links = path.join(workspace, 'links');
    mkdirSync(path.join(links, 'reports'), { recursive: true });
    symlinkSync(path.join(outside, 'secret.json'), path.join(links, 'timings.json'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(links, 'tests.txt'));
    symlinkSync(path.join(outside, 'secret.json'), path.join(links, 'plan.json'));
    symlinkSync(path.join(outside, 'secret.xml'), path.join(links, 'report.xml'));
    symlinkSync(outside, path.join(links, 'outside-dir'));
    writeFileSync(path.join(links, 'reports/good.xml'), junit([tcase(TESTS[0]!, 2)]));
    symlinkSync(path.join(outside, 'secret.xml'), path.join(links, 'reports/leak.xml'));
    symlinkSync('good.xml', path.join(links, 'reports/alias.xml')); // a link inside the workspace is fine
  });

  afterAll(() => rmSync(outside, { recursive: true, force: true }));

  const noSecret = (r: RunResult) => {
    for (const text of [r.log, r.summary, JSON.stringify(r.outputs), JSON.stringify(r.annotations)]) expect(text).not.toContain(SECRET);
    expect(r.log).not.toMatch(/internal error/);
  };
  const refused = (r: RunResult, input: string) => {
    assertContract(r);
    expect(r.conclusion).toBe('failure');
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]!.message).toMatch(new RegExp(`^input '${input}': .* resolves outside the workspace \\(a symlink\\?\\); it is not read Fix: .*never followed out of the workspace`));
    noSecret(r);
  };

  test('timings, tests-file, plan-path and a named report that are symlinks out of the workspace are refused without reading them', async () => {
    refused(await runAction({ actionDir, workspace, event: event(), with: { tests: 'a.test.js', timings: 'links/timings.json', store: 'off' } }), 'timings');
    refused(await runAction({ actionDir, workspace, event: event(), with: { 'tests-file': 'links/tests.txt', store: 'off' } }), 'tests-file');
    refused(await runAction({ actionDir, workspace, event: event(), with: { mode: 'shard', 'plan-path': 'links/plan.json', shard: '1' } }), 'plan-path');
    refused(await runAction({ actionDir, workspace, event: event(), with: { mode: 'collect', reports: 'links/report.xml', store: 'off' } }), 'reports');
    refused(await runAction({ actionDir, workspace, event: event(), with: { mode: 'collect', reports: 'links/outside-dir', store: 'off' } }), 'reports');
  });

  test('walking a reports directory: a link out of the workspace is skipped with a warning, the rest merged', async () => {
    const r = await runAction({ actionDir, workspace, event: event(), with: { mode: 'collect', reports: 'links/reports', store: 'off' } });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(warnings(r).some((w) => w.message.startsWith('links/reports/leak.xml: a symlink that leads outside the workspace'))).toBe(true);
    expect(r.summary).toContain('`links/reports/leak.xml` is a symlink leading outside the workspace; not read');
    const store = JSON.parse(readFileSync(r.outputs['store-path']!, 'utf8'));
    expect(Object.keys(store.tests)).toEqual([TESTS[0]]);
    expect(store.tests[TESTS[0]!].samples).toEqual([4]); // good.xml and its in-workspace alias
    noSecret(r);
  });

  test('missing files, directories where a file is expected and oversized files are one ConfigError line naming the input', async () => {
    const one = (r: RunResult, re: RegExp) => {
      assertContract(r);
      expect(r.conclusion).toBe('failure');
      expect(errors(r)).toHaveLength(1);
      expect(errors(r)[0]!.message).toMatch(re);
      expect(errors(r)[0]!.message).toMatch(/ Fix: /);
      expect(r.log).not.toMatch(/internal error|ENOENT|EISDIR/);
    };
    one(await runAction({ actionDir, workspace, event: event(), with: { tests: 'a.test.js', timings: 'ci/nope.json', store: 'off' } }), /^input 'timings': timing file 'ci\/nope\.json' does not exist/);
    one(await runAction({ actionDir, workspace, event: event(), with: { 'tests-file': 'packages', store: 'off' } }), /^input 'tests-file': test list 'packages' is a directory, not a file/);
    one(await runAction({ actionDir, workspace, event: event(), with: { 'tests-file': 'nope.txt', store: 'off' } }), /^input 'tests-file': test list 'nope\.txt' does not exist/);
    one(await runAction({ actionDir, workspace, event: event(), with: { mode: 'shard', 'plan-path': 'packages', shard: '1' } }), /^input 'plan-path': plan file 'packages' is a directory, not a file/);
    one(await runAction({ actionDir, workspace, event: event(), with: { mode: 'shard', 'plan-path': 'nope.json', shard: '1' } }), /^input 'plan-path': plan file 'nope\.json' does not exist/);
    one(await runAction({ actionDir, workspace, event: event(), with: { mode: 'collect', reports: 'nope-dir', store: 'off' } }), /^input 'reports': report 'nope-dir' does not exist/);
    // 51 MiB (sparse: nothing is written to disk) is refused before it is read.
    mkdirSync(path.join(workspace, 'huge'), { recursive: true });
    writeFileSync(path.join(workspace, 'huge/timings.json'), '');
    truncateSync(path.join(workspace, 'huge/timings.json'), 51 * 1024 * 1024);
    one(await runAction({ actionDir, workspace, event: event(), with: { tests: 'a.test.js', timings: 'huge/timings.json', store: 'off' } }), /^input 'timings': timing file 'huge\/timings\.json' is 53477376 bytes, over the 52428800-byte limit Fix: .*at most 50 MiB/);
  });

  test("the plan's ci/test-timings.json (file → seconds) as its allocator reads it: every file exactly once, a longest shard no longer than the plan's own allocator gives", async () => {
    // The plan's scripts/allocate-tests.js, verbatim in its logic: sort by time, each file into the lightest bucket.
    const seedAllocate = (t: Record<string, number>, total: number) => {
      const files = Object.entries(t).sort((a, b) => b[1] - a[1]);
      const buckets = Array.from({ length: total }, () => ({ t: 0, files: [] as string[] }));
      for (const [f, sec] of files) {
        buckets.sort((a, b) => a.t - b.t);
        buckets[0]!.files.push(f);
        buckets[0]!.t += sec || 1;
      }
      return buckets;
    };
    const timings = JSON.parse(readFileSync(path.join(workspace, 'ci/test-timings.json'), 'utf8')) as Record<string, number>;
    const known = Object.keys(timings);
    const r = await runAction({ actionDir, workspace, event: event(), with: { tests: JSON.stringify(known), timings: 'ci/test-timings.json', shards: '3', store: 'off' } });
    assertContract(r);
    const plan = JSON.parse(readFileSync(r.outputs['plan-path']!, 'utf8')) as { shards: Array<{ items: string[] }> };
    expect(plan.shards.flatMap((x) => x.items).sort()).toEqual([...known].sort());
    const longest = Math.max(...plan.shards.map((x) => x.items.reduce((a, f) => a + timings[f]!, 0)));
    const seedLongest = Math.max(...seedAllocate(timings, 3).map((b) => b.t));
    expect(longest).toBeLessThanOrEqual(seedLongest);
  });
});


describe('allocate-shards queue mode: shards pull chunks at run time, claims are create-only cache entries', () => {
  const jestBin = path.resolve('node_modules/jest/bin/jest.js');
  // Each chunk runs real jest on its files and writes what ran (jest --json) where the test can read it.
  const command = (out: string) =>
    `"$NODE_BIN" "${jestBin}" --ci --config '${JSON.stringify({ rootDir: workspace, testMatch: ['**/packages/**/*.test.js'] })}' --json --outputFile="${out}/chunk-$MAESTRO_SHARD-$MAESTRO_CHUNK.json" $(sed "s#^#${workspace}/#" "$MAESTRO_SHARD_FILES")`;
  const ranIn = (out: string) =>
    readdirSync(out)
      .flatMap((f) => (JSON.parse(readFileSync(path.join(out, f), 'utf8')) as { testResults: Array<{ name: string }> }).testResults.map((t) => path.relative(workspace, t.name)))
      .sort();

  async function planFile(runEnv: Record<string, string>): Promise<string> {
    const r = await runAction({ actionDir, workspace, event: event(), env: runEnv, with: { 'tests-glob': 'packages/**/*.test.js', timings: 'ci/test-timings.json', shards: '2', 'chunk-startup': '1', store: 'off' } });
    assertContract(r);
    const plan = JSON.parse(readFileSync(r.outputs['plan-path']!, 'utf8'));
    expect(plan.queue.chunks.flatMap((c: { items: string[] }) => c.items).sort()).toEqual([...TESTS].sort());
    return r.outputs['plan-path']!;
  }

  test('two shards drain one queue at the same time: every test runs exactly once, with real jest', async () => {
    const runEnv = { ...cache.env(scopesFor('refs/pull/7/merge')), NODE_BIN: process.execPath };
    const planPath = await planFile(runEnv);
    const out = mkdtempSync(path.join(tmpdir(), 'queue-ran-'));
    const run = { id: 16823451234, attempt: 1 };
    const shards = await Promise.all(['1', '2'].map((shard) => runAction({ actionDir, workspace, event: event(), env: runEnv, run, with: { mode: 'queue', 'plan-path': planPath, shard, command: command(out) } })));
    for (const r of shards) {
      assertContract(r);
      expect(r.conclusion).toBe('success');
    }
    const chunks = shards.map((r) => json(r, 'chunks') as { claimed: number[]; calls: number; fallback: boolean });
    const total = JSON.parse(readFileSync(planPath, 'utf8')).queue.chunks.length;
    expect(chunks.flatMap((c) => c.claimed).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    for (const c of chunks) {
      expect(c.fallback).toBe(false);
      expect(c.calls).toBeLessThanOrEqual(2 * total + 1);
    }
    // Exactly once across both shards, by what jest itself reports.
    expect(ranIn(out)).toEqual([...TESTS].sort());
    expect(shards.flatMap((r) => json(r, 'files')).sort()).toEqual([...TESTS].sort());
  });

  test('claims unavailable (the cache service refuses writes): each shard runs its static share, with a warning', async () => {
    const runEnv = { ...cache.env(scopesFor('refs/pull/8/merge')), NODE_BIN: process.execPath };
    const planPath = await planFile(runEnv);
    const out = mkdtempSync(path.join(tmpdir(), 'queue-down-'));
    // A 503 would do the same after @actions/cache's own retries (about 30 s per call); a refused write is immediate.
    cache.mode = 'read-only';
    try {
      const shards = [];
      for (const shard of ['1', '2']) shards.push(await runAction({ actionDir, workspace, event: event(), env: { ...runEnv, MAESTRO_API_RETRY_BASE_MS: '0' }, run: { id: 16823451235 }, with: { mode: 'queue', 'plan-path': planPath, shard, command: command(out) } }));
      for (const r of shards) {
        expect(r.conclusion).toBe('success');
        expect(json(r, 'chunks')).toMatchObject({ fallback: true, claimed: [] });
        expect(r.annotations.some((a) => a.level === 'warning' && /queue mode fell back to the static plan/.test(a.message))).toBe(true);
      }
      expect(ranIn(out)).toEqual([...TESTS].sort());
    } finally {
      cache.mode = 'normal';
    }
  });

  test('a failing chunk fails the step after the rest of the queue ran', async () => {
    const runEnv = { ...cache.env(scopesFor('refs/pull/9/merge')), NODE_BIN: process.execPath };
    const planPath = await planFile(runEnv);
    const r = await runAction({ actionDir, workspace, event: event(), env: runEnv, run: { id: 16823451236 }, with: { mode: 'queue', 'plan-path': planPath, shard: '1', command: 'echo "running $(wc -l < "$MAESTRO_SHARD_FILES") test(s)"; [ "$MAESTRO_CHUNK" != 0 ]' } });
    expect(r.conclusion).toBe('failure');
    const c = json(r, 'chunks') as { claimed: number[] };
    expect(c.claimed.length).toBe(JSON.parse(readFileSync(planPath, 'utf8')).queue.chunks.length);
    expect(r.annotations).toContainEqual(expect.objectContaining({ level: 'error', message: '1 chunk(s) failed (their tests failed, or the command did); the rest of the queue still ran' }));
  });
});

describe('allocate-shards collect with the plan: exactly once even when a shard dies', () => {
  test('planned tests without a result fail collect with their names, or are run there when `command` is given', async () => {
    const plan = await runAction({ actionDir, workspace, event: event(), with: { 'tests-glob': 'packages/**/*.test.js', shards: '2', store: 'off' } });
    const planPath = plan.outputs['plan-path']!;
    // Shard 2 died: only shard 1's tests have a result (a jest --json report, absolute paths as jest writes them).
    const items: string[] = JSON.parse(readFileSync(planPath, 'utf8')).shards[0].items;
    const reports = path.join(workspace, 'reports-dead');
    mkdirSync(reports, { recursive: true });
    writeFileSync(path.join(reports, 'shard-1.json'), JSON.stringify({ testResults: items.map((f) => ({ name: path.join(workspace, f), startTime: 0, endTime: 1000, status: 'passed', assertionResults: [{ fullName: 'x', status: 'passed', duration: 1000 }] })) }));
    const missing = TESTS.filter((t) => !items.includes(t)).sort();
    const failed = await runAction({ actionDir, workspace, event: event(), with: { mode: 'collect', reports: 'reports-dead', store: 'off', 'plan-path': planPath } });
    expect(failed.conclusion).toBe('failure');
    expect(failed.annotations).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringContaining(`${missing.length} planned test(s) have no result: `) }));
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'collect-rerun-')), 'ran.txt');
    const rerun = await runAction({ actionDir, workspace, event: event(), with: { mode: 'collect', reports: 'reports-dead', store: 'off', 'plan-path': planPath, command: `cat "$MAESTRO_SHARD_FILES" > "${out}"` } });
    expect(rerun.conclusion).toBe('success');
    expect(readFileSync(out, 'utf8').trim().split('\n').sort()).toEqual(missing);
  });
});
