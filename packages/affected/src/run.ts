/**
 * One call from "a checkout and an event" to the full report, shared by the
 * action and `maestro affected`.
 */
import { diffFiles, type FileChange } from '@maestro/core/git';
import { computeAffected, isStructural, type AffectedResult } from './affected.js';
import { resolveBase, type BaseContext, type BaseResolution } from './base.js';
import { selectTests, type TestSelection } from './imports.js';
import { computeKeys, type TargetKey } from './keys.js';
import { buildMatrix, nxProjects, reasonsMap, turboFilter, type MatrixEntry } from './outputs.js';
import { UnsupportedLockfile, parseLockfile } from './lockfile.js';
import { gitTree, readAll } from './tree.js';

export interface AnalyzeOptions extends BaseContext {
  targets?: string[];
  includeDependencies?: boolean;
  dependencyTargets?: string[];
  globalInputs?: string[];
  testSelection?: 'off' | 'files';
  testGlobs?: string[];
  keyPrefix?: string;
  keySalt?: string;
  keyEnv?: Record<string, string | undefined>;
  /** Compute per-target content keys (default true; the CLI's `--no-keys` lists projects and tasks only). */
  keys?: boolean;
  maxJobs?: number;
}

export interface Report {
  base: string | null;
  head: string;
  baseSource: string | null;
  baseNote: string | null;
  all: boolean;
  allReason: string | null;
  projects: string[];
  reasons: Record<string, string[]>;
  removed: Array<{ name: string; root: string }>;
  tasks: Array<{ project: string; target: string; root: string; reason: string; key?: string }>;
  matrix: { include: MatrixEntry[] };
  turboFilter: string;
  nxProjects: string;
  files: FileChange[];
  unowned: string[];
  keys: TargetKey[];
  tests?: TestSelection;
  cycles: string[][];
  warnings: string[];
  fetched: string[];
  graph: Array<{ name: string; root: string; deps: string[] }>;
  /** Milliseconds per phase (base, diff, affected, lockfile, keys, tests). */
  timings?: Record<string, number>;
}

export async function analyze(opts: AnalyzeOptions): Promise<{ report: Report; result: AffectedResult; resolution: BaseResolution }> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round((now - t) * 10) / 10;
    t = now;
  };
  const resolution = await resolveBase(opts);
  lap('base');
  // The head listing and the diff run side by side. The base tree is listed only when the diff
  // touches a manifest or lockfile, and then in the background, while the head workspace is read.
  const baseRev = resolution.base;
  const diffed = baseRev ? diffFiles(baseRev, resolution.head, opts) : Promise.resolve([]);
  const blobs = new Map<string, string>();
  const basePromise = baseRev ? diffed.then((changes) => gitTree(baseRev, { ...opts, blobs, eager: isStructural(changes) ? 'background' : false })) : Promise.resolve(undefined);
  const [head, files, base] = await Promise.all([gitTree(resolution.head, { ...opts, blobs, eager: true }), diffed, basePromise]);
  lap('diff');
  const result = await computeAffected({
    base,
    head,
    changes: files,
    ...(resolution.reason && !resolution.base ? { baseUnavailable: resolution.reason } : {}),
    ...(opts.targets?.length ? { targets: opts.targets } : {}),
    ...(opts.includeDependencies ? { includeDependencies: true } : {}),
    ...(opts.dependencyTargets ? { dependencyTargets: opts.dependencyTargets } : {}),
    ...(opts.globalInputs ? { globalInputs: opts.globalInputs } : {}),
  });
  lap('affected');
  // Keys always include the lockfile: per package for pnpm/npm, else the whole file's blob id.
  let keys: TargetKey[] = [];
  if (opts.keys !== false) {
    let lockIndex = result.lockfile?.head;
    const lf = result.workspace.lockfile;
    if (!lockIndex && lf && (lf.kind === 'pnpm' || lf.kind === 'npm') && result.tasks.length) {
      try {
        lockIndex = await parseLockfile(lf.kind, (await readAll(head, [lf.path])).get(lf.path) ?? '', lf.path);
      } catch (e) {
        // Keys then hash the whole lockfile (every task's key changes with it): slower caching, never a crash.
        if (!(e instanceof UnsupportedLockfile)) throw e;
        result.warnings.push(`${e.why} in ${lf.path}: content keys hash the whole lockfile`);
      }
    }
    lap('lockfile');
    keys = computeKeys(head, result.workspace, result.graph, {
      ...(opts.keyPrefix ? { prefix: opts.keyPrefix } : {}),
      ...(opts.keySalt ? { salt: opts.keySalt } : {}),
      ...(opts.keyEnv ? { env: opts.keyEnv } : {}),
      ...(lockIndex ? { lockfile: lockIndex } : {}),
      // Keys for the selected tasks (dependency targets included), not every target of their projects.
      projects: new Set(result.tasks.map((t) => t.project)),
      targets: [...new Set(result.tasks.map((t) => t.target))],
    });
    lap('keys');
  }
  const keyOf = new Map(keys.map((k) => [`${k.project}\0${k.target}`, k.key]));
  const projects = result.projects.map((p) => p.name);
  const busy = new Set(result.tasks.map((t) => t.project));
  const withTasks = projects.filter((p) => busy.has(p));
  const report: Report = {
    base: resolution.base ?? null,
    head: resolution.head,
    baseSource: resolution.source ?? null,
    baseNote: resolution.reason ?? null,
    all: result.all,
    allReason: result.allReason ?? null,
    projects,
    reasons: reasonsMap(result),
    removed: result.removed,
    tasks: result.tasks.map((t) => {
      const key = keyOf.get(`${t.project}\0${t.target}`);
      return key ? { ...t, key } : t;
    }),
    matrix: buildMatrix(result.tasks, opts.maxJobs),
    // Filters for turbo/nx name the projects that have work to do (a README-only change lists a
    // project as touched but selects no task: running its pipeline would do nothing).
    turboFilter: turboFilter(withTasks),
    nxProjects: nxProjects(withTasks),
    files,
    unowned: result.unowned,
    keys,
    cycles: result.cycles,
    warnings: result.warnings,
    fetched: resolution.fetched,
    graph: [...result.workspace.projects.values()].map((p) => ({ name: p.name, root: p.root, deps: result.graph.deps(p.name) })),
  };
  if (opts.testSelection === 'files') {
    const changed = files.filter((f) => f.status !== 'deleted').map((f) => f.path);
    report.tests = await selectTests(head, result, changed, opts.testGlobs);
    lap('tests');
  }
  report.timings = timings;
  return { report, result, resolution };
}

/** Plain-text rendering for the CLI. */
export function formatReport(r: Report): string {
  const lines: string[] = [];
  lines.push(`base ${r.base ? r.base.slice(0, 12) : '(none)'} (${r.baseSource ?? r.baseNote ?? 'unknown'}) → head ${r.head.slice(0, 12)}; ${r.files.length} changed file(s)`);
  if (r.baseNote && r.base) lines.push(`  note: ${r.baseNote}`);
  if (r.fetched.length) lines.push(`  fetched ${r.fetched.length} missing commit(s) into the shallow clone: ${r.fetched.map((x) => x.slice(0, 12)).join(', ')}`);
  if (r.all) lines.push(`ALL ${r.projects.length} projects affected: ${r.allReason}`);
  else lines.push(`${r.projects.length} of ${r.graph.length} projects affected`);
  for (const p of r.projects) lines.push(`  ${p}: ${(r.reasons[p] ?? [])[0] ?? ''}${(r.reasons[p]?.length ?? 0) > 1 ? ` (+${r.reasons[p]!.length - 1} more)` : ''}`);
  if (r.removed.length) lines.push(`removed: ${r.removed.map((x) => `${x.name} (${x.root})`).join(', ')}`);
  lines.push(`${r.tasks.length} task(s): ${r.tasks.map((t) => `${t.project}:${t.target}`).join(' ') || '(none)'}`);
  if (r.unowned.length) lines.push(`outside any project (no effect): ${r.unowned.join(', ')}`);
  if (r.tests) lines.push(`${r.tests.tests.length} test file(s): ${r.tests.tests.join(' ') || '(none)'}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

