// Every template we ship runs as written through the workflow executor (pr-pipeline.yml and
// pr-health-publish.yml in pipeline.test.ts, hostile-pr.test.ts and the demo; the rest here).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ArtifactStore, FakeCacheService, FakeGitHub, GitFixture, WorkflowError, node24Path, pushEvent, runWorkflow, scheduleEvent, scopesFor } from '@maestro/harness';
import { execFileSync } from 'node:child_process';

const root = path.resolve('.');
const REPO = { owner: 'acme', name: 'shop' };
let fx: GitFixture;
let gh: FakeGitHub;
let cache: FakeCacheService;
const artifacts = new ArtifactStore();

beforeAll(async () => {
  fx = GitFixture.create();
  [gh, cache] = await Promise.all([FakeGitHub.start(), FakeCacheService.start()]);
  gh.addRepo('acme/shop');
});
afterAll(async () => {
  await Promise.all([gh?.stop(), cache?.stop()]);
  fx?.dispose();
  artifacts.dispose();
});

// A real node:test suite: six files, each with a few passing tests.
const suite: Record<string, string> = { 'package.json': '{ "name": "suite", "private": true, "type": "module" }\n' };
for (let i = 1; i <= 6; i++) {
  suite[`tests/t${i}.test.mjs`] = `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n${Array.from({ length: i }, (_, k) => `test('t${i}.${k}', () => assert.equal(${k} + ${i}, ${k + i}));`).join('\n')}\n`;
}
const junitFiles = (runId: number) =>
  artifacts
    .names(runId)
    .filter((n) => n.startsWith('junit-'))
    .flatMap((n) => readdirSync(artifacts.dir(runId, n)!).map((f) => readFileSync(path.join(artifacts.dir(runId, n)!, f), 'utf8')));

describe('templates run as written', () => {
  test('test-shards.yml: plan → 2 shard jobs running a real node:test suite (JUnit) → timings refreshes the store; the next plan uses it', async () => {
    const head = fx.commit('suite', suite);
    fx.push('main');
    const inputs = {
      'tests-glob': 'tests/*.test.mjs',
      // Node 24's JUnit reporter writes each test case's file (Node 20's does not, and allocate-shards needs it).
      'test-command': 'mkdir -p reports && "$NODE24" --test --test-reporter=junit --test-reporter-destination="reports/junit-$MAESTRO_SHARD.xml" $(cat "$MAESTRO_SHARD_FILES")',
      reports: 'reports',
      shards: '2',
      overhead: '1',
    };
    const go = (id: number) =>
      runWorkflow({ root, file: path.join(root, 'workflows-templates/test-shards.yml'), event: pushEvent({ repo: REPO, before: '0'.repeat(40), after: head }), inputs, fx, gh, env: { ...cache.env(scopesFor('refs/heads/main')), NODE24: node24Path() ?? process.execPath }, run: { id }, artifacts });
    const r1 = await go(4101);
    expect(r1.jobs.map((j) => [j.key, j.result])).toEqual([
      ['plan', 'success'],
      ['test (1)', 'success'],
      ['test (2)', 'success'],
      ['timings', 'success'],
    ]);
    // Every test file ran exactly once, across the two shards.
    const ran = junitFiles(4101).flatMap((x) => [...x.matchAll(/<testcase name="(t\d)\.\d+"/g)].map((m) => m[1]!));
    expect(ran.sort()).toEqual(['t1', 't2', 't2', 't3', 't3', 't3', 't4', 't4', 't4', 't4', 't5', 't5', 't5', 't5', 't5', 't6', 't6', 't6', 't6', 't6', 't6']);
    expect(r1.outputs).toEqual({ 'flake-rate': expect.stringMatching(/^0(\.0+)?$/) });
    const plan1 = r1.jobs[0]!.steps.find((s) => s.id === 'plan')!.result!;
    expect(plan1.outputs['coverage']).toBe('0');
    // The second run's plan has a timing for every file, from the store the first run's timings job wrote.
    const r2 = await go(4102);
    const plan2 = r2.jobs[0]!.steps.find((s) => s.id === 'plan')!.result!;
    expect(plan2.outputs['coverage']).toBe('1');
    expect(r2.conclusion).toBe('success');
    gh.assertNoViolations();
  });

  test('test-shards.yml with queue: true: the shard jobs pull chunks from one queue; every test once; collect checks against the plan', async () => {
    const head = fx.head('main');
    const inputs = {
      'tests-glob': 'tests/*.test.mjs',
      'test-command': 'mkdir -p reports && "$NODE24" --test --test-reporter=junit --test-reporter-destination="reports/junit-$MAESTRO_SHARD-$MAESTRO_CHUNK.xml" $(cat "$MAESTRO_SHARD_FILES")',
      reports: 'reports',
      shards: '2',
      overhead: '1',
      queue: true,
      'chunk-startup': '0.1',
    };
    const r = await runWorkflow({ root, file: path.join(root, 'workflows-templates/test-shards.yml'), event: pushEvent({ repo: REPO, before: '0'.repeat(40), after: head }), inputs, fx, gh, env: { ...cache.env(scopesFor('refs/heads/main')), NODE24: node24Path() ?? process.execPath }, run: { id: 4111 }, artifacts });
    expect(r.jobs.map((j) => [j.key, j.result])).toEqual([
      ['plan', 'success'],
      ['test (1)', 'success'],
      ['test (2)', 'success'],
      ['timings', 'success'],
    ]);
    const queueSteps = r.jobs.filter((j) => j.id === 'test').map((j) => j.steps.find((s) => s.uses?.includes('allocate-shards') && s.outcome !== 'skipped')!.result!);
    expect(queueSteps.map((x) => JSON.parse(x.outputs['chunks']!).fallback)).toEqual([false, false]);
    const ran = junitFiles(4111).flatMap((x) => [...x.matchAll(/<testcase name="(t\d)\.\d+"/g)].map((m) => m[1]!));
    expect(ran.sort()).toEqual(['t1', 't2', 't2', 't3', 't3', 't3', 't4', 't4', 't4', 't4', 't5', 't5', 't5', 't5', 't5', 't6', 't6', 't6', 't6', 't6', 't6']);
    expect(r.jobs.at(-1)!.steps.find((s) => s.id === 'collect')!.result!.annotations.filter((a) => a.level === 'error')).toEqual([]);
  });

  test('risk-calibrate.yml: calibrates on the history and proposes the first model as a pull request (a new file counts as a change)', async () => {
    const repo = GitFixture.create();
    try {
      // Some history with fixes, so there is something to label.
      repo.commit('init', { 'package.json': '{ "name": "calc" }\n' });
      for (let i = 0; i < 12; i++) repo.commit(i % 4 === 3 ? `fix: off by one in calc ${i}` : `feat: calc step ${i}`, { [`src/calc${i % 3}.js`]: `export const f = (x) => x + ${i};\n`.repeat(1 + (i % 5)) });
      repo.push('main');
      const origin = path.join(repo.root, 'origin.git');
      gh.refResolver = (ref) => {
        try {
          return execFileSync('git', ['rev-parse', '--verify', `refs/heads/${ref}`], { cwd: origin, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        } catch {
          return undefined;
        }
      };
      const r = await runWorkflow({ root, file: path.join(root, 'workflows-templates/risk-calibrate.yml'), event: scheduleEvent({ repo: REPO, sha: repo.head('main') }), fx: repo, gh, run: { id: 4201 }, artifacts });
      if (r.conclusion !== 'success') console.log(r.jobs[0]!.steps.map((s) => `${s.name} ${s.outcome}\n${s.log}`).join('\n'));
      expect(r.jobs.map((j) => [j.key, j.result])).toEqual([['calibrate', 'success']]);
      const job = r.jobs[0]!;
      expect(job.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
      expect(job.steps.find((s) => s.id === 'cal')!.result!.outputs['model-path']).toMatch(/policy\/risk-model\.json$/);
      // The branch was pushed and the pull request opened (through the gh stand-in) with the calibration report.
      const branch = execFileSync('git', ['for-each-ref', '--format=%(refname:short)', 'refs/heads/maestro/'], { cwd: origin, encoding: 'utf8' }).trim();
      expect(branch).toMatch(/^maestro\/risk-model-\d{8}$/);
      expect(execFileSync('git', ['show', '--stat', '--format=%s', branch], { cwd: origin, encoding: 'utf8' })).toMatch(/^risk: recalibrate policy\/risk-model\.json\n[\s\S]*policy\/risk-model\.json/);
      const pulls = gh.requests.filter((q) => q.operationId === 'pulls/create');
      expect(pulls).toHaveLength(1);
      expect(pulls[0]!.body).toMatchObject({ title: 'risk: recalibrate the risk model', head: branch, base: 'main', body: expect.stringContaining('Calibration report') });
      gh.assertNoViolations();
    } finally {
      repo.dispose();
    }
  });

  test('build-attest.yml and release.yml parse and convert (their jobs need docker and OIDC, which this machine has not: not run)', async () => {
    // runWorkflow validates before running anything: a template error would throw here with its location.
    const head = fx.head('main');
    const go = (file: string, inputs: Record<string, string>) => runWorkflow({ root, file: path.join(root, 'workflows-templates', file), event: pushEvent({ repo: REPO, before: '0'.repeat(40), after: head }), inputs, fx, gh, run: { id: 4301 }, artifacts });
    await expect(go('build-attest.yml', { image: 'ghcr.io/acme/shop', bogus: 'x' })).rejects.toThrow(new WorkflowError("input 'bogus' is not declared by the workflow (declared: image, context, file, attest-policy, policy)"));
    await expect(go('release.yml', { 'build-command': 'npm pack', artifacts: '*.tgz', bogus: 'x' })).rejects.toThrow(new WorkflowError("input 'bogus' is not declared by the workflow (declared: build-command, artifacts, sbom-command, signer-ref)"));
  });
});

