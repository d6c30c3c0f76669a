import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_RUN, FakeGitHub, GitFixture, assertContract, pullRequestEvent, pushEvent, runAction } from '@maestro/harness';

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

/** Evidence as this run's steps write it (runner-sim's run id unless told otherwise). */
const envelope = (action: string, sha: string, data: unknown, run: number = DEFAULT_RUN.id) => JSON.stringify({ schema: 'maestro.evidence/1', action, sha, run: { id: run, attempt: 1, number: DEFAULT_RUN.number }, createdAt: '2026-11-25T00:00:00Z', data });

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
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 11, ...pr }), token, apiUrl: gh.url, with: { evidence: ev, coverage: 'lcov.info', required: 'affected, policy-gate' } });
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
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 12, ...pr, author: 'dependabot[bot]' }), token, apiUrl: gh.url, with: { evidence: evidence(workspace, {}), required: 'none' } });
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
    const r = await runAction({ actionDir, workspace, event: pushEvent({ repo: REPO, before: '0'.repeat(40), after: sha }), token, apiUrl: gh.url, with: { evidence: evidence(workspace, {}), 'comment-author': 'maestro-app[bot]', required: 'none' } });
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
    const policy = (outcome: string, runId: number) => envelope('policy-gate', pr.head, { outcome, policy: 'policy/rules.yaml', actor: 'human', violations: outcome === 'pass' ? [] : [{ rule: 'r1', reason: 'because', mode: outcome === 'block' ? 'enforce' : 'warn', subject: 'src/calc.ts', detail: 'd' }], overrides: [] }, runId);
    const go = async (outcome: string, runId: number) => {
      const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
      const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 13, ...pr }), token, apiUrl: gh.url, with: { evidence: evidence(workspace, { 'policy-gate.json': policy(outcome, runId) }), 'on-worse': 'repost', required: 'policy-gate' }, run: { id: runId } });
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
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 14, ...pr }), token, apiUrl: gh.url, with: { evidence: evidence(workspace, {}), required: 'none' } });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(r.outputs['comment']).toBe('created');
    expect(gh.comments(FULL, 14)).toHaveLength(1);
    expect(gh.checkRuns(FULL).filter((c) => c['head_sha'] === pr.head)).toHaveLength(1);
    expect(gh.requests.filter((q) => q.operationId === 'issues/create-comment' && q.token === token).map((q) => q.status)).toEqual([502, 201]);
  });
});

/** 5xx retries back off n² × this many ms instead of n² seconds: the same retries, without sleeping. */
const FAST_RETRY = { MAESTRO_API_RETRY_BASE_MS: '5' };

describe('health-comment fails closed (security review #13)', () => {
  const POLICY_PASS = (sha: string) => envelope('policy-gate', sha, { outcome: 'pass', policy: 'policy/rules.yaml', actor: 'human', violations: [], overrides: [] });
  const RISK_LOW = (sha: string) => envelope('risk-score', sha, { score: 0.05, level: 'low', mode: 'warn', blocks: false, factors: [], missing: [], model: {} });
  const AFFECTED = (sha: string, base: string) => envelope('affected', sha, { base, head: sha, baseSource: 'merge-commit-parent', all: false, allReason: null, projects: [], projectCount: 0, reasons: {}, removed: [], changedFiles: 1, files: ['src/calc.ts'], tests: null, cache: null });
  const SHARDS = (sha: string) => envelope('allocate-shards', sha, { tests: 0, shards: 0, predictedSeconds: 0, skew: 0, timingCoverage: 1, flakes: { probability: 0, known: 0, top: [] } });

  async function prFixture(n: number, branch: string) {
    fx.checkout('main');
    fx.branch(branch);
    fx.commit(branch, { 'src/calc.ts': `export const add = (a: number, b: number) => a + b; // ${branch}\n` });
    const pr = fx.pullRequest(n, 'main', branch);
    gh.addPull(FULL, { number: n, headSha: pr.head, baseSha: pr.base, headRef: branch });
    return pr;
  }

  test('real run ids (11 digits), 5-digit PR numbers: the evidence is read and a block stays a block', async () => {
    const pr = await prFixture(48213, 'real-ids');
    const token = gh.addToken('ghs_real_ids');
    const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
    const block = envelope('policy-gate', pr.head, { outcome: 'block', policy: 'policy/rules.yaml', actor: 'human', violations: [{ rule: 'infra-write', reason: 'Infra changes need the platform team', mode: 'enforce', subject: 'infra/main.tf', detail: 'human may not write infra/main.tf', file: 'infra/main.tf' }], overrides: [] });
    const ev = evidence(workspace, { 'affected.json': AFFECTED(pr.head, pr.base), 'allocate-shards.json': SHARDS(pr.head), 'risk-score.json': RISK_LOW(pr.head), 'policy-gate.json': block });
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 48213, ...pr }), token, apiUrl: gh.url, with: { evidence: ev }, run: { id: 16823450912, number: 18431 } });
    assertContract(r);
    expect(r.outputs['conclusion']).toBe('failure');
    const check = gh.checkRuns(FULL).find((c) => c['head_sha'] === pr.head)!;
    expect(check['conclusion']).toBe('failure');
    expect(check['external_id']).toBe('maestro-health-16823450912.1');
    expect(String(gh.comments(FULL, 48213)[0]!['body'])).toContain('<!-- maestro:health v1 sha=' + pr.head + ' run=16823450912.1 ');
    gh.assertNoViolations();
  });

  test('a gate whose evidence is missing (crashed, skipped, artifact absent) fails the check with the reason; never success', async () => {
    const pr = await prFixture(48214, 'no-policy');
    const token = gh.addToken('ghs_missing_ev');
    const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
    // Everything but policy-gate, plus a forged policy "pass" from another run with a higher id.
    const ev = evidence(workspace, { 'affected.json': AFFECTED(pr.head, pr.base), 'allocate-shards.json': SHARDS(pr.head), 'risk-score.json': RISK_LOW(pr.head), 'forged-policy.json': envelope('policy-gate', pr.head, { outcome: 'pass', policy: 'p', actor: 'human', violations: [], overrides: [] }, 99_999_999_999) });
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 48214, ...pr }), token, apiUrl: gh.url, with: { evidence: ev } });
    assertContract(r);
    expect(r.outputs['conclusion']).toBe('failure');
    expect(gh.checkRuns(FULL).find((c) => c['head_sha'] === pr.head)!['conclusion']).toBe('failure');
    expect(r.summary).toContain('**policy-gate evidence missing**: required, so this check fails');
    expect(r.summary).toContain('from run 99999999999.1, not this run');
    expect(r.annotations.some((a) => a.level === 'error' && /required evidence missing or invalid: policy-gate/.test(a.message))).toBe(true);
    gh.assertNoViolations();
  });

  test('a 1,200-character path in a denied folder: the block survives (cut for display, not dropped)', async () => {
    const pr = await prFixture(48215, 'long-path');
    const token = gh.addToken('ghs_long_path');
    const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
    const long = `infra/${'very-long-folder-name/'.repeat(55)}main.tf`;
    expect(long.length).toBeGreaterThan(1200);
    const block = envelope('policy-gate', pr.head, { outcome: 'block', policy: 'policy/rules.yaml', actor: 'human', violations: [{ rule: 'infra-write', reason: 'Infra changes need the platform team', mode: 'enforce', subject: long, detail: `human may not write ${long}`, file: long }], overrides: [] });
    const ev = evidence(workspace, { 'affected.json': AFFECTED(pr.head, pr.base), 'allocate-shards.json': SHARDS(pr.head), 'risk-score.json': RISK_LOW(pr.head), 'policy-gate.json': block });
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 48215, ...pr }), token, apiUrl: gh.url, with: { evidence: ev } });
    assertContract(r);
    expect(r.outputs['conclusion']).toBe('failure');
    expect(r.summary).toMatch(/\| ❌ \| Policy \| block: infra-write \|/);
    gh.assertNoViolations();
  });

  test('check-run stale guard: run 100 (pass) finishing after run 200 (block) on the same head does not turn it green', async () => {
    const pr = await prFixture(48216, 'stale-check');
    const token = gh.addToken('ghs_stale_check');
    const go = async (runId: number, outcome: 'pass' | 'block') => {
      const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
      const policy = envelope('policy-gate', pr.head, { outcome, policy: 'p', actor: 'human', violations: outcome === 'pass' ? [] : [{ rule: 'r', reason: 'why', mode: 'enforce', subject: 's', detail: 'd' }], overrides: [] }, runId);
      const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 48216, ...pr }), token, apiUrl: gh.url, with: { evidence: evidence(workspace, { 'policy-gate.json': policy }), required: 'policy-gate' }, run: { id: runId } });
      assertContract(r);
      return r;
    };
    await go(16823450200, 'block');
    const late = await go(16823450100, 'pass');
    expect(late.outputs['comment']).toBe('stale');
    expect(late.outputs['reason']).toMatch(/check run: check run \d+ holds run 16823450200\.1, newer than this run 16823450100\.1/);
    const runs = gh.checkRuns(FULL).filter((c) => c['head_sha'] === pr.head);
    expect(runs.map((c) => c['conclusion'])).toEqual(['failure']);
    gh.assertNoViolations();
  });

  test('API errors never lose the outputs: 422 on the comment still gets the check run; 403 on the check run keeps comment=created; 404 on the PR; exhausted secondary rate limit is not "read-only"', async () => {
    const pr = await prFixture(48217, 'api-errors');
    const token = gh.addToken('ghs_api_errors');
    const run = async (n = 48217, outcome: 'pass' | 'warn' = 'pass') => {
      const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
      const policy = envelope('policy-gate', pr.head, { outcome, policy: 'p', actor: 'human', violations: outcome === 'pass' ? [] : [{ rule: 'r', reason: 'why', mode: 'warn', subject: 's', detail: 'd' }], overrides: [] });
      const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: n, ...pr }), token, apiUrl: gh.url, with: { evidence: evidence(workspace, { 'policy-gate.json': policy }), required: 'none' }, env: FAST_RETRY });
      assertContract(r);
      expect(r.outputs['bundle-path']).toMatch(/health\.json$/);
      expect(r.outputs['conclusion']).toBe(outcome === 'pass' ? 'success' : 'neutral');
      return r;
    };
    gh.fault({ operation: 'issues/create-comment', status: 422, message: 'Validation Failed' });
    const a = await run();
    expect(a.outputs['comment']).toBe('failed');
    expect(a.outputs['check-run-id']).not.toBe('');
    expect(a.outputs['annotated']).toBe('true');
    expect(a.outputs['reason']).toMatch(/comment: HTTP 422: Validation Failed/);
    expect(a.conclusion).toBe('success');

    // A different result, so a new check run is due; the app may not create it (403), the comment goes through.
    gh.fault({ operation: 'checks/create', status: 403, message: 'Resource not accessible by integration' });
    const b = await run(48217, 'warn');
    expect(b.outputs['comment']).toBe('created');
    expect(b.outputs['reason']).toMatch(/check run: the token is read-only here/);
    expect(b.outputs['annotated']).toBe('true');

    gh.fault({ operation: 'pulls/get', status: 404, message: 'Not Found' });
    const c = await run(48217, 'pass');
    expect(c.outputs['comment']).toBe('failed');
    expect(c.outputs['reason']).toMatch(/pull request #48217 was not found \(HTTP 404\)/);
    expect(c.outputs['check-run-id']).not.toBe('');

    gh.rateLimit('issues/list-comments', { secondary: true, retryAfter: 1, times: 10 });
    const d = await run();
    expect(d.outputs['reason']).toMatch(/rate limited by GitHub after the client's retries/);
    expect(d.outputs['reason']).not.toMatch(/read-only/);
    expect(d.outputs['comment']).toBe('failed');
    gh.clearFaults();

    // Nothing at all can be posted (5xx on every write after retries): outputs set, the step fails with the reason.
    gh.fault({ operation: /^(issues\/create-comment|issues\/update-comment|checks\/create)$/, status: 500, times: 40 });
    const workspace2 = fx.checkoutLike(pr.merge, { depth: 1 });
    const e = await runAction({ actionDir, workspace: workspace2, event: pullRequestEvent({ repo: REPO, number: 48217, ...pr }), token, apiUrl: gh.url, with: { evidence: evidence(workspace2, { 'policy-gate.json': envelope('policy-gate', pr.head, { outcome: 'warn', policy: 'p', actor: 'human', violations: [{ rule: 'r5', reason: 'a new result', mode: 'warn', subject: 's', detail: 'd' }], overrides: [] }) }), required: 'none' }, env: FAST_RETRY });
    assertContract(e);
    expect(e.conclusion).toBe('failure');
    expect(e.outputs['bundle-path']).toMatch(/health\.json$/);
    expect(e.outputs['annotated']).toBe('false');
    expect(e.outputs['reason']).toMatch(/HTTP 500/);
    expect(e.log).not.toMatch(/internal error/);
    gh.clearFaults();
  }, 60_000);

  test("`required: ','` (a list that parses to nothing) is refused, not read as \"nothing required\"", async () => {
    const pr = await prFixture(48220, 'empty-required');
    const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 48220, ...pr }), with: { evidence: evidence(workspace, {}), required: ',' } });
    expect(r.conclusion).toBe('failure');
    expect(r.log).toMatch(/input 'required' lists no evidence; write the steps your workflow runs, or `none`/);
  });

  test('two health runs on one PR at the same time: no crash, one comment, the newer run\'s result', async () => {
    const pr = await prFixture(48218, 'concurrent');
    const token = gh.addToken('ghs_concurrent');
    const go = (runId: number, outcome: 'pass' | 'warn') => {
      const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
      const policy = envelope('policy-gate', pr.head, { outcome, policy: 'p', actor: 'human', violations: outcome === 'pass' ? [] : [{ rule: 'r', reason: 'why', mode: 'warn', subject: 's', detail: 'd' }], overrides: [] }, runId);
      return runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 48218, ...pr }), token, apiUrl: gh.url, with: { evidence: evidence(workspace, { 'policy-gate.json': policy }), required: 'policy-gate' }, run: { id: runId } });
    };
    const [older, newer] = await Promise.all([go(16823451000, 'warn'), go(16823452000, 'pass')]);
    for (const r of [older, newer]) {
      assertContract(r);
      expect(r.conclusion).toBe('success');
      expect(r.log).not.toMatch(/internal error/);
    }
    const comments = gh.comments(FULL, 48218);
    expect(comments).toHaveLength(1);
    expect(String(comments[0]!['body'])).toContain('run=16823452000.1');
    gh.assertNoViolations();
  });
  test('an evidence file that is a symlink out of the workspace is not read; nothing of it reaches the footer, the summary or the comment', async () => {
    const { mkdtempSync, symlinkSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const pr = await prFixture(48219, 'evidence-link');
    const token = gh.addToken('ghs_ev_link');
    const outside = mkdtempSync(path.join(tmpdir(), 'outside-ev-'));
    writeFileSync(path.join(outside, 'secret.json'), '{"token": "OUTSIDE-SECRET-VALUE"');
    const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
    // Relative to the workspace: the checkout's content, which the pull request controls.
    mkdirSync(path.join(workspace, 'evidence'));
    writeFileSync(path.join(workspace, 'evidence/policy-gate.json'), envelope('policy-gate', pr.head, { outcome: 'pass', policy: 'p', actor: 'human', violations: [], overrides: [] }));
    symlinkSync(path.join(outside, 'secret.json'), path.join(workspace, 'evidence/risk-score.json'));
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 48219, ...pr }), token, apiUrl: gh.url, with: { evidence: 'evidence', required: 'policy-gate, risk-score' } });
    assertContract(r);
    expect(r.outputs['conclusion']).toBe('failure');
    const body = String(gh.comments(FULL, 48219)[0]!['body']);
    for (const text of [r.log, r.summary, body]) expect(text).not.toContain('OUTSIDE-SECRET-VALUE');
    expect(r.summary).toContain('resolves outside the workspace and the runner temp directory (a symlink?); not read');
    gh.assertNoViolations();
  });
});
