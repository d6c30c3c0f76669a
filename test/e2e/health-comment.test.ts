import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FakeGitHub, GitFixture, assertContract, pullRequestEvent, pushEvent, runAction } from '@maestro/harness';

const actionDir = path.resolve('actions/health-comment');
const REPO = { owner: 'acme', name: 'shop' };
const FULL = 'acme/shop';

let fx: GitFixture;
let gh: FakeGitHub;

beforeAll(async () => {
  fx = GitFixture.create();
  gh = await FakeGitHub.start();
  gh.addRepo(FULL);
  fx.commit('base', { 'src/calc.ts': 'export const add = (a: number, b: number) => a + b;\n' });
  fx.push('main');
});

afterAll(async () => {
  await gh?.stop();
  fx?.dispose();
});

const envelope = (action: string, sha: string, data: unknown) => JSON.stringify({ schema: 'maestro.evidence/1', action, sha, run: { id: 1, attempt: 1, number: 1 }, createdAt: '2026-11-25T00:00:00Z', data });

function evidence(dir: string, files: Record<string, string>): string {
  const ev = path.join(dir, 'evidence');
  mkdirSync(ev, { recursive: true });
  for (const [k, v] of Object.entries(files)) writeFileSync(path.join(ev, k), v);
  return ev;
}

describe('health-comment bundle under runner-sim', () => {
  test('uncovered changed lines from lcov; 120 violations become 3 annotation requests of ≤ 50; the comment stays under the limit', async () => {
    fx.checkout('main');
    fx.branch('cov');
    fx.commit('calc: sub', { 'src/calc.ts': 'export const add = (a: number, b: number) => a + b;\nexport const sub = (a: number, b: number) => a - b;\nexport const mul = (a: number, b: number) => a * b;\n' });
    const pr = fx.pullRequest(11, 'main', 'cov');
    gh.addPull(FULL, { number: 11, headSha: pr.head, baseSha: pr.base });
    const token = gh.addToken('ghs_hc1');
    const workspace = fx.checkoutLike(pr.merge, { depth: 2 });
    // Jest's lcov for the head: line 2 ran, line 3 never did.
    writeFileSync(path.join(workspace, 'lcov.info'), `TN:\nSF:${path.join(workspace, 'src/calc.ts')}\nDA:1,4\nDA:2,1\nDA:3,0\nend_of_record\n`);
    const violations = Array.from({ length: 120 }, (_, i) => ({ rule: 'gen-frozen', reason: 'Generated code is not edited by hand', mode: 'enforce', subject: `gen/f${i}.ts`, detail: `human may not write gen/f${i}.ts`, file: `gen/f${i}.ts` }));
    const ev = evidence(workspace, {
      'affected.json': envelope('affected', pr.head, { base: pr.base, head: pr.head, baseSource: 'merge-commit-parent', all: false, allReason: null, projects: ['calc'], projectCount: 1, reasons: {}, removed: [], changedFiles: 1, files: ['src/calc.ts'], tests: null, cache: null }),
      'policy-gate.json': envelope('policy-gate', pr.head, { outcome: 'block', policy: 'policy/rules.yaml', actor: 'human', violations, overrides: [] }),
    });
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 11, ...pr }), token, apiUrl: gh.url, with: { evidence: ev, coverage: 'lcov.info' } });
    assertContract(r);
    expect(r.outputs['comment']).toBe('created');
    const body = String(gh.comments(FULL, 11)[0]!['body']);
    expect(body.length).toBeLessThanOrEqual(65536);
    expect(body).toContain('`src/calc.ts: 3`');
    expect(body).toContain('…and 90 more in the policy-gate job summary.');
    const checkWrites = gh.requests.filter((q) => /^checks\/(create|update)$/.test(q.operationId ?? '') && q.token === token);
    expect(checkWrites.map((q) => (q.body as { output: { annotations: unknown[] } }).output.annotations.length)).toEqual([50, 50, 20]);
    gh.assertNoViolations();
  });

  test("a read-only token on a same-repository PR (Dependabot): the write is refused, the bundle is left for the publisher, nothing crashes", async () => {
    fx.checkout('main');
    fx.branch('deps-bump');
    fx.commit('bump', { 'src/calc.ts': 'export const add = (a: number, b: number) => b + a;\n' });
    const pr = fx.pullRequest(12, 'main', 'deps-bump');
    gh.addPull(FULL, { number: 12, headSha: pr.head, baseSha: pr.base });
    const token = gh.addToken('ghs_dependabot', { permission: 'read' });
    const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 12, ...pr, author: 'dependabot[bot]' }), token, apiUrl: gh.url, with: { evidence: evidence(workspace, {}) } });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(r.outputs['comment']).toBe('artifact');
    expect(r.outputs['annotated']).toBe('false');
    expect(r.outputs['reason']).toMatch(/read-only token/);
    expect(r.outputs['bundle-path']).toMatch(/health\.json$/);
    expect(r.summary).toContain('| ➖ | Policy | no policy-gate evidence |');
  });

  test('a push (no pull request): the check run on the commit, no comment; an app token names its bot login', async () => {
    const sha = fx.head('main');
    const token = gh.addToken('ghs_app', { login: 'maestro-app[bot]' });
    const workspace = fx.checkoutLike(sha, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: pushEvent({ repo: REPO, before: '0'.repeat(40), after: sha }), token, apiUrl: gh.url, with: { evidence: evidence(workspace, {}), 'comment-author': 'maestro-app[bot]' } });
    assertContract(r);
    expect(r.outputs['comment']).toBe('skipped');
    expect(r.outputs['check-run-id']).not.toBe('');
    expect(r.outputs['conclusion']).toBe('success');
    gh.assertNoViolations();
  });

  test('on-worse: repost — a result that gets worse is posted anew and the old comment is hidden as outdated; after that the new one is the sticky one', async () => {
    fx.checkout('main');
    fx.branch('worse');
    fx.commit('w', { 'src/calc.ts': 'export const add = (a: number, b: number) => a + b + 0;\n' });
    const pr = fx.pullRequest(13, 'main', 'worse');
    gh.addPull(FULL, { number: 13, headSha: pr.head, baseSha: pr.base });
    const token = gh.addToken('ghs_hc_worse');
    const policy = (outcome: string) => envelope('policy-gate', pr.head, { outcome, policy: 'policy/rules.yaml', actor: 'human', violations: outcome === 'pass' ? [] : [{ rule: 'r1', reason: 'because', mode: outcome === 'block' ? 'enforce' : 'warn', subject: 'src/calc.ts', detail: 'd' }], overrides: [] });
    const go = async (outcome: string, runId: number) => {
      const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
      const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 13, ...pr }), token, apiUrl: gh.url, with: { evidence: evidence(workspace, { 'policy-gate.json': policy(outcome) }), 'on-worse': 'repost' }, env: { GITHUB_RUN_ID: String(runId) } });
      assertContract(r);
      return r;
    };
    expect((await go('warn', 1)).outputs['comment']).toBe('created');
    const worse = await go('block', 2);
    expect(worse.outputs['comment']).toBe('reposted');
    const all = gh.comments(FULL, 13);
    expect(all).toHaveLength(2);
    expect(String(all[0]!['body'])).toContain('<!-- maestro:health superseded -->');
    expect(gh.minimized(FULL, 13)).toEqual([{ id: Number(all[0]!['id']), classifier: 'OUTDATED' }]);
    expect(String(all[1]!['id'])).toBe(worse.outputs['comment-id']);
    // Better again: edited in place (only worse results re-post); same again: no write.
    expect((await go('pass', 3)).outputs['comment']).toBe('updated');
    expect((await go('pass', 4)).outputs['comment']).toBe('unchanged');
    expect(gh.comments(FULL, 13)).toHaveLength(2);
    gh.assertNoViolations();
  });

  test('a 502 on the comment and a 429 on the check run are retried: one comment, one check run, nothing lost or duplicated', async () => {
    fx.checkout('main');
    fx.branch('flaky-api');
    fx.commit('f', { 'src/calc.ts': 'export const add = (a: number, b: number) => a + b; // f\n' });
    const pr = fx.pullRequest(14, 'main', 'flaky-api');
    gh.addPull(FULL, { number: 14, headSha: pr.head, baseSha: pr.base });
    const token = gh.addToken('ghs_hc_flaky');
    gh.fault({ operation: 'issues/create-comment', status: 502, times: 1 });
    gh.rateLimit('checks/create', { retryAfter: 1 });
    const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 14, ...pr }), token, apiUrl: gh.url, with: { evidence: evidence(workspace, {}) } });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(r.outputs['comment']).toBe('created');
    expect(gh.comments(FULL, 14)).toHaveLength(1);
    expect(gh.checkRuns(FULL).filter((c) => c['head_sha'] === pr.head)).toHaveLength(1);
    expect(gh.requests.filter((q) => q.operationId === 'issues/create-comment' && q.token === token).map((q) => q.status)).toEqual([502, 201]);
  });
});
