import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { analyze, type Report } from '@maestro/affected';
import {
  ConfigError,
  annotate,
  booleanInput,
  mdCode,
  mdText,
  getGitHubClient,
  integerInput,
  listInput,
  log,
  parseInputs,
  runAction,
  runnerEvent,
  setOutputs,
  state,
  runnerTempPath,
  table,
  writeEvidence,
  writeSummary,
} from '@maestro/core';

export const ACTION = 'affected';

export const inputSchema = z.object({
  base: z.string().default(''),
  head: z.string().default(''),
  token: z.string().default(''),
  workflow: z.string().default(''),
  'working-directory': z.string().default('.'),
  targets: listInput().default([]),
  'include-dependencies': booleanInput().default(false),
  'dependency-targets': listInput().default(['build']),
  'global-inputs': listInput().default([]),
  'test-selection': z.enum(['off', 'files']).default('off'),
  'test-globs': listInput().default([]),
  'max-jobs': integerInput({ min: 1, max: 256 }).default(256),
  'key-prefix': z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dot, dash and underscore only').default('maestro'),
  'key-salt': z.string().default(''),
  cache: z.enum(['off', 'restore', 'restore-save']).default('off'),
  'cache-targets': listInput().default([]),
  'cache-projects': listInput().default([]),
});

/** Outputs are capped at 1 MB per job; big lists go to files. */
const OUTPUT_BUDGET = 256 * 1024;
/** Changed paths kept in the evidence file (health-comment lists missing tests from them). */
const EVIDENCE_FILES = 5000;

interface PendingSave {
  key: string;
  paths: string[];
  task: string;
}

function workflowFile(input: string): string | undefined {
  if (input) return input;
  const ref = process.env['GITHUB_WORKFLOW_REF'] ?? '';
  const m = /\/\.github\/workflows\/([^@]+)@/.exec(ref);
  return m?.[1];
}

async function* successfulRuns(token: string, workflow: string, branch: string): AsyncIterable<string> {
  const [owner, repo] = (process.env['GITHUB_REPOSITORY'] ?? '/').split('/');
  const gh = await getGitHubClient(token, { log: { warn: log.warning } });
  const seen = new Set<string>();
  for await (const page of gh.paginate.iterator(gh.rest.actions.listWorkflowRuns, { owner: owner!, repo: repo!, workflow_id: workflow, branch, status: 'success', per_page: 50 })) {
    for (const r of page.data) {
      if (r.conclusion !== 'success' || seen.has(r.head_sha)) continue;
      seen.add(r.head_sha);
      yield r.head_sha;
    }
  }
}

/** The job summary. Paths, reasons and root folders come from the pull request: escaped by context (mdText, mdCode). */
function summary(r: Report, cacheHits: Record<string, boolean> | undefined): string {
  const lines: string[] = ['## Affected projects', ''];
  const baseLine = r.base ? `\`${r.base.slice(0, 12)}\` (${r.baseSource})` : '**none**';
  lines.push(`Base ${baseLine} → head \`${r.head.slice(0, 12)}\`; ${r.files.length} changed file(s); ${r.projects.length} of ${r.graph.length} projects, ${r.tasks.length} task(s).`, '');
  if (r.baseNote) lines.push(`> ${r.base ? 'Note' : 'No base'}: ${mdText(r.baseNote)}`, '');
  if (r.all) lines.push(`**Everything is affected:** ${mdText(r.allReason)}`, '');
  if (r.projects.length && !r.all) {
    const rows = r.projects.map((p) => [mdCode(p), mdText((r.reasons[p] ?? []).slice(0, 3).join('; ') + ((r.reasons[p]?.length ?? 0) > 3 ? ` (+${r.reasons[p]!.length - 3} more)` : '')), r.tasks.filter((t) => t.project === p).map((t) => mdText(t.target)).join(', ') || '—']);
    lines.push(table(['Project', 'Why', 'Tasks'], rows), '');
  }
  if (r.removed.length) lines.push(`**Removed:** ${r.removed.map((x) => `${mdCode(x.name)} (${mdText(x.root)})`).join(', ')}`, '');
  if (r.unowned.length) lines.push(`<details><summary>${r.unowned.length} changed file(s) outside any project (no effect)</summary>\n\n${r.unowned.map((f) => `- ${mdCode(f)}`).join('\n')}\n\n</details>`, '');
  if (r.tests) lines.push(`**Selected tests:** ${r.tests.tests.length}${Object.keys(r.tests.wholeProjects).length ? ` (all tests of ${Object.keys(r.tests.wholeProjects).map(mdCode).join(', ')})` : ''}`, '');
  if (cacheHits) {
    const hits = Object.values(cacheHits).filter(Boolean).length;
    lines.push(`**Cache:** ${hits} of ${Object.keys(cacheHits).length} target(s) restored from an exact key.`, '');
  }
  for (const w of r.warnings) lines.push(`> ⚠️ ${mdText(w)}`);
  return lines.join('\n') + '\n';
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

export function run(): Promise<void> {
  return runAction(ACTION, async () => {
    const inputs = parseInputs(inputSchema);
    const workspace = process.env['GITHUB_WORKSPACE'] ?? process.cwd();
    const cwd = path.resolve(workspace, inputs['working-directory']);
    const workflow = workflowFile(inputs.workflow);
    const { report } = await analyze({
      cwd,
      ...runnerEvent(),
      ...(inputs.base ? { base: inputs.base } : {}),
      ...(inputs.head ? { head: inputs.head } : {}),
      ...(inputs.token && workflow ? { lastSuccessful: (branch: string) => successfulRuns(inputs.token, workflow, branch) } : {}),
      log: (m) => log.debug(m),
      targets: inputs.targets,
      includeDependencies: inputs['include-dependencies'],
      dependencyTargets: inputs['dependency-targets'],
      globalInputs: inputs['global-inputs'],
      testSelection: inputs['test-selection'],
      ...(inputs['test-globs'].length ? { testGlobs: inputs['test-globs'] } : {}),
      keyPrefix: inputs['key-prefix'],
      keySalt: inputs['key-salt'],
      keyEnv: process.env,
      maxJobs: inputs['max-jobs'],
    });

    if (!report.base) annotate('warning', { title: 'affected: everything selected', message: `No base commit: ${report.baseNote}. Every project is treated as affected.` });
    for (const w of report.warnings) annotate('warning', { title: 'affected', message: w });
    if (report.fetched.length) log.info(`fetched ${report.fetched.length} missing commit(s) into the shallow clone: ${report.fetched.map((s) => s.slice(0, 12)).join(', ')}`);

    // Files for large lists and the full report.
    const dir = runnerTempPath('maestro-affected', cwd);
    mkdirSync(dir, { recursive: true });
    const reportPath = path.join(dir, 'report.json');
    const filesPath = path.join(dir, 'files.txt');
    const touched = [...new Set(report.files.flatMap((f) => (f.oldPath ? [f.oldPath, f.path] : [f.path])))];
    writeFileSync(reportPath, JSON.stringify(report, null, 2) + '\n');
    writeFileSync(filesPath, touched.map((f) => `${f}\n`).join(''));
    let filesJson = JSON.stringify(touched);
    if (filesJson.length > OUTPUT_BUDGET) {
      log.warning(`affected: ${touched.length} changed paths do not fit in an output; the \`files\` output is empty, read \`files-path\` (${filesPath}) instead.`);
      filesJson = '';
    }

    // Cache per target.
    let cacheHits: Record<string, boolean> | undefined;
    if (inputs.cache !== 'off') {
      const keyOf = new Map(report.keys.map((k) => [`${k.project}:${k.target}`, k]));
      const onlyProjects = inputs['cache-projects'].length ? new Set(inputs['cache-projects']) : undefined;
      const cacheTargets = inputs['cache-targets'].length ? new Set(inputs['cache-targets']) : undefined;
      const candidates = report.tasks
        .filter((t) => !onlyProjects || onlyProjects.has(t.project))
        .map((t) => keyOf.get(`${t.project}:${t.target}`)!)
        .filter((k) => k && (cacheTargets ? cacheTargets.has(k.target) : k.outputs.length > 0));
      const noOutputs = candidates.filter((k) => !k.outputs.length);
      if (noOutputs.length) throw new ConfigError(`cache-targets names target(s) without declared outputs: ${[...new Set(noOutputs.map((k) => k.target))].join(', ')}`, { file: 'maestro.projects.yaml', fix: 'declare `outputs:` for those targets under `targets:` (e.g. build: { outputs: ["dist/**"] })' });
      const cache = await import('@actions/cache');
      cacheHits = {};
      const pending: PendingSave[] = [];
      const results = await mapLimit(candidates, 4, async (k) => {
        // Relative to the workspace: the cache version hashes the paths, so absolute ones would never match across runners.
        const rel = (o: string) => path.relative(process.cwd(), path.join(cwd, o)) || '.';
        const paths = k.outputs.map((o) => (o.startsWith('!') ? `!${rel(o.slice(1))}` : rel(o)));
        try {
          return { k, paths, hit: (await cache.restoreCache(paths, k.key)) === k.key };
        } catch (e) {
          log.warning(`affected: cache restore for ${k.project}:${k.target} failed: ${(e as Error).message}`);
          return { k, paths, hit: false };
        }
      });
      for (const { k, paths, hit } of results) {
        cacheHits[`${k.project}:${k.target}`] = hit;
        if (!hit) pending.push({ key: k.key, paths, task: `${k.project}:${k.target}` });
      }
      if (inputs.cache === 'restore-save') state.save('pending-saves', JSON.stringify(pending));
      log.info(`cache: ${results.filter((r) => r.hit).length}/${results.length} target(s) restored`);
    }

    writeSummary(summary(report, cacheHits));
    // Evidence for health-comment: capped, so a huge change cannot make it unreadable.
    const evidencePath = writeEvidence(ACTION, {
      base: report.base,
      head: report.head,
      baseSource: report.baseSource,
      all: report.all,
      allReason: report.allReason,
      projects: report.projects.slice(0, 500),
      projectCount: report.projects.length,
      reasons: Object.fromEntries(report.projects.slice(0, 500).map((p) => [p, (report.reasons[p] ?? []).slice(0, 3)])),
      removed: report.removed.slice(0, 100),
      changedFiles: touched.length,
      files: touched.slice(0, EVIDENCE_FILES),
      tests: report.tests ? { selected: report.tests.tests.length, testsPerFile: report.tests.testsPerFile ?? {} } : null,
      cache: cacheHits ? { targets: Object.keys(cacheHits).length, hits: Object.values(cacheHits).filter(Boolean).length, missed: Object.keys(cacheHits).filter((k) => !cacheHits![k]).slice(0, 100) } : null,
    });
    log.info(`${report.projects.length} project(s), ${report.tasks.length} task(s) affected${report.all ? ` (all: ${report.allReason})` : ''}`);
    for (const p of report.projects) log.info(`  ${p}: ${(report.reasons[p] ?? [])[0] ?? ''}`);
    setOutputs({
      base: report.base ?? '',
      head: report.head,
      'base-source': report.baseSource ?? '',
      projects: report.projects,
      count: report.projects.length,
      any: report.tasks.length > 0,
      all: report.all,
      'all-reason': report.allReason ?? '',
      matrix: report.matrix,
      reasons: report.reasons,
      removed: report.removed,
      'turbo-filter': report.turboFilter,
      'nx-projects': report.nxProjects,
      files: filesJson,
      'files-path': filesPath,
      'report-path': reportPath,
      keys: Object.fromEntries(report.tasks.filter((t) => t.key).map((t) => [`${t.project}:${t.target}`, t.key])),
      tests: report.tests?.tests ?? [],
      'cache-hits': cacheHits ?? {},
      'evidence-path': evidencePath,
    });
  });
}

/** Post step (cache: restore-save): save the outputs of targets that missed, if they were built. */
export function post(): Promise<void> {
  return runAction(ACTION, async () => {
    const raw = state.get('pending-saves');
    if (!raw) return;
    const pending = JSON.parse(raw) as PendingSave[];
    if (!pending.length) return;
    const cache = await import('@actions/cache');
    let saved = 0;
    for (const p of pending) {
      try {
        await cache.saveCache(p.paths, p.key);
        saved++;
      } catch (e) {
        const msg = (e as Error).message;
        if (/Path Validation Error|no files/i.test(msg)) log.info(`cache: nothing to save for ${p.task} (its outputs were not built in this job)`);
        else if (/already exists|another job/i.test(msg)) log.info(`cache: ${p.task} was saved by another job`);
        else log.warning(`affected: cache save for ${p.task} failed: ${msg}`);
      }
    }
    log.info(`cache: saved ${saved} of ${pending.length} target(s)`);
  });
}

