import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import path from 'node:path';
import { ArtifactStore, FakeCacheService, FakeGitHub, GitFixture, pullRequestEvent, runWorkflow, sampleMonorepo, scopesFor } from '../src/index.js';

const root = path.resolve('.');
const REPO = { owner: 'acme', name: 'shop' };
let fx: GitFixture;
let gh: FakeGitHub;
let cache: FakeCacheService;

beforeAll(async () => {
  fx = GitFixture.create();
  [gh, cache] = await Promise.all([FakeGitHub.start(), FakeCacheService.start()]);
  sampleMonorepo(fx);
  fx.push('main');
  gh.addRepo('acme/shop');
});
afterAll(async () => {
  await Promise.all([gh?.stop(), cache?.stop()]);
  fx?.dispose();
});

describe('workflow executor', () => {
  test('runs pr-pipeline.yml as written', async () => {
    fx.checkout('main');
    fx.branch('feature/x');
    fx.commit('utils', { 'packages/utils/src/money.ts': 'export const cents = (n: number) => Math.floor(n * 100 + 0.5);\n' });
    const pr = fx.pullRequest(1, 'main', 'feature/x');
    gh.addPull('acme/shop', { number: 1, headSha: pr.head, baseSha: pr.base, headRef: 'feature/x' });
    const artifacts = new ArtifactStore();
    const r = await runWorkflow({
      root,
      file: path.join(root, 'workflows-templates/pr-pipeline.yml'),
      event: pullRequestEvent({ repo: REPO, number: 1, ...pr, headRef: 'feature/x' }),
      inputs: { 'test-command': 'echo "shard $MAESTRO_SHARD of $MAESTRO_SHARDS"; cat "$MAESTRO_SHARD_FILES"', 'tests-glob': 'packages/**/*.test.ts' },
      fx,
      gh,
      env: cache.env(scopesFor('refs/pull/1/merge')),
      run: { id: 16823450912 },
      artifacts,
      log: (l) => process.stdout.write(l + '\n'),
    });
    console.log(r.jobs.map((j) => `${j.key} ${j.result} ${j.steps.map((s) => `${s.name}:${s.conclusion}`).join(', ')}`).join('\n'));
    expect(r.jobs.map((j) => [j.key, j.result])).toEqual([]);
  });
});
