import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { FakeGitHub } from '@maestro/harness';
import { getGitHubClient, httpStatus, type GitHubClient } from '@maestro/core';

const FULL = 'octo-org/octo-repo';
const owner = 'octo-org';
const repo = 'octo-repo';
const HEAD = 'a'.repeat(40);
const BASE = 'b'.repeat(40);
let gh: FakeGitHub;
let octokit: GitHubClient;

beforeAll(async () => {
  gh = await FakeGitHub.start();
  gh.addRepo(FULL);
  gh.addPull(FULL, { number: 5, headSha: HEAD, baseSha: BASE, files: [{ filename: 'src/new.ts', status: 'renamed', previous_filename: 'src/old.ts' }] });
  process.env['GITHUB_API_URL'] = gh.url;
  octokit = await getGitHubClient(gh.addToken('t-all'));
});

afterAll(async () => {
  delete process.env['GITHUB_API_URL'];
  await gh.stop();
});

describe('fake GitHub: every operation we use, validated both ways against the OpenAPI description', () => {
  test('pulls get / list files, compare commits', async () => {
    const { data: pr } = await octokit.rest.pulls.get({ owner, repo, pull_number: 5 });
    expect([pr.head.sha, pr.base.sha, pr.number]).toEqual([HEAD, BASE, 5]);
    const { data: files } = await octokit.rest.pulls.listFiles({ owner, repo, pull_number: 5 });
    expect(files.map((f) => [f.filename, f.status, f.previous_filename])).toEqual([['src/new.ts', 'renamed', 'src/old.ts']]);
    gh.setCompare(FULL, BASE, HEAD, { files: [{ filename: 'x.ts', status: 'added' }], commits: [HEAD] });
    const { data: cmp } = await octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${BASE}...${HEAD}` });
    expect([cmp.total_commits, cmp.merge_base_commit.sha, cmp.files?.map((f) => f.filename)]).toEqual([1, BASE, ['x.ts']]);
    gh.assertNoViolations();
  });

  test('issue comments: create, list, get, update, delete; bodies over 65,536 characters are refused', async () => {
    const { data: c } = await octokit.rest.issues.createComment({ owner, repo, issue_number: 5, body: 'one' });
    await octokit.rest.issues.updateComment({ owner, repo, comment_id: c.id, body: 'two' });
    const { data: got } = await octokit.rest.issues.getComment({ owner, repo, comment_id: c.id });
    expect(got.body).toBe('two');
    expect(got.user?.login).toBe('github-actions[bot]');
    const tooLong = await octokit.rest.issues.createComment({ owner, repo, issue_number: 5, body: 'x'.repeat(65537) }).catch((e: unknown) => e);
    expect(httpStatus(tooLong)).toBe(422);
    await octokit.rest.issues.deleteComment({ owner, repo, comment_id: c.id });
    const { data: list } = await octokit.rest.issues.listComments({ owner, repo, issue_number: 5 });
    expect(list).toEqual([]);
    gh.assertNoViolations();
  });

  test('check runs: create in progress, update to completed, list for the head SHA', async () => {
    const { data: run } = await octokit.rest.checks.create({ owner, repo, name: 'maestro / health', head_sha: HEAD, status: 'in_progress', output: { title: 't', summary: 's' } });
    await octokit.rest.checks.update({ owner, repo, check_run_id: run.id, status: 'completed', conclusion: 'failure', output: { title: 'gate', summary: 'blocked' } });
    const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref: HEAD, check_name: 'maestro / health' });
    expect(data.check_runs.map((r) => [r.name, r.status, r.conclusion, r.head_sha])).toEqual([['maestro / health', 'completed', 'failure', HEAD]]);
    gh.assertNoViolations();
  });

  test('commit statuses, contents, workflow runs, collaborator permission, attestations', async () => {
    await octokit.rest.repos.createCommitStatus({ owner, repo, sha: HEAD, state: 'success', context: 'maestro/risk' });
    const { data: statuses } = await octokit.rest.repos.listCommitStatusesForRef({ owner, repo, ref: HEAD });
    expect(statuses.map((s) => [s.context, s.state])).toEqual([['maestro/risk', 'success']]);

    gh.setContent(FULL, 'policy/rules.yaml', 'version: 1\n');
    const { data: content } = await octokit.rest.repos.getContent({ owner, repo, path: 'policy/rules.yaml' });
    expect(Buffer.from((content as { content: string }).content, 'base64').toString()).toBe('version: 1\n');

    gh.addWorkflowRun(FULL, { headSha: BASE, headBranch: 'main', conclusion: 'success', createdAt: '2026-01-01T00:00:00Z' });
    gh.addWorkflowRun(FULL, { headSha: HEAD, headBranch: 'main', conclusion: 'failure', createdAt: '2026-01-02T00:00:00Z' });
    const { data: runs } = await octokit.rest.actions.listWorkflowRuns({ owner, repo, workflow_id: 'ci.yml', branch: 'main', status: 'success' });
    expect(runs.workflow_runs.map((r) => r.head_sha)).toEqual([BASE]);
    const { data: all } = await octokit.rest.actions.listWorkflowRunsForRepo({ owner, repo, branch: 'main' });
    expect(all.workflow_runs.map((r) => r.head_sha)).toEqual([HEAD, BASE]);

    gh.setPermission(FULL, 'mona', 'maintain');
    const { data: perm } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: 'mona' });
    expect([perm.permission, perm.role_name]).toEqual(['write', 'maintain']);
    expect(httpStatus(await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: 'nobody' }).catch((e: unknown) => e))).toBe(404);

    const digest = `sha256:${'c'.repeat(64)}`;
    gh.addAttestation(FULL, digest, { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' });
    const { data: att } = await octokit.request('GET /repos/{owner}/{repo}/attestations/{subject_digest}', { owner, repo, subject_digest: digest });
    expect(att.attestations?.length).toBe(1);
    gh.assertNoViolations();
  });

  test('unknown tokens get 401; an unknown repository 404', async () => {
    const anon = await getGitHubClient('not-registered');
    expect(httpStatus(await anon.rest.pulls.get({ owner, repo, pull_number: 5 }).catch((e: unknown) => e))).toBe(401);
    expect(httpStatus(await octokit.rest.pulls.get({ owner, repo: 'nope', pull_number: 5 }).catch((e: unknown) => e))).toBe(404);
    gh.assertNoViolations();
  });
});
