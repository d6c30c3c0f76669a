import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, addedLines, booleanInput, evidenceDir, getGitHubClient, git, httpStatus, isReadOnlyTokenError, listInput, log, parseInputs, readInputFile, readSarif, runAction, runnerEvent, runnerTempPath, setOutputs, summarizeFindings, subjectSha, writeSummary } from '@maestro/core';
import { BUNDLE_SCHEMA, conclusion, supersededBody, readEvidenceFiles, digestOf, marker, ownComments, parseBundle, parseMarker, planSticky, readEvidence, render, worse, type HealthBundle, type Security } from '@maestro/health';

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

function evidenceFiles(inputs: Inputs, cwd: string): Array<{ name: string; text: string }> {
  const { files, missing } = readEvidenceFiles(inputs.evidence.length ? inputs.evidence : [evidenceDir()], cwd);
  // The default directory is absent when no action ran in this job: not worth a warning.
  if (inputs.evidence.length) for (const t of missing) log.warning(`${ACTION}: evidence '${t}' does not exist`);
  return files;
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
  comment: 'created' | 'updated' | 'reposted' | 'unchanged' | 'stale' | 'skipped';
  commentId?: number;
  checkRunId?: number;
}

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

async function postComment(gh: Client, repo: Repo, pr: number, b: HealthBundle, who: string, onWorse: 'edit' | 'repost' = 'edit'): Promise<{ comment: PostResult['comment']; commentId?: number }> {
  const body = render(b, { budget: COMMENT_BUDGET, measure: 'chars', fullAt: 'the job summary of this run' }).markdown;
  const next = { sha: b.headSha, run: b.run.id, attempt: b.run.attempt, digest: digestOf(body), state: conclusion(b) };
  const text = `${marker(next)}\n${body}`;
  const list = async () => ownComments(await gh.paginate(gh.rest.issues.listComments, { ...repo, issue_number: pr, per_page: 100 }), who);
  const { data: pull } = await gh.rest.pulls.get({ ...repo, pull_number: pr });
  const plan = planSticky(await list(), next, pull.head.sha);
  const dropDuplicates = async (ids: readonly number[]) => {
    for (const d of ids) await gh.rest.issues.deleteComment({ ...repo, comment_id: d });
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
      await gh.rest.issues.deleteComment({ ...repo, comment_id: data.id });
      return postComment(gh, repo, pr, b, who, onWorse);
    }
    await dropDuplicates(after.slice(1).map((d) => d.id));
    return { comment: 'created', commentId: data.id };
  }
  // Re-read right before writing: a newer run may have updated it meanwhile.
  const { data: fresh } = await gh.rest.issues.getComment({ ...repo, comment_id: plan.id });
  const again = planSticky([fresh], next);
  if (again.action === 'stale') {
    log.info(`${ACTION}: not writing: ${again.why}`);
    return { comment: 'stale', commentId: plan.id };
  }
  if (again.action === 'update' && onWorse === 'repost' && worse(parseMarker(fresh.body ?? '')?.state, next.state)) {
    // Worse than before: a new comment notifies the author; the old one is hidden as outdated.
    const { data } = await gh.rest.issues.createComment({ ...repo, issue_number: pr, body: text });
    await supersede(gh, repo, fresh);
    await dropDuplicates(plan.duplicates);
    return { comment: 'reposted', commentId: data.id };
  }
  if (again.action !== 'unchanged') await gh.rest.issues.updateComment({ ...repo, comment_id: plan.id, body: text });
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

async function postCheckRun(gh: Client, repo: Repo, b: HealthBundle, name: string): Promise<number> {
  const result = conclusion(b);
  const summary = render(b, { budget: CHECK_BUDGET, measure: 'bytes', fullAt: 'the job summary of the run' }).markdown;
  const notes = annotations(b);
  const title = result === 'failure' ? 'Blocked by a gate' : result === 'neutral' ? 'Needs attention' : 'Healthy';
  // Unchanged since the latest check run of this name on the head: no write.
  const { data: existing } = await gh.rest.checks.listForRef({ ...repo, ref: b.headSha, check_name: name, filter: 'latest', per_page: 1 });
  const output = (batch: typeof notes) => ({ title, summary, annotations: batch });
  let id = 0;
  const first = notes.slice(0, ANNOTATIONS_PER_REQUEST);
  const prev = existing.check_runs[0];
  if (prev && prev.conclusion === result && prev.output.title === title && prev.output.summary === summary && prev.output.annotations_count === notes.length) {
    log.info(`${ACTION}: check run ${prev.id} already shows this (no write)`);
    return prev.id;
  }
  // A changed result gets a new check run: updating the old one would append its annotations to the
  // previous ones (GitHub accumulates them). GitHub shows the latest run of a name for the commit.
  const { data } = await gh.rest.checks.create({ ...repo, name, head_sha: b.headSha, status: 'completed', conclusion: result, output: output(first), external_id: `maestro-health-${b.run.id}` });
  id = data.id;
  // Annotations go in batches of 50; each update appends.
  for (let i = ANNOTATIONS_PER_REQUEST; i < notes.length; i += ANNOTATIONS_PER_REQUEST) {
    await gh.rest.checks.update({ ...repo, check_run_id: id, output: output(notes.slice(i, i + ANNOTATIONS_PER_REQUEST)) });
  }
  return id;
}

interface WorkflowRunEvent {
  workflow_run?: { id: number; head_sha: string; head_branch: string | null; head_repository?: { full_name: string; owner: { login: string } } | null; event: string };
}

/** The open pull request whose head is `sha`: by head branch first, then any open PR. Never from the bundle. */
async function findPull(gh: Client, repo: Repo, wr: NonNullable<WorkflowRunEvent['workflow_run']>): Promise<number | undefined> {
  const owner = wr.head_repository?.owner.login;
  if (owner && wr.head_branch) {
    const { data } = await gh.rest.pulls.list({ ...repo, state: 'open', head: `${owner}:${wr.head_branch}`, per_page: 100 });
    const hit = data.find((p) => p.head.sha === wr.head_sha);
    if (hit) return hit.number;
  }
  let page = 0;
  for await (const { data } of gh.paginate.iterator(gh.rest.pulls.list, { ...repo, state: 'open', per_page: 100 })) {
    const hit = data.find((p) => p.head.sha === wr.head_sha);
    if (hit) return hit.number;
    if (++page >= 10) break;
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

async function publish(inputs: Inputs, b: HealthBundle, repo: Repo, pr: number | null, outputs: Outputs): Promise<void> {
  const gh = await getGitHubClient(inputs.token, { log: { warn: log.warning } });
  const res: PostResult = { comment: 'skipped' };
  if (inputs.comment && pr) Object.assign(res, await postComment(gh, repo, pr, b, await identity(gh, inputs['comment-author']), inputs['on-worse']));
  if (inputs['check-run']) res.checkRunId = await postCheckRun(gh, repo, b, inputs['check-name']);
  Object.assign(outputs, {
    comment: res.comment,
    'comment-id': res.commentId ?? '',
    'check-run-id': res.checkRunId ?? '',
    annotated: ['created', 'updated', 'reposted', 'unchanged'].includes(res.comment) || !!res.checkRunId,
    reason: pr ? '' : 'no pull request for this commit',
  });
  log.info(`${ACTION}: comment ${res.comment}${res.commentId ? ` (${res.commentId})` : ''}${res.checkRunId ? `, check run ${res.checkRunId}` : ''}`);
}

interface Outputs {
  conclusion?: string;
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

    if (inputs.mode === 'publish') {
      const wr = (trigger.event as WorkflowRunEvent).workflow_run;
      if (!wr) throw new ConfigError('publish mode runs on a workflow_run event', { file: "input 'mode'", fix: 'use the pr-health-publish workflow (on: workflow_run), or mode: auto' });
      if (!inputs.bundle || !existsSync(path.resolve(cwd, inputs.bundle))) throw new ConfigError(`no bundle at '${inputs.bundle}'`, { file: "input 'bundle'", fix: 'download the `maestro-health` artifact of the triggering run and pass its health.json' });
      const b = parseBundle(readFileSync(path.resolve(cwd, inputs.bundle), 'utf8'), inputs.bundle);
      // The bundle is untrusted: it must be about the run that triggered us, in this repository.
      if (b.headSha !== wr.head_sha) throw new ConfigError(`the bundle is about ${b.headSha.slice(0, 12)}, but the triggering run built ${wr.head_sha.slice(0, 12)}; refusing it`, { file: inputs.bundle, fix: 'download the artifact of the triggering run (run-id: github.event.workflow_run.id)' });
      if (b.repo.toLowerCase() !== `${repo.owner}/${repo.repo}`.toLowerCase()) throw new ConfigError(`the bundle names repository ${b.repo}, not ${repo.owner}/${repo.repo}; refusing it`, { file: inputs.bundle, fix: 'download the artifact of the triggering run' });
      const gh = await getGitHubClient(inputs.token, { log: { warn: log.warning } });
      const pr = await findPull(gh, repo, wr);
      writeSummary(render(b, { budget: JOB_SUMMARY_BUDGET, measure: 'bytes' }).markdown);
      outputs['conclusion'] = conclusion(b);
      if (!pr) {
        log.info(`${ACTION}: no open pull request has head ${wr.head_sha.slice(0, 12)}; posting the check run only`);
        outputs['reason'] = 'no open pull request with this head';
      }
      await publish(inputs, b, repo, pr ?? null, outputs);
      emit(outputs);
      return;
    }

    const pull = trigger.event['pull_request'] as { number: number; head: { sha: string; repo?: { full_name: string } | null }; base: { repo: { full_name: string } } } | undefined;
    const headSha = subjectSha(trigger);
    const read = readEvidence(evidenceFiles(inputs, cwd), headSha);
    for (const p of read.problems) log.warning(`${ACTION}: evidence ${p.file}: ${p.problem}`);
    const affected = read.evidence.affected;
    const b: HealthBundle = {
      schema: BUNDLE_SCHEMA,
      repo: `${repo.owner}/${repo.repo}`,
      pr: pull?.number ?? null,
      headSha,
      run: { id: Number(process.env['GITHUB_RUN_ID'] ?? 0), attempt: Number(process.env['GITHUB_RUN_ATTEMPT'] ?? 1), number: Number(process.env['GITHUB_RUN_NUMBER'] ?? 0) },
      createdAt: new Date().toISOString(),
      evidence: read.evidence,
      security: securityFrom(inputs.sarif, cwd),
      uncovered: await uncoveredLines(inputs.coverage, cwd, affected?.base ?? null, affected?.head ?? headSha),
      problems: read.problems.slice(0, 50),
    };
    const bundlePath = writeBundle(b);
    outputs['bundle-path'] = bundlePath;
    outputs['conclusion'] = conclusion(b);
    writeSummary(render(b, { budget: JOB_SUMMARY_BUDGET, measure: 'bytes' }).markdown);

    const fork = !!pull && !!pull.head.repo && pull.head.repo.full_name.toLowerCase() !== pull.base.repo.full_name.toLowerCase();
    if (inputs.mode === 'artifact' || fork) {
      outputs['comment'] = 'artifact';
      outputs['reason'] = inputs.mode === 'artifact' ? 'mode: artifact' : 'fork pull request: the token is read-only; the workflow_run publisher posts the bundle';
      log.info(`${ACTION}: ${outputs['reason']} (${bundlePath})`);
      emit(outputs);
      return;
    }
    if (!pull) {
      outputs['reason'] = 'not a pull request event';
      if (!inputs['check-run']) {
        emit(outputs);
        return;
      }
    }
    try {
      await publish(inputs, b, repo, pull?.number ?? null, outputs);
    } catch (e) {
      if (!isReadOnlyTokenError(e) && httpStatus(e) !== 403) throw e;
      // A read-only token (Dependabot, or a fork the event did not reveal): leave it to the publisher.
      log.warning(`${ACTION}: the token cannot write here (${(e as Error).message}); the bundle at ${bundlePath} is for the workflow_run publisher`);
      Object.assign(outputs, { comment: 'artifact', annotated: false, reason: 'read-only token: the workflow_run publisher posts the bundle' });
    }
    emit(outputs);
  });
}
