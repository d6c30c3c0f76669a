/**
 * A workflow executor for tests and the demo: it runs a workflow file as
 * written, on this machine, with GitHub's own parser and expression evaluator
 * (`@actions/workflow-parser`, `@actions/expressions`: the code behind the
 * Actions language service). Jobs run in `needs` order, with `if:`,
 * `strategy.matrix` (including `fromJSON(needs.x.outputs.y)`), `env:`,
 * `with:`, job outputs and `${{ }}` over github, inputs, needs, steps,
 * matrix, strategy, secrets, vars, runner, env and job. Each job is a fresh
 * machine: its own workspace and RUNNER_TEMP. `permissions:` become the
 * scopes of that job's token, which the fake GitHub enforces.
 *
 * Steps: our own actions (`maestro/conductor/actions/<name>@ref` or
 * `maestro/<name>@ref`, the built bundle through runner-sim), `run:` with
 * bash (GITHUB_OUTPUT/ENV/PATH carried to later steps), and small stand-ins
 * for the third-party actions the templates use (checkout, upload-artifact,
 * download-artifact) that do what those do on a runner. Any other `uses:`
 * fails the run with a clear message. A template error is reported with the
 * parser's file (Line, Col).
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import { NoOperationTraceWriter, convertWorkflowTemplate, isBasicExpression, isBoolean, isMapping, isNumber, isSequence, isString, parseWorkflow } from '@actions/workflow-parser';
import { minimatch } from 'minimatch';
import { parseFileCommand } from './commands.js';
import type { FakeGitHub, PermissionScope } from './fake-github.js';
import type { GitFixture } from './git-fixture.js';
import { eventEnv, runAction, type EventScenario, type RunResult } from './runner-sim.js';

type Token = Parameters<typeof isString>[0];
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Ctx = Record<string, Json>;

export class WorkflowError extends Error {
  override name = 'WorkflowError';
}

/** Artifacts of workflow runs, by run id then name: a directory each (upload-artifact v4 semantics). */
export class ArtifactStore {
  private readonly runs = new Map<number, Map<string, string>>();
  private readonly root = mkdtempSync(path.join(tmpdir(), 'artifacts-'));
  names(runId: number): string[] {
    return [...(this.runs.get(runId)?.keys() ?? [])].sort();
  }
  dir(runId: number, name: string): string | undefined {
    return this.runs.get(runId)?.get(name);
  }
  put(runId: number, name: string, overwrite: boolean): string {
    const run = this.runs.get(runId) ?? new Map<string, string>();
    this.runs.set(runId, run);
    if (run.has(name) && !overwrite) throw new WorkflowError(`upload-artifact: an artifact named '${name}' already exists in run ${runId} (artifacts are immutable; set overwrite: true)`);
    const dir = path.join(this.root, String(runId), name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    run.set(name, dir);
    return dir;
  }
  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export interface StepRecord {
  id: string;
  name: string;
  /** What ran: `uses` reference or `run`. */
  kind: 'action' | 'run' | 'stand-in';
  uses?: string;
  outcome: 'success' | 'failure' | 'skipped';
  /** continue-on-error turns a failure into a success conclusion. */
  conclusion: 'success' | 'failure' | 'skipped';
  outputs: Record<string, string>;
  /** runner-sim's result, for our own actions. */
  result?: RunResult;
  /** The published commit a `uses:` resolved to. */
  resolved?: string;
  log?: string;
}

export interface JobRecord {
  /** `id` for a plain job, `id (a, b)` for a matrix leg. */
  key: string;
  id: string;
  name: string;
  matrix?: Record<string, Json>;
  result: 'success' | 'failure' | 'skipped';
  outputs: Record<string, string>;
  steps: StepRecord[];
  token: string;
  permissions: Partial<Record<PermissionScope, 'read' | 'write'>>;
}

export interface WorkflowRunResult {
  file: string;
  jobs: JobRecord[];
  /** Workflow outputs (`on.workflow_call.outputs`). */
  outputs: Record<string, string>;
  conclusion: 'success' | 'failure';
}

export interface WorkflowRunOptions {
  /** The repository root: our actions are resolved from `<root>/actions/<name>`. */
  root: string;
  /** Workflow file to run. */
  file: string;
  /** The event that triggered the run (its payload is `github.event`). */
  event: EventScenario;
  /** `inputs` (workflow_call / workflow_dispatch); missing ones take the declared defaults. */
  inputs?: Record<string, string | number | boolean>;
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  /** The repository `actions/checkout` fetches from. */
  fx: GitFixture;
  gh: FakeGitHub;
  /** Extra environment for every step (e.g. the cache service variables). */
  env?: Record<string, string>;
  run?: { id: number; attempt?: number; number?: number };
  artifacts: ArtifactStore;
  /** Read-only token whatever `permissions:` says (GitHub does that for pull requests from forks). */
  readOnly?: boolean;
  /** Steps' process output goes here (default: kept in the records only). */
  log?: (line: string) => void;
  /**
   * Directory of published repositories (`<name>.git`, `conductor.git`, as `scripts/release.mjs` writes
   * them): `maestro/<name>@ref`, `maestro/conductor/actions/<name>@ref` and
   * `maestro/conductor/.github/workflows/<file>@ref` resolve there, tag → commit → tree, as the runner
   * does. Without it our references run from `root`.
   */
  published?: string;
  /** A called workflow's jobs get at most the caller job's permissions. */
  maxPermissions?: Partial<Record<PermissionScope, 'read' | 'write'>>;
  /** Prefix of job keys (`caller / `) for a called workflow's jobs. */
  keyPrefix?: string;
}

// ---------------------------------------------------------------- tokens → JSON

function json(t: Token | undefined, ctx: Ctx, fns: Fns): Json {
  if (!t) return null;
  if (isString(t)) return t.value;
  if (isBoolean(t)) return (t as unknown as { value: boolean }).value;
  if (isNumber(t)) return (t as unknown as { value: number }).value;
  if (isBasicExpression(t)) return evaluate(t.expression, ctx, fns, t);
  if (isSequence(t)) {
    const out: Json[] = [];
    for (let i = 0; i < t.count; i++) out.push(json(t.get(i), ctx, fns));
    return out;
  }
  if (isMapping(t)) {
    const out: Record<string, Json> = {};
    for (let i = 0; i < t.count; i++) {
      const kv = t.get(i);
      out[String(json(kv.key as Token, ctx, fns))] = json(kv.value, ctx, fns);
    }
    return out;
  }
  // Null token.
  return null;
}

const str = (v: Json): string => (v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

interface Fns {
  success: () => boolean;
  failure: () => boolean;
  cancelled?: () => boolean;
}

function where(t: Token | undefined): string {
  const r = (t as unknown as { range?: { start: { line: number; column: number } } } | undefined)?.range;
  return r ? ` (Line: ${r.start.line}, Col: ${r.start.column})` : '';
}

/** Evaluate one expression with GitHub's evaluator; status functions are this job's. */
export function evaluate(expression: string, ctx: Ctx, fns: Fns, token?: Token): Json {
  const status = [
    { name: 'success', minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(fns.success()) },
    { name: 'failure', minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(fns.failure()) },
    { name: 'always', minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(true) },
    { name: 'cancelled', minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(fns.cancelled?.() ?? false) },
  ];
  try {
    const lexed = new Lexer(expression).lex();
    const ast = new Parser(lexed.tokens, Object.keys(ctx), status).parse();
    const dict = JSON.parse(JSON.stringify(ctx), data.reviver) as data.Dictionary;
    const result = new Evaluator(ast, dict, new Map(status.map((f) => [f.name.toLowerCase(), f]))).evaluate();
    return JSON.parse(JSON.stringify(result, data.replacer)) as Json;
  } catch (e) {
    throw new WorkflowError(`expression \${{ ${expression} }}${where(token)}: ${(e as Error).message}`);
  }
}

const truthy = (v: Json) => !(v === false || v === null || v === 0 || v === '' || (typeof v === 'number' && Number.isNaN(v)));

// ---------------------------------------------------------------- the run

interface JobState {
  result: 'success' | 'failure' | 'skipped';
  outputs: Record<string, string>;
}

const PERMISSION_SCOPES: PermissionScope[] = ['actions', 'attestations', 'checks', 'contents', 'deployments', 'id-token', 'issues', 'packages', 'pages', 'pull-requests', 'security-events', 'statuses'];

function permissionsOf(p: Json, readOnly: boolean): Partial<Record<PermissionScope, 'read' | 'write'>> {
  let out: Partial<Record<PermissionScope, 'read' | 'write'>> = {};
  if (p === 'read-all') out = Object.fromEntries(PERMISSION_SCOPES.map((s) => [s, 'read']));
  else if (p === 'write-all') out = Object.fromEntries(PERMISSION_SCOPES.map((s) => [s, 'write']));
  else if (p && typeof p === 'object' && !Array.isArray(p)) for (const [k, v] of Object.entries(p)) if (v === 'read' || v === 'write') out[k as PermissionScope] = v;
  // Every GITHUB_TOKEN can read metadata; a fork's token is read-only whatever was asked.
  if (readOnly) for (const k of Object.keys(out) as PermissionScope[]) if (out[k] === 'write') out[k] = 'read';
  return out;
}

/** A called workflow's job can only lower the caller's permissions. */
function capPermissions(p: Partial<Record<PermissionScope, 'read' | 'write'>>, max: WorkflowRunOptions['maxPermissions']): Partial<Record<PermissionScope, 'read' | 'write'>> {
  if (!max) return p;
  const out: Partial<Record<PermissionScope, 'read' | 'write'>> = {};
  for (const [k, v] of Object.entries(p) as Array<[PermissionScope, 'read' | 'write']>) {
    const cap = max[k];
    if (cap === 'write') out[k] = v;
    else if (cap === 'read') out[k] = 'read';
  }
  return out;
}

function githubContext(o: WorkflowRunOptions, workflowName: string): Ctx {
  const e = eventEnv(o.event);
  return {
    event: o.event.payload as Json,
    event_name: o.event.name,
    sha: e['GITHUB_SHA']!,
    ref: e['GITHUB_REF']!,
    ref_name: e['GITHUB_REF_NAME']!,
    head_ref: e['GITHUB_HEAD_REF']!,
    base_ref: e['GITHUB_BASE_REF']!,
    repository: e['GITHUB_REPOSITORY']!,
    repository_owner: e['GITHUB_REPOSITORY_OWNER']!,
    actor: e['GITHUB_ACTOR']!,
    run_id: String(o.run?.id ?? 1),
    run_attempt: String(o.run?.attempt ?? 1),
    run_number: String(o.run?.number ?? 1),
    workflow: workflowName,
    server_url: 'https://github.com',
    api_url: o.gh.url,
    token: '',
  };
}

function inputsOf(events: Record<string, unknown>, given: WorkflowRunOptions['inputs'] = {}): Ctx {
  const declared = ((events['workflow_call'] as { inputs?: Record<string, { type?: string; required?: boolean; default?: Json }> } | undefined)?.inputs ??
    (events['workflow_dispatch'] as { inputs?: Record<string, { type?: string; required?: boolean; default?: Json }> } | undefined)?.inputs ??
    {}) as Record<string, { type?: string; required?: boolean; default?: Json }>;
  const out: Ctx = {};
  for (const k of Object.keys(given)) if (!(k in declared)) throw new WorkflowError(`input '${k}' is not declared by the workflow (declared: ${Object.keys(declared).join(', ') || 'none'})`);
  for (const [k, d] of Object.entries(declared)) {
    if (k in given) out[k] = given[k]!;
    else if (d.required) throw new WorkflowError(`required input '${k}' was not given`);
    else out[k] = d.default ?? (d.type === 'boolean' ? false : d.type === 'number' ? 0 : '');
  }
  return out;
}

/** Expand a matrix: the product of the lists, then `exclude`, then `include` (extending or adding legs). */
export function expandMatrix(m: Json): Array<Record<string, Json>> {
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw new WorkflowError(`strategy.matrix must be a mapping, got ${JSON.stringify(m)}`);
  const { include, exclude, ...axes } = m as Record<string, Json>;
  let legs: Array<Record<string, Json>> = [{}];
  for (const [k, values] of Object.entries(axes)) {
    if (!Array.isArray(values)) throw new WorkflowError(`strategy.matrix.${k} must be a list`);
    legs = legs.flatMap((l) => values.map((v) => ({ ...l, [k]: v })));
  }
  if (!Object.keys(axes).length) legs = [];
  const matches = (leg: Record<string, Json>, pat: Record<string, Json>) => Object.entries(pat).every(([k, v]) => JSON.stringify(leg[k]) === JSON.stringify(v));
  if (Array.isArray(exclude)) legs = legs.filter((l) => !exclude.some((x) => x && typeof x === 'object' && !Array.isArray(x) && matches(l, x)));
  if (Array.isArray(include)) {
    for (const inc of include) {
      if (!inc || typeof inc !== 'object' || Array.isArray(inc)) continue;
      const original = Object.fromEntries(Object.entries(inc).filter(([k]) => k in axes));
      const hits = legs.filter((l) => Object.keys(original).length > 0 && matches(l, original));
      if (hits.length) for (const h of hits) Object.assign(h, inc);
      else legs.push({ ...inc });
    }
  }
  return legs;
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const file = path.join(env['RUNNER_TEMP']!, `step-${randomUUID()}.sh`);
    writeFileSync(file, script);
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, out: Buffer.concat(chunks).toString('utf8') }));
  });
}

const checkouts = new Map<string, string>();

/** A published repository's tree at a ref (tag or branch), extracted once per commit. */
export function resolvePublished(published: string, repo: string, ref: string): { dir: string; commit: string } {
  const bare = path.join(published, `${repo}.git`);
  if (!existsSync(bare)) throw new WorkflowError(`maestro/${repo}@${ref}: no published repository ${repo} (in ${published})`);
  let commit: string;
  try {
    commit = execFileSync('git', ['--git-dir', bare, 'rev-parse', '--verify', `${ref}^{commit}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    throw new WorkflowError(`maestro/${repo}@${ref}: unable to resolve action, unable to find version ${ref}`);
  }
  let dir = checkouts.get(commit);
  if (!dir) {
    dir = mkdtempSync(path.join(tmpdir(), `published-${repo}-`));
    const tar = execFileSync('git', ['--git-dir', bare, 'archive', commit], { maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    checkouts.set(commit, dir);
  }
  return { dir, commit };
}

/** The action directory for one of ours (and the published commit it came from), or undefined. */
function ownAction(o: Pick<WorkflowRunOptions, 'root' | 'published'>, uses: string): { dir: string; commit?: string } | undefined {
  const m = /^maestro\/(?:(conductor)\/actions\/)?([\w-]+)@([\w.\/-]+)$/.exec(uses);
  if (!m) return undefined;
  const [, conductor, name, ref] = m as unknown as [string, string | undefined, string, string];
  if (o.published) {
    const r = resolvePublished(o.published, conductor ? 'conductor' : name, ref);
    const dir = conductor ? path.join(r.dir, 'actions', name) : r.dir;
    if (!existsSync(path.join(dir, 'action.yml'))) throw new WorkflowError(`uses: ${uses}: the published tree at ${r.commit.slice(0, 12)} has no action.yml${conductor ? ` under actions/${name}` : ''}`);
    return { dir, commit: r.commit };
  }
  const dir = path.join(o.root, 'actions', name);
  if (!existsSync(path.join(dir, 'action.yml'))) throw new WorkflowError(`uses: ${uses}: there is no action '${name}' in ${path.join(o.root, 'actions')}`);
  if (!existsSync(path.join(dir, 'dist/index.js'))) throw new WorkflowError(`uses: ${uses}: ${path.relative(o.root, dir)}/dist is not built (./dev build)`);
  return { dir };
}

/** The file a reusable workflow reference names: published, or this repository's templates. */
function calledWorkflow(o: WorkflowRunOptions, ref: string): { file: string; commit?: string } {
  const m = /^maestro\/conductor\/\.github\/workflows\/([\w.-]+\.ya?ml)@([\w.\/-]+)$/.exec(ref);
  if (m) {
    if (o.published) {
      const r = resolvePublished(o.published, 'conductor', m[2]!);
      return { file: path.join(r.dir, '.github/workflows', m[1]!), commit: r.commit };
    }
    return { file: path.join(o.root, 'workflows-templates', m[1]!) };
  }
  const local = /^\.\/(\.github\/workflows\/[\w.-]+\.ya?ml)$/.exec(ref);
  if (local) return { file: path.resolve(path.dirname(o.file), '../..', local[1]!) };
  throw new WorkflowError(`uses: ${ref}: only maestro/conductor/.github/workflows/<file>@ref and ./.github/workflows/<file> can be called here`);
}

function copyInto(src: string, dest: string): void {
  const st = statSync(src);
  if (st.isDirectory()) cpSync(src, dest, { recursive: true });
  else {
    mkdirSync(dest, { recursive: true });
    cpSync(src, path.join(dest, path.basename(src)));
  }
}

export async function runWorkflow(o: WorkflowRunOptions): Promise<WorkflowRunResult> {
  const name = path.basename(o.file);
  const content = readFileSync(o.file, 'utf8');
  // The parser's messages start with the file name it was given: `<file> (Line: l, Col: c): …`.
  const parsed = parseWorkflow({ name: o.file, content }, new NoOperationTraceWriter());
  const parseErrors = parsed.context.errors.getErrors();
  if (parseErrors.length || !parsed.value) throw new WorkflowError(parseErrors.map((e) => e.message).join('; ') || `${o.file}: empty workflow`);
  const wf = await convertWorkflowTemplate(parsed.context, parsed.value);
  if (wf.errors?.length) throw new WorkflowError(wf.errors.map((e) => e.Message).join('; '));

  const events = wf.events as unknown as Record<string, unknown>;
  const rawName = rawFind(parsed.value as unknown as Token, 'name');
  const github = githubContext(o, rawName ? str(json(rawName, {}, { success: () => true, failure: () => false })) : name);
  const inputs = inputsOf(events, o.inputs);
  const base: Ctx = { github, inputs, secrets: { GITHUB_TOKEN: '', ...(o.secrets ?? {}) }, vars: o.vars ?? {} };
  const noStatus: Fns = { success: () => true, failure: () => false };
  const workflowEnv = (json(wf.env as Token, base, noStatus) ?? {}) as Record<string, Json>;

  const jobs = new Map(wf.jobs.map((j) => [j.id.value, j]));
  for (const j of wf.jobs) for (const n of j.needs ?? []) if (!jobs.has(n.value)) throw new WorkflowError(`${o.file}${where(n as unknown as Token)}: job '${j.id.value}' needs unknown job '${n.value}'`);
  const order: string[] = [];
  const visit = (id: string, seen: Set<string>) => {
    if (order.includes(id)) return;
    if (seen.has(id)) throw new WorkflowError(`${o.file}: the jobs' needs form a cycle through '${id}'`);
    seen.add(id);
    for (const n of jobs.get(id)!.needs ?? []) visit(n.value, seen);
    order.push(id);
  };
  for (const j of wf.jobs) visit(j.id.value, new Set());

  // References the parser does not check: a job output naming a step the job does not have, `needs.x` of a job not needed.
  for (const j of wf.jobs) {
    if (j.type !== 'job') continue;
    const stepIds = new Set(j.steps.map((s) => s.id));
    const needed = new Set((j.needs ?? []).map((n) => n.value));
    const check = (t: Token | undefined, what: string) => {
      if (!t) return;
      if (isBasicExpression(t)) {
        for (const m of t.expression.matchAll(/\bsteps\.([\w-]+)/g)) if (!stepIds.has(m[1]!)) throw new WorkflowError(`${o.file}${where(t)}: ${what} refers to steps.${m[1]}, but job '${j.id.value}' has no step with that id`);
        for (const m of t.expression.matchAll(/\bneeds\.([\w-]+)/g)) if (!needed.has(m[1]!)) throw new WorkflowError(`${o.file}${where(t)}: ${what} refers to needs.${m[1]}, but job '${j.id.value}' does not need it`);
      } else if (isMapping(t)) for (let i = 0; i < t.count; i++) check(t.get(i).value, what);
      else if (isSequence(t)) for (let i = 0; i < t.count; i++) check(t.get(i), what);
    };
    check(j.outputs as unknown as Token, `an output of job '${j.id.value}'`);
  }

  const state = new Map<string, JobState>();
  const records: JobRecord[] = [];
  const repoName = String(github['repository']).split('/')[1] ?? 'repo';
  const workspace = path.join(mkdtempSync(path.join(tmpdir(), 'runner-')), 'work', repoName, repoName);
  for (const id of order) {
    const job = jobs.get(id)!;
    const needsIds = (job.needs ?? []).map((n) => n.value);
    const needs: Ctx = Object.fromEntries(needsIds.map((n) => [n, { result: state.get(n)!.result, outputs: state.get(n)!.outputs }]));
    // success(): every needed job (and what it needed) succeeded.
    const all = new Set<string>();
    const closure = (x: string) => {
      for (const n of jobs.get(x)!.needs ?? []) if (!all.has(n.value)) (all.add(n.value), closure(n.value));
    };
    closure(id);
    const jobFns: Fns = { success: () => [...all].every((n) => state.get(n)!.result === 'success'), failure: () => [...all].some((n) => state.get(n)!.result === 'failure') };
    const jobCtx: Ctx = { ...base, needs };
    const run = truthy(evaluate(job.if.expression, jobCtx, jobFns, job.if as unknown as Token));
    const displayName = job.name ? str(json(job.name as unknown as Token, jobCtx, noStatus)) : id;
    if (!run) {
      state.set(id, { result: 'skipped', outputs: {} });
      records.push({ key: `${o.keyPrefix ?? ''}${id}`, id, name: displayName, result: 'skipped', outputs: {}, steps: [], token: '', permissions: {} });
      continue;
    }
    // A job without its own block gets the workflow's (GitHub's default token otherwise: here, none).
    const rawPermissions = rawFind(parsed.value as unknown as Token, 'jobs', id, 'permissions') ?? rawFind(parsed.value as unknown as Token, 'permissions');
    const permissions = capPermissions(permissionsOf(json(rawPermissions, jobCtx, noStatus), !!o.readOnly), o.maxPermissions);
    if (job.type === 'reusableWorkflowJob') {
      // A called workflow: its jobs run here with the caller's event, the given inputs, and at most this job's permissions.
      const called = calledWorkflow(o, job.ref.value);
      const withToken = rawFind(parsed.value as unknown as Token, 'jobs', id, 'with');
      const given = Object.fromEntries(Object.entries((json(withToken, jobCtx, noStatus) ?? {}) as Record<string, Json>).map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : (v as string | number | boolean)]));
      const nested = await runWorkflow({ ...o, file: called.file, inputs: given as Record<string, string | number | boolean>, maxPermissions: permissions, keyPrefix: `${o.keyPrefix ?? ''}${id} / ` });
      records.push(...nested.jobs);
      state.set(id, { result: nested.conclusion, outputs: nested.outputs });
      continue;
    }
    const strategy = (json(job.strategy as Token | undefined, jobCtx, noStatus) ?? {}) as Record<string, Json>;
    const legs = strategy['matrix'] !== undefined && strategy['matrix'] !== null ? expandMatrix(strategy['matrix']) : [undefined];
    if (!legs.length) throw new WorkflowError(`${o.file}: job '${id}': the matrix is empty`);
    let result: JobState['result'] = 'success';
    let outputs: Record<string, string> = {};
    for (const [index, matrix] of legs.entries()) {
      const rawSteps = rawFind(parsed.value as unknown as Token, 'jobs', id, 'steps');
      const rec = await runJob(o, { id, job, rawSteps, workspace, jobCtx: { ...jobCtx, matrix: matrix ?? {}, strategy: { 'fail-fast': strategy['fail-fast'] ?? true, 'job-index': index, 'job-total': legs.length, 'max-parallel': legs.length } }, workflowEnv, permissions, displayName, ...(matrix ? { matrix } : {}) });
      records.push(rec);
      if (rec.result === 'failure') result = 'failure';
      // Matrix legs write the same outputs: the last one that sets a value wins, as on GitHub.
      for (const [k, v] of Object.entries(rec.outputs)) if (v !== '') outputs[k] = v;
      if (!matrix) outputs = rec.outputs;
    }
    state.set(id, { result, outputs });
  }

  // Workflow outputs (`on.workflow_call.outputs.<name>.value`), over the `jobs` context.
  const jobsCtx: Ctx = Object.fromEntries([...state].map(([k, v]) => [k, { result: v.result, outputs: v.outputs }]));
  const outputs: Record<string, string> = {};
  const declaredOutputs = rawFind(parsed.value as unknown as Token, 'on', 'workflow_call', 'outputs');
  if (declaredOutputs && isMapping(declaredOutputs)) {
    for (let i = 0; i < declaredOutputs.count; i++) {
      const kv = declaredOutputs.get(i);
      outputs[str(json(kv.key as Token, {}, noStatus))] = str(json(rawFind(kv.value, 'value'), { ...base, jobs: jobsCtx }, noStatus));
    }
  }
  const conclusion = records.some((r) => r.result === 'failure') ? 'failure' : 'success';
  return { file: o.file, jobs: records, outputs, conclusion };
}

/** The converter leaves `permissions` (and the workflow's `name`) out of its model: read them from the parsed template. */
function rawFind(t: Token | undefined, ...keys: string[]): Token | undefined {
  let cur = t;
  for (const k of keys) {
    if (!cur || !isMapping(cur)) return undefined;
    let next: Token | undefined;
    for (let i = 0; i < cur.count; i++) {
      const kv = cur.get(i);
      if (isString(kv.key as Token) && (kv.key as unknown as { value: string }).value === k) next = kv.value;
    }
    cur = next;
  }
  return cur;
}

interface JobInput {
  id: string;
  /** GITHUB_WORKSPACE: one path for every job of the run. */
  workspace: string;
  /** The job's `steps` as written: the converter's model drops `with`, `shell` and `working-directory`. */
  rawSteps: Token | undefined;
  job: Extract<Awaited<ReturnType<typeof convertWorkflowTemplate>>['jobs'][number], { type: 'job' }>;
  jobCtx: Ctx;
  workflowEnv: Record<string, Json>;
  permissions: Partial<Record<PermissionScope, 'read' | 'write'>>;
  displayName: string;
  matrix?: Record<string, Json>;
}

async function runJob(o: WorkflowRunOptions, j: JobInput): Promise<JobRecord> {
  // A fresh machine. As on hosted runners, GITHUB_WORKSPACE is the same path in every job of a run
  // (/home/runner/work/<repo>/<repo>), emptied for each job; RUNNER_TEMP is kept per job so tests can read what a job wrote there.
  const machine = mkdtempSync(path.join(tmpdir(), `job-${j.id}-`));
  const workspace = j.workspace;
  rmSync(workspace, { recursive: true, force: true });
  const runnerTemp = path.join(machine, 'temp');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(runnerTemp, { recursive: true });
  const token = o.gh.addToken(`ghs_${randomUUID().replace(/-/g, '')}`, { scopes: j.permissions, ...(o.readOnly ? { permission: 'read' } : {}) });
  const key = `${o.keyPrefix ?? ''}${j.matrix ? `${j.id} (${Object.values(j.matrix).map(str).join(', ')})` : j.id}`;
  const rec: JobRecord = { key, id: j.id, name: j.displayName, ...(j.matrix ? { matrix: j.matrix } : {}), result: 'success', outputs: {}, steps: [], token, permissions: j.permissions };
  const runner = { temp: runnerTemp, os: 'Linux', arch: 'X64', name: 'GitHub Actions 1', environment: 'github-hosted', tool_cache: path.join(machine, 'tool-cache') };
  const github: Record<string, Json> = { ...(j.jobCtx['github'] as Record<string, Json>), token, workspace, job: j.id };
  const steps: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }> = {};
  let jobEnv: Record<string, string> = {};
  let extraPath: string[] = [];
  let failed = false;
  const fns: Fns = { success: () => !failed, failure: () => failed };
  const ctxNow = (): Ctx => ({ ...j.jobCtx, github, runner, steps: steps as unknown as Json, job: { status: failed ? 'failure' : 'success' }, env: { ...j.workflowEnv, ...jobEnv } });
  const jobLevelEnv = Object.fromEntries(Object.entries((json(j.job.env as Token | undefined, ctxNow(), fns) ?? {}) as Record<string, Json>).map(([k, v]) => [k, str(v)]));
  const workflowEnv = Object.fromEntries(Object.entries(j.workflowEnv).map(([k, v]) => [k, str(v)]));
  const runId = Number(github['run_id']);

  for (const [index, step] of j.job.steps.entries()) {
    const raw = j.rawSteps && isSequence(j.rawSteps) ? j.rawSteps.get(index) : undefined;
    const s = { ...(step as unknown as object), with: rawFind(raw, 'with'), shell: rawFind(raw, 'shell'), 'working-directory': rawFind(raw, 'working-directory') } as unknown as { id: string; name?: Token; if?: Token & { expression: string }; env?: Token; uses?: Token | string; with?: Token; run?: Token; 'continue-on-error'?: boolean | Token; shell?: Token; 'working-directory'?: Token };
    const ctx = { ...ctxNow(), env: { ...workflowEnv, ...jobLevelEnv, ...jobEnv } };
    const cond = s.if ? truthy(evaluate(s.if.expression, ctx, fns, s.if)) : !failed;
    const usesOf = (u: Token | string) => (typeof u === 'string' ? u : str(json(u, ctx, fns)));
    const label = s.name ? str(json(s.name, ctx, fns)) : s.uses ? usesOf(s.uses) : s.id;
    if (!cond) {
      rec.steps.push({ id: s.id, name: label, kind: s.uses ? 'action' : 'run', outcome: 'skipped', conclusion: 'skipped', outputs: {} });
      steps[s.id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      continue;
    }
    const stepEnv = Object.fromEntries(Object.entries((json(s.env, ctx, fns) ?? {}) as Record<string, Json>).map(([k, v]) => [k, str(v)]));
    const env: Record<string, string> = { ...workflowEnv, ...jobLevelEnv, ...jobEnv, ...stepEnv };
    const continueOnError = typeof s['continue-on-error'] === 'boolean' ? s['continue-on-error'] : s['continue-on-error'] ? truthy(json(s['continue-on-error'], ctx, fns)) : false;
    let outcome: 'success' | 'failure' = 'success';
    let outputs: Record<string, string> = {};
    let record: StepRecord;
    if (s.uses) {
      const uses = usesOf(s.uses);
      const withValues = Object.fromEntries(Object.entries((json(s.with, ctx, fns) ?? {}) as Record<string, Json>).map(([k, v]) => [k, str(v)]));
      const own = ownAction(o, uses);
      if (own) {
        const r = await runAction({
          actionDir: own.dir,
          with: withValues,
          event: o.event,
          workspace,
          token,
          apiUrl: o.gh.url,
          jobEnv: { ...jobEnv },
          env: { ...(o.env ?? {}), ...workflowEnv, ...jobLevelEnv, ...stepEnv, RUNNER_TEMP: runnerTemp, GITHUB_JOB: j.id, ...(extraPath.length ? { PATH: [...extraPath, process.env['PATH'] ?? ''].join(path.delimiter) } : {}) },
          run: { id: runId, attempt: Number(github['run_attempt']), number: Number(github['run_number']) },
        });
        outcome = r.conclusion;
        outputs = r.outputs;
        jobEnv = { ...r.jobEnv };
        extraPath = [...r.path, ...extraPath];
        record = { id: s.id, name: label, kind: 'action', uses, outcome, conclusion: outcome, outputs, result: r, log: r.log, ...(own.commit ? { resolved: own.commit } : {}) };
      } else {
        const r = await standIn(o, uses, withValues, { workspace, runnerTemp, runId, sha: String(github['sha']) });
        outcome = r.ok ? 'success' : 'failure';
        outputs = r.outputs;
        record = { id: s.id, name: label, kind: 'stand-in', uses, outcome, conclusion: outcome, outputs, log: r.log };
      }
    } else {
      const script = str(json(s.run, ctx, fns));
      const cwd = s['working-directory'] ? path.resolve(workspace, str(json(s['working-directory'], ctx, fns))) : workspace;
      const files = Object.fromEntries(['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY'].map((k) => [k, path.join(runnerTemp, `${k.toLowerCase()}-${randomUUID()}`)]));
      for (const f of Object.values(files)) writeFileSync(f, '');
      const e = eventEnv(o.event);
      const r = await bash(script, cwd, {
        ...(o.env ?? {}),
        // Tools hosted runners have preinstalled that our templates call (gh): stand-ins, last on PATH.
        PATH: [...extraPath, process.env['PATH'] ?? '/usr/bin:/bin', path.join(o.root, 'packages/harness/stand-ins')].join(path.delimiter),
        HOME: path.join(machine, 'home'),
        LANG: 'C.UTF-8',
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        ...e,
        GITHUB_WORKSPACE: workspace,
        GITHUB_RUN_ID: String(runId),
        GITHUB_JOB: j.id,
        GITHUB_API_URL: o.gh.url,
        RUNNER_TEMP: runnerTemp,
        RUNNER_OS: 'Linux',
        ...files,
        ...env,
      });
      outcome = r.code === 0 ? 'success' : 'failure';
      outputs = Object.fromEntries(parseFileCommand(readFileSync(files['GITHUB_OUTPUT']!, 'utf8'), 'output'));
      for (const [k, v] of parseFileCommand(readFileSync(files['GITHUB_ENV']!, 'utf8'), 'env')) jobEnv[k] = v;
      extraPath = [...readFileSync(files['GITHUB_PATH']!, 'utf8').split('\n').filter(Boolean).reverse(), ...extraPath];
      record = { id: s.id, name: label, kind: 'run', outcome, conclusion: outcome, outputs, log: r.out };
    }
    if (record.log) for (const line of record.log.split('\n')) o.log?.(`[${key}] ${line}`);
    const conclusion = outcome === 'failure' && continueOnError ? 'success' : outcome;
    record.conclusion = conclusion;
    rec.steps.push(record);
    steps[s.id] = { outputs, outcome, conclusion };
    if (conclusion === 'failure') failed = true;
  }
  rec.result = failed ? 'failure' : 'success';
  rec.outputs = Object.fromEntries(Object.entries((json(j.job.outputs as Token | undefined, ctxNow(), fns) ?? {}) as Record<string, Json>).map(([k, v]) => [k, str(v)]));
  return rec;
}

// ---------------------------------------------------------------- stand-ins

interface StandInResult {
  ok: boolean;
  outputs: Record<string, string>;
  log: string;
}

async function standIn(o: WorkflowRunOptions, uses: string, w: Record<string, string>, m: { workspace: string; runnerTemp: string; runId: number; sha: string }): Promise<StandInResult> {
  const action = uses.split('@')[0]!;
  const bool = (v: string | undefined, d: boolean) => (v === undefined || v === '' ? d : v === 'true');
  if (action === 'actions/checkout') {
    // Like actions/checkout: the event's commit (the merge commit for pull requests), depth 1 unless told.
    const depth = Number(w['fetch-depth'] ?? '1');
    const into = w['path'] ? path.resolve(m.workspace, w['path']) : m.workspace;
    o.fx.checkoutLike(w['ref'] || m.sha, { depth: Number.isFinite(depth) ? depth : 1, into });
    return { ok: true, outputs: { commit: w['ref'] || m.sha }, log: `checkout ${(w['ref'] || m.sha).slice(0, 12)} depth ${depth}` };
  }
  if (action === 'actions/upload-artifact') {
    const name = w['name'] || 'artifact';
    const paths = (w['path'] ?? '').split('\n').map((p) => p.trim()).filter(Boolean).map((p) => path.resolve(m.workspace, p));
    const found = paths.filter((p) => existsSync(p) && (!statSync(p).isDirectory() || readdirSync(p).length > 0));
    const policy = w['if-no-files-found'] || 'warn';
    if (!found.length) {
      const msg = `upload-artifact: no files were found with the provided path: ${w['path'] ?? ''}. No artifacts will be uploaded.`;
      return { ok: policy !== 'error', outputs: {}, log: policy === 'error' ? `::error::${msg}` : msg };
    }
    let dir: string;
    try {
      dir = o.artifacts.put(m.runId, name, bool(w['overwrite'], false));
    } catch (e) {
      return { ok: false, outputs: {}, log: `::error::${(e as Error).message}` };
    }
    for (const p of found) {
      if (statSync(p).isDirectory()) cpSync(p, dir, { recursive: true });
      else copyInto(p, dir);
    }
    return { ok: true, outputs: { 'artifact-id': `${m.runId}-${name}` }, log: `uploaded ${name}` };
  }
  if (action === 'actions/download-artifact') {
    const runId = w['run-id'] ? Number(w['run-id']) : m.runId;
    const dest = path.resolve(m.workspace, w['path'] || '.');
    const names = w['name'] ? [w['name']] : o.artifacts.names(runId).filter((n) => !w['pattern'] || minimatch(n, w['pattern']));
    if (w['name'] && !o.artifacts.dir(runId, w['name'])) return { ok: false, outputs: {}, log: `::error::Unable to download artifact(s): Artifact not found for name: ${w['name']}` };
    const merge = bool(w['merge-multiple'], false);
    for (const n of names) copyInto(o.artifacts.dir(runId, n)!, w['name'] || merge ? dest : path.join(dest, n));
    return { ok: true, outputs: { 'download-path': dest }, log: `downloaded ${names.join(', ') || 'nothing'}` };
  }
  return { ok: false, outputs: {}, log: `::error::uses: ${uses} is not something this executor can run (our actions: maestro/conductor/actions/<name>@ref; stand-ins: actions/checkout, actions/upload-artifact, actions/download-artifact)` };
}
