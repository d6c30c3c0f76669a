import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeCacheService, FakeGitHub, GitFixture, assertContract, pullRequestEvent, pushEvent, runAction, scopesFor } from '@maestro/harness';

const actionDir = path.resolve('test/actions/hello');
const REPO = { owner: 'octo-org', name: 'octo-repo' };
const FULL = 'octo-org/octo-repo';

let gh: FakeGitHub;
let cache: FakeCacheService;
let git: GitFixture;
let pr: { base: string; head: string; merge: string };

beforeAll(async () => {
  expect(existsSync(path.join(actionDir, 'dist/index.js'))).toBe(true);
  [gh, cache] = await Promise.all([FakeGitHub.start(), FakeCacheService.start()]);
  git = GitFixture.create();
  git.commit('base', { 'README.md': '# demo\n' });
  git.push('main');
  git.branch('feature');
  git.commit('change', { 'src/a.ts': 'export const a = 1;\n' });
  pr = git.pullRequest(7, 'main', 'feature');
  gh.addRepo(FULL);
  gh.addPull(FULL, { number: 7, headSha: pr.head, baseSha: pr.base });
});

afterAll(async () => {
  await Promise.all([gh?.stop(), cache?.stop()]);
  git?.dispose();
});

const prEvent = () => pullRequestEvent({ repo: REPO, number: 7, ...pr });

describe('hello bundle under runner-sim', () => {
  test('pre → main → post: inputs, defaults, outputs, state, summary, annotations', async () => {
    const token = gh.addToken('ghs_write_token_1');
    const r = await runAction({ actionDir, with: { 'who-to-greet': 'Mona', times: '2' }, event: prEvent(), token, apiUrl: gh.url });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(r.stages.map((s) => [s.stage, s.exitCode])).toEqual([['pre', 0], ['main', 0], ['post', 0]]);
    expect(r.outputs['greeting']).toBe('Hello, Mona!');
    const details = JSON.parse(r.outputs['details']!);
    // On pull_request GITHUB_SHA is the merge commit, not the head.
    expect(details).toEqual({ event: 'pull_request', sha: pr.merge, pre: 'pre-ran' });
    expect(r.env['GITHUB_REF']).toBe('refs/pull/7/merge');
    expect(r.env['GITHUB_BASE_REF']).toBe('main');
    expect(r.env['GITHUB_HEAD_REF']).toBe('feature');
    expect(r.env['INPUT_WHO-TO-GREET']).toBe('Mona');
    // Defaults applied for absent inputs, including the ${{ github.token }} expression.
    expect(r.env['INPUT_TOKEN']).toBe(token);
    expect(r.env['INPUT_FAIL-WITH']).toBe('none');
    expect(r.outputs['comment-status']).toBe('skipped');
    expect(r.outputs['cache-hit']).toBe('false');
    expect(r.summary).toContain('| 2 | Hello, Mona! |');
    expect(r.annotations).toContainEqual({ level: 'notice', message: 'Hello, Mona!', title: 'hello', file: 'README.md', line: 1 });
    expect(r.stages[2]!.log).toContain('post: state started=pre-ran greeted=Mona');
    expect(r.nodeVersion).toMatch(/^v2[04]\./);
    gh.assertNoViolations();
  });

  test('a supplied empty input stays empty; unknown inputs give the runner warning', async () => {
    const r = await runAction({ actionDir, with: { 'who-to-greet': 'x', 'cache-key': '', tresh: '1' }, event: prEvent(), stages: ['main'] });
    expect(r.env['INPUT_CACHE-KEY']).toBe('');
    expect(r.warnings[0]).toMatch(/^Unexpected input\(s\) 'tresh', valid inputs are \['who-to-greet', 'token'/);
    expect(r.conclusion).toBe('success');
  });

  test('secrets are masked in the log; nothing leaks', async () => {
    const r = await runAction({ actionDir, with: { 'who-to-greet': 'x', secret: 's3cr3t-value' }, event: prEvent(), stages: ['main'] });
    assertContract(r);
    expect(r.masks).toEqual(['s3cr3t-value']);
    expect(r.log).toContain('secret received: ***');
    expect(r.log).not.toContain('s3cr3t-value');
  });

  test('invalid inputs fail with one user-facing line naming every bad input', async () => {
    const r = await runAction({ actionDir, with: { 'who-to-greet': 'x', comment: 'yes', times: 'many' }, event: prEvent(), stages: ['main'] });
    expect(r.conclusion).toBe('failure');
    const errors = r.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain("input 'comment' expected true or false, got 'yes'");
    expect(errors[0]!.message).toContain("input 'times' expected a whole number, got 'many'");
    expect(r.log).not.toMatch(/\n\s+at /); // no bare stack trace
  });

  test('a ConfigError names file, line and fix; an internal error is prefixed with the action name', async () => {
    const cfg = await runAction({ actionDir, with: { 'who-to-greet': 'x', 'fail-with': 'config' }, event: prEvent() });
    expect(cfg.conclusion).toBe('failure');
    expect(cfg.annotations.find((a) => a.level === 'error')!.message).toBe("hello.yml:3:5: 'fail-with' asked for a config error Fix: set fail-with: none");
    // post still runs after a failed main
    expect(cfg.stages.map((s) => s.stage)).toEqual(['pre', 'main', 'post']);
    const internal = await runAction({ actionDir, with: { 'who-to-greet': 'x', 'fail-with': 'internal' }, event: prEvent(), stages: ['main'] });
    expect(internal.annotations.find((a) => a.level === 'error')!.message).toBe('hello: internal error: boom on purpose');
    expect(internal.log).not.toMatch(/\n\s+at /);
  });

  test('sticky comment: created once, unchanged on re-run, updated when the body changes (0 spec violations)', async () => {
    const token = gh.addToken('ghs_write_token_2');
    const go = (who: string) => runAction({ actionDir, with: { 'who-to-greet': who, comment: 'true' }, event: prEvent(), token, apiUrl: gh.url, stages: ['main'] });
    const a = await go('Ada');
    assertContract(a);
    expect(a.outputs['comment-status']).toBe('created');
    const b = await go('Ada');
    expect(b.outputs['comment-status']).toBe('unchanged');
    expect(b.outputs['comment-id']).toBe(a.outputs['comment-id']);
    const c = await go('Grace');
    expect(c.outputs['comment-status']).toBe('updated');
    const comments = gh.comments(FULL, 7);
    expect(comments).toHaveLength(1);
    expect(comments[0]!['body']).toContain('Hello, Grace!');
    gh.assertNoViolations();
  });

  test('fork PR: a read-only token gets 403 and the action degrades to a warning, no crash', async () => {
    const token = gh.addToken('ghs_read_only', { permission: 'read' });
    const before = gh.comments(FULL, 7).length;
    const r = await runAction({ actionDir, with: { 'who-to-greet': 'Fork', comment: 'true' }, event: pullRequestEvent({ repo: REPO, number: 7, ...pr, fork: { owner: 'someone' } }), token, apiUrl: gh.url, stages: ['main'] });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(r.outputs['comment-status']).toBe('forbidden');
    expect(r.annotations.some((a) => a.level === 'warning' && /read-only/.test(a.message))).toBe(true);
    expect(gh.comments(FULL, 7)).toHaveLength(before);
    // The existing sticky comment was found and the update refused, as GitHub does for fork tokens.
    expect(gh.requests.filter((q) => q.token === token && q.method !== 'get').map((q) => [q.operationId, q.status])).toEqual([['issues/update-comment', 403]]);
    gh.assertNoViolations();
  });

  test('secondary rate limit (403 + retry-after) and a 502 are retried; nothing is duplicated', async () => {
    const token = gh.addToken('ghs_write_token_3');
    const fresh = await FakeGitHub.start();
    fresh.addRepo(FULL);
    fresh.addPull(FULL, { number: 7, headSha: pr.head, baseSha: pr.base });
    fresh.addToken(token);
    fresh.rateLimit('issues/create-comment', { secondary: true, retryAfter: 1 });
    fresh.fault({ operation: 'issues/list-comments', status: 502 });
    try {
      const r = await runAction({ actionDir, with: { 'who-to-greet': 'Retry', comment: 'true' }, event: prEvent(), token, apiUrl: fresh.url, stages: ['main'] });
      assertContract(r);
      expect(r.conclusion).toBe('success');
      expect(r.outputs['comment-status']).toBe('created');
      expect(fresh.comments(FULL, 7)).toHaveLength(1);
      const creates = fresh.requests.filter((q) => q.operationId === 'issues/create-comment').map((q) => q.status);
      expect(creates).toEqual([403, 201]);
      expect(fresh.requests.filter((q) => q.operationId === 'issues/list-comments').map((q) => q.status)).toEqual([502, 200]);
      fresh.assertNoViolations();
    } finally {
      await fresh.stop();
    }
  });

  test('cache: the real @actions/cache saves, then a second run restores (v2 protocol)', async () => {
    const workspace = mkdtempSync(path.join(tmpdir(), 'ws-'));
    const env = cache.env(scopesFor('refs/pull/7/merge'));
    const first = await runAction({ actionDir, workspace, with: { 'who-to-greet': 'x', 'cache-path': 'out', 'cache-key': 'hello-v1' }, event: prEvent(), env, stages: ['main'] });
    assertContract(first);
    expect(first.outputs['cache-hit']).toBe('false');
    expect(cache.entries.filter((e) => e.key === 'hello-v1' && e.finalized)).toHaveLength(1);
    const second = await runAction({ actionDir, with: { 'who-to-greet': 'x', 'cache-path': 'out', 'cache-key': 'hello-v1' }, event: prEvent(), env, stages: ['main'] });
    assertContract(second);
    expect(second.outputs['cache-hit']).toBe('true');
  });

  test('cache scopes: a push to main cannot read a PR-scoped entry', async () => {
    const fx = GitFixture.create();
    const sha = fx.commit('x', { a: '1' });
    const r = await runAction({ actionDir, with: { 'who-to-greet': 'x', 'cache-path': 'out', 'cache-key': 'hello-v1' }, event: pushEvent({ repo: REPO, before: '0'.repeat(40), after: sha }), env: cache.env(scopesFor('refs/heads/main')), stages: ['main'] });
    fx.dispose();
    assertContract(r);
    expect(r.outputs['cache-hit']).toBe('false');
    // It saved its own entry under its own ref instead.
    expect(cache.entries.filter((e) => e.key === 'hello-v1').map((e) => e.scope).sort()).toEqual(['refs/heads/main', 'refs/pull/7/merge']);
  });
});
