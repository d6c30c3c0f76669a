/**
 * Affected projects and tasks between two trees, each with the reason that
 * selected it. Pure: trees and the file list come in, a result goes out.
 */
import { load } from 'js-yaml';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '@maestro/core/errors';
import type { FileChange } from '@maestro/core/git';
import { byCodeUnit, ProjectGraph } from './graph.js';
import { UnsupportedLockfile, describeChanges, importersThatMayDiffer, parseLockfile, rootDependencyChanges, type LockfileIndex, type RootDependencyChange } from './lockfile.js';
import { readAll, type Tree } from './tree.js';
import { compileGlob, discover, withoutBom, loadGlobEngine, matcherFor, Ownership, PRODUCTION_INPUTS, type Workspace } from './workspace.js';

export type Reason =
  | { kind: 'file'; file: string }
  | { kind: 'dependency'; via: string[]; cause: Reason }
  | { kind: 'lockfile'; file: string; changes: string[] }
  | { kind: 'new'; manifest: string }
  | { kind: 'all'; why: string }
  | { kind: 'needed-by'; via: string[] }
  /** A root dependency with executables changed, and these targets' scripts call it. */
  | { kind: 'tool'; tool: string; change: string; file: string; targets: string[] };

export interface AffectedProject {
  name: string;
  root: string;
  /** The first reason is the one shown; all direct reasons are kept. */
  reasons: Reason[];
}

export interface AffectedTask {
  project: string;
  root: string;
  target: string;
  reason: string;
}

export interface AffectedOptions {
  /** Base tree; undefined when no base could be established (everything is affected). */
  base: Tree | undefined;
  head: Tree;
  /** Changed files between base and head (ignored without a base). */
  changes: readonly FileChange[];
  /** Why there is no base, when `base` is undefined. */
  baseUnavailable?: string;
  /** Only these targets (default: every target a project declares). */
  targets?: readonly string[];
  /** Also select the dependencies of affected projects (what a build of them needs). */
  includeDependencies?: boolean;
  /** Targets selected on projects pulled in by includeDependencies. */
  dependencyTargets?: readonly string[];
  /** Extra global input globs (from the action input). */
  globalInputs?: readonly string[];
}

export interface AffectedResult {
  all: boolean;
  allReason?: string;
  projects: AffectedProject[];
  tasks: AffectedTask[];
  removed: Array<{ name: string; root: string }>;
  /** Changed files owned by no project and not global (e.g. root docs). */
  unowned: string[];
  cycles: string[][];
  warnings: string[];
  workspace: Workspace;
  graph: ProjectGraph;
  lockfile?: { head?: LockfileIndex };
}

/** One line per reason, for summaries and the `reasons` output. */
export function describeReason(r: Reason): string {
  switch (r.kind) {
    case 'file':
      return `${r.file} changed`;
    case 'dependency':
      return `depends on ${r.via[r.via.length - 1]} (${r.via.join(' → ')}): ${describeReason(r.cause)}`;
    case 'lockfile':
      return `${r.file}: ${r.changes.join(', ')}`;
    case 'new':
      return `new project (${r.manifest})`;
    case 'all':
      return `everything is affected: ${r.why}`;
    case 'needed-by':
      return `needed to build ${r.via[r.via.length - 1]} (${r.via.join(' ← ')})`;
    case 'tool':
      return `root tool ${r.tool} changed in ${r.file} (${r.change}), and ${r.targets.join(', ')} call${r.targets.length === 1 ? 's' : ''} it`;
  }
}

/**
 * Root dependencies treated as command-line tools: run by scripts, not imported by package code. A
 * root dependency not on this list is a library any package may import, and its change affects
 * everything: a tool missing here errs on the safe side.
 */
export const ROOT_TOOLS: ReadonlySet<string> = new Set([
  'eslint', 'prettier', '@biomejs/biome', 'oxlint', 'stylelint', 'markdownlint-cli', 'markdownlint-cli2', 'cspell',
  'jest', 'vitest', 'mocha', 'ava', 'c8', 'nyc', '@playwright/test', 'playwright', 'cypress',
  'typescript', 'tsup', 'tsx', 'ts-node', '@swc/cli', '@babel/cli', 'webpack-cli', 'rollup', 'vite', 'esbuild',
  'turbo', 'nx', 'lerna', 'husky', 'lint-staged', '@changesets/cli', '@commitlint/cli', 'knip', 'syncpack', 'publint', '@arethetypeswrong/cli', 'size-limit', 'madge', 'depcheck',
  'rimraf', 'del-cli', 'cross-env', 'npm-run-all', 'npm-run-all2', 'concurrently', 'wait-on', 'shx', 'cpy-cli', 'copyfiles', 'nodemon', 'zx',
  '@microsoft/api-extractor', 'typedoc', 'jsdoc', '@vue/cli-service', '@angular/cli', '@nestjs/cli',
]);

/** Executables a tool installs, where the name does not say (the rest: the unscoped name, and without `-cli`). */
const KNOWN_BINS: Record<string, string[]> = {
  typescript: ['tsc', 'tsserver'],
  '@biomejs/biome': ['biome'],
  '@playwright/test': ['playwright'],
  '@swc/cli': ['swc', 'swcx'],
  'webpack-cli': ['webpack', 'webpack-cli'],
  '@angular/cli': ['ng'],
  '@nestjs/cli': ['nest'],
  '@changesets/cli': ['changeset'],
  'npm-run-all': ['run-p', 'run-s', 'npm-run-all'],
  'npm-run-all2': ['run-p', 'run-s', 'npm-run-all'],
  '@microsoft/api-extractor': ['api-extractor'],
  'ts-node': ['ts-node', 'ts-node-esm', 'ts-node-cwd'],
  '@babel/cli': ['babel'],
  'jest-cli': ['jest'],
  '@vitest/browser': ['vitest'],
  '@vue/cli-service': ['vue-cli-service'],
  'stylelint': ['stylelint'],
  'eslint_d': ['eslint_d'],
};

/** Command names a root dependency may be called by in a script. */
export function binNames(pkg: string): string[] {
  const bare = pkg.replace(/^@[^/]+\//, '');
  return [...new Set([...(KNOWN_BINS[pkg] ?? []), bare, bare.replace(/-cli$/, '')])].filter(Boolean);
}

/** Which scripts call one of `bins` (a whole word, e.g. `eslint .`, `npx tsc -b`): their target names. */
function callersOf(bins: readonly string[]): (scripts: Record<string, string> | undefined) => string[] {
  const res = bins.map((b) => new RegExp(`(^|[\\s;&|(\"'/=])${b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[\\s;&|)\"'])`));
  return (scripts) => Object.entries(scripts ?? {}).filter(([, cmd]) => res.some((r) => r.test(cmd))).map(([t]) => t).sort();
}

const STRUCTURAL = /(^|\/)(package\.json|project\.json|Cargo\.toml)$|^(pnpm-workspace\.yaml|maestro\.projects\.yaml|pnpm-lock\.yaml|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|bun\.lockb?)$/;

/** True when a change can alter the project set or the lockfile (so the base workspace must be read). */
export function isStructural(changes: readonly FileChange[]): boolean {
  return changes.some((c) => STRUCTURAL.test(c.path) || (c.oldPath !== undefined && STRUCTURAL.test(c.oldPath)));
}

const ROOT_MANIFEST_IGNORED = new Set(['scripts', 'description', 'keywords', 'author', 'license', 'repository', 'homepage', 'bugs', 'version', 'funding', 'contributors', 'private', 'name', 'prettier', 'eslintConfig', 'lint-staged', 'commitlint', 'release']);

/**
 * pnpm-workspace.yaml settings by what a change to them can do to the committed tree:
 * - `packages` changes which folders are projects: the graph says what that affects (new projects,
 *   removed ones, moved files), not "everything";
 * - resolution settings show up in the lockfile when they change anything, and the lockfile is
 *   attributed per package (a change that leaves the lockfile as it was changed nothing);
 * - settings about future installs, publishing or the CLI affect nothing already committed;
 * - everything else (node_modules layout, hoisting, which dependencies may run build scripts, the
 *   Node version, and any key not listed here) can change how every package installs or runs: all.
 */
export const WORKSPACE_SETTINGS = {
  graph: ['packages'],
  // (`configDependencies` is not here: pnpm records it in the lockfile's env document, which attribution
  // does not compare, and its packages are plugins that can change any install: it counts as global.)
  lockfile: ['catalog', 'catalogs', 'overrides', 'patchedDependencies', 'packageExtensions', 'peerDependencyRules', 'allowedDeprecatedVersions', 'supportedArchitectures', 'ignoredOptionalDependencies', 'dedupePeerDependents', 'resolutionMode', 'autoInstallPeers', 'excludeLinksFromLockfile', 'injectWorkspacePackages', 'linkWorkspacePackages', 'dedupeDirectDeps', 'resolvePeersFromWorkspaceRoot', 'registrySupportsTimeField'],
  none: ['minimumReleaseAge', 'minimumReleaseAgeExclude', 'trustPolicy', 'trustPolicyExclude', 'trustPolicyIgnoreAfter', 'catalogMode', 'cleanupUnusedCatalogs', 'catalogPrune', 'savePrefix', 'saveExact', 'saveWorkspaceProtocol', 'updateNotifier', 'auditConfig', 'updateConfig', 'publishBranch', 'gitChecks', 'verifyDepsBeforeRun', 'blockExoticSubdeps', 'preferOffline', 'fetchRetries', 'fetchTimeout', 'networkConcurrency', 'childConcurrency', 'workspaceConcurrency', 'color', 'loglevel', 'reporter'],
} as const;

const HANDLED_SETTINGS: ReadonlySet<string> = new Set([...WORKSPACE_SETTINGS.graph, ...WORKSPACE_SETTINGS.lockfile, ...WORKSPACE_SETTINGS.none]);

/** The changed top-level keys of pnpm-workspace.yaml that make everything affected (see WORKSPACE_SETTINGS). */
export function globalWorkspaceSettingsChanged(before: unknown, after: unknown): string[] {
  const a = before && typeof before === 'object' ? (before as Record<string, unknown>) : {};
  const b = after && typeof after === 'object' ? (after as Record<string, unknown>) : {};
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !HANDLED_SETTINGS.has(k) && !isDeepStrictEqual(a[k], b[k])).sort();
}

function tryJson(s: string | undefined): unknown {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(withoutBom(s));
  } catch {
    return Symbol('invalid');
  }
}

function tryYaml(s: string | undefined): unknown {
  if (s === undefined) return undefined;
  try {
    return load(s);
  } catch {
    return Symbol('invalid');
  }
}

function omit(o: unknown, keys: Set<string>): unknown {
  if (!o || typeof o !== 'object') return o;
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.has(k)));
}

export async function computeAffected(opts: AffectedOptions): Promise<AffectedResult> {
  const ws = await discover(opts.head);
  const graph = new ProjectGraph(ws.projects);
  const warnings = [...ws.warnings];
  const cycles = graph.cycles();
  for (const c of cycles) warnings.push(`dependency cycle: ${[...c, c[0]].join(' → ')}`);
  const globalGlobs = [...ws.global, ...(opts.globalInputs ?? [])];
  await loadGlobEngine(globalGlobs);
  const globalMatchers = globalGlobs.map((g) => compileGlob(g));

  const result = (all: string | undefined, direct: Map<string, Reason[]>, removed: AffectedResult['removed'], unowned: string[], prodChanged: Set<string>, ownFiles: Map<string, string[]>, lock?: LockfileIndex): AffectedResult => {
    const projects = new Map<string, AffectedProject>();
    if (all !== undefined) {
      for (const p of ws.projects.values()) projects.set(p.name, { name: p.name, root: p.root, reasons: [{ kind: 'all', why: all }] });
    } else {
      const reach = graph.closure(direct.keys(), 'dependents');
      for (const [name, path] of reach) {
        const p = ws.projects.get(name)!;
        const reasons = direct.get(name) ?? [{ kind: 'dependency' as const, via: path, cause: direct.get(path[path.length - 1]!)![0]! }];
        projects.set(name, { name, root: p.root, reasons });
      }
      if (opts.includeDependencies) {
        const needed = graph.closure(projects.keys(), 'dependencies');
        for (const [name, path] of needed) {
          if (!projects.has(name)) projects.set(name, { name, root: ws.projects.get(name)!.root, reasons: [{ kind: 'needed-by', via: path }] });
        }
      }
    }
    // Task selection: which targets of each affected project see a change in their inputs.
    const upstreamProd = all !== undefined ? new Set<string>() : new Set(graph.closure(prodChanged, 'dependents').keys());
    const tasks: AffectedTask[] = [];
    const wanted = opts.targets?.length ? new Set(opts.targets) : undefined;
    const depTargets = new Set(opts.dependencyTargets ?? ['build']);
    for (const ap of [...projects.values()].sort((a, b) => byCodeUnit(a.name, b.name))) {
      const p = ws.projects.get(ap.name)!;
      for (const [target, cfg] of [...p.targets].sort(([a], [b]) => byCodeUnit(a, b))) {
        if (wanted && !wanted.has(target)) continue;
        const primary = ap.reasons[0]!;
        let why: string | undefined;
        const ownInput = () => {
          const m = matcherFor(cfg.inputs);
          const hit = (ownFiles.get(p.name) ?? []).find((f) => m.matches(f, p.root));
          return hit && `${hit} changed (an input of ${target})`;
        };
        if (primary.kind === 'all' || primary.kind === 'new') why = describeReason(primary);
        // The workspace root's scripts run for the root's own files only: a package the root depends on
        // (devDependencies: workspace:*) or a lockfile change must not run root-wide scripts.
        else if (p.root === '.') why = ownInput();
        else if (primary.kind === 'needed-by') {
          if (depTargets.has(target)) why = describeReason(primary);
        } else {
          const lockReason = ap.reasons.find((r) => r.kind === 'lockfile');
          if (lockReason) why = describeReason(lockReason);
          const toolReason = ap.reasons.find((r) => r.kind === 'tool' && r.targets.includes(target));
          if (!why && toolReason) why = describeReason(toolReason);
          if (!why) why = ownInput();
          if (!why && graph.deps(p.name).some((d) => upstreamProd.has(d))) {
            const dep = ap.reasons.find((r) => r.kind === 'dependency');
            why = dep ? describeReason(dep) : `a dependency changed (${graph.deps(p.name).filter((d) => upstreamProd.has(d)).join(', ')})`;
          }
        }
        if (why) tasks.push({ project: p.name, root: p.root, target, reason: why });
      }
    }
    const out: AffectedResult = {
      all: all !== undefined,
      projects: [...projects.values()].sort((a, b) => byCodeUnit(a.name, b.name)),
      tasks,
      removed,
      unowned,
      cycles,
      warnings,
      workspace: ws,
      graph,
    };
    if (all !== undefined) out.allReason = all;
    if (lock) out.lockfile = { head: lock };
    return out;
  };

  if (!opts.base) return result(opts.baseUnavailable ?? 'no base commit', new Map(), [], [], new Set(), new Map());

  // The project set only changes when a manifest, workspace file or lockfile does; otherwise the
  // base workspace is the head's and the base tree is never listed (a big saving on large repos).
  const structural = isStructural(opts.changes);
  let baseWs: Workspace | undefined = structural ? undefined : ws;
  if (structural) {
    try {
      baseWs = await discover(opts.base);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      warnings.push(`the workspace at the base commit could not be read (${e.message}); removed projects are not reported`);
    }
  }
  const removed = baseWs ? [...baseWs.projects.values()].filter((p) => !ws.projects.has(p.name)).map((p) => ({ name: p.name, root: p.root })) : [];
  const headOwners = new Ownership(ws.projects.values());
  const baseOwners = baseWs ? new Ownership(baseWs.projects.values()) : undefined;
  const direct = new Map<string, Reason[]>();
  const prodChanged = new Set<string>();
  const ownFiles = new Map<string, string[]>();
  const unowned: string[] = [];
  /** Keep up to 20 reasons per project; production-relevant ones go first, since the first one is shown. */
  const addReason = (name: string, r: Reason, first = false) => {
    if (!direct.has(name)) direct.set(name, []);
    const list = direct.get(name)!;
    if (list.some((x) => isDeepStrictEqual(x, r))) return;
    if (first) {
      const at = list.findIndex((x) => !firsts.has(x));
      list.splice(at < 0 ? list.length : at, 0, r);
      firsts.add(r);
    } else list.push(r);
    if (list.length > 20) list.pop();
  };
  const firsts = new Set<Reason>();
  for (const p of ws.projects.values()) {
    if (baseWs && !baseWs.projects.has(p.name)) {
      addReason(p.name, { kind: 'new', manifest: p.manifest }, true);
      prodChanged.add(p.name);
    }
  }

  const touched = new Set<string>();
  for (const c of opts.changes) {
    touched.add(c.path);
    if (c.oldPath) touched.add(c.oldPath);
  }
  const lockPaths = new Set([ws.lockfile?.path, baseWs?.lockfile?.path].filter((x): x is string => !!x));
  const rootFiles = ['package.json', 'pnpm-workspace.yaml'].filter((f) => touched.has(f));
  const semantic = rootFiles.length ? await readAll(opts.head, rootFiles) : new Map<string, string>();
  const semanticBase = rootFiles.length ? await readAll(opts.base, rootFiles) : new Map<string, string>();
  let all: string | undefined;
  let lockChanged = false;

  for (const file of [...touched].sort()) {
    if (lockPaths.has(file)) {
      lockChanged = true;
      continue;
    }
    if (file === 'package.json') {
      const a = omit(tryJson(semanticBase.get(file)), ROOT_MANIFEST_IGNORED);
      const b = omit(tryJson(semantic.get(file)), ROOT_MANIFEST_IGNORED);
      if (!isDeepStrictEqual(a, b)) all ??= `the root package.json changed beyond scripts and metadata`;
      else {
        // Scripts and metadata only: the workspace root's own change, when the root is a project.
        const root = [...ws.projects.values()].find((p) => p.root === '.');
        if (root) {
          const scriptsOf = (t: string | undefined) => (tryJson(t) as { scripts?: unknown } | undefined)?.scripts;
          const scripts = !isDeepStrictEqual(scriptsOf(semanticBase.get(file)), scriptsOf(semantic.get(file)));
          addReason(root.name, { kind: 'file', file }, scripts);
          if (!ownFiles.has(root.name)) ownFiles.set(root.name, []);
          ownFiles.get(root.name)!.push(file);
          if (scripts) prodChanged.add(root.name);
        }
      }
      continue;
    }
    if (file === 'pnpm-workspace.yaml') {
      const global = globalWorkspaceSettingsChanged(tryYaml(semanticBase.get(file)), tryYaml(semantic.get(file)));
      if (global.length) all ??= `pnpm-workspace.yaml changed ${global.map((k) => `\`${k}\``).join(', ')}, which can change how every package installs or runs`;
      continue;
    }
    if (ws.cargoGlobal?.includes(file) || baseWs?.cargoGlobal?.includes(file)) {
      // The workspace manifest, Cargo.lock, the toolchain pin: every crate, and nothing else.
      for (const p of ws.projects.values()) {
        if (p.source !== 'cargo') continue;
        addReason(p.name, { kind: 'file', file }, true);
        prodChanged.add(p.name);
      }
      continue;
    }
    if (globalMatchers.some((m) => m.test(file))) {
      all ??= `${file} is a global input`;
      continue;
    }
    let owners = headOwners.owners(file);
    // A file whose project moved or was removed belonged to that project, not to the workspace root.
    const fallen = !owners.length || (headOwners.rootOnly(file) && !!baseOwners && baseOwners.owners(file).some((p) => p.root !== '.'));
    if (fallen && baseOwners) owners = baseOwners.owners(file).filter((p) => ws.projects.has(p.name)).map((p) => ws.projects.get(p.name)!);
    if (!owners.length) {
      unowned.push(file);
      continue;
    }
    for (const p of owners) {
      if (!ownFiles.has(p.name)) ownFiles.set(p.name, []);
      ownFiles.get(p.name)!.push(file);
      const build = p.targets.get('build')?.inputs ?? PRODUCTION_INPUTS;
      const production = matcherFor(build).matches(file, p.root);
      addReason(p.name, { kind: 'file', file }, production);
      if (production) prodChanged.add(p.name);
    }
  }

  let headLock: LockfileIndex | undefined;
  if (lockChanged && !all) {
    const hl = ws.lockfile;
    const bl = baseWs?.lockfile;
    if (!hl) all = `the lockfile ${[...lockPaths][0]} was removed`;
    else if (hl.kind !== 'pnpm' && hl.kind !== 'npm') all = `${hl.path} changed; per-package attribution supports pnpm and npm lockfiles only`;
    else if (!bl || bl.kind !== hl.kind) all = `the lockfile changed format (${bl?.path ?? 'none'} → ${hl.path})`;
    else {
      const texts = await readAll(opts.head, [hl.path]);
      let baseLock: LockfileIndex | undefined;
      try {
        headLock = await parseLockfile(hl.kind, texts.get(hl.path) ?? '', hl.path);
      } catch (e) {
        // A lockfile format this version cannot attribute is not the user's error: everything is affected, with the reason.
        if (!(e instanceof UnsupportedLockfile)) throw e;
        all = `${e.why} in ${hl.path}; everything is affected`;
      }
      try {
        if (headLock) {
          const bt = await readAll(opts.base, [bl.path]);
          baseLock = await parseLockfile(bl.kind, bt.get(bl.path) ?? '', bl.path);
        }
      } catch (e) {
        if (!(e instanceof ConfigError) && !(e instanceof UnsupportedLockfile)) throw e;
        all = `the lockfile at the base commit cannot be read (${e instanceof UnsupportedLockfile ? e.why : e.message}); everything is affected`;
      }
      if (baseLock && headLock) {
        // pnpm: only importers whose closure can differ are compared (a one-package bump stays cheap in a big monorepo).
        const candidates = importersThatMayDiffer(baseLock, headLock);
        const rootA = !candidates || candidates.has('.') ? baseLock.get('.') : undefined;
        const rootB = !candidates || candidates.has('.') ? headLock.get('.') : undefined;
        if (rootA?.fingerprint !== rootB?.fingerprint) {
          // The root's dependencies: a library any package may import means everything; a known command-line
          // tool affects the tasks whose scripts call it, and says which tool did. (Not the lockfile's
          // `hasBin`: libraries ship commands too — semver, typescript — and the pull request writes the lockfile.)
          const root = rootDependencyChanges(baseLock, headLock);
          const libraries = root?.filter((d) => !ROOT_TOOLS.has(d.name)) ?? [];
          const version = (d: RootDependencyChange) => (d.before && d.after ? `${d.before} → ${d.after}` : d.after ? `+ ${d.after}` : `- ${d.before}`);
          if (!root) all = `root dependencies changed in ${hl.path}: ${describeChanges(rootA, rootB, 3).join(', ')}`;
          else if (libraries.length) all = `root dependencies changed in ${hl.path}: ${libraries.slice(0, 3).map((d) => `${d.name} ${version(d)}`).join(', ')} (a library any package may import)`;
          else {
            for (const tool of root) {
              const bins = binNames(tool.name);
              const targetsCalling = callersOf(bins);
              let used = false;
              for (const p of ws.projects.values()) {
                const targets = targetsCalling(p.scripts).filter((t) => p.targets.has(t));
                if (!targets.length) continue;
                used = true;
                addReason(p.name, { kind: 'tool', tool: tool.name, change: version(tool), file: hl.path, targets });
              }
              if (!used) warnings.push(`root tool ${tool.name} changed in ${hl.path} (${version(tool)}); no project's script calls ${bins.join(' or ')}, so it selects nothing`);
            }
          }
        }
        for (const p of ws.projects.values()) {
          if (candidates && !candidates.has(p.root)) continue;
          const a = baseLock.get(p.root);
          const b = headLock.get(p.root);
          if (a?.fingerprint === b?.fingerprint) continue;
          if (!b && !a) continue;
          addReason(p.name, { kind: 'lockfile', file: hl.path, changes: describeChanges(a, b) });
          prodChanged.add(p.name);
        }
      }
    }
  }
  return result(all, direct, removed, unowned, prodChanged, ownFiles, headLock);
}
