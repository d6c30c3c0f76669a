import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FakeCacheService, FakeGitHub, GitFixture, assertContract, runAction, runPrPipeline, sampleMonorepo, workflowRunEvent } from '@maestro/harness';
import { MARKER_PREFIX } from '@maestro/health';

const root = path.resolve('.');
const REPO = { owner: 'acme', name: 'shop' };
const FULL = 'acme/shop';

let fx: GitFixture;
let gh: FakeGitHub;
let cache: FakeCacheService;

beforeAll(async () => {
  fx = GitFixture.create();
  [gh, cache] = await Promise.all([FakeGitHub.start(), FakeCacheService.start()]);
  sampleMonorepo(fx);
  fx.push('main');
  gh.addRepo(FULL);
});

afterAll(async () => {
  await Promise.all([gh?.stop(), cache?.stop()]);
  fx?.dispose();
});

const bodies = (n: number) => gh.comments(FULL, n).map((c) => String(c['body']));
const writes = (op: RegExp) => gh.requests.filter((r) => op.test(r.operationId ?? '') && r.method !== 'get').length;

describe('the PR pipeline as pr-pipeline.yml wires it (run by the workflow executor), with one fake GitHub and one fake cache', () => {
  test('same-repository PR: one comment; a new commit updates it in place; an unchanged re-run writes nothing; the check run is on the PR head', async () => {
    fx.checkout('main');
    fx.branch('feature/rounding');
    fx.commit('utils: round half up', { 'packages/utils/src/money.ts': 'export const cents = (n: number) => Math.floor(n * 100 + 0.5);\n', 'infra/main.tf': 'resource "x" "y" {}\n', 'packages/web/src/banner.ts': 'export const banner = "sale";\n' });
    let pr = fx.pullRequest(1, 'main', 'feature/rounding');
    gh.addPull(FULL, { number: 1, headSha: pr.head, baseSha: pr.base, headRef: 'feature/rounding' });
    const run = (runId: number) => runPrPipeline({ root, fx, gh, cache, repo: REPO, number: 1, pr, headRef: 'feature/rounding', runId });

    const r1 = await run(101);
    expect(r1.jobs.map((j) => [j.id, j.result.conclusion])).toEqual([
      ['affected', 'success'],
      ['allocate-shards', 'success'],
      ['risk-score', 'success'],
      ['policy-gate', 'failure'], // infra-frozen is enforce: the gate blocks, health reports it
    ]);
    expect(r1.health.conclusion).toBe('success');
    expect(r1.health.outputs['comment']).toBe('created');
    expect(r1.health.outputs['conclusion']).toBe('failure');
    let c = bodies(1);
    expect(c).toHaveLength(1);
    expect(c[0]!.startsWith(MARKER_PREFIX)).toBe(true);
    expect(c[0]).toContain('## Maestro health: ❌ blocked');
    expect(c[0]).toMatch(/\| ❌ \| Policy \| block: infra-frozen, money-math \|/);
    expect(c[0]).toMatch(/\| (✅|⚠️) \| Risk \| \d+ % \((low|elevated|high)\)/);
    expect(c[0]).toMatch(/\| ✅ \| Flake probability \| 0\.0 % that a planned test flakes \(\d+ tests in \d+ shard\(s\)/);
    expect(c[0]).toMatch(/\| ✅ \| Cache \| 0\/\d+ targets restored \|/);
    expect(c[0]).toContain('- `packages/web/src/banner.ts`'); // no test imports it
    expect(c[0]).not.toContain('- `packages/utils/src/money.ts`'); // api's tests reach it through @shop/utils
    expect(c[0]).toMatch(/\| ➖ \| Cost \| no agent steps ran \|/);
    // The check run is on the PR head, not on the merge commit GITHUB_SHA points at.
    const checks = gh.requests.filter((q) => q.operationId === 'checks/create');
    expect(checks).toHaveLength(1);
    expect((checks[0]!.body as { head_sha: string }).head_sha).toBe(pr.head);
    expect((checks[0]!.body as { conclusion: string }).conclusion).toBe('failure');
    expect((checks[0]!.body as { output: { annotations: Array<{ path: string }> } }).output.annotations.map((a) => a.path)).toEqual(expect.arrayContaining(['infra/main.tf', 'packages/utils/src/money.ts']));
    expect(r1.health.summary).toContain('## Maestro health');

    // A new commit: the same comment is updated in place.
    fx.checkout('feature/rounding');
    fx.commit('utils: test rounding; infra reverted', { 'packages/utils/src/money.test.ts': "import { cents } from './money';\nif (cents(0.125) !== 13) throw new Error('rounding');\n", 'infra/main.tf': null, 'packages/web/src/banner.test.ts': "import { banner } from './banner';\nif (!banner) throw new Error('banner');\n" });
    pr = fx.pullRequest(1, 'main', 'feature/rounding');
    gh.addPull(FULL, { number: 1, headSha: pr.head, baseSha: pr.base, headRef: 'feature/rounding' });
    const r2 = await run(102);
    expect(r2.health.outputs['comment']).toBe('updated');
    c = bodies(1);
    expect(c).toHaveLength(1);
    expect(c[0]).toContain(`sha=${pr.head}`);
    expect(c[0]).toContain('## Maestro health: ⚠️ needs attention'); // money-math is warn
    expect(c[0]).not.toContain('banner.ts`'); // its test now reaches it
    expect(c[0]).toMatch(/\| ✅ \| Missing tests \| none \|/);

    // Re-run of the same commit: nothing changed, so no comment write and no check-run write.
    const before = { comments: writes(/^issues\/(create|update|delete)-comment$/), checks: writes(/^checks\//) };
    const r3 = await run(103);
    expect(r3.health.outputs['comment']).toBe('unchanged');
    expect(writes(/^issues\/(create|update|delete)-comment$/)).toBe(before.comments);
    expect(writes(/^checks\//)).toBe(before.checks);
    expect(bodies(1)).toHaveLength(1);

    // An older run finishing late (run 102 re-delivered after 103) does not overwrite: the head is the same, data the same → unchanged;
    // a run about an older commit is stale.
    const old = await runPrPipeline({ root, fx, gh, cache, repo: REPO, number: 1, pr: { ...pr, head: r1.health.outputs['bundle-path'] ? JSON.parse(readFileSync(r1.health.outputs['bundle-path'], 'utf8')).headSha : pr.head }, headRef: 'feature/rounding', runId: 99 });
    expect(old.health.outputs['comment']).toBe('stale');
    expect(bodies(1)).toHaveLength(1);
    gh.assertNoViolations();
  });

  test('a hijacked marker from another user is ignored; duplicates from a race collapse to one', async () => {
    fx.checkout('main');
    fx.branch('feature/web');
    fx.commit('web: title', { 'packages/web/src/app.ts': 'export const app = () => "shop!";\n' });
    const pr = fx.pullRequest(2, 'main', 'feature/web');
    gh.addPull(FULL, { number: 2, headSha: pr.head, baseSha: pr.base, headRef: 'feature/web' });
    const token = gh.addToken('ghs_pipeline2');
    gh.addToken('tok_mallory', { login: 'mallory', kind: 'user' });
    const post = (tok: string, body: string) => fetch(`${gh.url}/repos/${FULL}/issues/2/comments`, { method: 'POST', headers: { authorization: `token ${tok}`, 'content-type': 'application/json' }, body: JSON.stringify({ body }) });
    expect((await post('tok_mallory', `${MARKER_PREFIX}sha=${pr.head} run=999.1 digest=${'0'.repeat(32)} -->\nfake all-green`)).status).toBe(201);
    // Two of ours (a race between two runs that both created).
    expect((await post(token, `${MARKER_PREFIX}sha=${pr.head} run=1.1 digest=${'1'.repeat(32)} -->\nold`)).status).toBe(201);
    expect((await post(token, `${MARKER_PREFIX}sha=${pr.head} run=2.1 digest=${'2'.repeat(32)} -->\nold 2`)).status).toBe(201);
    const r = await runPrPipeline({ root, fx, gh, cache, repo: REPO, number: 2, pr, headRef: 'feature/web', runId: 201 });
    expect(r.health.outputs['comment']).toBe('updated');
    const c = gh.comments(FULL, 2);
    expect(c.map((x) => (x['user'] as { login: string }).login)).toEqual(['mallory', 'github-actions[bot]']);
    expect(String(c[0]!['body'])).toContain('fake all-green'); // not touched
    expect(String(c[1]!['body'])).toContain('## Maestro health');
    gh.assertNoViolations();
  });

  test('fork PR: the read-only run writes the bundle only; the workflow_run publisher validates it, finds the PR by head SHA and posts once', async () => {
    fx.checkout('main');
    fx.branch('contrib');
    fx.commit('api: typo', { 'packages/api/src/checkout.ts': "import { cents } from '@shop/utils';\nexport const total = (xs: number[]) => cents(xs.reduce((a, b) => a + b, 0)); // sum\n" });
    const pr = fx.pullRequest(3, 'main', 'contrib');
    gh.addPull(FULL, { number: 3, headSha: pr.head, baseSha: pr.base, headRef: 'contrib', headOwner: 'outsider' });
    const before = gh.requests.length;
    const r = await runPrPipeline({ root, fx, gh, cache, repo: REPO, number: 3, pr, headRef: 'contrib', runId: 301, fork: { owner: 'outsider' } });
    expect(r.health.outputs['comment']).toBe('artifact');
    expect(r.health.outputs['annotated']).toBe('false');
    expect(r.health.outputs['reason']).toMatch(/fork pull request/);
    // The PR run made no write attempt at all.
    expect(r.tokens.length).toBeGreaterThan(0);
    expect(gh.requests.slice(before).filter((q) => r.tokens.includes(q.token ?? '') && q.method !== 'get')).toEqual([]);
    expect(r.publish!.conclusion).toBe('success');
    expect(r.publish!.outputs['comment']).toBe('created');
    expect(r.publish!.outputs['annotated']).toBe('true');
    expect(gh.comments(FULL, 3)).toHaveLength(1);
    const check = gh.requests.filter((q) => q.operationId === 'checks/create').at(-1)!;
    expect((check.body as { head_sha: string }).head_sha).toBe(pr.head);
    gh.assertNoViolations();
  });

  test('the publisher refuses a tampered bundle: another commit, another repository, or not a bundle', async () => {
    const pr = { head: 'e'.repeat(40), base: 'f'.repeat(40) };
    const write = gh.addToken('ghs_publisher2');
    const dir = fx.checkoutLike(fx.head('main'), { depth: 1 });
    const good = { schema: 'maestro.health/1', repo: FULL, pr: 1, headSha: pr.head, run: { id: 1, attempt: 1, number: 1 }, createdAt: '2026-11-25T00:00:00Z', evidence: {}, security: null, uncovered: null, problems: [] };
    const cases: Array<[string, unknown, RegExp]> = [
      ['other-commit', { ...good, headSha: 'd'.repeat(40) }, /the bundle is about dddddddddddd, but the triggering run built eeeeeeeeeeee; refusing it/],
      ['other-repo', { ...good, repo: 'evil/repo' }, /names repository evil\/repo/],
      ['not-a-bundle', { hello: 'world' }, /the health bundle is invalid at schema/],
    ];
    for (const [name, content, message] of cases) {
      const file = path.join(dir, `${name}.json`);
      (await import('node:fs')).writeFileSync(file, JSON.stringify(content));
      const r = await runAction({ actionDir: path.join(root, 'actions/health-comment'), with: { mode: 'publish', bundle: file }, event: workflowRunEvent({ repo: REPO, headSha: pr.head, headBranch: 'x', defaultBranchSha: pr.base }), workspace: dir, token: write, apiUrl: gh.url });
      assertContract(r);
      expect(r.conclusion).toBe('failure');
      expect(r.log).toMatch(message);
    }
  });
  test('the publisher trusts only the triggering run: another fork\'s PR with the same head gets nothing; the marker and check run carry workflow_run.id, not the bundle\'s', async () => {
    const head = 'a1'.repeat(20);
    const base = fx.head('main');
    gh.addPull(FULL, { number: 70, headSha: head, baseSha: base, headRef: 'patch-1', headOwner: 'outsider' });
    gh.addPull(FULL, { number: 71, headSha: head, baseSha: base, headRef: 'patch-1', headOwner: 'mallory' });
    const write = gh.addToken('ghs_publisher3');
    const dir = fx.checkoutLike(base, { depth: 1 });
    const bundle = { schema: 'maestro.health/1', repo: FULL, pr: 71, headSha: head, run: { id: 9_007_199_254_740_000, attempt: 9, number: 1 }, createdAt: '2026-11-25T00:00:00Z', required: [], evidence: {}, security: null, uncovered: null, problems: [] };
    const file = path.join(dir, 'health.json');
    (await import('node:fs')).writeFileSync(file, JSON.stringify(bundle));
    const event = workflowRunEvent({ repo: REPO, headSha: head, headBranch: 'patch-1', defaultBranchSha: base, headOwner: 'mallory', runId: 16823459999 });
    const r = await runAction({ actionDir: path.join(root, 'actions/health-comment'), with: { mode: 'publish', bundle: file }, event, workspace: dir, token: write, apiUrl: gh.url });
    assertContract(r);
    // The run came from mallory's fork: only PR 71 (mallory:patch-1) gets it, never outsider's PR 70.
    expect(gh.comments(FULL, 70)).toEqual([]);
    const c = gh.comments(FULL, 71);
    expect(c).toHaveLength(1);
    expect(String(c[0]!['body'])).toContain(`run=16823459999.`);
    // The publisher's own `required` (the default: every gate of pr-pipeline.yml) applies, not the bundle's empty list.
    expect(r.outputs['conclusion']).toBe('failure');
    const check = gh.checkRuns(FULL).filter((x) => x['head_sha'] === head).at(-1)!;
    expect(String(check['external_id'])).toMatch(/^maestro-health-16823459999\.\d+$/);
    gh.assertNoViolations();
  });
});
