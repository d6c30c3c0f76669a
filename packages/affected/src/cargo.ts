/**
 * Rust crates of a Cargo workspace as projects: the root `Cargo.toml`'s `[workspace] members` (globs,
 * minus `exclude`), each member's `[package] name`, and edges for `path` dependencies — written in the
 * crate or inherited with `workspace = true` from `[workspace.dependencies]`. A registry or git
 * dependency is not an edge (Cargo does not link the workspace crate for it).
 *
 * Files that change how every crate builds — the workspace manifest, `Cargo.lock`, the toolchain
 * pin, `.cargo/config.toml` — affect every crate (and only the crates: a JavaScript package does not
 * read them).
 */
import path from 'node:path/posix';
import { parse as parseToml } from 'smol-toml';
import { ConfigError } from '@maestro/core/errors';

export const CARGO_GLOBAL = ['Cargo.toml', 'Cargo.lock', 'rust-toolchain.toml', 'rust-toolchain', '.cargo/config.toml', '.cargo/config'];

export interface Crate {
  name: string;
  root: string;
  manifest: string;
  /** Crate name → where the edge was declared. */
  deps: Map<string, string>;
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
const DEP_TABLES = ['dependencies', 'dev-dependencies', 'build-dependencies'] as const;

function readToml(text: string, file: string): Table {
  try {
    return parseToml(text) as Table;
  } catch (e) {
    const line = (e as { line?: number }).line;
    throw new ConfigError(`invalid TOML: ${(e as Error).message.split('\n')[0]}`, { file, ...(line ? { line } : {}), fix: 'fix the TOML syntax (cargo metadata reports the same error)' });
  }
}

/** The member globs of the root `Cargo.toml`, to load the glob engine for them before `discoverCargo`. */
export function cargoMemberGlobs(rootText: string | undefined): string[] {
  if (rootText === undefined) return [];
  const ws = readToml(rootText, 'Cargo.toml')['workspace'];
  const members = isTable(ws) ? ws['members'] : undefined;
  return Array.isArray(members) ? members.filter((m): m is string => typeof m === 'string') : [];
}

/** The crates of the workspace rooted at `Cargo.toml` (none when there is no `[workspace]`). */
export function discoverCargo(manifests: ReadonlyMap<string, string>, compileGlob: (glob: string) => { test(p: string): boolean }): { crates: Crate[]; warnings: string[] } {
  const warnings: string[] = [];
  const rootText = manifests.get('Cargo.toml');
  if (rootText === undefined) return { crates: [], warnings };
  const root = readToml(rootText, 'Cargo.toml');
  const ws = root['workspace'];
  if (!isTable(ws)) return { crates: [], warnings };
  const strings = (v: unknown, key: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ConfigError(`workspace.${key} must be a list of paths`, { file: 'Cargo.toml', fix: `write ${key} = ["crates/*"]` });
    return (v as string[]).map((s) => path.normalize(s).replace(/\/+$/, ''));
  };
  const members = strings(ws['members'], 'members').map((g) => compileGlob(g));
  const exclude = new Set(strings(ws['exclude'], 'exclude'));
  if (isTable(root['package'])) warnings.push('Cargo.toml is both the workspace and a crate; the root crate is not a project (its files would own the whole repository)');
  const inherited = isTable(ws['dependencies']) ? ws['dependencies'] : {};
  const crates = new Map<string, Crate>();
  const byRoot = new Map<string, Crate>();
  const tables: Array<[Crate, Table]> = [];
  for (const [file, text] of [...manifests].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (file === 'Cargo.toml') continue;
    const dir = path.dirname(file);
    if (exclude.has(dir) || !members.some((m) => m.test(dir))) continue;
    const m = readToml(text, file);
    const pkg = m['package'];
    const name = isTable(pkg) ? pkg['name'] : undefined;
    if (typeof name !== 'string' || !name) {
      warnings.push(`${file} has no [package] name; it is not a crate project`);
      continue;
    }
    const prev = crates.get(name);
    if (prev) throw new ConfigError(`two crates are named '${name}': ${prev.root} and ${dir}`, { file, fix: 'give each crate a unique name (cargo refuses this too)' });
    const crate: Crate = { name, root: dir, manifest: file, deps: new Map() };
    crates.set(name, crate);
    byRoot.set(dir, crate);
    tables.push([crate, m]);
  }
  for (const [crate, m] of tables) {
    const sections: Array<[string, Table]> = [];
    for (const t of DEP_TABLES) if (isTable(m[t])) sections.push([t, m[t]]);
    if (isTable(m['target'])) {
      for (const [cfg, spec] of Object.entries(m['target'])) if (isTable(spec)) for (const t of DEP_TABLES) if (isTable(spec[t])) sections.push([`target.${cfg}.${t}`, spec[t]]);
    }
    for (const [section, deps] of sections) {
      for (const [key, spec] of Object.entries(deps)) {
        let at: string | undefined;
        if (isTable(spec) && typeof spec['path'] === 'string') at = path.normalize(path.join(crate.root, spec['path']));
        else if (isTable(spec) && spec['workspace'] === true) {
          const w = inherited[key];
          if (isTable(w) && typeof w['path'] === 'string') at = path.normalize(w['path']);
        }
        const target = at !== undefined ? byRoot.get(at.replace(/\/+$/, '')) : undefined;
        if (at !== undefined && !target) warnings.push(`${crate.manifest} [${section}] ${key} points at ${at}, which is not a workspace member`);
        if (target && target !== crate && !crate.deps.has(target.name)) crate.deps.set(target.name, `${crate.manifest} [${section}]`);
      }
    }
  }
  return { crates: [...crates.values()], warnings };
}
