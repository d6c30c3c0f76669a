import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { resolveBase } from '@maestro/affected';
import { ConfigError, annotate, booleanInput, getGitHubClient, httpStatus, integerInput, isRateLimitError, isReadOnlyTokenError, listInput, log, mdCode, mdText, parseInputs, readInputFile, readSarif, runAction, runnerEvent, runnerTempPath, setOutputs, subjectSha, summarizeFindings, table, writeEvidence, writeSummary, type FileChange } from '@maestro/core';
import { applyOverrides, overrideCommand, checkChange, evaluateFindings, judgeChanges, loadPolicy, loadPolicyAt, parseOverride, readGrype, readSbom, type Actor, type AuditEntry, type Decision, type DependencyChange, type Finding, type OverrideRequest, type Policy } from '@maestro/policy';

export const ACTION = 'policy-gate';

/** GitHub's PR files API lists at most this many files. */
export const FILES_API_LIMIT = 3000;
/** Above this size the `decision` output carries the first violations only; `decision-path` has them all. */
const DECISION_OUTPUT_BYTES = 512 * 1024;
/** Annotations per level and step that the runner shows (extra ones are dropped silently). */
const ANNOTATIONS_PER_LEVEL = 10;
const SUMMARY_ROWS = 200;
/** `maestro-override:<rule-id>` on the pull request, added by someone with write access. */
const LABEL_PREFIX = 'maestro-override:';

export const inputSchema = z.object({
  policy: z.string().default('policy/rules.yaml'),
  base: z.string().default(''),
  head: z.string().default(''),
  actor: z.union([z.literal(''), z.enum(['human', 'bot', 'agent'])]).default(''),
  token: z.string().default(''),
  overrides: booleanInput().default(true),
  'override-days': integerInput({ min: 1, max: 365 }).default(7),
  sarif: listInput().default([]),
  grype: listInput().default([]),
  sbom: z.string().default(''),
  changes: z.enum(['auto', 'git', 'api']).default('auto'),
});

type Inputs = z.output<typeof inputSchema>;

interface PullEvent {
  pull_request?: { number: number; base?: { sha: string }; head?: { sha: string; ref?: string }; user?: { login?: string }; labels?: Array<{ name: string; description?: string | null }> };
  repository?: { name: string; owner: { login: string } };
}

type Client = Awaited<ReturnType<typeof getGitHubClient>>;

function client(token: string): Promise<Client> {
  return getGitHubClient(token, { log: { warn: log.warning } });
}

interface OverrideInfo {
  requests: OverrideRequest[];
  canOverride: Map<string, boolean>;
  /** When GitHub first saw the head commit (its earliest check suite): label overrides must be newer. */
  headPushedAt?: string;
  headPushedUnknown?: string;
  /** Why overrides could not be read at all: the blocks stand. */
  unavailable?: string;
}

/**
 * Override requests from the PR's comments and `maestro-override:` labels,
 * and which requesters have write access. Any failure to read them (a fork's
 * read-only token, 401, 422, a 5xx that outlasted the retries) degrades to
 * "overrides unavailable": the blocks stand, with the reason. It never costs
 * the decision or the evidence.
 */
async function readOverrides(token: string, event: PullEvent, days: number, head: string): Promise<OverrideInfo> {
  const pr = event.pull_request;
  const repo = event.repository;
  const info: OverrideInfo = { requests: [], canOverride: new Map() };
  if (!pr || !repo) return info;
  if (!token) return { ...info, unavailable: 'no token to read the pull request\'s comments and labels' };
  const params = { owner: repo.owner.login, repo: repo.name };
  try {
    const gh = await client(token);
    const comments = await gh.paginate(gh.rest.issues.listComments, { ...params, issue_number: pr.number, per_page: 100 });
    for (const c of comments) {
      const r = parseOverride(c.body ?? '', { by: c.user?.login ?? '', at: c.created_at, commentId: c.id }, days);
      if (r) info.requests.push({ ...r, via: 'comment' });
    }
    const labels = await labelOverrides(gh, params, pr, days);
    info.requests.push(...labels);
    if (labels.length) {
      try {
        const suites = await gh.paginate(gh.rest.checks.listSuitesForRef, { ...params, ref: head, per_page: 100 });
        // Only suites of this pull request's branch: a commit first pushed elsewhere (a side branch) has
        // older suites there, which would let a label from before the push count for it.
        const headRef = pr.head?.ref;
        const first = suites.filter((x) => !headRef || x.head_branch === headRef).map((x) => x.created_at).filter((x): x is string => !!x).sort()[0];
        if (first) info.headPushedAt = first;
        else info.headPushedUnknown = 'the head commit has no check suite yet';
      } catch (e) {
        info.headPushedUnknown = `the check suites of the head could not be read (HTTP ${httpStatus(e) ?? '?'}; the token needs \`checks: read\`)`;
      }
    }
    for (const who of new Set(info.requests.map((r) => r.by))) {
      try {
        const { data } = await gh.rest.repos.getCollaboratorPermissionLevel({ ...params, username: who });
        info.canOverride.set(who, ['admin', 'maintain', 'write'].includes(data.permission) || ['admin', 'maintain', 'write'].includes(String(data.role_name)));
      } catch (e) {
        log.warning(`${ACTION}: cannot check ${who}'s permission (HTTP ${httpStatus(e) ?? '?'}); their override is refused`);
        info.canOverride.set(who, false);
      }
    }
  } catch (e) {
    const status = httpStatus(e);
    const message = String((e as Error).message ?? e).split('\n')[0]!.slice(0, 200);
    // A 403 is a permission problem only when GitHub says so; a secondary rate limit is a 403 too.
    const why = isRateLimitError(e)
      ? `GitHub rate-limited reading the pull request's comments and labels after the client's retries (HTTP ${status})`
      : isReadOnlyTokenError(e) || status === 403 || status === 404
        ? `the token cannot read the pull request's comments and labels (HTTP ${status ?? '?'}); a fork's pull request gets a read-only token, so run the gate from a workflow with \`pull-requests: read\``
        : `reading the pull request's comments and labels failed (HTTP ${status ?? 'error'}: ${message})`;
    return { requests: [], canOverride: new Map(), unavailable: why };
  }
  return info;
}

/**
 * Labels `maestro-override:<rule>` still on the PR. Who added each and when
 * comes from the issue events (the label itself says neither); the reason is
 * the label's description, which a repository admin sets once per label.
 */
async function labelOverrides(gh: Client, params: { owner: string; repo: string }, pr: NonNullable<PullEvent['pull_request']>, days: number): Promise<OverrideRequest[]> {
  const events = await gh.paginate(gh.rest.issues.listEvents, { ...params, issue_number: pr.number, per_page: 100 });
  const last = new Map<string, { event: string; by: string; at: string; id: number }>();
  for (const e of events) {
    const label = 'label' in e ? (e.label as { name?: string } | undefined)?.name : undefined;
    if (!label?.startsWith(LABEL_PREFIX) || (e.event !== 'labeled' && e.event !== 'unlabeled')) continue;
    last.set(label, { event: e.event, by: e.actor?.login ?? '', at: e.created_at, id: e.id });
  }
  const out: OverrideRequest[] = [];
  for (const [label, e] of last) {
    if (e.event !== 'labeled') continue;
    const rule = label.slice(LABEL_PREFIX.length).trim();
    const description = pr.labels?.find((l) => l.name === label)?.description?.trim();
    const r = parseOverride(`/maestro override ${rule} reason: ${description || `label ${label} (no description on the label)`}`, { by: e.by, at: e.at, commentId: e.id }, days);
    if (r) out.push({ ...r, via: 'label' as const });
  }
  return out;
}

function readFindings(inputs: Inputs, cwd: string): Finding[] {
  const open = (file: string, input: string) => readInputFile(cwd, file, { what: `${input} report`, input, fix: `run the scanner before this step, or leave \`${input}\` empty` });
  return [...inputs.sarif.flatMap((f) => readSarif(open(f, 'sarif'), f)), ...inputs.grype.flatMap((f) => readGrype(open(f, 'grype'), f))];
}

const API_STATUS: Record<string, FileChange['status']> = { added: 'added', removed: 'deleted', modified: 'modified', renamed: 'renamed', copied: 'copied', changed: 'type-changed', unchanged: 'modified' };

/**
 * The change and the policy from the API, for a gate that runs without a
 * checkout. Fails closed when the PR has more files than the API lists.
 */
async function fromApi(token: string, event: PullEvent, policyFile: string): Promise<{ policy: Policy; base: string; changes: FileChange[] }> {
  const pr = event.pull_request;
  const repo = event.repository;
  if (!pr?.base?.sha || !repo) throw new ConfigError('reading the change from the API needs a pull_request event', { file: "input 'changes'", fix: 'use `changes: git` with a checkout for other events' });
  if (!token) throw new ConfigError('reading the change from the API needs a token', { file: "input 'token'", fix: 'pass `token: ${{ github.token }}` with `pull-requests: read` and `contents: read`' });
  const gh = await client(token);
  const params = { owner: repo.owner.login, repo: repo.name };
  const { data: pull } = await gh.rest.pulls.get({ ...params, pull_number: pr.number });
  if (pull.changed_files >= FILES_API_LIMIT) throw new ConfigError(`the pull request changes ${pull.changed_files} files and the files API lists at most ${FILES_API_LIMIT}; judging part of a change is not judging it`, { file: "input 'changes'", fix: 'check out the repository (actions/checkout with fetch-depth: 0 or the depth maestro/affected documents) so the change is read from git' });
  const files = await gh.paginate(gh.rest.pulls.listFiles, { ...params, pull_number: pr.number, per_page: 100 });
  if (files.length >= FILES_API_LIMIT) throw new ConfigError(`the files API returned ${files.length} files, its limit; the change may be larger`, { file: "input 'changes'", fix: 'check out the repository so the change is read from git' });
  const changes = files.map((f): FileChange => ({ status: API_STATUS[f.status] ?? 'modified', path: f.filename, ...(f.previous_filename ? { oldPath: f.previous_filename } : {}) }));
  let source: string;
  try {
    const { data } = await gh.rest.repos.getContent({ ...params, path: policyFile, ref: pull.base.sha });
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) throw new Error('not a file');
    source = Buffer.from(data.content, 'base64').toString('utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the policy at the base commit ${pull.base.sha.slice(0, 12)} (${httpStatus(e) ?? (e as Error).message})`, { file: policyFile, fix: 'commit policy/rules.yaml to the base branch and give the token `contents: read`' });
  }
  return { policy: loadPolicy(source, policyFile), base: pull.base.sha, changes };
}

function annotateDecisions(decisions: readonly Decision[]): void {
  const shown = { enforce: 0, warn: 0 };
  let hidden = 0;
  for (const d of decisions) {
    if (d.mode === 'observe') continue;
    if (shown[d.mode] >= ANNOTATIONS_PER_LEVEL) {
      hidden++;
      continue;
    }
    shown[d.mode]++;
    annotate(d.mode === 'enforce' ? 'error' : 'warning', { title: `policy ${d.rule}`, message: `${d.reason} — ${d.detail}`, ...(d.file ? { file: d.file } : {}), ...(d.line ? { line: d.line } : {}) });
  }
  if (hidden) annotate('notice', { title: 'policy', message: `${hidden} more violation(s) are listed in the job summary and the \`decision\` output (the runner shows ${ANNOTATIONS_PER_LEVEL} annotations per level and step)` });
}

export function run(): Promise<void> {
  return runAction(ACTION, async () => {
    const inputs = parseInputs(inputSchema);
    const cwd = process.env['GITHUB_WORKSPACE'] ?? process.cwd();
    const trigger = runnerEvent();
    const event = trigger.event as PullEvent;
    const actorName = process.env['GITHUB_ACTOR'] ?? '';
    const actor: Actor = inputs.actor || (actorName.endsWith('[bot]') ? 'bot' : 'human');
    const haveCheckout = existsSync(path.join(cwd, '.git'));
    const useApi = inputs.changes === 'api' || (inputs.changes === 'auto' && !haveCheckout && !!event.pull_request);
    let policy: Policy;
    let base: string;
    let changes: FileChange[];
    let dependencies: DependencyChange[] = [];
    let secretsScanned = false;
    let notScanned: Array<{ path: string; why: string }> = [];
    const decisions: Decision[] = [];
    // Overrides are bound to the pull request's head commit (not the merge commit GITHUB_SHA names).
    const head = subjectSha(trigger);
    const author = event.pull_request?.user?.login;
    if (useApi) {
      ({ policy, base, changes } = await fromApi(inputs.token, event, inputs.policy));
      // Lockfile contents, installed packages and added lines need the files themselves.
      if (policy.licenses.length || policy.dependencies.length || policy.secrets) throw new ConfigError('this policy has licence, dependency or secret rules, which need the files; the API gives only their names', { file: inputs.policy, fix: 'check out the repository before the gate (actions/checkout), and use `changes: git` or `auto`' });
      decisions.push(...judgeChanges(policy, changes, actor));
    } else {
      if (!haveCheckout) throw new ConfigError(`no git checkout in ${cwd}`, { file: "input 'changes'", fix: 'run actions/checkout first, or use `changes: api` on pull requests' });
      const resolution = await resolveBase({ cwd, ...trigger, ...(inputs.base ? { base: inputs.base } : {}), ...(inputs.head ? { head: inputs.head } : {}) });
      // Fail closed: without a base there is no trusted policy and no change to judge.
      if (!resolution.base) throw new ConfigError(`no base commit to read the policy from and compare with: ${resolution.reason}`, { file: 'git checkout', fix: 'pass `base`, or check out with enough history' });
      base = resolution.base;
      // The policy comes from the base commit: a pull request cannot loosen the rules it is judged by.
      policy = await loadPolicyAt(cwd, base, inputs.policy);
      const sbom = inputs.sbom ? readSbom(readInputFile(cwd, inputs.sbom, { what: 'SBOM', input: 'sbom', fix: 'generate it before this step (npm sbom, syft), or leave `sbom` empty' }), inputs.sbom) : undefined;
      const report = await checkChange({ cwd, base, head: resolution.head, policy, actor, ...(sbom ? { sbom } : {}) });
      ({ changes, dependencies } = report);
      secretsScanned = !!policy.secrets;
      notScanned = report.notScanned;
      decisions.push(...report.decisions);
    }
    if (policy.format === 'plan') {
      annotate('notice', { title: ACTION, message: `${inputs.policy} is in the product plan's format (allow/deny/deps/models): read as written (any matching deny blocks with its reason; \`write\` covers new, changed, deleted and renamed files; licence patterns apply per SPDX id and OR alternative). \`maestro policy migrate ${inputs.policy}\` writes the native format, which adds rule ids, modes, actors, dependency, security and secret rules.` });
      for (const n of policy.notes ?? []) log.info(`policy: ${n}`);
    }
    const findings = readFindings(inputs, cwd);
    decisions.push(...evaluateFindings(policy, findings, changes.map((c) => c.path), dependencies.map((d) => `${d.name}@${d.version}`)));
    let audit: AuditEntry[] = [];
    let overridesUnavailable: string | undefined;
    if (inputs.overrides && decisions.length) {
      const info = await readOverrides(inputs.token, event, inputs['override-days'], head);
      overridesUnavailable = info.unavailable;
      if (info.unavailable && decisions.some((d) => d.mode === 'enforce')) annotate('warning', { title: ACTION, message: `overrides unavailable, so the block stands: ${info.unavailable}` });
      const applied = applyOverrides(decisions, info.requests, info.canOverride, new Date(), { head, ...(author ? { author } : {}), allowSelf: policy.overrides['allow-self'], ...(info.headPushedAt ? { headPushedAt: info.headPushedAt } : {}), ...(info.headPushedUnknown ? { headPushedUnknown: info.headPushedUnknown } : {}) });
      decisions.splice(0, decisions.length, ...applied.decisions);
      audit = applied.audit;
      for (const a of audit) log.info(`override ${a.rule} by ${a.by}: ${a.status} (${a.note})`);
    }
    if (notScanned.length) annotate('warning', { title: `${ACTION}: secret scan`, message: `${notScanned.length} file(s) with added lines were not scanned for secrets: ${notScanned.slice(0, 3).map((n) => `${n.path} (${n.why})`).join('; ')}${notScanned.length > 3 ? '; the rest are in the decision file' : ''}` });
    const block = decisions.some((d) => d.mode === 'enforce');
    const outcome = block ? 'block' : decisions.some((d) => d.mode === 'warn') ? 'warn' : 'pass';
    annotateDecisions(decisions);
    // Everything in a decision can come from the pull request (paths, package names, licence strings): escaped by context.
    const rows = decisions.slice(0, SUMMARY_ROWS).map((d) => [mdCode(d.rule), d.mode, mdCode(d.subject), `${mdText(d.reason)} — ${mdText(d.detail)}`]);
    const checked = [`${changes.length} changed file(s)`, dependencies.length ? `${dependencies.length} added package(s)` : '', findings.length ? `${findings.length} scanner finding(s)` : '', secretsScanned ? 'added lines scanned for secrets' : ''].filter(Boolean).join(', ');
    writeSummary(
      [
        '## Policy gate',
        '',
        `**${outcome}** — ${decisions.length} violation(s) of ${mdCode(inputs.policy)} (from the base commit \`${base.slice(0, 12)}\`), actor: ${actor}; checked ${checked}.`,
        '',
        decisions.length ? table(['rule', 'mode', 'subject', 'why'], rows) : 'No rule is violated.',
        decisions.length > SUMMARY_ROWS ? `\n…and ${decisions.length - SUMMARY_ROWS} more in the \`decision\` output.` : '',
        // Requests come from anyone who can comment: their logins, reasons and notes are untrusted text.
        audit.length ? `\nOverrides: ${audit.map((a) => `${mdCode(a.rule)} by ${mdText(`@${a.by}`)}${a.via === 'label' ? ' (label)' : ''}: ${a.status} (${mdText(a.note)}; reason: ${mdText(a.reason)})`).join('; ')}` : '',
        overridesUnavailable ? `\n**Overrides unavailable, so every block stands:** ${mdText(overridesUnavailable)}.` : '',
        notScanned.length ? `\n**Not scanned for secrets** (${notScanned.length}): ${notScanned.slice(0, 20).map((n) => `${mdCode(n.path)} (${mdText(n.why)})`).join(', ')}${notScanned.length > 20 ? ', …' : ''}` : '',
        block ? `\nTo override a rule for this commit, someone with write access other than the author comments ${mdCode(overrideCommand('<rule-id>', head))} (optionally \`expires: YYYY-MM-DD\`) or adds the label \`${LABEL_PREFIX}<rule-id>\`; a new push needs a new override.` : '',
      ].join('\n') + '\n',
    );
    const decision = { version: 1, outcome, policy: inputs.policy, base, head, actor, changedFiles: changes.length, notScanned, ...(overridesUnavailable ? { overridesUnavailable } : {}), dependencies: dependencies.map((d) => ({ name: d.name, version: d.version, new: d.new, license: d.license, licenseSource: d.licenseSource })), violations: decisions, overrides: audit };
    const dir = runnerTempPath('maestro-policy', cwd);
    mkdirSync(dir, { recursive: true });
    const decisionPath = path.join(dir, 'decision.json');
    const full = JSON.stringify(decision);
    writeFileSync(decisionPath, full);
    let shown: unknown = decision;
    if (Buffer.byteLength(full) > DECISION_OUTPUT_BYTES) {
      let keep = decisions.length;
      while (keep > 0 && Buffer.byteLength(JSON.stringify({ ...decision, dependencies: [], violations: decisions.slice(0, keep) })) > DECISION_OUTPUT_BYTES) keep = Math.floor(keep / 2);
      shown = { ...decision, dependencies: [], violations: decisions.slice(0, keep), truncated: { violations: decisions.length - keep, dependencies: dependencies.length, path: decisionPath } };
      log.warning(`${ACTION}: the decision is ${full.length} bytes; the \`decision\` output holds the first ${keep} violations, \`decision-path\` all of them`);
    }
    // Evidence for health-comment: the decision, capped like the output; findings counted by severity, top ones high or worse.
    const evidencePath = writeEvidence(ACTION, { ...(shown as object), findings: summarizeFindings(findings, 'high'), secrets: secretsScanned });
    setOutputs({ outcome, audit, decision: shown, 'decision-path': decisionPath, 'evidence-path': evidencePath });
    if (block) {
      process.exitCode = 1;
      log.info(`${ACTION}: blocked by ${[...new Set(decisions.filter((d) => d.mode === 'enforce').map((d) => d.rule))].join(', ')}`);
    }
  });
}
