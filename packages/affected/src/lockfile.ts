/**
 * Per-importer lockfile fingerprints. Each workspace package ("importer") gets
 * the set of external packages it resolves to, transitively, with their
 * integrity. Comparing base and head then says exactly which packages a
 * lockfile change touches and how (`ms 2.1.2 → 2.1.3`), instead of "the
 * lockfile changed, everything is affected".
 *
 * Formats: pnpm v9 (`importers` + `snapshots`), pnpm v6 (`packages` carry the
 * dependencies), npm v2/v3 (`packages` keyed by node_modules path).
 */
import { parseJson } from '@maestro/core/config';
import { ConfigError } from '@maestro/core/errors';
import { depVersion, readPnpmProject } from './pnpm-lock-reader.js';
import { isNpmLock, isPnpmLock, type NpmLock, type PnpmLock } from './guards.js';
import { explain } from './workspace.js';
import { sha256 } from './hash.js';

export interface ImporterResolution {
  /** sha256 over the sorted transitive closure (name@version + integrity). */
  fingerprint: string;
  /** name → versions in the closure. */
  packages: Map<string, Set<string>>;
}

/** importer path ('.' for the root, else the package directory) → resolution. */
export type LockfileIndex = Map<string, ImporterResolution>;

/** What two pnpm lockfile indexes need to tell which importers can differ without computing closures. */
interface PnpmGraph {
  importers: Map<string, string>;
  snapshots: Record<string, Record<string, unknown> | null>;
  /** Resolved snapshot keys of an importer's direct dependencies. */
  directKeys(importer: string): string[];
  /** Resolved snapshot keys a snapshot depends on. */
  depKeys(key: string): string[];
  /** What identifies a snapshot's content: its dependencies and integrity. */
  fingerprint(key: string): string;
}

/** A LockfileIndex whose entries are computed on first `get`. */
class LazyIndex extends Map<string, ImporterResolution> {
  /** Set for pnpm lockfiles: lets `importersThatMayDiffer` skip closures. */
  graph?: PnpmGraph;
  private readonly pending: Map<string, () => ImporterResolution>;
  constructor(entries: Array<[string, () => ImporterResolution]>) {
    super();
    this.pending = new Map(entries);
  }
  override get(key: string): ImporterResolution | undefined {
    if (!super.has(key)) {
      const f = this.pending.get(key);
      if (!f) return undefined;
      super.set(key, f());
      this.pending.delete(key);
    }
    return super.get(key);
  }
  override has(key: string): boolean {
    return super.has(key) || this.pending.has(key);
  }
  override get size(): number {
    return super.size + this.pending.size;
  }
  override keys(): MapIterator<string> {
    return new Map([...super.keys(), ...this.pending.keys()].map((k) => [k, true])).keys();
  }
  /** Iterating computes every closure still pending (what a full walk needs anyway). */
  override entries(): MapIterator<[string, ImporterResolution]> {
    for (const k of [...this.pending.keys()]) this.get(k);
    return super.entries();
  }
  override values(): MapIterator<ImporterResolution> {
    for (const k of [...this.pending.keys()]) this.get(k);
    return super.values();
  }
  override [Symbol.iterator](): MapIterator<[string, ImporterResolution]> {
    return this.entries();
  }
  override forEach(cb: (value: ImporterResolution, key: string, map: Map<string, ImporterResolution>) => void): void {
    for (const [k, v] of this.entries()) cb(v, k, this);
  }
}

function finish(closure: Map<string, string>, packages: Map<string, Set<string>>): ImporterResolution {
  let text = '';
  for (const k of [...closure.keys()].sort()) text += `${k}\0${closure.get(k)}\n`;
  return { fingerprint: sha256(text), packages };
}

const DEP_KEYS = ['dependencies', 'optionalDependencies'] as const;
const IMPORTER_KEYS = ['dependencies', 'devDependencies', 'optionalDependencies'] as const;

/** Name of a pnpm snapshot key: `@scope/name@1.0.0(peer@2)` → `@scope/name`. */
function pnpmName(key: string): string {
  const k = key.startsWith('/') ? key.slice(1) : key;
  const at = k.indexOf('@', 1);
  return at < 0 ? k : k.slice(0, at);
}

/**
 * A lockfile this version of affected cannot attribute (an unknown
 * `lockfileVersion`, or a file that does not parse). Not the user's error to
 * fix: the caller treats everything as affected and says why.
 */
export class UnsupportedLockfile extends Error {
  constructor(
    readonly file: string,
    readonly why: string,
  ) {
    super(`${file}: ${why}`);
    this.name = 'UnsupportedLockfile';
  }
}

/** The pnpm lockfile formats per-package attribution reads: v5.x, v6.x and v9.x (pnpm 7 to 11+). */
const PNPM_LOCK_VERSIONS = /^(5\.[0-9]+|6\.[0-9]+|9\.[0-9]+)$/;

export async function parsePnpmLock(source: string, file = 'pnpm-lock.yaml'): Promise<LockfileIndex> {
  // pnpm 11+ may write an "env" document first; the project's graph is the last document.
  let data: unknown;
  try {
    data = readPnpmProject(source, file);
  } catch (e) {
    if (e instanceof ConfigError) throw new UnsupportedLockfile(file, `it does not parse as YAML (${e.line ? `line ${e.line}: ` : ''}${e.message})`);
    throw e;
  }
  const version = data && typeof data === 'object' ? String((data as { lockfileVersion?: unknown }).lockfileVersion ?? '') : '';
  if (!PNPM_LOCK_VERSIONS.test(version)) throw new UnsupportedLockfile(file, `unsupported lockfile format ${version ? `'lockfileVersion: ${version}'` : '(no lockfileVersion)'}`);
  const lock = isPnpmLock(data) ? data : await explain<PnpmLock>('pnpmSchema', data, source, file, 'regenerate it with `pnpm install`');
  const snapshots = (lock.snapshots ?? lock.packages ?? {}) as Record<string, Record<string, unknown> | null>;
  const packages = (lock.packages ?? {}) as Record<string, Record<string, unknown> | null>;
  const v6 = !lock.snapshots;
  const resolveKey = (name: string, version: string): string | undefined => {
    if (version.startsWith('link:') || version.startsWith('file:') && !snapshots[`${name}@${version}`]) return undefined;
    for (const k of v6 ? [`/${name}@${version}`, `/${version}`, `${name}@${version}`, version] : [`${name}@${version}`, version]) {
      if (k in snapshots) return k;
    }
    return undefined;
  };
  const integrity = (key: string): string => {
    const base = v6 ? key : key.replace(/\(.*$/, '');
    const entry = packages[base] ?? packages[key];
    const res = entry?.['resolution'] as { integrity?: string; tarball?: string; commit?: string } | undefined;
    return res?.integrity ?? res?.tarball ?? res?.commit ?? '';
  };
  const importers = lock.importers ?? { '.': { dependencies: lock.dependencies, devDependencies: lock.devDependencies, optionalDependencies: lock.optionalDependencies } };
  const compute = (deps: (typeof importers)[string]): ImporterResolution => {
    const closure = new Map<string, string>();
    const names = new Map<string, Set<string>>();
    const stack: string[] = [];
    const visit = (name: string, version: string | undefined, direct: boolean) => {
      if (!version) return;
      if (direct) closure.set(`direct:${name}`, version.startsWith('link:') ? 'link' : version);
      const key = resolveKey(name, version);
      if (!key || closure.has(key)) return;
      closure.set(key, integrity(key));
      const n = pnpmName(key);
      if (!names.has(n)) names.set(n, new Set());
      names.get(n)!.add(key.replace(/^\/?(@[^/]+\/)?[^@]+@/, '').replace(/\(.*$/, ''));
      stack.push(key);
    };
    for (const field of IMPORTER_KEYS) for (const [name, v] of Object.entries(deps?.[field] ?? {})) visit(name, depVersion(v), true);
    while (stack.length) {
      const key = stack.pop()!;
      const snap = snapshots[key] ?? {};
      for (const field of DEP_KEYS) for (const [name, v] of Object.entries((snap[field] ?? {}) as Record<string, unknown>)) visit(name, depVersion(v), false);
    }
    return finish(closure, names);
  };
  // Closures are computed when asked for: keys need a few importers, attribution only those that can differ.
  const index = new LazyIndex(Object.entries(importers).map(([k, deps]) => [k === '' ? '.' : k, () => compute(deps)]));
  const resolved = (deps: Record<string, unknown> | undefined | null, fields: readonly string[]) => {
    const out: string[] = [];
    for (const field of fields) for (const [name, v] of Object.entries((deps?.[field] ?? {}) as Record<string, unknown>)) {
      const version = depVersion(v);
      const key = version ? resolveKey(name, version) : undefined;
      if (key) out.push(key);
    }
    return out;
  };
  let importerText: Map<string, string> | undefined;
  index.graph = {
    get importers() {
      return (importerText ??= new Map(Object.entries(importers).map(([k, deps]) => [k === '' ? '.' : k, JSON.stringify(deps ?? {})])));
    },
    snapshots,
    directKeys: (importer) => resolved(importers[importer === '.' && !(importer in importers) ? '' : importer] as Record<string, unknown> | undefined, IMPORTER_KEYS),
    depKeys: (key) => resolved(snapshots[key], DEP_KEYS),
    fingerprint: (key) => `${JSON.stringify(snapshots[key]?.['dependencies'] ?? null)}|${JSON.stringify(snapshots[key]?.['optionalDependencies'] ?? null)}|${integrity(key)}`,
  };
  return index;
}

export interface RootDependencyChange {
  name: string;
  /** Versions on each side (undefined: absent there). */
  before?: string;
  after?: string;
}

/**
 * The root importer's direct dependencies whose own closure changed between two pnpm lockfiles
 * (a version bump, or any package under it). Undefined when either index is not pnpm's.
 */
export function rootDependencyChanges(base: LockfileIndex, head: LockfileIndex): RootDependencyChange[] | undefined {
  const a = (base as LazyIndex).graph;
  const b = (head as LazyIndex).graph;
  if (!a || !b) return undefined;
  const side = (g: PnpmGraph) => {
    const out = new Map<string, { version: string; fingerprint: string }>();
    for (const key of g.directKeys('.')) {
      const seen = new Set<string>([key]);
      const stack = [key];
      const parts: string[] = [];
      while (stack.length) {
        const k = stack.pop()!;
        parts.push(`${k}\0${g.fingerprint(k)}`);
        for (const d of g.depKeys(k)) if (!seen.has(d)) (seen.add(d), stack.push(d));
      }
      const name = pnpmName(key);
      out.set(name, { version: key.replace(/^\/?(@[^/]+\/)?[^@]+@/, '').replace(/\(.*$/, ''), fingerprint: sha256(parts.sort().join('\n')) });
    }
    return out;
  };
  const before = side(a);
  const after = side(b);
  const changes: RootDependencyChange[] = [];
  for (const name of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const x = before.get(name);
    const y = after.get(name);
    if (x && y && x.fingerprint === y.fingerprint) continue;
    changes.push({ name, ...(x ? { before: x.version } : {}), ...(y ? { after: y.version } : {}) });
  }
  return changes;
}

/**
 * Importers whose resolution can differ between two pnpm lockfiles, found
 * without computing every closure: a snapshot changed when its dependencies or
 * integrity did (or it exists on one side only); an importer can differ when
 * its own entry changed or one of its direct dependencies reaches a changed
 * snapshot in the head's graph. Every other importer has an identical closure.
 * Undefined when the indexes are not both pnpm (then compare them all).
 */
export function importersThatMayDiffer(base: LockfileIndex, head: LockfileIndex): Set<string> | undefined {
  const a = (base as LazyIndex).graph;
  const b = (head as LazyIndex).graph;
  if (!a || !b) return undefined;
  const changed = new Set<string>();
  for (const k of Object.keys(b.snapshots)) if (!(k in a.snapshots) || a.fingerprint(k) !== b.fingerprint(k)) changed.add(k);
  // Reverse edges in the head: who depends on each snapshot.
  const dependents = new Map<string, string[]>();
  if (changed.size) {
    for (const k of Object.keys(b.snapshots)) for (const d of b.depKeys(k)) {
      const list = dependents.get(d);
      if (list) list.push(k);
      else dependents.set(d, [k]);
    }
  }
  const tainted = new Set(changed);
  const queue = [...changed];
  while (queue.length) for (const up of dependents.get(queue.pop()!) ?? []) if (!tainted.has(up)) (tainted.add(up), queue.push(up));
  const out = new Set<string>();
  for (const imp of new Set([...a.importers.keys(), ...b.importers.keys()])) {
    if (a.importers.get(imp) !== b.importers.get(imp)) out.add(imp);
    else if (b.directKeys(imp).some((k) => tainted.has(k) || !(k in a.snapshots))) out.add(imp);
  }
  return out;
}

export async function parseNpmLock(source: string, file = 'package-lock.json'): Promise<LockfileIndex> {
  let data: unknown;
  try {
    data = parseJson(source, file);
  } catch (e) {
    if (e instanceof ConfigError) throw new UnsupportedLockfile(file, `it does not parse as JSON (${e.line ? `line ${e.line}: ` : ''}${e.message})`);
    throw e;
  }
  // lockfileVersion 1 (npm 6) has no `packages` map to attribute from.
  const v = data && typeof data === 'object' ? (data as { lockfileVersion?: unknown; packages?: unknown }) : {};
  if (![2, 3].includes(Number(v.lockfileVersion)) || !v.packages) throw new UnsupportedLockfile(file, `unsupported lockfile format 'lockfileVersion: ${String(v.lockfileVersion ?? '?')}'`);
  const lock = isNpmLock(data) ? data : await explain<NpmLock>('npmSchema', data, source, file, 'regenerate it with `npm install`');
  const pkgs = lock.packages ?? {};
  const index: LockfileIndex = new Map();
  /** Node's resolution: look in <from>/node_modules, then each parent. */
  const resolve = (from: string, name: string): string | undefined => {
    let dir = from;
    for (;;) {
      const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
      if (candidate in pkgs) return candidate;
      if (!dir) return undefined;
      const nm = dir.lastIndexOf('/node_modules/');
      const slash = dir.lastIndexOf('/');
      dir = nm >= 0 ? dir.slice(0, nm) : slash >= 0 ? dir.slice(0, slash) : '';
    }
  };
  const importers = Object.keys(pkgs).filter((k) => !k.includes('node_modules/') && k !== 'node_modules');
  for (const importer of importers) {
    const root = pkgs[importer]!;
    const closure = new Map<string, string>();
    const names = new Map<string, Set<string>>();
    const stack: string[] = [];
    const visit = (from: string, name: string, direct: boolean) => {
      const loc = resolve(from, name);
      if (!loc) return;
      const entry = pkgs[loc]!;
      if (entry.link) return; // a workspace package: its own importer
      if (direct) closure.set(`direct:${name}`, entry.version ?? '');
      if (closure.has(loc)) return;
      closure.set(loc, `${entry.version ?? ''} ${entry.integrity ?? entry.resolved ?? ''}`);
      if (!names.has(name)) names.set(name, new Set());
      names.get(name)!.add(entry.version ?? '?');
      stack.push(loc);
    };
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const) for (const name of Object.keys(root[field] ?? {})) visit(importer, name, true);
    while (stack.length) {
      const loc = stack.pop()!;
      const entry = pkgs[loc]!;
      for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies'] as const) for (const name of Object.keys(entry[field] ?? {})) visit(loc, name, false);
    }
    index.set(importer === '' ? '.' : importer, finish(closure, names));
  }
  return index;
}

export function parseLockfile(kind: 'pnpm' | 'npm', source: string, file: string): Promise<LockfileIndex> {
  return kind === 'pnpm' ? parsePnpmLock(source, file) : parseNpmLock(source, file);
}

/** Human-readable differences between two resolutions: `ms 2.1.2 → 2.1.3`, `+ debug 4.3.4`. */
export function describeChanges(before: ImporterResolution | undefined, after: ImporterResolution | undefined, limit = 5): string[] {
  const a = before?.packages ?? new Map<string, Set<string>>();
  const b = after?.packages ?? new Map<string, Set<string>>();
  const out: string[] = [];
  for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const va = [...(a.get(name) ?? [])].sort().join(', ');
    const vb = [...(b.get(name) ?? [])].sort().join(', ');
    if (va === vb) continue;
    out.push(!va ? `+ ${name} ${vb}` : !vb ? `- ${name} ${va}` : `${name} ${va} → ${vb}`);
  }
  if (!out.length) out.push('same versions, different integrity or direct specifiers');
  return out.length > limit ? [...out.slice(0, limit), `… ${out.length - limit} more`] : out;
}
