import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { FakeGitHub } from '@maestro/harness';
import { getGitHubClient, httpStatus, isReadOnlyTokenError } from '../src/index.js';

const FULL = 'octo-org/octo-repo';
let gh: FakeGitHub;

beforeAll(async () => {
  // GHES serves the API under /api/v3: GITHUB_API_URL must be honoured as given.
  gh = await FakeGitHub.start({ pathPrefix: '/api/v3' });
  gh.addRepo(FULL);
  gh.addPull(FULL, { number: 1, headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40), files: Array.from({ length: 3100 }, (_, i) => ({ filename: `f${i}.ts`, status: 'modified' as const })) });
  process.env['GITHUB_API_URL'] = gh.url;
});

afterAll(async () => {
  delete process.env['GITHUB_API_URL'];
  await gh.stop();
});

describe('getGitHubClient against the OpenAPI-validated fake', () => {
  test('pagination follows Link headers; the files API stops at 3000 like GitHub', async () => {
    const octokit = await getGitHubClient(gh.addToken('t-pages'));
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, { owner: 'octo-org', repo: 'octo-repo', pull_number: 1, per_page: 100 });
    expect(files).toHaveLength(3000);
    expect(gh.requests.filter((r) => r.operationId === 'pulls/list-files')).toHaveLength(30);
    expect(gh.requests.every((r) => r.path.startsWith('/api/v3/'))).toBe(true);
    gh.assertNoViolations();
  });

  test('429 with retry-after and a 503 are retried; the call succeeds once', async () => {
    const octokit = await getGitHubClient(gh.addToken('t-retry'));
    gh.rateLimit('pulls/get', { retryAfter: 1 });
    gh.fault({ operation: 'pulls/get', status: 503 });
    const { data } = await octokit.rest.pulls.get({ owner: 'octo-org', repo: 'octo-repo', pull_number: 1 });
    expect(data.head.sha).toBe('a'.repeat(40));
    expect(gh.requests.filter((r) => r.operationId === 'pulls/get').map((r) => r.status)).toEqual([429, 503, 200]);
  });

  test('a read-only token is recognised; 404 is not retried', async () => {
    const octokit = await getGitHubClient(gh.addToken('t-ro', { permission: 'read' }));
    const err = await octokit.rest.issues.createComment({ owner: 'octo-org', repo: 'octo-repo', issue_number: 1, body: 'x' }).catch((e: unknown) => e);
    expect(isReadOnlyTokenError(err)).toBe(true);
    const before = gh.requests.length;
    const nf = await octokit.rest.pulls.get({ owner: 'octo-org', repo: 'octo-repo', pull_number: 99 }).catch((e: unknown) => e);
    expect(httpStatus(nf)).toBe(404);
    expect(gh.requests.length - before).toBe(1);
  });

  test('the fake flags requests that break the spec', async () => {
    const octokit = await getGitHubClient(gh.addToken('t-bad'));
    const err = await octokit.request('POST /repos/{owner}/{repo}/check-runs', { owner: 'octo-org', repo: 'octo-repo', head_sha: 'x', conclusion: 'great' } as never).catch((e: unknown) => e);
    expect(httpStatus(err)).toBe(422);
    expect(() => gh.assertNoViolations()).toThrow(/\[request\] POST .*checks\/create/);
    gh.violations.length = 0;
  });

  test('an operation the fake does not implement answers 501 and is recorded', async () => {
    const octokit = await getGitHubClient(gh.addToken('t-501'));
    const err = await octokit.rest.repos.get({ owner: 'octo-org', repo: 'octo-repo' }).catch((e: unknown) => e);
    expect(httpStatus(err)).toBe(501);
    expect(gh.violations.map((v) => v.kind)).toEqual(['unimplemented']);
    gh.violations.length = 0;
  });
});
