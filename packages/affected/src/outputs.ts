/**
 * Shapes for CI: a `strategy.matrix` that never exceeds the job limit,
 * `--filter` flags for turbo, a project list for `nx run-many`, and the
 * reasons map.
 */
import { describeReason, type AffectedResult, type AffectedTask } from './affected.js';

export interface MatrixEntry {
  /** Job name: `build @shop/api` or `build 12 projects`. */
  name: string;
  target: string;
  /** Space-separated project names in this job (one unless the list had to be packed). */
  projects: string;
  /** Space-separated project roots, in the same order. */
  paths: string;
}

/** GitHub's limit: a matrix may generate at most 256 jobs per workflow run. */
export const MAX_MATRIX_JOBS = 256;

export function buildMatrix(tasks: readonly AffectedTask[], maxJobs = MAX_MATRIX_JOBS): { include: MatrixEntry[] } {
  if (maxJobs < 1) throw new RangeError('maxJobs must be at least 1');
  const byTarget = new Map<string, AffectedTask[]>();
  for (const t of tasks) {
    if (!byTarget.has(t.target)) byTarget.set(t.target, []);
    byTarget.get(t.target)!.push(t);
  }
  const include: MatrixEntry[] = [];
  if (tasks.length <= maxJobs) {
    for (const t of tasks) include.push({ name: `${t.target} ${t.project}`, target: t.target, projects: t.project, paths: t.root });
    return { include };
  }
  // Pack: give each target a share of the jobs proportional to its task count (at least one).
  const targets = [...byTarget.keys()].sort();
  if (targets.length > maxJobs) throw new RangeError(`${targets.length} targets cannot fit in ${maxJobs} jobs`);
  const share = new Map(targets.map((t) => [t, 1]));
  let left = maxJobs - targets.length;
  const order = [...targets].sort((a, b) => byTarget.get(b)!.length - byTarget.get(a)!.length);
  while (left > 0) {
    let progressed = false;
    for (const t of order) {
      if (left === 0) break;
      if (share.get(t)! < byTarget.get(t)!.length && share.get(t)! < Math.ceil((byTarget.get(t)!.length / tasks.length) * maxJobs)) {
        share.set(t, share.get(t)! + 1);
        left--;
        progressed = true;
      }
    }
    if (!progressed) break;
  }
  for (const t of targets) {
    const list = byTarget.get(t)!;
    const jobs = share.get(t)!;
    const size = Math.ceil(list.length / jobs);
    for (let i = 0; i < list.length; i += size) {
      const chunk = list.slice(i, i + size);
      include.push({
        name: chunk.length === 1 ? `${t} ${chunk[0]!.project}` : `${t} ${chunk.length} projects (${chunk[0]!.project} …)`,
        target: t,
        projects: chunk.map((c) => c.project).join(' '),
        paths: chunk.map((c) => c.root).join(' '),
      });
    }
  }
  return { include };
}

export function turboFilter(projects: readonly string[]): string {
  return projects.map((p) => `--filter=${p}`).join(' ');
}

export function nxProjects(projects: readonly string[]): string {
  return projects.join(',');
}

export function reasonsMap(r: AffectedResult): Record<string, string[]> {
  return Object.fromEntries(r.projects.map((p) => [p.name, p.reasons.map(describeReason)]));
}
