/**
 * File-level test selection: follow `import` / `export … from` / `require()` /
 * dynamic `import()` (and jest/vitest `mock()` paths) from changed files back
 * to the test files that reach them. Relative specifiers and workspace package
 * names are resolved against the tree; anything that cannot be traced (a
 * changed fixture nobody imports, package.json, a lockfile change) selects
 * every test of the project that owns it, with that reason.
 */
import path from 'node:path/posix';
import { readAll, type Tree } from './tree.js';
import type { AffectedResult } from './affected.js';
import { compileGlob, inRoot, loadGlobEngine, Ownership } from './workspace.js';

export const CODE_EXT = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];
const RESOLVE_EXT = [...CODE_EXT, '.json', '.node'];
const DOC = /\.(md|mdx)$|(^|\/)(LICENSE|CHANGELOG)[^/]*$/i;
export const DEFAULT_TEST_GLOBS = ['**/*.{test,spec}.{ts,tsx,mts,cts,js,jsx,mjs,cjs}', '**/__tests__/**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}', '**/test/**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}', '**/tests/**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}'];

/** Remove comments, keeping strings (specifiers live in them). */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    const d = src[i + 1];
    if (c === '/' && d === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      out += ' ';
    } else if (c === '"' || c === "'" || c === '`') {
      const start = i++;
      while (i < n && src[i] !== c) {
        if (src[i] === '\\') i++;
        else if (c !== '`' && src[i] === '\n') break;
        i++;
      }
      out += src.slice(start, ++i);
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const PATTERNS = [
  /\bimport\s+(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s+)?["']([^"'\n]+)["']/g,
  /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s+["']([^"'\n]+)["']/g,
  /\b(?:require|import|require\.resolve|(?:jest|vi)\.(?:mock|requireActual|importActual|doMock))\s*\(\s*["']([^"'\n]+)["']/g,
];

/** Module specifiers a JS/TS source refers to. */
export function importsOf(src: string): string[] {
  const code = stripComments(src);
  const out = new Set<string>();
  for (const re of PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(code); m; m = re.exec(code)) out.add(m[1]!);
  }
  return [...out];
}

export interface TestSelection {
  /** Test files to run, sorted. */
  tests: string[];
  /** Per test file: the changed file it reaches (or why it was selected). */
  reasons: Record<string, string>;
  /** Projects whose every test is selected, with why. */
  wholeProjects: Record<string, string>;
  /** Per changed code file (tests excluded): how many test files import it, directly or not. 0 = no test reaches it. */
  testsPerFile?: Record<string, number>;
}

interface PackageEntry {
  name: string;
  root: string;
  entries: string[];
}

export async function selectTests(tree: Tree, affected: AffectedResult, changedFiles: readonly string[], testGlobs: readonly string[] = DEFAULT_TEST_GLOBS): Promise<TestSelection> {
  const ws = affected.workspace;
  await loadGlobEngine(testGlobs);
  const isTest = (() => {
    const ms = testGlobs.map((g) => compileGlob(g));
    return (f: string) => ms.some((m) => m.test(f));
  })();
  const ownership = new Ownership(ws.projects.values());
  const ownerOf = (file: string): string | undefined => ownership.owners(file)[0]?.name;
  const affectedNames = new Set(affected.projects.map((p) => p.name));
  const projectFiles = new Map<string, string[]>();
  for (const file of tree.files.keys()) {
    const owner = ownerOf(file);
    if (!owner) continue;
    if (!projectFiles.has(owner)) projectFiles.set(owner, []);
    projectFiles.get(owner)!.push(file);
  }

  const reasons: Record<string, string> = {};
  const wholeProjects: Record<string, string> = {};
  const selectAll = (project: string, why: string) => {
    if (wholeProjects[project]) return;
    wholeProjects[project] = why;
    for (const f of projectFiles.get(project) ?? []) if (isTest(f) && !reasons[f]) reasons[f] = why;
  };

  // Projects affected without a traceable file change: all their tests.
  for (const ap of affected.projects) {
    const r = ap.reasons[0]!;
    if (r.kind === 'all' || r.kind === 'new' || r.kind === 'lockfile') selectAll(ap.name, r.kind === 'lockfile' ? `${r.file}: ${r.changes.join(', ')}` : r.kind === 'all' ? r.why : 'new project');
    for (const x of ap.reasons) if (x.kind === 'lockfile') selectAll(ap.name, `${x.file}: ${x.changes.join(', ')}`);
  }
  if (affected.all) return finish(reasons, wholeProjects);

  // Read every code file of the affected projects (dependents are where tests live).
  const scan = [...affectedNames].flatMap((n) => (projectFiles.get(n) ?? []).filter((f) => CODE_EXT.includes(path.extname(f))));
  const manifests = await readAll(tree, [...ws.projects.values()].map((p) => inRoot(p.root, 'package.json')));
  const sources = await readAll(tree, scan);

  const packages = new Map<string, PackageEntry>();
  for (const p of ws.projects.values()) {
    const entries: string[] = [];
    const m = manifests.get(inRoot(p.root, 'package.json'));
    let manifest: Record<string, unknown> = {};
    try {
      manifest = m ? (JSON.parse(m) as Record<string, unknown>) : {};
    } catch {
      /* discovery already validated it */
    }
    const candidates: string[] = [];
    const exp = manifest['exports'];
    const pickExport = (e: unknown): void => {
      if (typeof e === 'string') candidates.push(e);
      else if (e && typeof e === 'object') {
        const o = e as Record<string, unknown>;
        pickExport(o['.'] ?? undefined);
        for (const cond of ['types', 'import', 'module', 'require', 'default', 'node']) if (cond in o) pickExport(o[cond]);
      }
    };
    pickExport(exp);
    for (const k of ['types', 'typings', 'module', 'main']) if (typeof manifest[k] === 'string') candidates.push(manifest[k] as string);
    for (const c of candidates) {
      const f = path.join(p.root, c);
      const resolved = resolveFile(tree, f) ?? resolveFile(tree, f.replace(/(^|\/)(dist|lib|build|out)\//, '$1src/').replace(/\.d\.ts$|\.js$|\.mjs$|\.cjs$/, ''));
      if (resolved) entries.push(resolved);
    }
    if (!entries.length) for (const c of ['src/index', 'index', 'src/main', 'lib/index']) {
      const r = resolveFile(tree, path.join(p.root, c));
      if (r) {
        entries.push(r);
        break;
      }
    }
    packages.set(p.name, { name: p.name, root: p.root, entries: [...new Set(entries)] });
  }

  // Reverse import graph over the scanned files.
  const importers = new Map<string, Set<string>>();
  const edge = (from: string, to: string) => {
    if (!importers.has(to)) importers.set(to, new Set());
    importers.get(to)!.add(from);
  };
  for (const [file, src] of sources) {
    for (const spec of importsOf(src)) {
      if (spec.startsWith('.') || spec.startsWith('/')) {
        const r = resolveFile(tree, path.join(path.dirname(file), spec));
        if (r) edge(file, r);
        continue;
      }
      const pkgName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      const pkg = packages.get(pkgName);
      if (!pkg) continue; // external module
      const sub = spec.slice(pkgName.length + 1);
      if (sub) {
        const r = resolveFile(tree, path.join(pkg.root, sub)) ?? resolveFile(tree, path.join(pkg.root, 'src', sub));
        edge(file, r ?? `pkg:${pkg.name}`);
      } else if (pkg.entries.length) for (const e of pkg.entries) edge(file, e);
      else edge(file, `pkg:${pkg.name}`);
    }
  }

  // Walk from each changed file to the tests that reach it.
  const testsPerFile: Record<string, number> = {};
  for (const changed of changedFiles) {
    if (DOC.test(changed)) continue;
    const owner = ownerOf(changed);
    const traceable = CODE_EXT.includes(path.extname(changed)) || importers.has(changed);
    if (!traceable) {
      if (owner && affectedNames.has(owner)) selectAll(owner, `${changed} changed and is not imported by code (config or fixture)`);
      continue;
    }
    const seen = new Set<string>([changed]);
    const queue = [changed];
    if (owner) queue.push(`pkg:${owner}`);
    let reached = 0;
    for (let q = 0; q < queue.length; q++) {
      const cur = queue[q]!;
      if (isTest(cur) && tree.files.has(cur)) {
        if (cur !== changed) reached++;
        if (!reasons[cur]) reasons[cur] = cur === changed ? 'changed' : `imports ${changed}`;
      }
      for (const imp of importers.get(cur) ?? []) {
        if (!seen.has(imp)) {
          seen.add(imp);
          queue.push(imp);
        }
      }
    }
    if (!isTest(changed) && tree.files.has(changed) && CODE_EXT.includes(path.extname(changed))) testsPerFile[changed] = reached;
  }
  return { ...finish(reasons, wholeProjects), testsPerFile };
}

function finish(reasons: Record<string, string>, wholeProjects: Record<string, string>): TestSelection {
  const tests = Object.keys(reasons).sort();
  return { tests, reasons: Object.fromEntries(tests.map((t) => [t, reasons[t]!])), wholeProjects };
}

/** Node/TypeScript-style resolution of a path inside the tree: exact, with extensions, `.js`→`.ts`, index files. */
export function resolveFile(tree: Tree, p: string): string | undefined {
  const f = path.normalize(p).replace(/^\.\//, '');
  if (tree.files.has(f) && !f.endsWith('/')) return f;
  const noJs = f.replace(/\.(m|c)?jsx?$/, '');
  if (noJs !== f) for (const ext of ['.ts', '.tsx', '.mts', '.cts', '.d.ts']) if (tree.files.has(noJs + ext)) return noJs + ext;
  for (const ext of RESOLVE_EXT) if (tree.files.has(f + ext)) return f + ext;
  for (const ext of CODE_EXT) if (tree.files.has(`${f}/index${ext}`)) return `${f}/index${ext}`;
  return undefined;
}
