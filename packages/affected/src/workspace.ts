/**
 * Project discovery from one tree: pnpm (`pnpm-workspace.yaml`), npm/yarn
 * `workspaces`, Nx `project.json`, and `maestro.projects.yaml` for anything
 * else. Dependencies come from workspace names in every dependency field.
 * Malformed files are ConfigErrors with the file and line.
 */
import path from 'node:path/posix';
import { ConfigError } from '@maestro/core/errors';
import { parseJson, parseYaml, validateConfig } from '@maestro/core/config';
import { depVersion, readPnpmProject } from './pnpm-lock-reader.js';
import { isManifest, isNxProject, isPnpmWorkspace, type Manifest, type PnpmWorkspace, type SchemaName } from './guards.js';
import { readAll, type Tree } from './tree.js';
import { CARGO_GLOBAL, cargoMemberGlobs, discoverCargo } from './cargo.js';

export const CONFIG_FILE = 'maestro.projects.yaml';

export interface TargetConfig {
  /** Globs relative to the project root; `!` excludes; a leading `/` means the repository root. */
  inputs: string[];
  /** Output globs relative to the project root (what the cache saves). */
  outputs: string[];
  /** Environment variable names whose values are part of the key. */
  env: string[];
}

export type ProjectSource = 'pnpm' | 'npm' | 'nx' | 'cargo' | 'maestro';

export interface Project {
  name: string;
  /** Directory relative to the repository root ('' never: the root is not a project). */
  root: string;
  source: ProjectSource;
  /** package.json (or project.json / config file) that declared it. */
  manifest: string;
  /** Names of workspace projects this one depends on, with the field that said so. */
  deps: Map<string, string>;
  /** File ownership globs (relative to root); default: everything under root. */
  inputs?: string[];
  targets: Map<string, TargetConfig>;
  /** package.json scripts, as written (which tools a task calls). */
  scripts?: Record<string, string>;
}

export interface Workspace {
  projects: Map<string, Project>;
  /** Lockfile path, when one is present. */
  lockfile?: { path: string; kind: 'pnpm' | 'npm' | 'yarn' | 'bun' };
  /** Files whose change affects every project. */
  global: string[];
  /** Files whose change affects every Cargo crate (present when the workspace has crates). */
  cargoGlobal?: string[];
  /** Declared target defaults. */
  targetDefaults: Map<string, TargetConfig>;
  /** Non-fatal findings (duplicate names, cycles are reported by the graph). */
  warnings: string[];
}

const DOCS = ['!**/*.md', '!**/*.mdx', '!**/docs/**', '!**/LICENSE*', '!**/CHANGELOG*', '!**/.gitignore'];
const TESTS = ['!**/*.test.*', '!**/*.spec.*', '!**/test/**', '!**/tests/**', '!**/__tests__/**', '!**/__mocks__/**', '!**/*.stories.*'];
/** Default inputs of test-like targets: every file but docs. */
export const DEFAULT_TEST_INPUTS = ['**/*', ...DOCS];
/** Default inputs of every other target ("production"): no docs, no tests. */
export const PRODUCTION_INPUTS = ['**/*', ...DOCS, ...TESTS];
export const TEST_TARGET = /(^|[-:_])(test|tests|spec|e2e|lint|typecheck|check)($|[-:_])/;

/** Root scripts that are install hooks, not tasks. */
const ROOT_LIFECYCLE = /^(pre|post)?(install|prepare|prepublish|prepublishOnly|prepack|postpack|publish|version|uninstall)$/;
/** Commands that run a script in every package (from the root they would run the whole workspace again). */
const WORKSPACE_RUNNER = /(^|[\s;&|(])(?:(?:pnpm|pn|npm|yarn|bun)\b[^;&|]*\s(?:-r|--recursive|recursive|--filter|-F|--workspaces|-ws|--workspace|-w\b|workspaces\s+(?:foreach|run)|--all)\b|turbo\s+(?:run\s+)?\S|nx\s+(?:run-many|affected)|lerna\s+(?:run|exec)|ultra\s+-r)/;

/**
 * The root scripts that are tasks: not install hooks, not `pre<x>`/`post<x>` of another script, and not
 * a script that runs the whole workspace — directly or through another root script (`pnpm test:all`).
 */
export function rootTaskScripts(scripts: Readonly<Record<string, string>>): string[] {
  const names = Object.keys(scripts);
  const hook = (n: string) => ROOT_LIFECYCLE.test(n) || names.some((o) => o !== n && (n === `pre${o}` || n === `post${o}`));
  const runner = new Set(names.filter((n) => WORKSPACE_RUNNER.test(scripts[n]!)));
  // A script that calls a runner script (`pnpm run x`, `npm run x`, `yarn x`, `pnpm x`) is one too.
  for (let changed = true; changed; ) {
    changed = false;
    for (const n of names) {
      if (runner.has(n)) continue;
      const calls = [...scripts[n]!.matchAll(/(?:^|[\s;&|(])(?:pnpm|pn|npm|yarn|bun)\s+(?:run\s+|run-script\s+)?([\w:.-]+)/g)].map((m) => m[1]!);
      if (calls.some((c) => runner.has(c))) {
        runner.add(n);
        changed = true;
      }
    }
  }
  return names.filter((n) => !hook(n) && !runner.has(n));
}

export function defaultTarget(name: string): TargetConfig {
  return { inputs: TEST_TARGET.test(name) ? DEFAULT_TEST_INPUTS : PRODUCTION_INPUTS, outputs: [], env: [] };
}

/** Files whose change affects everything, unless the config replaces the list. */
export const DEFAULT_GLOBAL = ['pnpm-workspace.yaml', '.npmrc', '.yarnrc.yml', '.pnpmfile.cjs', CONFIG_FILE, 'turbo.json', 'nx.json', 'tsconfig.base.json', 'tsconfig.json', '.nvmrc', '.node-version', '.tool-versions'];

export interface TargetOverride {
  inputs?: string[] | undefined;
  outputs?: string[] | undefined;
  env?: string[] | undefined;
}

export interface ProjectsConfig {
  global?: string[] | undefined;
  'global-replace'?: boolean | undefined;
  targets?: Record<string, TargetOverride> | undefined;
  projects?: Array<{ name: string; root: string; 'depends-on'?: string[] | undefined; inputs?: string[] | undefined; targets?: Record<string, TargetOverride> | undefined }> | undefined;
}

const LOCKFILES = [['pnpm-lock.yaml', 'pnpm'], ['package-lock.json', 'npm'], ['npm-shrinkwrap.json', 'npm'], ['yarn.lock', 'yarn'], ['bun.lock', 'bun'], ['bun.lockb', 'bun']] as const;

const DEP_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;


/** Parse and check a JSON file: a fast guard on the common path, the zod schema for the error. */
/** npm and pnpm read a manifest that starts with a byte-order mark (vite's playground has one). */
export const withoutBom = (s: string) => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s);

async function readJson<T>(guard: (v: unknown) => v is T, schema: SchemaName, source: string, file: string): Promise<T> {
  const data = parseJson(withoutBom(source), file);
  if (guard(data)) return data;
  return explain(schema, data, source, file, `fix ${path.basename(file)} so it is valid`);
}

/** Validate with the named zod schema (loaded now): throws the ConfigError with file and line. */
export async function explain<T>(schema: SchemaName, data: unknown, source: string, file: string, fix: string): Promise<T> {
  const schemas = await import('./schemas.js');
  const out = validateConfig(schemas[schema], data, source, file, fix) as T;
  return out;
}

function isIgnoredDir(p: string): boolean {
  return p.split('/').some((seg) => seg === 'node_modules' || seg === '.git');
}

/** Directories matched by workspace globs (`!` negates), in tree order. */
function matchDirs(dirs: readonly string[], globs: readonly string[]): string[] {
  // pnpm globs `<pattern>/package.json`, so a trailing `/**` also matches the directory itself
  // (`packages/**/__tests__/**` includes `…/__tests__`): both forms are tried.
  const forms = (g: string) => {
    const clean = g.replace(/^\.\//, '').replace(/\/+$/, '');
    return clean.endsWith('/**') ? [clean, clean.slice(0, -3)] : [clean];
  };
  const pos = globs.filter((g) => !g.startsWith('!')).flatMap(forms).map((g) => compileGlob(g));
  const neg = globs.filter((g) => g.startsWith('!')).flatMap((g) => forms(g.slice(1))).map((g) => compileGlob(g));
  // Shallower first: when two packages share a name, the outer one keeps it (nested ones are fixtures).
  const depth = (d: string) => d.split('/').length;
  return dirs.filter((d) => pos.some((m) => m.test(d)) && !neg.some((m) => m.test(d))).sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function mergeTarget(base: TargetConfig, over?: TargetOverride): TargetConfig {
  return { inputs: over?.inputs ?? base.inputs, outputs: over?.outputs ?? base.outputs, env: over?.env ?? base.env };
}

/**
 * importer root → dependency name → resolved version as pnpm's lockfile has it (`link:../x` for
 * a workspace link), from the project document. Undefined when there is no pnpm lockfile or it
 * cannot be read (edges then follow the manifests alone).
 */
function pnpmLinks(source: string | undefined): Map<string, Map<string, string>> | undefined {
  if (source === undefined) return undefined;
  let lock: unknown;
  try {
    lock = readPnpmProject(source);
  } catch {
    return undefined;
  }
  const importers = (lock as { importers?: Record<string, Record<string, Record<string, unknown> | undefined> | null> } | null)?.importers;
  if (!importers || typeof importers !== 'object') return undefined;
  const out = new Map<string, Map<string, string>>();
  for (const [root, imp] of Object.entries(importers)) {
    const m = new Map<string, string>();
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
      for (const [name, v] of Object.entries(imp?.[field] ?? {})) {
        const version = depVersion(v);
        if (version !== undefined) m.set(name, version);
      }
    }
    out.set(root, m);
  }
  return out;
}

/** Name referenced by a dependency entry: `workspace:` and `npm:` aliases point elsewhere. */
function referencedName(key: string, spec: string): string {
  const alias = /^(?:workspace|npm):((?:@[^/@]+\/)?[^@]+)@/.exec(spec);
  return alias ? alias[1]! : key;
}

/**
 * Project names go into outputs that workflows put on command lines
 * (`turbo-filter`, `nx-projects`, the job matrix), so a package named
 * `c;$(curl …|sh);#` must never get that far. Names follow npm's rules
 * (letters, digits, `-`, `.`, `_`, `~`, an optional `@scope/`, at most 214
 * characters, not starting with `.` or `_`), with `/` allowed for Nx names
 * that are paths. Anything else is a ConfigError at the manifest.
 */
export const SAFE_PROJECT_NAME = /^(?:@[A-Za-z0-9~-][A-Za-z0-9._~-]*\/)?[A-Za-z0-9~-][A-Za-z0-9._~/-]*$/;

export function assertSafeName(name: string, file: string): void {
  if (name.length <= 214 && SAFE_PROJECT_NAME.test(name)) return;
  throw new ConfigError(`project name ${JSON.stringify(name.slice(0, 100))} is not a valid package name (letters, digits, - . _ ~, an optional @scope/; no spaces, quotes or shell characters)`, { file, fix: 'rename the package in its manifest' });
}

export async function discover(tree: Tree): Promise<Workspace> {
  await tree.ready?.();
  const warnings: string[] = [];
  const manifests = [...tree.files.keys()].filter((f) => (f === 'package.json' || f.endsWith('/package.json')) && !isIgnoredDir(f));
  const nxFiles = [...tree.files.keys()].filter((f) => f.endsWith('/project.json') && !isIgnoredDir(f));
  // One batch for everything discovery may read: root files, project.json files and every package.json.
  // The lockfile rides along: keys and attribution read it later, and one more blob here is cheaper than another git process.
  const lockfiles = LOCKFILES.map(([f]) => f).filter((f) => tree.files.has(f));
  // Cargo manifests only when the root one exists (a workspace); a repository without Rust reads none.
  const cargoFiles = tree.files.has('Cargo.toml') ? [...tree.files.keys()].filter((f) => (f === 'Cargo.toml' || f.endsWith('/Cargo.toml')) && !isIgnoredDir(f) && !f.split('/').includes('target')) : [];
  const wanted = ['pnpm-workspace.yaml', CONFIG_FILE, ...nxFiles, ...manifests, ...cargoFiles, ...lockfiles.slice(0, 1)];
  const contents = await readAll(tree, wanted);

  // --- the maestro config (optional) ---
  let config: ProjectsConfig = {};
  const cfgSrc = contents.get(CONFIG_FILE);
  if (cfgSrc !== undefined) config = await explain<ProjectsConfig>('configSchema', parseYaml(cfgSrc, CONFIG_FILE) ?? {}, cfgSrc, CONFIG_FILE, `see the '${CONFIG_FILE}' reference in actions/affected/README.md`);
  await loadGlobEngine([...(config.global ?? []), ...Object.values(config.targets ?? {}).flatMap((t) => [...(t.inputs ?? []), ...(t.outputs ?? [])]), ...(config.projects ?? []).flatMap((p) => [...(p.inputs ?? []), ...Object.values(p.targets ?? {}).flatMap((t) => t.inputs ?? [])])]);
  const targetDefaults = new Map<string, TargetConfig>();
  for (const [name, t] of Object.entries(config.targets ?? {})) targetDefaults.set(name, mergeTarget(defaultTarget(name), t));
  const targetFor = (name: string, over?: TargetOverride) => mergeTarget(targetDefaults.get(name) ?? defaultTarget(name), over);

  // --- JS workspace globs ---
  let globs: string[] | undefined;
  let source: ProjectSource = 'npm';
  const pnpmSrc = contents.get('pnpm-workspace.yaml');
  if (pnpmSrc !== undefined) {
    const data = parseYaml(pnpmSrc, 'pnpm-workspace.yaml') ?? null;
    const ws = isPnpmWorkspace(data) ? data : await explain<PnpmWorkspace>('pnpmWorkspaceSchema', data, pnpmSrc, 'pnpm-workspace.yaml', 'list package globs under `packages:`');
    globs = ws?.packages ?? [];
    source = 'pnpm';
  }
  const rootSrc = contents.get('package.json');
  const rootManifest = rootSrc !== undefined ? await readJson(isManifest, 'manifestSchema', rootSrc, 'package.json') : undefined;
  if (!globs && rootManifest?.workspaces) {
    globs = Array.isArray(rootManifest.workspaces) ? rootManifest.workspaces : (rootManifest.workspaces.packages ?? []);
  }

  const projects = new Map<string, Project>();
  const add = (p: Project) => {
    assertSafeName(p.name, p.manifest);
    const prev = projects.get(p.name);
    if (prev && prev.root !== p.root) {
      throw new ConfigError(`two projects are named '${p.name}': ${prev.root} and ${p.root}`, { file: p.manifest, fix: 'give each project a unique name' });
    }
    projects.set(p.name, p);
  };

  const jsManifests = new Map<string, Manifest>();
  if (globs && globs.length) {
    await loadGlobEngine(globs);
    const dirs = manifests.filter((f) => f !== 'package.json').map((f) => path.dirname(f));
    const matched = matchDirs(dirs, globs);
    const pkgContents = contents;
    for (const dir of matched) {
      const file = `${dir}/package.json`;
      const m = await readJson(isManifest, 'manifestSchema', pkgContents.get(file) ?? '{}', file);
      if (!m.name) {
        warnings.push(`${file} has no "name"; it is not a workspace package`);
        continue;
      }
      // pnpm accepts two packages of one name (vite's test fixtures do it); a name is a project here,
      // so the shallower (then first in path order) keeps it and the other's files belong to whatever contains them.
      const same = projects.get(m.name);
      if (same) {
        warnings.push(`${file}: the name ${m.name} is taken by ${same.root}; this package is not a separate project (its files belong to the project containing it)`);
        continue;
      }
      jsManifests.set(m.name, m);
      const targets = new Map<string, TargetConfig>();
      for (const script of Object.keys(m.scripts ?? {})) targets.set(script, targetFor(script));
      add({ name: m.name, root: dir, source, manifest: file, deps: new Map(), targets, ...(m.scripts ? { scripts: m.scripts } : {}) });
    }
  }

  // --- the workspace root, as pnpm sees it: a project owning every file no other project owns ---
  // Only a named root (a name is what selects it), and without scripts that run the whole workspace
  // (`pnpm -r test`, `turbo run`…) or install hooks as targets: those would run everything again.
  if (globs && rootManifest?.name && !projects.has(rootManifest.name)) {
    jsManifests.set(rootManifest.name, rootManifest);
    const targets = new Map<string, TargetConfig>();
    for (const script of rootTaskScripts(rootManifest.scripts ?? {})) targets.set(script, targetFor(script));
    add({ name: rootManifest.name, root: '.', source, manifest: 'package.json', deps: new Map(), targets, ...(rootManifest.scripts ? { scripts: rootManifest.scripts } : {}) });
  } else if (globs && rootManifest?.name) warnings.push(`the workspace root is named ${rootManifest.name}, like the package at ${projects.get(rootManifest.name)!.root}; the root is not a project`);

  // --- Nx project.json (merges into a package.json project at the same root) ---
  const implicit = new Map<string, string[]>();
  for (const file of nxFiles) {
    const nx = await readJson(isNxProject, 'nxProjectSchema', contents.get(file) ?? '{}', file);
    const root = path.dirname(file);
    const existing = [...projects.values()].find((p) => p.root === root);
    const name = nx.name ?? existing?.name ?? root;
    const targets = existing?.targets ?? new Map<string, TargetConfig>();
    for (const t of Object.keys(nx.targets ?? {})) if (!targets.has(t)) targets.set(t, targetFor(t));
    if (existing && existing.name !== name) projects.delete(existing.name);
    add({ name, root, source: existing?.source ?? 'nx', manifest: existing?.manifest ?? file, deps: existing?.deps ?? new Map(), targets, ...(existing?.scripts ? { scripts: existing.scripts } : {}) });
    if (existing && existing.name !== name) {
      const m = jsManifests.get(existing.name);
      if (m) {
        jsManifests.delete(existing.name);
        jsManifests.set(name, m);
      }
    }
    if (nx.implicitDependencies?.length) implicit.set(name, nx.implicitDependencies.filter((d) => !d.startsWith('!')));
  }

  // --- Cargo workspace crates (a JavaScript package of the same name wins, with a warning) ---
  let hasCrates = false;
  if (cargoFiles.length) {
    const cargoText = new Map(cargoFiles.map((f) => [f, contents.get(f) ?? '']));
    await loadGlobEngine(cargoMemberGlobs(cargoText.get('Cargo.toml')));
    const { crates, warnings: cw } = discoverCargo(cargoText, compileGlob);
    warnings.push(...cw);
    for (const c of crates) {
      if (projects.has(c.name)) {
        warnings.push(`crate ${c.name} (${c.root}) has the name of a package at ${projects.get(c.name)!.root}; the crate is not a project`);
        continue;
      }
      const targets = new Map<string, TargetConfig>([['build', targetFor('build')], ['test', targetFor('test')]]);
      add({ name: c.name, root: c.root, source: 'cargo', manifest: c.manifest, deps: c.deps, targets });
      hasCrates = true;
    }
  }

  // --- maestro.projects.yaml projects ---
  for (const [i, p] of (config.projects ?? []).entries()) {
    const root = p.root.replace(/^\.\//, '').replace(/\/+$/, '') || '.';
    const targets = new Map<string, TargetConfig>();
    for (const [t, over] of Object.entries(p.targets ?? {})) targets.set(t, targetFor(t, over));
    assertSafeName(p.name, CONFIG_FILE);
    const existing = projects.get(p.name);
    if (existing && existing.root !== root) throw new ConfigError(`project '${p.name}' is declared twice (${existing.root} and ${root})`, { file: CONFIG_FILE, fix: `rename projects[${i}] or remove the duplicate` });
    const project: Project = { name: p.name, root, source: 'maestro', manifest: CONFIG_FILE, deps: new Map(), targets: existing ? new Map([...existing.targets, ...targets]) : targets };
    if (p.inputs) project.inputs = p.inputs;
    if (existing) project.deps = existing.deps;
    projects.set(p.name, project);
    for (const d of p['depends-on'] ?? []) project.deps.set(d, `${CONFIG_FILE} depends-on`);
  }

  // --- dependency edges ---
  // A `workspace:` (or `link:`/`file:`) spec always links the workspace package. Any other spec
  // (`catalog:`, a version range) may resolve from the registry instead: pnpm's lockfile says which.
  // Read only when some spec needs it: most workspaces use `workspace:` and never pay for the parse.
  let linkedCache: Map<string, Map<string, string>> | undefined | null = null;
  const links = () => (linkedCache === null ? (linkedCache = pnpmLinks(lockfiles[0] === 'pnpm-lock.yaml' ? contents.get('pnpm-lock.yaml') : undefined)) : linkedCache);
  for (const [name, m] of jsManifests) {
    const project = projects.get(name)!;
    for (const field of DEP_FIELDS) {
      for (const [key, spec] of Object.entries(m[field] ?? {})) {
        const target = referencedName(key, spec);
        if (target === name || !projects.has(target) || project.deps.has(target) || projects.get(target)!.source === 'cargo') continue;
        if (!/^(workspace|link|file):/.test(spec) && links()) {
          const how = links()!.get(project.root)?.get(key);
          // Resolved from the registry (e.g. `catalog:` pinned to a published version): not an edge.
          if (how !== undefined && !how.startsWith('link:')) continue;
        }
        project.deps.set(target, `${project.manifest} ${field}`);
      }
    }
  }
  for (const [name, deps] of implicit) for (const d of deps) projects.get(name)?.deps.set(d, 'project.json implicitDependencies');
  for (const p of projects.values()) {
    for (const d of p.deps.keys()) {
      if (!projects.has(d)) {
        if (p.source === 'maestro' || p.deps.get(d)!.includes('implicitDependencies')) {
          throw new ConfigError(`project '${p.name}' depends on '${d}', which is not a project`, { file: p.manifest, fix: `declare '${d}' as a project or remove it from the dependency list` });
        }
        p.deps.delete(d);
      }
    }
  }

  // --- lockfile and global inputs ---
  let lockfile: Workspace['lockfile'];
  for (const [file, kind] of LOCKFILES) {
    if (tree.files.has(file)) {
      lockfile = { path: file, kind };
      break;
    }
  }
  const global = config['global-replace'] ? [...(config.global ?? [])] : [...DEFAULT_GLOBAL, ...(config.global ?? [])];
  const ws: Workspace = { projects, global, targetDefaults, warnings, ...(hasCrates ? { cargoGlobal: CARGO_GLOBAL } : {}) };
  if (lockfile) ws.lockfile = lockfile;
  return ws;
}

/** `file` relative to a project root ('.' is the workspace root), or undefined when it is not inside. */
export function relativeTo(root: string, file: string): string | undefined {
  if (root === '.') return file;
  return file.startsWith(`${root}/`) ? file.slice(root.length + 1) : undefined;
}

/** A path inside a project root ('.' is the workspace root). */
export const inRoot = (root: string, rel: string) => (root === '.' ? rel : `${root}/${rel}`);

/** Map each file to the project that owns it: the deepest root, plus config projects whose globs match. */
export class Ownership {
  /** Projects by root; a folder can hold two (a napi crate beside its package.json). */
  private readonly byRoot = new Map<string, Project[]>();
  private readonly globbed: Array<{ project: Project; matcher: InputMatcher }> = [];
  constructor(projects: Iterable<Project>) {
    for (const p of projects) {
      if (p.inputs) this.globbed.push({ project: p, matcher: matcherFor(p.inputs) });
      else {
        const list = this.byRoot.get(p.root);
        if (list) list.push(p);
        else this.byRoot.set(p.root, [p]);
      }
    }
  }

  /** Projects a file belongs to (usually one). */
  owners(file: string): Project[] {
    const out: Project[] = [];
    for (let dir = path.dirname(file); dir !== '.' && dir !== '/'; dir = path.dirname(dir)) {
      const ps = this.byRoot.get(dir);
      if (ps) {
        out.push(...ps);
        break;
      }
    }
    for (const g of this.globbed) if (g.matcher.matches(file, g.project.root)) out.push(g.project);
    // The workspace root (when it is a project) owns what no other project does.
    if (!out.length && this.byRoot.has('.')) out.push(...this.byRoot.get('.')!);
    return out;
  }

  /** True if only the workspace root owns the file. */
  rootOnly(file: string): boolean {
    const o = this.owners(file);
    return o.length === 1 && o[0]!.root === '.';
  }
}

export interface Glob {
  test(path: string): boolean;
}

let minimatchModule: typeof import('minimatch') | undefined;

const COMPLEX = /[[\]()!+@\\]|\{[^}]*\{/; // classes, extglobs, escapes, nested braces

/** True if compileGlob needs minimatch for this pattern (loaded with `loadGlobEngine`). */
export function needsGlobEngine(pattern: string): boolean {
  return COMPLEX.test(pattern.replace(/^!/, ''));
}

/** Load minimatch if any of these patterns needs it (most repositories never do: it stays unloaded). */
export async function loadGlobEngine(patterns: Iterable<string> = ['[']): Promise<void> {
  if (minimatchModule) return;
  for (const p of patterns) {
    if (needsGlobEngine(p)) {
      minimatchModule = await import('minimatch');
      return;
    }
  }
}

/** `a/{b,c}/*.{ts,js}` → the four patterns it stands for (one level of braces). */
export function expandBraces(pattern: string): string[] {
  const m = /\{([^{}]*)\}/.exec(pattern);
  if (!m) return [pattern];
  return m[1]!.split(',').flatMap((alt) => expandBraces(pattern.slice(0, m.index) + alt + pattern.slice(m.index + m[0].length)));
}

function simpleGlob(pattern: string): string {
  const segs = pattern.split('/');
  let re = '';
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === '**') {
      re += last ? (i === 0 ? '.*' : '/.*') : i === 0 ? '(?:[^/]+/)*' : '(?:/[^/]+)*';
      if (!last && i > 0) re += '/';
      return;
    }
    if (i > 0 && segs[i - 1] !== '**') re += '/';
    re += seg.replace(/[.+^$|]/g, '\\$&').replace(/\*+/g, '[^/]*').replace(/\?/g, '[^/]');
  });
  return re;
}

/**
 * A glob compiled once, always with `{dot: true}`. Plain patterns (literal
 * segments, `*`, `?`, `**`, one level of braces) become one regular
 * expression, many times faster than `Minimatch.match` on thousands of paths;
 * classes, extglobs and nested braces go to minimatch, which is loaded only
 * then (`loadGlobEngine`). A test checks both agree.
 */
export function compileGlob(pattern: string): Glob {
  if (needsGlobEngine(pattern)) {
    if (!minimatchModule) throw new Error(`internal: glob '${pattern}' needs minimatch; call loadGlobEngine() first`);
    const m = new minimatchModule.Minimatch(pattern, { dot: true });
    return { test: (p) => m.match(p) };
  }
  const rx = new RegExp(`^(?:${expandBraces(pattern).map(simpleGlob).join('|')})$`);
  return { test: (p) => rx.test(p) };
}

const matchers = new Map<string, InputMatcher>();
/** A shared compiled matcher per glob list (most projects use the same few lists). */
export function matcherFor(globs: readonly string[]): InputMatcher {
  const id = globs.join('\0');
  let m = matchers.get(id);
  if (!m) matchers.set(id, (m = new InputMatcher(globs)));
  return m;
}

/**
 * A compiled input matcher. Globs are relative to the project root; a glob
 * starting with `/` is relative to the repository root; `!` excludes.
 */
export class InputMatcher {
  private readonly rel: { inc: Glob[]; exc: Glob[] } = { inc: [], exc: [] };
  private readonly abs: { inc: Glob[]; exc: Glob[] } = { inc: [], exc: [] };
  constructor(readonly globs: readonly string[]) {
    for (const g of globs) {
      const neg = g.startsWith('!');
      const body = neg ? g.slice(1) : g;
      const set = body.startsWith('/') ? this.abs : this.rel;
      (neg ? set.exc : set.inc).push(compileGlob(body.replace(/^\/+/, '')));
    }
  }

  matches(file: string, root: string): boolean {
    const rel = relativeTo(root, file);
    if (rel !== undefined && this.rel.inc.some((m) => m.test(rel)) && !this.rel.exc.some((m) => m.test(rel)) && !this.abs.exc.some((m) => m.test(file))) return true;
    return this.abs.inc.some((m) => m.test(file)) && !this.abs.exc.some((m) => m.test(file)) && !(rel !== undefined && this.rel.exc.some((m) => m.test(rel)));
  }
}
