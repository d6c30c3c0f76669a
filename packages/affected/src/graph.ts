/** The project dependency graph: reverse edges, cycles (Tarjan), closures. */
import type { Project } from './workspace.js';

/** Code-unit order, as `Array.prototype.sort()` uses: stable across machines, and no ICU collator (its first use costs ~5 ms). */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class ProjectGraph {
  readonly dependents = new Map<string, string[]>();
  private readonly sortedDeps = new Map<string, string[]>();
  constructor(readonly projects: ReadonlyMap<string, Project>) {
    for (const name of projects.keys()) this.dependents.set(name, []);
    for (const p of projects.values()) this.sortedDeps.set(p.name, [...p.deps.keys()].sort());
    for (const p of projects.values()) for (const d of p.deps.keys()) this.dependents.get(d)?.push(p.name);
    for (const list of this.dependents.values()) list.sort();
  }

  deps(name: string): string[] {
    return this.sortedDeps.get(name) ?? [];
  }

  private cycleCache: string[][] | undefined;

  /** Strongly connected components with more than one member (or a self-loop): the cycles. Computed once per graph. */
  cycles(): string[][] {
    this.cycleCache ??= this.findCycles();
    return this.cycleCache.map((c) => [...c]);
  }

  private findCycles(): string[][] {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: string[] = [];
    const out: string[][] = [];
    let i = 0;
    // Iterative Tarjan, so a 10k-deep chain cannot overflow the call stack.
    for (const start of [...this.projects.keys()].sort()) {
      if (index.has(start)) continue;
      const work: Array<{ v: string; edges: string[]; next: number }> = [];
      const open = (v: string) => {
        index.set(v, i);
        low.set(v, i++);
        stack.push(v);
        onStack.add(v);
        work.push({ v, edges: this.deps(v), next: 0 });
      };
      open(start);
      while (work.length) {
        const frame = work[work.length - 1]!;
        if (frame.next < frame.edges.length) {
          const w = frame.edges[frame.next++]!;
          if (!index.has(w)) open(w);
          else if (onStack.has(w)) low.set(frame.v, Math.min(low.get(frame.v)!, index.get(w)!));
          continue;
        }
        work.pop();
        const parent = work[work.length - 1];
        if (parent) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(frame.v)!));
        if (low.get(frame.v) === index.get(frame.v)) {
          const scc: string[] = [];
          let w: string;
          do {
            w = stack.pop()!;
            onStack.delete(w);
            scc.push(w);
          } while (w !== frame.v);
          if (scc.length > 1 || this.projects.get(frame.v)?.deps.has(frame.v)) out.push(scc.sort());
        }
      }
    }
    return out;
  }

  /**
   * Breadth-first closure from `seeds` along dependents (or dependencies).
   * Returns each reached project with the shortest path back to a seed.
   */
  closure(seeds: Iterable<string>, direction: 'dependents' | 'dependencies'): Map<string, string[]> {
    const paths = new Map<string, string[]>();
    const queue: string[] = [];
    for (const s of seeds) {
      if (!paths.has(s)) {
        paths.set(s, [s]);
        queue.push(s);
      }
    }
    for (let q = 0; q < queue.length; q++) {
      const cur = queue[q]!;
      const next = direction === 'dependents' ? (this.dependents.get(cur) ?? []) : this.deps(cur);
      for (const n of next) {
        if (paths.has(n)) continue;
        paths.set(n, [n, ...paths.get(cur)!]);
        queue.push(n);
      }
    }
    return paths;
  }

  /** Every project `name` depends on, transitively (not including itself). */
  transitiveDeps(name: string): string[] {
    const c = this.closure([name], 'dependencies');
    c.delete(name);
    return [...c.keys()].sort();
  }
}
