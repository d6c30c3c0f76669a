/**
 * Content keys per project target, from git blob ids only (no file reads):
 * key = sha256(target config, `path:blob` of the target's input files, the
 * project's lockfile fingerprint, global input files, declared env values,
 * salt, and the source hashes of every project it depends on, transitively).
 * The same tree and env give the same key on any machine.
 */
import path from 'node:path/posix';
import { byCodeUnit, type ProjectGraph } from './graph.js';
import { sha256 } from './hash.js';
import type { LockfileIndex } from './lockfile.js';
import type { Tree } from './tree.js';
import { compileGlob, matcherFor, Ownership, relativeTo, PRODUCTION_INPUTS, type InputMatcher, type Workspace } from './workspace.js';

export interface TargetKey {
  project: string;
  target: string;
  /** Cache key: `<prefix>-<target>-<project>-<hash>`. */
  key: string;
  hash: string;
  /** Number of input files hashed. */
  files: number;
  /** Output globs, relative to the repository root (what a cache saves). */
  outputs: string[];
}

export interface KeyOptions {
  prefix?: string;
  /** Extra text mixed into every key (toolchain versions, a manual bump). */
  salt?: string;
  /** Environment the declared `env` names are read from. */
  env?: Record<string, string | undefined>;
  /** Lockfile index of the head tree, when parsed. */
  lockfile?: LockfileIndex;
  /** Only these targets (default: all). */
  targets?: readonly string[];
  /** Only these projects (default: all). Upstream hashes are still computed as needed. */
  projects?: ReadonlySet<string>;
}

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '');
}

export function computeKeys(tree: Tree, ws: Workspace, graph: ProjectGraph, opts: KeyOptions = {}): TargetKey[] {
  const prefix = opts.prefix ?? 'maestro';
  // Files of each project, by the same ownership rule the affected computation uses.
  const ownership = new Ownership(ws.projects.values());
  const files = new Map<string, Array<[string, string]>>();
  for (const name of ws.projects.keys()) files.set(name, []);
  // Most global inputs are plain file names: a set lookup, minimatch only for real globs.
  const globalLiteral = new Set(ws.global.filter((g) => !/[*?[\]{}!()]/.test(g)));
  const globalMatchers = ws.global.filter((g) => !globalLiteral.has(g)).map((g) => compileGlob(g));
  const globalFiles: string[] = [];
  for (const [file, oid] of tree.files) {
    for (const owner of ownership.owners(file)) files.get(owner.name)!.push([file, oid]);
    if (globalLiteral.has(file) || (globalMatchers.length && globalMatchers.some((m) => m.test(file)))) globalFiles.push(`${file}:${oid}`);
  }
  for (const list of files.values()) list.sort(([a], [b]) => byCodeUnit(a, b));
  const globalHash = sha256(globalFiles.sort().join('\n') + (opts.salt ?? ''));
  // Crates also depend on the Cargo workspace files (JavaScript packages' keys do not change with them).
  const cargoHash = ws.cargoGlobal ? sha256(ws.cargoGlobal.map((f) => `${f}:${tree.files.get(f) ?? ''}`).join('\n')) : '';
  // Without a per-package index the whole lockfile counts (yarn, bun, or not parsed).
  const rootLock = opts.lockfile ? (opts.lockfile.get('.')?.fingerprint ?? '') : ws.lockfile ? `file:${tree.files.get(ws.lockfile.path) ?? ''}` : '';

  // Matching is memoised per (input set, relative path): most projects share both.
  const memo = new Map<string, { cache: Map<string, boolean>; rooted: boolean; matcher: InputMatcher }>();
  const hashFiles = (name: string, globs: readonly string[]): { hash: string; count: number } => {
    const p = ws.projects.get(name)!;
    const id = globs.join('\0');
    let m = memo.get(id);
    // Relative paths share results across projects unless a glob is repo-rooted.
    if (!m) memo.set(id, (m = { cache: new Map(), rooted: globs.some((g) => g.replace(/^!/, '').startsWith('/')), matcher: matcherFor(globs) }));
    const { matcher } = m;
    let text = '';
    let count = 0;
    for (const [file, oid] of files.get(name)!) {
      const rel = relativeTo(p.root, file) ?? file;
      const k = m.rooted ? file : rel;
      let hit = m.cache.get(k);
      if (hit === undefined) m.cache.set(k, (hit = matcher.matches(file, p.root)));
      if (hit) {
        text += `${rel}:${oid}\n`;
        count++;
      }
    }
    return { hash: sha256(text), count };
  };

  // Source hash of a project = its production files + its lockfile closure (computed on demand).
  const sourceHashes = new Map<string, string>();
  const sourceHash = (name: string): string => {
    let h = sourceHashes.get(name);
    if (h === undefined) {
      const p = ws.projects.get(name)!;
      const prod = p.targets.get('build')?.inputs ?? PRODUCTION_INPUTS;
      h = sha256(hashFiles(name, prod).hash + (opts.lockfile?.get(p.root)?.fingerprint ?? ''));
      sourceHashes.set(name, h);
    }
    return h;
  };

  // Upstream = every project this one depends on, transitively. Without cycles it is a Merkle
  // hash over direct dependencies (linear); with cycles, the explicit closure (order-independent).
  const acyclic = graph.cycles().length === 0;
  const upstreamHashes = new Map<string, string>();
  const upstreamHash = (name: string): string => {
    let h = upstreamHashes.get(name);
    if (h !== undefined) return h;
    if (acyclic) {
      const stack: Array<{ name: string; done: boolean }> = [{ name, done: false }];
      while (stack.length) {
        const top = stack.pop()!;
        if (upstreamHashes.has(top.name)) continue;
        const deps = graph.deps(top.name);
        if (!top.done) {
          stack.push({ name: top.name, done: true });
          for (const d of deps) if (!upstreamHashes.has(d)) stack.push({ name: d, done: false });
          continue;
        }
        let u = '';
        for (const d of deps) u += `${d}:${sourceHash(d)}:${upstreamHashes.get(d)}\n`;
        upstreamHashes.set(top.name, sha256(u));
      }
      h = upstreamHashes.get(name)!;
    } else {
      h = sha256(graph.transitiveDeps(name).map((d) => `${d}:${sourceHash(d)}`).join('\n'));
      upstreamHashes.set(name, h);
    }
    return h;
  };

  const wanted = opts.targets?.length ? new Set(opts.targets) : undefined;
  const keys: TargetKey[] = [];
  for (const p of [...ws.projects.values()].sort((a, b) => byCodeUnit(a.name, b.name))) {
    if (opts.projects && !opts.projects.has(p.name)) continue;
    const upstream = upstreamHash(p.name);
    for (const [target, cfg] of [...p.targets].sort(([a], [b]) => byCodeUnit(a, b))) {
      if (wanted && !wanted.has(target)) continue;
      const own = hashFiles(p.name, cfg.inputs);
      let text = `maestro-key-v1\n${p.name}\n`;
      text += `${target}\n${JSON.stringify(cfg)}\n`;
      text += `files ${own.hash}\n`;
      text += `lock ${opts.lockfile?.get(p.root)?.fingerprint ?? ''} ${rootLock}\n`;
      text += `global ${globalHash}\n`;
      if (p.source === 'cargo') text += `cargo ${cargoHash}\n`;
      for (const name of [...cfg.env].sort()) text += `env ${name}=${sha256(opts.env?.[name] ?? '\0unset')}\n`;
      text += `upstream\n${upstream}\n`;
      const hash = sha256(text);
      keys.push({
        project: p.name,
        target,
        hash,
        key: `${prefix}-${sanitize(target)}-${sanitize(p.name)}-${hash.slice(0, 40)}`,
        files: own.count,
        outputs: cfg.outputs.map((o) => (o.startsWith('!') ? `!${path.join(p.root, o.slice(1))}` : path.join(p.root, o))),
      });
    }
  }
  return keys;
}
