/**
 * The PR pipeline as the `pr-pipeline.yml` template wires it, run job by job
 * through runner-sim: each job gets its own fresh checkout and RUNNER_TEMP
 * (separate machines), its evidence file goes into an "artifact" directory
 * (upload-artifact / download-artifact with merge), and the health job reads
 * that directory. A fork's run has a read-only token, so health-comment only
 * writes its bundle; the `pr-health-publish` job (workflow_run, write token)
 * validates and posts it.
 */
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FakeCacheService } from './fake-cache.js';
import { scopesFor } from './fake-cache.js';
import type { FakeGitHub } from './fake-github.js';
import type { GitFixture } from './git-fixture.js';
import { pullRequestEvent, workflowRunEvent, type RepoRef } from './events.js';
import { assertContract, runAction, type RunResult } from './runner-sim.js';

/** The jobs before health, in order, with the inputs the template passes. */
export const PIPELINE_JOBS: ReadonlyArray<{ id: string; with: Record<string, string> }> = [
  { id: 'affected', with: { 'test-selection': 'files', cache: 'restore-save', 'cache-targets': 'build' } },
  { id: 'allocate-shards', with: { 'tests-glob': 'packages/**/*.test.ts', timings: 'ci/test-timings.json', shards: 'auto', overhead: '20', 'max-shards': '4' } },
  { id: 'risk-score', with: { mode: 'warn' } },
  { id: 'policy-gate', with: {} },
];

export interface PipelineRun {
  root: string;
  fx: GitFixture;
  gh: FakeGitHub;
  cache: FakeCacheService;
  repo: RepoRef;
  number: number;
  pr: { base: string; head: string; merge: string };
  headRef: string;
  /** The token the pull request run gets (read-only for forks). */
  token: string;
  /** The workflow_run publisher's token (write), used for forks. */
  publishToken?: string;
  runId: number;
  attempt?: number;
  fork?: { owner: string };
  /** Inputs per job id, replacing the defaults. */
  inputs?: Record<string, Record<string, string>>;
  healthWith?: Record<string, string>;
  /** Files to write into every job's checkout before it runs (what earlier steps such as tests would produce). */
  workspaceFiles?: (workspace: string) => void;
}

export interface PipelineResult {
  jobs: Array<{ id: string; result: RunResult }>;
  health: RunResult;
  /** The workflow_run job, for forks. */
  publish?: RunResult;
  evidenceDir: string;
}

export async function runPrPipeline(o: PipelineRun): Promise<PipelineResult> {
  const event = pullRequestEvent({ repo: o.repo, number: o.number, ...o.pr, headRef: o.headRef, ...(o.fork ? { fork: o.fork } : {}) });
  const env = { ...o.cache.env(scopesFor(`refs/pull/${o.number}/merge`)), GITHUB_RUN_ID: String(o.runId), GITHUB_RUN_NUMBER: String(o.runId % 1000), GITHUB_RUN_ATTEMPT: String(o.attempt ?? 1) };
  // download-artifact with `pattern: maestro-evidence-*` and `merge-multiple: true`.
  const evidenceDir = mkdtempSync(path.join(tmpdir(), 'maestro-evidence-artifact-'));
  const jobs: PipelineResult['jobs'] = [];
  for (const job of PIPELINE_JOBS) {
    const workspace = o.fx.checkoutLike(o.pr.merge, { depth: 1 });
    o.workspaceFiles?.(workspace);
    const result = await runAction({ actionDir: path.join(o.root, 'actions', job.id), with: o.inputs?.[job.id] ?? job.with, event, workspace, token: o.token, apiUrl: o.gh.url, env });
    assertContract(result);
    jobs.push({ id: job.id, result });
    const ev = result.outputs['evidence-path'];
    if (ev && existsSync(ev)) copyFileSync(ev, path.join(evidenceDir, path.basename(ev)));
  }
  const workspace = o.fx.checkoutLike(o.pr.merge, { depth: 1 });
  o.workspaceFiles?.(workspace);
  const health = await runAction({ actionDir: path.join(o.root, 'actions/health-comment'), with: { evidence: evidenceDir, ...o.healthWith }, event, workspace, token: o.token, apiUrl: o.gh.url, env });
  assertContract(health);
  let publish: RunResult | undefined;
  if (o.fork && health.outputs['comment'] === 'artifact') {
    // upload-artifact in the PR run; download-artifact (run-id of the triggering run) in the publisher.
    const dl = mkdtempSync(path.join(tmpdir(), 'maestro-health-artifact-'));
    copyFileSync(health.outputs['bundle-path']!, path.join(dl, 'health.json'));
    const wr = workflowRunEvent({ repo: o.repo, headSha: o.pr.head, headBranch: o.headRef, defaultBranchSha: o.pr.base, headOwner: o.fork.owner, runId: o.runId });
    publish = await runAction({ actionDir: path.join(o.root, 'actions/health-comment'), with: { mode: 'publish', bundle: path.join(dl, 'health.json') }, event: wr, workspace: dl, token: o.publishToken ?? o.token, apiUrl: o.gh.url, env: { GITHUB_RUN_ID: String(o.runId + 1) } });
    assertContract(publish);
  }
  return { jobs, health, ...(publish ? { publish } : {}), evidenceDir };
}
