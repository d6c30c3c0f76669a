// A team's repository, as an adopter writes it: `uses: maestro/risk-score@v1` and a call of
// `maestro/conductor/.github/workflows/pr-pipeline.yml@v1`, resolved against the repositories
// `scripts/release.mjs` published (tag → commit → tree, as the runner resolves them). Moving v1 to a
// new release changes what runs; v1.0.0 never changes; republishing a version with other content is refused.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ArtifactStore, FakeCacheService, FakeGitHub, GitFixture, pullRequestEvent, runWorkflow, sampleMonorepo, scopesFor, type WorkflowRunResult } from '@maestro/harness';

const root = path.resolve('.');
const REPO = { owner: 'acme', name: 'shop' };
const published = mkdtempSync(path.join(tmpdir(), 'published-'));
let fx: GitFixture;
let gh: FakeGitHub;
let cache: FakeCacheService;
const artifacts = new ArtifactStore();

const release = (...args: string[]) => spawnSync(process.execPath, [path.join(root, 'scripts/release.mjs'), '--target', published, '--no-build', ...args], { encoding: 'utf8' });
const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8' }).stdout.trim();

const CONSUMER = `name: PR
on: pull_request
jobs:
  maestro:
    uses: maestro/conductor/.github/workflows/pr-pipeline.yml@v1
    permissions: { contents: read, actions: read, pull-requests: write, checks: write }
    with:
      test-command: 'while read -r f; do echo "ran $f"; done < "$MAESTRO_SHARD_FILES"'
      tests-glob: 'packages/**/*.test.ts'
      timings: ci/test-timings.json
  risk:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      pull-requests: write
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955
        with:
          fetch-depth: 0
      - id: risk
        uses: maestro/risk-score@v1
        with:
          mode: observe
      - id: pinned
        uses: maestro/risk-score@v1.0.0
        with:
          mode: observe
`;

beforeAll(async () => {
  fx = GitFixture.create();
  [gh, cache] = await Promise.all([FakeGitHub.start(), FakeCacheService.start()]);
  sampleMonorepo(fx);
  fx.commit('ci: maestro', { '.github/workflows/pr.yml': CONSUMER });
  fx.push('main');
  gh.addRepo('acme/shop');
});
afterAll(async () => {
  await Promise.all([gh?.stop(), cache?.stop()]);
  fx?.dispose();
  artifacts.dispose();
});

async function runConsumer(n: number, runId: number): Promise<WorkflowRunResult> {
  fx.checkout('main');
  fx.branch(`feature/${n}`);
  fx.commit(`change ${n}`, { 'packages/utils/src/money.ts': `export const cents = (n: number) => Math.round(n * 100) + ${n} - ${n};\n` });
  const pr = fx.pullRequest(n, 'main', `feature/${n}`);
  gh.addPull('acme/shop', { number: n, headSha: pr.head, baseSha: pr.base, headRef: `feature/${n}` });
  // The workflow file as the consumer's checkout has it.
  const dir = fx.checkoutLike(pr.merge, { depth: 1 });
  return runWorkflow({ root, file: path.join(dir, '.github/workflows/pr.yml'), event: pullRequestEvent({ repo: REPO, number: n, ...pr, headRef: `feature/${n}` }), fx, gh, env: cache.env(scopesFor(`refs/pull/${n}/merge`)), run: { id: runId }, artifacts, published });
}

describe('a consumer of the published actions', () => {
  test('release publishes every action and conductor with immutable and moving tags; the consumer\'s workflow runs them', async () => {
    const dry = release();
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('risk-score       v1.0.0  new repository; would move v1.0.0, v1.0, v1');
    expect(dry.stdout).toContain('dry run: nothing written');
    const r = release('--push');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const n of ['affected', 'allocate-shards', 'attest-verify', 'health-comment', 'policy-gate', 'risk-score', 'conductor']) expect(git('--git-dir', path.join(published, `${n}.git`), 'tag', '-l').split('\n')).toEqual(['v1', 'v1.0', 'v1.0.0']);
    // Each action's tree is what a user checks out: action.yml, dist, README, LICENSE.
    expect(git('--git-dir', path.join(published, 'risk-score.git'), 'ls-tree', '--name-only', 'v1')).toBe(['LICENSE', 'README.md', 'action.yml', 'dist'].join('\n'));

    const run = await runConsumer(11, 5101);
    expect(run.jobs.map((j) => [j.key, j.result])).toEqual([
      ['maestro / affected', 'success'],
      ['maestro / plan', 'success'],
      ['maestro / test (1)', 'success'],
      ['maestro / test (2)', 'success'],
      ['maestro / risk', 'success'],
      ['maestro / policy', 'success'],
      ['maestro / health', 'success'],
      ['risk', 'success'],
    ]);
    // The called workflow's jobs get at most the caller's permissions (no checks: write for risk, which did not ask).
    expect(run.jobs.find((j) => j.key === 'maestro / health')!.permissions).toEqual({ contents: 'read', 'pull-requests': 'write', checks: 'write' });
    const v1 = git('--git-dir', path.join(published, 'risk-score.git'), 'rev-parse', 'v1^{commit}');
    const steps = run.jobs.find((j) => j.key === 'risk')!.steps;
    expect(steps.find((s) => s.id === 'risk')!.resolved).toBe(v1);
    expect(steps.find((s) => s.id === 'pinned')!.resolved).toBe(v1);
    // The pipeline's own steps came from the published conductor repository.
    const conductor = git('--git-dir', path.join(published, 'conductor.git'), 'rev-parse', 'v1^{commit}');
    expect(run.jobs.find((j) => j.key === 'maestro / affected')!.steps.find((s) => s.uses?.startsWith('maestro/'))!.resolved).toBe(conductor);
    expect(gh.comments('acme/shop', 11)).toHaveLength(1);
    gh.assertNoViolations();
  });

  test('a new release moves v1 (what runs changes); v1.0.0 stays; republishing v1.0.0 with other content is refused', async () => {
    const before = git('--git-dir', path.join(published, 'risk-score.git'), 'rev-parse', 'v1.0.0^{commit}');
    // The next release of risk-score, versioned the way we version: a changeset, then `changeset version`
    // (which bumps the package and writes its CHANGELOG.md), in a copy of the workspace.
    const source = mkdtempSync(path.join(tmpdir(), 'release-source-'));
    for (const f of ['LICENSE', 'package.json', '.changeset/config.json']) cpSync(path.join(root, f), path.join(source, f));
    writeFileSync(path.join(source, 'pnpm-workspace.yaml'), 'packages:\n  - actions/*\n');
    mkdirSync(path.join(source, 'actions'));
    cpSync(path.join(root, 'actions/risk-score'), path.join(source, 'actions/risk-score'), { recursive: true, filter: (f) => !f.includes('node_modules') });
    writeFileSync(path.join(source, '.changeset/quiet-owl.md'), '---\n"@maestro/action-risk-score": minor\n---\n\nrisk-score: a review budget per repository\n');
    const inSource = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { cwd: source, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
    inSource('git', 'init', '-q');
    inSource('git', 'add', '-A');
    inSource('git', 'commit', '-qm', 'risk-score: review budget');
    symlinkSync(path.join(root, 'node_modules'), path.join(source, 'node_modules'));
    const versioned = inSource(process.execPath, path.join(root, 'node_modules/@changesets/cli/bin.js'), 'version');
    expect(versioned.status).toBe(0);
    expect(JSON.parse(readFileSync(path.join(source, 'actions/risk-score/package.json'), 'utf8')).version).toBe('1.1.0');
    expect(readFileSync(path.join(source, 'actions/risk-score/CHANGELOG.md'), 'utf8')).toContain('risk-score: a review budget per repository');
    const r = release('--push', '--only', 'risk-score', '--source', source);
    expect(r.stdout).toMatch(/risk-score {7}v1\.1\.0 {2}published; moved v1\.1\.0, v1\.1, v1 → [0-9a-f]{12}/);
    const v110 = git('--git-dir', path.join(published, 'risk-score.git'), 'rev-parse', 'v1.1.0^{commit}');
    expect(git('--git-dir', path.join(published, 'risk-score.git'), 'rev-parse', 'v1^{commit}')).toBe(v110);
    expect(git('--git-dir', path.join(published, 'risk-score.git'), 'rev-parse', 'v1.0.0^{commit}')).toBe(before);

    const run = await runConsumer(12, 5102);
    const steps = run.jobs.find((j) => j.key === 'risk')!.steps;
    expect(steps.find((s) => s.id === 'risk')!.resolved).toBe(v110);
    expect(steps.find((s) => s.id === 'pinned')!.resolved).toBe(before);

    // The release tree carries the changelog; versions are immutable: 1.0.0 again, with the changed tree, is refused and nothing moves.
    expect(git('--git-dir', path.join(published, 'risk-score.git'), 'show', 'v1.1.0:CHANGELOG.md')).toContain('## 1.1.0');
    const pkg = JSON.parse(readFileSync(path.join(source, 'actions/risk-score/package.json'), 'utf8'));
    writeFileSync(path.join(source, 'actions/risk-score/package.json'), JSON.stringify({ ...pkg, version: '1.0.0' }, null, 2));
    const again = release('--push', '--only', 'risk-score', '--source', source);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('release refused: risk-score.git: v1.0.0 is already published with other content; versions are immutable, bump the version');
    expect(git('--git-dir', path.join(published, 'risk-score.git'), 'rev-parse', 'v1^{commit}')).toBe(v110);
  });

  test('a release whose bundle does not start is refused', () => {
    const source = mkdtempSync(path.join(tmpdir(), 'release-broken-'));
    cpSync(path.join(root, 'LICENSE'), path.join(source, 'LICENSE'));
    mkdirSync(path.join(source, 'actions'));
    cpSync(path.join(root, 'actions/risk-score'), path.join(source, 'actions/risk-score'), { recursive: true, filter: (f) => !f.includes('node_modules') });
    writeFileSync(path.join(source, 'actions/risk-score/dist/index.js'), "import './missing-chunk.js';\n");
    const r = release('--push', '--only', 'risk-score', '--source', source);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/release refused: risk-score: the bundle does not start: .*(ERR_MODULE_NOT_FOUND|Cannot find module)/);
  });
});
