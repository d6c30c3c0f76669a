import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, addedLines, annotate, booleanInput, evidenceDir, getGitHubClient, git, httpStatus, isRateLimitError, isReadOnlyTokenError, listInput, log, parseInputs, readInputFile, readSarif, runAction, runnerEvent, runnerTempPath, setOutputs, summarizeFindings, subjectSha, writeSummary } from '@maestro/core';
import { BUNDLE_SCHEMA, EVIDENCE_NAMES, conclusion, missingRequired, supersededBody, readEvidenceFiles, digestOf, marker, ownComments, parseBundle, parseMarker, planSticky, readEvidence, render, worse, type EvidenceProblem, type HealthBundle, type Security } from '@maestro/health';

export const ACTION = 'health-comment';

/** Comments are limited to 65,536 characters; keep a margin for the marker. */
const COMMENT_BUDGET = 60_000;
/** Check-run summaries: 65,535 bytes. */
const CHECK_BUDGET = 64_000;
const JOB_SUMMARY_BUDGET = 1_000_000;
const ANNOTATIONS_PER_REQUEST = 50;
/** GITHUB_TOKEN comments as this app user. */
const ACTIONS_BOT = 'github-actions[bot]';

export const inputSchema = z.object({
  mode: z.enum(['auto', 'artifact', 'publish']).default('auto'),
  evidence: listInput().default([]),
  sarif: listInput().default([]),
  coverage: z.string().default(''),
  bundle: z.string().default(''),
  token: z.string().default(''),
  comment: booleanInput().default(true),
  'check-run': booleanInput().default(true),
  'check-name': z.string().min(1).max(100).default('Maestro health'),
  'comment-author': z.string().default(''),
  'on-worse': z.enum(['edit', 'repost']).default('edit'),
  required: listInput()
    .transform((a, ctx) => {
      if (a.length === 1 && a[0] === 'none') return [];
      // A list that parses to nothing (`,`, a comment) must not switch every requirement off by accident.
      if (!a.length) {
        ctx.addIssue({ code: 'custom', message: 'lists no evidence; write the steps your workflow runs, or `none`' });
        return z.NEVER;
      }
      return a;
    })
    .pipe(z.array(z.enum(EVIDENCE_NAMES, { message: `each item must be one of ${EVIDENCE_NAMES.join(', ')}` })))
    .default(['affected', 'allocate-shards', 'risk-score', 'policy-gate']),
});

type Inputs = z.output<typeof inputSchema>;
type Client = Awaited<ReturnType<typeof getGitHubClient>>;

interface Repo {
  owner: string;
  repo: string;
}

function repoFromEnv(): Repo {
  const full = process.env['GITHUB_REPOSITORY'] ?? '';
  const [owner, repo] = full.split('/');
  if (!owner || !repo) throw new ConfigError('GITHUB_REPOSITORY is not set', { file: 'environment', fix: 'run inside GitHub Actions' });
  return { owner, repo };
}

function evidenceFiles(inputs: Inputs, cwd: string): { files: Array<{ name: string; text: string }>; skipped: EvidenceProblem[] } {
  const { files, missing, skipped } = readEvidenceFiles(inputs.evidence.length ? inputs.evidence : [evidenceDir()], cwd);
  // The default directory is absent when no action ran in this job: not worth a warning.
  if (inputs.evidence.length) for (const t of missing) log.warning(`${ACTION}: evidence '${t}' does not exist`);
  return { files, skipped };
}

function securityFrom(sarif: readonly string[], cwd: string): Security | null {
  if (!sarif.length) return null;
  const findings = sarif.flatMap((f) => readSarif(readInputFile(cwd, f, { what: 'SARIF log', input: 'sarif', fix: 'run the scanner before this step, or leave `sarif` empty' }), f));
  const { total, bySeverity, top } = summarizeFindings(findings);
  return { total, bySeverity, top, sources: sarif.slice(0, 20) };
}

/** Changed lines the head's lcov says never ran. */
async function uncoveredLines(lcovFile: string, cwd: string, base: string | null, head: string): Promise<HealthBundle['uncovered']> {
  if (!lcovFile) return null;
  const lcov = readInputFile(cwd, lcovFile, { what: 'coverage file', input: 'coverage', fix: 'write lcov (e.g. jest --coverage --coverageReporters=lcov) before this step, or leave `coverage` empty' });
  if (!base) {
    log.warning(`${ACTION}: no base commit in the affected evidence; uncovered changed lines are not listed`);
    return null;
  }
  const zero = new Map<string, Set<number>>();
  let file: string | undefined;
  for (const line of lcov.split(/\r?\n/)) {
    if (line.startsWith('SF:')) {
      const p = line.slice(3).trim();
      file = path.isAbsolute(p) ? path.relative(cwd, p) : p.replace(/^\.\//, '');
      file = file.split(path.sep).join('/');
    } else if (file && line.startsWith('DA:')) {
      const [ln, hits] = line.slice(3).split(',');
      if (Number(hits) === 0) {
        if (!zero.has(file)) zero.set(file, new Set());
        zero.get(file)!.add(Number(ln));
      }
    } else if (line === 'end_of_record') file = undefined;
  }
  const diff = await git(['-c', 'core.quotePath=false', 'diff', '-U0', '--no-color', '--no-ext-diff', base, head, '--', ...zero.keys()], { cwd }).catch(() => '');
  const out: NonNullable<HealthBundle['uncovered']> = [];
  for (const [f, added] of addedLines(diff)) {
    const lines = [...added].filter((l) => zero.get(f)?.has(l)).slice(0, 2000);
    if (lines.length) out.push({ file: f, lines });
  }
  return out.slice(0, 500);
}

/** The login this token writes comments as. */
async function identity(gh: Client, override: string): Promise<string> {
  if (override) return override;
  try {
    const { data } = await gh.rest.users.getAuthenticated();
    return data.login;
  } catch (e) {
    // Installation tokens (GITHUB_TOKEN, apps) may not call GET /user.
    if (httpStatus(e) === 403 || httpStatus(e) === 401 || httpStatus(e) === 404) return ACTIONS_BOT;
    throw e;
  }
}

interface PostResult {
  comment: 'created' | 'updated' | 'reposted' | 'unchanged' | 'stale' | 'skipped' | 'failed';
  commentId?: number;
  checkRunId?: number;
  /** Why the comment or the check run was not written (empty when both went through). */
  problems: string[];
}

/** How an API failure reads in one line: status, GitHub's message, and what it means. */
function describeApiError(what: string, e: unknown): string {
  const status = httpStatus(e);
  const msg = ((e as Error).message ?? String(e)).split('\n')[0]!.slice(0, 300);
  if (isReadOnlyTokenError(e)) return `${what}: the token is read-only here (${msg})`;
  if (isRateLimitError(e)) return `${what}: rate limited by GitHub after the client's retries (HTTP ${status}: ${msg})`;
  return `${what}: HTTP ${status ?? 'error'}: ${msg}`;
}

const isGone = (e: unknown) => httpStatus(e) === 404 || httpStatus(e) === 410;

/**
 * Hide a superseded comment: its marker is replaced first (so it is never
 * taken for the live one again), then it is minimized as OUTDATED through
 * GraphQL. Failing to minimize only warns: the new comment is already up.
 */
async function supersede(gh: Client, repo: Repo, old: { id: number; node_id?: string; body?: string | null }): Promise<void> {
  await gh.rest.issues.updateComment({ ...repo, comment_id: old.id, body: supersededBody(old.body ?? '') });
  try {
    await gh.graphql('mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) { minimizedComment { isMinimized } } }', { id: old.node_id });
  } catch (e) {
    log.warning(`${ACTION}: could not minimize the superseded comment ${old.id}: ${(e as Error).message}`);
  }
}

async function postComment(gh: Client, repo: Repo, pr: number, b: HealthBundle, who: string, onWorse: 'edit' | 'repost' = 'edit', replans = 0): Promise<{ comment: PostResult['comment']; commentId?: number }> {
  const body = render(b, { budget: COMMENT_BUDGET, measure: 'chars', fullAt: 'the job summary of this run' }).markdown;
  const next = { sha: b.headSha, run: b.run.id, attempt: b.run.attempt, digest: digestOf(body), state: conclusion(b) };
  const text = `${marker(next)}\n${body}`;
  const list = async () => ownComments(await gh.paginate(gh.rest.issues.listComments, { ...repo, issue_number: pr, per_page: 100 }), who);
  const { data: pull } = await gh.rest.pulls.get({ ...repo, pull_number: pr });
  const plan = planSticky(await list(), next, pull.head.sha);
  // A concurrent run may delete a duplicate or update the comment between our read and our write:
  // a comment that is gone is not an error, and a write that lost its target is planned again.
  const dropDuplicates = async (ids: readonly number[]) => {
    for (const d of ids) await gh.rest.issues.deleteComment({ ...repo, comment_id: d }).catch((e: unknown) => (isGone(e) ? undefined : Promise.reject(e)));
  };
  const replan = async () => {
    if (replans >= 3) throw new Error('the sticky comment kept changing under this run (another run is writing it); giving up after 3 tries');
    return postComment(gh, repo, pr, b, who, onWorse, replans + 1);
  };
  if (plan.action === 'stale') {
    log.info(`${ACTION}: not writing: ${plan.why}`);
    return { comment: 'stale', ...(plan.id ? { commentId: plan.id } : {}) };
  }
  if (plan.action === 'unchanged') {
    log.info(`${ACTION}: comment ${plan.id} already shows this (no write)`);
    await dropDuplicates(plan.duplicates);
    return { comment: 'unchanged', commentId: plan.id };
  }
  if (plan.action === 'create') {
    const { data } = await gh.rest.issues.createComment({ ...repo, issue_number: pr, body: text });
    // A concurrent run may have created one too: keep the oldest, remove ours if it is the younger.
    const after = await list();
    if (after.length > 1 && after[0]!.id !== data.id) {
      await dropDuplicates([data.id]);
      return replan();
    }
    await dropDuplicates(after.slice(1).map((d) => d.id));
    return { comment: 'created', commentId: data.id };
  }
  // Re-read right before writing: a newer run may have updated it meanwhile.
  let fresh: Awaited<ReturnType<typeof gh.rest.issues.getComment>>['data'];
  try {
    ({ data: fresh } = await gh.rest.issues.getComment({ ...repo, comment_id: plan.id }));
  } catch (e) {
    if (isGone(e)) return replan();
    throw e;
  }
  const again = planSticky([fresh], next);
  if (again.action === 'stale') {
    log.info(`${ACTION}: not writing: ${again.why}`);
    return { comment: 'stale', commentId: plan.id };
  }
  if (again.action === 'update' && onWorse === 'repost' && worse(parseMarker(fresh.body ?? '')?.state, next.state)) {
    // Worse than before: a new comment notifies the author; the old one is hidden as outdated.
    const { data } = await gh.rest.issues.createComment({ ...repo, issue_number: pr, body: text });
    await supersede(gh, repo, fresh).catch((e: unknown) => (isGone(e) ? undefined : Promise.reject(e)));
    await dropDuplicates(plan.duplicates);
    return { comment: 'reposted', commentId: data.id };
  }
  if (again.action !== 'unchanged') {
    try {
      await gh.rest.issues.updateComment({ ...repo, comment_id: plan.id, body: text });
    } catch (e) {
      if (isGone(e)) return replan();
      throw e;
    }
  }
  await dropDuplicates(plan.duplicates);
  return { comment: again.action === 'unchanged' ? 'unchanged' : 'updated', commentId: plan.id };
}

/** Annotations for the check run: the policy violations that are about a place in the repository. */
function annotations(b: HealthBundle): Array<{ path: string; start_line: number; end_line: number; annotation_level: 'failure' | 'warning' | 'notice'; title: string; message: string }> {
  const out = [];
  for (const v of b.evidence['policy-gate']?.violations ?? []) {
    // Only decisions about a place in the repository (policy-gate sets `file`, and `line` when known).
    if (v.mode === 'observe' || !v.file) continue;
    const line = v.line ?? 1;
    out.push({ path: v.file, start_line: line, end_line: line, annotation_level: v.mode === 'enforce' ? ('failure' as const) : ('warning' as const), title: `policy ${v.rule}`.slice(0, 255), message: `${v.reason} — ${v.detail}`.slice(0, 64 * 1024) });
  }
  return out;
}

/** `maestro-health-<run>.<attempt>` (older versions wrote `maestro-health-<run>`). */
const EXTERNAL_ID = /^maestro-health-(\d+)(?:\.(\d+))?$/;

async function postCheckRun(gh: Client, repo: Repo, b: HealthBundle, name: string): Promise<{ id: number; stale?: string }> {
  const result = conclusion(b);
  const summary = render(b, { budget: CHECK_BUDGET, measure: 'bytes', fullAt: 'the job summary of the run' }).markdown;
  const notes = annotations(b);
  const title = result === 'failure' ? (missingRequired(b).length && !b.evidence['policy-gate'] ? 'Required evidence missing' : 'Blocked by a gate') : result === 'neutral' ? 'Needs attention' : 'Healthy';
  // The latest check run of this name on the head: no write when it shows the same, and never
  // replace a newer run's result (run 100 finishing after run 200 must not turn a block green).
  const { data: existing } = await gh.rest.checks.listForRef({ ...repo, ref: b.headSha, check_name: name, filter: 'latest', per_page: 1 });
  const output = (batch: typeof notes) => ({ title, summary, annotations: batch });
  const first = notes.slice(0, ANNOTATIONS_PER_REQUEST);
  const prev = existing.check_runs[0];
  const prevRun = EXTERNAL_ID.exec(prev?.external_id ?? '');
  if (prev && prevRun) {
    const [run, attempt] = [Number(prevRun[1]), Number(prevRun[2] ?? 1)];
    if (run > b.run.id || (run === b.run.id && attempt > b.run.attempt)) {
      const why = `check run ${prev.id} holds run ${run}.${attempt}, newer than this run ${b.run.id}.${b.run.attempt}`;
      log.info(`${ACTION}: not writing the check run: ${why}`);
      return { id: prev.id, stale: why };
    }
  }
  if (prev && prev.conclusion === result && prev.output.title === title && prev.output.summary === summary && prev.output.annotations_count === notes.length) {
    log.info(`${ACTION}: check run ${prev.id} already shows this (no write)`);
    return { id: prev.id };
  }
  // A changed result gets a new check run: updating the old one would append its annotations to the
  // previous ones (GitHub accumulates them). GitHub shows the latest run of a name for the commit.
  const { data } = await gh.rest.checks.create({ ...repo, name, head_sha: b.headSha, status: 'completed', conclusion: result, output: output(first), external_id: `maestro-health-${b.run.id}.${b.run.attempt}` });
  // Annotations go in batches of 50; each update appends.
  for (let i = ANNOTATIONS_PER_REQUEST; i < notes.length; i += ANNOTATIONS_PER_REQUEST) {
    await gh.rest.checks.update({ ...repo, check_run_id: data.id, output: output(notes.slice(i, i + ANNOTATIONS_PER_REQUEST)) });
  }
  return { id: data.id };
}

interface WorkflowRunEvent {
  workflow_run?: { id: number; run_attempt?: number; run_number?: number; head_sha: string; head_branch: string | null; head_repository?: { full_name: string; owner: { login: string } } | null; event: string };
}

/**
 * The open pull request the triggering run built: its head repository and
 * branch must be the run's and its head the run's commit. Nothing else: not
 * the bundle's PR number, and not "any open PR with this head SHA" (another
 * fork can open a PR with the same head and would receive this verdict).
 */
async function findPull(gh: Client, repo: Repo, wr: NonNullable<WorkflowRunEvent['workflow_run']>): Promise<number | undefined> {
  const owner = wr.head_repository?.owner.login;
  const full = wr.head_repository?.full_name?.toLowerCase();
  if (!owner || !full || !wr.head_branch) return undefined;
  for await (const { data } of gh.paginate.iterator(gh.rest.pulls.list, { ...repo, state: 'open', head: `${owner}:${wr.head_branch}`, per_page: 100 })) {
    const hit = data.find((p) => p.head.sha === wr.head_sha && p.head.repo?.full_name.toLowerCase() === full && p.head.ref === wr.head_branch);
    if (hit) return hit.number;
  }
  return undefined;
}

function writeBundle(b: HealthBundle): string {
  const dir = runnerTempPath('maestro-health', process.cwd());
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'health.json');
  writeFileSync(file, JSON.stringify(b));
  return file;
}

/**
 * Post the comment and the check run, each on its own: a failure of one is
 * reported and does not lose the other, and whatever happens every output is
 * set by the caller. A read-only token is not a failure (the publisher posts);
 * anything else that kept failing after the client's retries is.
 */
async function publish(inputs: Inputs, b: HealthBundle, repo: Repo, pr: number | null, outputs: Outputs): Promise<void> {
  const res: PostResult = { comment: 'skipped', problems: [] };
  let readOnly = false;
  const gh = await getGitHubClient(inputs.token, { log: { warn: log.warning } });
  if (inputs.comment && pr) {
    try {
      Object.assign(res, await postComment(gh, repo, pr, b, await identity(gh, inputs['comment-author']), inputs['on-worse']));
    } catch (e) {
      readOnly ||= isReadOnlyTokenError(e);
      res.comment = isReadOnlyTokenError(e) ? 'skipped' : 'failed';
      res.problems.push(httpStatus(e) === 404 ? `comment: pull request #${pr} was not found (HTTP 404)` : describeApiError('comment', e));
    }
  }
  if (inputs['check-run']) {
    try {
      const c = await postCheckRun(gh, repo, b, inputs['check-name']);
      res.checkRunId = c.id;
      if (c.stale) res.problems.push(`check run: ${c.stale}`);
    } catch (e) {
      readOnly ||= isReadOnlyTokenError(e);
      res.problems.push(describeApiError('check run', e));
    }
  }
  const shown = ['created', 'updated', 'reposted', 'unchanged'].includes(res.comment) || (!!res.checkRunId && !res.problems.some((p) => p.startsWith('check run:')));
  Object.assign(outputs, {
    comment: readOnly && !shown ? 'artifact' : res.comment,
    'comment-id': res.commentId ?? '',
    'check-run-id': res.checkRunId ?? '',
    annotated: shown,
    reason: [pr ? '' : outputs.reason || 'no pull request for this commit', ...res.problems].filter(Boolean).join('; '),
  });
  if (readOnly && !shown) outputs.reason = `read-only token: the workflow_run publisher posts the bundle (${res.problems.join('; ')})`;
  log.info(`${ACTION}: comment ${res.comment}${res.commentId ? ` (${res.commentId})` : ''}${res.checkRunId ? `, check run ${res.checkRunId}` : ''}`);
  const failures = res.problems.filter((p) => !/read-only|holds run/.test(p));
  for (const f of failures) annotate('warning', { title: ACTION, message: f });
  outputs.failed = failures.length > 0 && !shown;
}

interface Outputs {
  conclusion?: string;
  /** Nothing could be shown on the pull request because of API errors: the step fails after setting outputs. */
  failed?: boolean;
  comment: string;
  'comment-id': unknown;
  'check-run-id': unknown;
  'bundle-path'?: string;
  annotated: boolean;
  reason: string;
}

/** Every declared output, always (a literal, so the static check sees them all). */
function emit(o: Outputs): void {
  setOutputs({ conclusion: o.conclusion ?? '', comment: o.comment, 'comment-id': o['comment-id'] ?? '', 'check-run-id': o['check-run-id'] ?? '', 'bundle-path': o['bundle-path'] ?? '', annotated: o.annotated, reason: o.reason });
}

export function run(): Promise<void> {
  return runAction(ACTION, async () => {
    const inputs = parseInputs(inputSchema);
    const cwd = process.env['GITHUB_WORKSPACE'] ?? process.cwd();
    const trigger = runnerEvent();
    const repo = repoFromEnv();
    const outputs: Outputs = { comment: 'skipped', 'comment-id': '', 'check-run-id': '', annotated: false, reason: '' };
    const finish = () => {
      emit(outputs);
      if (outputs.failed) {
        process.exitCode = 1;
        log.info(`${ACTION}: nothing could be posted: ${outputs.reason}; the bundle is at ${outputs['bundle-path'] || '(not written)'}`);
      }
    };

    if (inputs.mode === 'publish') {
      const wr = (trigger.event as WorkflowRunEvent).workflow_run;
      if (!wr) throw new ConfigError('publish mode runs on a workflow_run event', { file: "input 'mode'", fix: 'use the pr-health-publish workflow (on: workflow_run), or mode: auto' });
      if (!inputs.bundle) throw new ConfigError('publish mode needs the bundle', { file: "input 'bundle'", fix: 'download the `maestro-health` artifact of the triggering run and pass its health.json' });
      const text = readInputFile(cwd, inputs.bundle, { what: 'bundle', input: 'bundle', fix: 'download the `maestro-health` artifact of the triggering run (run-id: github.event.workflow_run.id) and pass its health.json', maxBytes: 4 * 1024 * 1024 });
      const b = parseBundle(text, inputs.bundle);
      // The bundle is untrusted: it must be about the run that triggered us, in this repository.
      if (b.headSha !== wr.head_sha) throw new ConfigError(`the bundle is about ${b.headSha.slice(0, 12)}, but the triggering run built ${wr.head_sha.slice(0, 12)}; refusing it`, { file: inputs.bundle, fix: 'download the artifact of the triggering run (run-id: github.event.workflow_run.id)' });
      if (b.repo.toLowerCase() !== `${repo.owner}/${repo.repo}`.toLowerCase()) throw new ConfigError(`the bundle names repository ${b.repo}, not ${repo.owner}/${repo.repo}; refusing it`, { file: inputs.bundle, fix: 'download the artifact of the triggering run' });
      // Identity comes from the triggering run, never from the bundle: the sticky marker, the check
      // run's external id and the stale guards compare workflow_run ids, and the required evidence is ours.
      b.run = { id: wr.id, attempt: wr.run_attempt ?? 1, number: wr.run_number ?? b.run.number };
      b.required = inputs.required;
      b.pr = null;
      outputs['conclusion'] = conclusion(b);
      writeSummary(render(b, { budget: JOB_SUMMARY_BUDGET, measure: 'bytes' }).markdown);
      let pr: number | undefined;
      try {
        const gh = await getGitHubClient(inputs.token, { log: { warn: log.warning } });
        pr = await findPull(gh, repo, wr);
      } catch (e) {
        outputs.reason = describeApiError('finding the pull request', e);
        outputs.failed = true;
        finish();
        return;
      }
      if (!pr) {
        log.info(`${ACTION}: no open pull request from ${wr.head_repository?.full_name ?? '?'}:${wr.head_branch ?? '?'} has head ${wr.head_sha.slice(0, 12)}; posting the check run only`);
        outputs['reason'] = 'no open pull request from the triggering run\'s branch with this head';
      }
      await publish(inputs, b, repo, pr ?? null, outputs);
      finish();
      return;
    }

    const pull = trigger.event['pull_request'] as { number: number; head: { sha: string; repo?: { full_name: string } | null }; base: { repo: { full_name: string } } } | undefined;
    const headSha = subjectSha(trigger);
    const run = { id: Number(process.env['GITHUB_RUN_ID'] ?? 0), attempt: Number(process.env['GITHUB_RUN_ATTEMPT'] ?? 1), number: Number(process.env['GITHUB_RUN_NUMBER'] ?? 0) };
    const { files, skipped } = evidenceFiles(inputs, cwd);
    // Only this run's evidence counts (inside GitHub Actions, where the run id is known).
    const read = readEvidence(files, { sha: headSha, ...(process.env['GITHUB_RUN_ID'] ? { run } : {}) });
    const problems = [...skipped, ...read.problems];
    for (const p of problems) log.warning(`${ACTION}: evidence ${p.file}: ${p.problem}`);
    const affected = read.evidence.affected;
    const b: HealthBundle = {
      schema: BUNDLE_SCHEMA,
      repo: `${repo.owner}/${repo.repo}`,
      pr: pull?.number ?? null,
      headSha,
      run,
      createdAt: new Date().toISOString(),
      required: inputs.required,
      evidence: read.evidence,
      security: securityFrom(inputs.sarif, cwd),
      uncovered: await uncoveredLines(inputs.coverage, cwd, affected?.base ?? null, affected?.head ?? headSha),
      problems: problems.slice(0, 50),
    };
    const bundlePath = writeBundle(b);
    outputs['bundle-path'] = bundlePath;
    outputs['conclusion'] = conclusion(b);
    writeSummary(render(b, { budget: JOB_SUMMARY_BUDGET, measure: 'bytes' }).markdown);
    const missing = missingRequired(b);
    if (missing.length) annotate('error', { title: ACTION, message: `required evidence missing or invalid: ${missing.join(', ')}; the health check fails (a gate that crashed or was skipped is not a pass)` });

    const fork = !!pull && !!pull.head.repo && pull.head.repo.full_name.toLowerCase() !== pull.base.repo.full_name.toLowerCase();
    if (inputs.mode === 'artifact' || fork) {
      outputs['comment'] = 'artifact';
      outputs['reason'] = inputs.mode === 'artifact' ? 'mode: artifact' : 'fork pull request: the token is read-only; the workflow_run publisher posts the bundle';
      log.info(`${ACTION}: ${outputs['reason']} (${bundlePath})`);
      finish();
      return;
    }
    if (!pull) {
      outputs['reason'] = 'not a pull request event';
      if (!inputs['check-run']) {
        finish();
        return;
      }
    }
    if (!inputs.token) {
      outputs.reason = 'no token: nothing posted; the bundle is for the workflow_run publisher';
      log.warning(`${ACTION}: ${outputs.reason}`);
      finish();
      return;
    }
    await publish(inputs, b, repo, pull?.number ?? null, outputs);
    finish();
  });
}
