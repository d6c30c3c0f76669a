/**
 * The PR pipeline, run from the YAML we ship: `workflows-templates/pr-pipeline.yml`
 * through the workflow executor (GitHub's parser and evaluator), every job a
 * fresh machine, evidence passed as artifacts, each job's token scoped by its
 * `permissions:`. A fork's run gets read-only tokens, so health-comment only
 * uploads its bundle; `pr-health-publish.yml` then runs on the workflow_run
 * event with its own scopes, downloads the bundle of the triggering run and
 * posts it.
 */
import path from 'node:path';
import type { FakeCacheService } from './fake-cache.js';
import { scopesFor } from './fake-cache.js';
import type { FakeGitHub } from './fake-github.js';
import type { GitFixture } from './git-fixture.js';
import { pullRequestEvent, workflowRunEvent, type RepoRef } from './events.js';
import { assertContract, type RunResult } from './runner-sim.js';
import { ArtifactStore, runWorkflow, type WorkflowRunResult } from './workflow.js';

/** The jobs of pr-pipeline.yml whose first Maestro step is reported, in the order they run. */
export const GATE_JOBS = ['affected', 'plan', 'risk', 'policy'] as const;

/** Inputs of pr-pipeline.yml the tests and the demo use: the sample monorepo's tests, its committed timings, the affected cache. */
export const SAMPLE_INPUTS = {
  'test-command': 'while read -r f; do echo "ran $f (shard $MAESTRO_SHARD of $MAESTRO_SHARDS)"; done < "$MAESTRO_SHARD_FILES"',
  'tests-glob': 'packages/**/*.test.ts',
  timings: 'ci/test-timings.json',
  cache: 'restore-save',
};

export interface PipelineRun {
  root: string;
  fx: GitFixture;
  gh: FakeGitHub;
  cache: FakeCacheService;
  repo: RepoRef;
  number: number;
  pr: { base: string; head: string; merge: string };
  headRef: string;
  runId: number;
  attempt?: number;
  fork?: { owner: string };
  /** Inputs of pr-pipeline.yml (default SAMPLE_INPUTS). */
  inputs?: Record<string, string>;
  /** Shared across runs so the publisher can download the PR run's artifacts. */
  artifacts?: ArtifactStore;
  log?: (line: string) => void;
}

export interface PipelineResult {
  /** The Maestro step of each gate job that ran, named by its action. */
  jobs: Array<{ id: string; job: string; result: RunResult }>;
  health: RunResult;
  /** The workflow_run publisher's health-comment step, for forks. */
  publish?: RunResult;
  workflow: WorkflowRunResult;
  publishWorkflow?: WorkflowRunResult;
  /** Tokens the pull request run's jobs got (read-only for forks). */
  tokens: string[];
}

const actionOf = (uses: string | undefined) => /^maestro\/(?:conductor\/actions\/)?([\w-]+)@/.exec(uses ?? '')?.[1];

function firstOwnStep(w: WorkflowRunResult, job: string): { id: string; result: RunResult } | undefined {
  const rec = w.jobs.find((j) => j.id === job);
  const step = rec?.steps.find((s) => s.kind === 'action' && s.result);
  return step ? { id: actionOf(step.uses)!, result: step.result! } : undefined;
}

export async function runPrPipeline(o: PipelineRun): Promise<PipelineResult> {
  const artifacts = o.artifacts ?? new ArtifactStore();
  const event = pullRequestEvent({ repo: o.repo, number: o.number, ...o.pr, headRef: o.headRef, ...(o.fork ? { fork: o.fork } : {}) });
  const run = { id: o.runId, attempt: o.attempt ?? 1, number: o.runId % 1000 };
  const workflow = await runWorkflow({
    root: o.root,
    file: path.join(o.root, 'workflows-templates/pr-pipeline.yml'),
    event,
    inputs: o.inputs ?? SAMPLE_INPUTS,
    fx: o.fx,
    gh: o.gh,
    env: o.cache.env(scopesFor(`refs/pull/${o.number}/merge`)),
    run,
    artifacts,
    readOnly: !!o.fork,
    ...(o.log ? { log: o.log } : {}),
  });
  // Jobs the template skipped (e.g. plan when affected failed) have no step to report.
  const jobs: PipelineResult['jobs'] = [];
  for (const job of GATE_JOBS) {
    const s = firstOwnStep(workflow, job);
    if (!s) continue;
    assertContract(s.result);
    jobs.push({ ...s, job });
  }
  const health = firstOwnStep(workflow, 'health');
  if (!health) throw new Error(`pr-pipeline.yml: the health job ran no health-comment step (${workflow.jobs.find((j) => j.id === 'health')?.result ?? 'missing'})`);
  assertContract(health.result);
  let publish: RunResult | undefined;
  let publishWorkflow: WorkflowRunResult | undefined;
  if (o.fork && health.result.outputs['comment'] === 'artifact') {
    // The companion workflow in the default branch, on workflow_run: its own job token, the PR run's artifact.
    const wr = workflowRunEvent({ repo: o.repo, headSha: o.pr.head, headBranch: o.headRef, defaultBranchSha: o.pr.base, headOwner: o.fork.owner, runId: o.runId });
    publishWorkflow = await runWorkflow({ root: o.root, file: path.join(o.root, 'workflows-templates/pr-health-publish.yml'), event: wr, fx: o.fx, gh: o.gh, run: { id: o.runId + 1 }, artifacts, ...(o.log ? { log: o.log } : {}) });
    publish = firstOwnStep(publishWorkflow, 'publish')?.result;
    if (publish) assertContract(publish);
  }
  return { jobs, health: health.result, ...(publish ? { publish } : {}), workflow, ...(publishWorkflow ? { publishWorkflow } : {}), tokens: workflow.jobs.map((j) => j.token).filter(Boolean) };
}
