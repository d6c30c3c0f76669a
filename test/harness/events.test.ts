import { describe, expect, test } from '@jest/globals';
import { eventEnv, mergeGroupEvent, pullRequestEvent, pullRequestTargetEvent, pushEvent, scheduleEvent, workflowDispatchEvent, workflowRunEvent, parseFileCommand, parseWorkflowCommand, FileCommandError } from '@maestro/harness';

const repo = { owner: 'acme', name: 'shop' };
const [A, B, C] = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)];

describe('GITHUB_* per event, as the runner derives them', () => {
  test('pull_request: merge commit and refs/pull/N/merge; base/head refs set', () => {
    const env = eventEnv(pullRequestEvent({ repo, number: 9, base: A, head: B, merge: C, headRef: 'feat' }));
    expect([env['GITHUB_SHA'], env['GITHUB_REF'], env['GITHUB_BASE_REF'], env['GITHUB_HEAD_REF'], env['GITHUB_REPOSITORY'], env['GITHUB_REF_NAME']]).toEqual([C, 'refs/pull/9/merge', 'main', 'feat', 'acme/shop', '9/merge']);
  });
  test('pull_request_target runs on the base branch', () => {
    const env = eventEnv(pullRequestTargetEvent({ repo, number: 9, base: A, head: B, merge: C }));
    expect([env['GITHUB_SHA'], env['GITHUB_REF']]).toEqual([A, 'refs/heads/main']);
  });
  test('push: after and the pushed ref; base/head refs empty', () => {
    const env = eventEnv(pushEvent({ repo, before: A, after: B }));
    expect([env['GITHUB_SHA'], env['GITHUB_REF'], env['GITHUB_BASE_REF'], env['GITHUB_HEAD_REF']]).toEqual([B, 'refs/heads/main', '', '']);
  });
  test('merge_group: the queue ref and head_sha', () => {
    const e = mergeGroupEvent({ repo, baseSha: A, headSha: B, prNumber: 4 });
    expect(eventEnv(e)['GITHUB_REF']).toBe(`refs/heads/gh-readonly-queue/main/pr-4-${A}`);
    expect(eventEnv(e)['GITHUB_SHA']).toBe(B);
    expect((e.payload as { merge_group: { base_sha: string } }).merge_group.base_sha).toBe(A);
  });
  test('schedule, workflow_dispatch and workflow_run run on the default branch', () => {
    for (const e of [scheduleEvent({ repo, sha: C }), workflowDispatchEvent({ repo, sha: C }), workflowRunEvent({ repo, headSha: A, headBranch: 'feat', defaultBranchSha: C, prNumbers: [9] })]) {
      expect([e.name, eventEnv(e)['GITHUB_SHA'], eventEnv(e)['GITHUB_REF']]).toEqual([e.name, C, 'refs/heads/main']);
    }
  });
});

describe('runner command parsers', () => {
  test('file commands: NAME=value and heredoc, multi-line values, malformed files rejected', () => {
    expect(parseFileCommand('a=1\nb<<EOF_1\nline1\nline2\nEOF_1\nc=x=y\n', 'output')).toEqual([['a', '1'], ['b', 'line1\nline2'], ['c', 'x=y']]);
    expect(() => parseFileCommand('b<<EOF\nno end\n', 'output')).toThrow(FileCommandError);
    expect(() => parseFileCommand('just text\n', 'env')).toThrow(/invalid format/);
    expect(() => parseFileCommand('<<EOF\nx\nEOF\n', 'output')).toThrow(/empty name/);
  });
  test('workflow commands: properties and data unescaped', () => {
    expect(parseWorkflowCommand('::error file=a%2Cb.ts,line=3,title=T%3A x::multi%0Aline 100%25')).toEqual({ command: 'error', properties: { file: 'a,b.ts', line: '3', title: 'T: x' }, data: 'multi\nline 100%' });
    expect(parseWorkflowCommand('  ::add-mask::s3cret')).toEqual({ command: 'add-mask', properties: {}, data: 's3cret' });
    expect(parseWorkflowCommand('plain log line')).toBeNull();
  });
});
