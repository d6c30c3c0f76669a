import { afterEach, describe, expect, test } from '@jest/globals';
import { GitFixture } from '@maestro/harness';
import { buildMatrix, computeAffected, describeReason, importsOf, memoryTree, resolveBase, resolveFile, selectTests, stripComments, type AffectedTask } from '../src/index.js';

let fx: GitFixture | undefined;
afterEach(() => fx?.dispose());

describe('import scanning', () => {
  test('finds import/export/require/dynamic import/mock specifiers, ignores comments, keeps strings', () => {
    const src = [
      "import a from './a';",
      "import type { B } from \"./b.js\";",
      "import './side-effect';",
      "export * from './c';",
      "export { d } from '@scope/pkg/sub';",
      "const e = require('./e.cjs');",
      "const f = await import('./f');",
      "jest.mock('./g');",
      "// import x from './commented';",
      "/* require('./block') */",
      "const s = \"// not a comment\"; import h from './h';",
      "import {\n  i,\n  j,\n} from './multi';",
    ].join('\n');
    expect(importsOf(src).sort()).toEqual(['./a', './b.js', './c', './e.cjs', './f', './g', './h', './multi', './side-effect', '@scope/pkg/sub']);
    expect(stripComments("a // b\nc /* d */ e 'f // g'")).toBe("a \nc   e 'f // g'");
  });

  test('resolves extensions, .js → .ts, and index files', () => {
    const t = memoryTree('x', { 'p/a.ts': '', 'p/b/index.tsx': '', 'p/c.json': '', 'p/d.mts': '' });
    expect(resolveFile(t, 'p/a')).toBe('p/a.ts');
    expect(resolveFile(t, 'p/a.js')).toBe('p/a.ts');
    expect(resolveFile(t, 'p/d.mjs')).toBe('p/d.mts');
    expect(resolveFile(t, 'p/b')).toBe('p/b/index.tsx');
    expect(resolveFile(t, 'p/c.json')).toBe('p/c.json');
    expect(resolveFile(t, 'p/zzz')).toBeUndefined();
  });

  test('selects reachable tests across packages; an unimported fixture selects its whole project, saying why', async () => {
    const files = {
      'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
      'packages/u/package.json': JSON.stringify({ name: 'u', main: 'dist/index.js', scripts: { test: 'x' } }),
      'packages/u/src/index.ts': "export * from './a.js';\n",
      'packages/u/src/a.ts': "import { b } from './b';\nexport const a = b;\n",
      'packages/u/src/b.ts': 'export const b = 1;\n',
      'packages/u/src/lonely.ts': 'export const l = 1;\n',
      'packages/u/src/a.test.ts': "import { a } from './a';\n",
      'packages/u/src/lonely.test.ts': "import { l } from './lonely';\n",
      'packages/u/test/fixtures/data.txt': 'x\n',
      'packages/v/package.json': JSON.stringify({ name: 'v', dependencies: { u: 'workspace:*' }, scripts: { test: 'x' } }),
      'packages/v/src/v.ts': "import { a } from 'u';\nexport const v = a;\n",
      'packages/v/src/v.spec.ts': "import { v } from '../src/v';\n",
      'packages/v/src/other.spec.ts': 'export {};\n',
    };
    const base = memoryTree('base', files);
    const head = memoryTree('head', { ...files, 'packages/u/src/b.ts': 'export const b = 2;\n' });
    const r = await computeAffected({ base, head, changes: [{ status: 'modified', path: 'packages/u/src/b.ts' }] });
    const sel = await selectTests(head, r, ['packages/u/src/b.ts']);
    expect(sel.tests).toEqual(['packages/u/src/a.test.ts', 'packages/v/src/v.spec.ts']);
    expect(sel.reasons['packages/v/src/v.spec.ts']).toBe('imports packages/u/src/b.ts');

    const head2 = memoryTree('head2', { ...files, 'packages/u/test/fixtures/data.txt': 'y\n' });
    const r2 = await computeAffected({ base, head: head2, changes: [{ status: 'modified', path: 'packages/u/test/fixtures/data.txt' }] });
    const sel2 = await selectTests(head2, r2, ['packages/u/test/fixtures/data.txt']);
    expect(sel2.tests).toEqual(['packages/u/src/a.test.ts', 'packages/u/src/lonely.test.ts']);
    expect(sel2.wholeProjects).toEqual({ u: 'packages/u/test/fixtures/data.txt changed and is not imported by code (config or fixture)' });
  });
});

describe('matrix', () => {
  const tasks = (n: number, target: string): AffectedTask[] => Array.from({ length: n }, (_, i) => ({ project: `p${i}`, root: `packages/p${i}`, target, reason: 'x' }));

  test('one job per task up to the limit; packed beyond it, never more than max-jobs, nothing lost or duplicated', () => {
    expect(buildMatrix(tasks(3, 'build')).include).toHaveLength(3);
    const big = [...tasks(600, 'build'), ...tasks(300, 'test')];
    const m = buildMatrix(big);
    expect(m.include.length).toBeLessThanOrEqual(256);
    const flat = m.include.flatMap((e) => e.projects.split(' ').map((p) => `${e.target}:${p}`));
    expect(flat.sort()).toEqual(big.map((t) => `${t.target}:${t.project}`).sort());
    expect(new Set(flat).size).toBe(900);
    expect(buildMatrix(tasks(10, 'build'), 3).include.map((e) => e.projects.split(' ').length)).toEqual([4, 4, 2]);
  });
});

describe('base resolution', () => {
  test('pull_request head checkout (not a merge commit): merge-base with the PR base, deepening a shallow clone', async () => {
    fx = GitFixture.create();
    fx.commit('root', { a: '1' });
    const forkPoint = fx.commit('fork point', { a: '2' });
    fx.branch('feature');
    for (let i = 0; i < 4; i++) fx.commit(`f${i}`, { [`f${i}`]: 'x' });
    const headSha = fx.head();
    fx.checkout('main');
    const baseSha = fx.commit('main moves on', { b: '1' });
    fx.push('main', 'feature');
    const dir = fx.checkoutLike(headSha, { depth: 1 });
    const r = await resolveBase({ cwd: dir, eventName: 'pull_request', event: { pull_request: { base: { sha: baseSha }, head: { sha: headSha } } }, sha: headSha, ref: 'refs/pull/1/merge' });
    expect(r).toMatchObject({ base: forkPoint, source: 'pr-merge-base', head: headSha });
    expect(r.fetched).toEqual([baseSha]);
  });

  test('events without a base and without a runs lookup say why instead of guessing', async () => {
    fx = GitFixture.create();
    const sha = fx.commit('only', { a: '1' });
    const r = await resolveBase({ cwd: fx.work, eventName: 'workflow_dispatch', event: {}, sha, ref: 'refs/heads/main' });
    expect(r.base).toBeUndefined();
    expect(r.reason).toBe('workflow_dispatch has no base commit; looking up the last successful run needs a token');
    const first = await resolveBase({ cwd: fx.work, eventName: 'push', event: { before: '0'.repeat(40), repository: { default_branch: 'main' } }, sha, ref: 'refs/heads/main' });
    expect(first.reason).toMatch(/new branch was pushed .* no other branch/);
  });
});

describe('Cargo workspace crates (non-JavaScript projects in the same repository)', () => {
  const files: Record<string, string> = {
    'pnpm-workspace.yaml': 'packages:\n  - "packages/*"\n',
    'package.json': JSON.stringify({ name: 'root', private: true }),
    'packages/web/package.json': JSON.stringify({ name: 'web', scripts: { test: 'x' } }),
    'packages/web/index.ts': 'export {};\n',
    'Cargo.toml': '[workspace]\nmembers = ["crates/*", "tools/gen"]\nexclude = ["crates/scratch"]\n\n[workspace.dependencies]\ncore = { path = "crates/core" }\nserde = "1"\n',
    'Cargo.lock': 'version = 3\n',
    'crates/core/Cargo.toml': '[package]\nname = "core"\nversion = "0.1.0"\n',
    'crates/core/src/lib.rs': 'pub fn f() {}\n',
    // Inherits the path dependency from [workspace.dependencies]; serde is a registry crate, not an edge.
    'crates/cli/Cargo.toml': '[package]\nname = "cli"\nversion = "0.1.0"\n\n[dependencies]\ncore = { workspace = true }\nserde = { workspace = true }\n',
    'crates/cli/src/main.rs': 'fn main() {}\n',
    // A dev-dependency written as a path, under a target table.
    'tools/gen/Cargo.toml': "[package]\nname = \"gen\"\nversion = \"0.1.0\"\n\n[target.'cfg(unix)'.dev-dependencies]\ncli = { path = \"../../crates/cli\" }\n",
    'tools/gen/src/main.rs': 'fn main() {}\n',
    'crates/scratch/Cargo.toml': '[package]\nname = "scratch"\n',
    'crates/scratch/src/lib.rs': '\n',
  };
  const run = async (change: Record<string, string>, path: string) => {
    const base = memoryTree('base', files);
    const head = memoryTree('head', { ...files, ...change });
    return computeAffected({ base, head, changes: [{ status: 'modified', path }] });
  };

  test('members are projects with path edges (written or inherited); a change in one crate affects its dependents only', async () => {
    const r = await run({ 'crates/core/src/lib.rs': 'pub fn f() { g() }\n' }, 'crates/core/src/lib.rs');
    expect([...r.workspace.projects.values()].filter((p) => p.source === 'cargo').map((p) => [p.name, p.root, [...p.deps.keys()]])).toEqual([
      ['cli', 'crates/cli', ['core']],
      ['core', 'crates/core', []],
      ['gen', 'tools/gen', ['cli']],
    ]);
    expect(r.projects.map((p) => p.name)).toEqual(['cli', 'core', 'gen']);
    expect(r.unowned).toEqual([]);
    expect(r.tasks.map((t) => `${t.project}:${t.target}`)).toEqual(['cli:build', 'cli:test', 'core:build', 'core:test', 'gen:build', 'gen:test']);
  });

  test('Cargo.lock and the workspace manifest affect every crate and no JavaScript package; a JS change no crate', async () => {
    const lock = await run({ 'Cargo.lock': 'version = 4\n' }, 'Cargo.lock');
    expect(lock.all).toBe(false);
    expect(lock.projects.map((p) => p.name)).toEqual(['cli', 'core', 'gen']);
    expect(describeReason(lock.projects[0]!.reasons[0]!)).toBe('Cargo.lock changed');
    const js = await run({ 'packages/web/index.ts': 'export const x = 1;\n' }, 'packages/web/index.ts');
    expect(js.projects.map((p) => p.name)).toEqual(['web']);
  });

  test('bad Cargo.toml: a ConfigError at its line; a crate named like a package is left out with a warning', async () => {
    await expect(run({ 'crates/core/Cargo.toml': '[package\nname = "core"\n' }, 'crates/core/Cargo.toml')).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringMatching(/invalid TOML/) });
    const clash = await run({ 'crates/core/Cargo.toml': '[package]\nname = "web"\n' }, 'crates/core/Cargo.toml');
    expect(clash.warnings.join('\n')).toMatch(/crate web \(crates\/core\) has the name of a package at packages\/web; the crate is not a project/);
  });
});

describe('what pnpm accepts in a workspace: two packages of one name (vite test fixtures), a manifest with a BOM', () => {
  test('the first in path order keeps the name, the other is no project, a warning says so; nothing fails', async () => {
    const files: Record<string, string> = {
      'pnpm-workspace.yaml': 'packages:\n  - "packages/*"\n  - "packages/*/dir/**"\n  - "packages/**/__tests__/**"\n',
      'packages/vite/package.json': JSON.stringify({ name: 'vite', scripts: { test: 'x' } }),
      'packages/vite/src/index.ts': 'export {};\n',
      'packages/vite/src/__tests__/a/package.json': JSON.stringify({ name: 'mylib' }),
      'packages/vite/src/__tests__/b/package.json': JSON.stringify({ name: 'mylib' }),
      'packages/vite/src/__tests__/b/index.js': 'x\n',
      // The directory a trailing /** names is a package too (pnpm globs <pattern>/package.json).
      'packages/vite/src/node/__tests__/package.json': JSON.stringify({ name: 'unit-node' }),
      // Same name, nested deeper: the outer package keeps it.
      'packages/outer/package.json': JSON.stringify({ name: 'dup' }),
      'packages/outer/dir/module/package.json': JSON.stringify({ name: 'dup' }),
      // A manifest with a byte-order mark, as npm and pnpm accept it.
      'packages/bom/package.json': '\uFEFF' + JSON.stringify({ name: 'bom' }),
    };
    const base = memoryTree('base', files);
    const head = memoryTree('head', { ...files, 'packages/vite/src/__tests__/b/index.js': 'y\n' });
    const r = await computeAffected({ base, head, changes: [{ status: 'modified', path: 'packages/vite/src/__tests__/b/index.js' }] });
    expect(r.workspace.projects.get('mylib')?.root).toBe('packages/vite/src/__tests__/a');
    expect(r.warnings.join('\n')).toMatch(/packages\/vite\/src\/__tests__\/b\/package.json: the name mylib is taken by packages\/vite\/src\/__tests__\/a/);
    expect(r.projects.map((p) => p.name)).toEqual(['vite']);
    expect(r.workspace.projects.get('bom')?.root).toBe('packages/bom');
    expect(r.workspace.projects.get('unit-node')?.root).toBe('packages/vite/src/node/__tests__');
    expect(r.workspace.projects.get('dup')?.root).toBe('packages/outer');
  });
});

describe('the workspace root as a project: what a review found', () => {
  const files: Record<string, string> = {
    'pnpm-workspace.yaml': 'packages:\n  - "packages/*"\n',
    // The root depends on a package (as this repository's own root does) and has scripts of every kind.
    'package.json': JSON.stringify({ name: 'root', devDependencies: { a: 'workspace:*' }, scripts: { test: 'pnpm test:all', 'test:all': 'pnpm -r test', preview: 'vite preview', 'prettier:check': 'prettier -c .', pretest: 'x', postinstall: 'husky', lint: 'eslint .' } }),
    'packages/a/package.json': JSON.stringify({ name: 'a', scripts: { test: 'x' } }),
    'packages/a/src/index.ts': 'export {};\n',
    'scripts/release.mjs': 'x\n',
    'Cargo.toml': '[workspace]\nmembers = ["packages/*", "crates/*"]\n',
    // A napi crate in the same folder as a package.json.
    'packages/a/Cargo.toml': '[package]\nname = "a_core"\n',
    'packages/a/src/lib.rs': 'pub fn f() {}\n',
    'crates/user/Cargo.toml': '[package]\nname = "user"\n\n[dependencies]\na_core = { path = "../../packages/a" }\n',
    'crates/user/src/lib.rs': '\n',
  };
  const run = async (head: Record<string, string | null>, changed: string[]) => {
    const next = { ...files, ...head };
    for (const [k, v] of Object.entries(head)) if (v === null) delete next[k];
    return computeAffected({ base: memoryTree('b', files), head: memoryTree('h', next as Record<string, string>), changes: changed.map((p) => ({ status: head[p] === null ? 'deleted' : 'modified', path: p })) });
  };

  test("root targets: scripts that reach a workspace-wide runner through another script, and install hooks, are not targets; 'preview' and 'prettier:check' are", async () => {
    const r = await run({ 'scripts/release.mjs': 'y\n' }, ['scripts/release.mjs']);
    expect([...r.workspace.projects.get('root')!.targets.keys()].sort()).toEqual(['lint', 'prettier:check', 'preview']);
    expect(r.tasks.map((t) => `${t.project}:${t.target}`)).toEqual(['root:lint', 'root:prettier:check', 'root:preview']);
  });

  test('a package the root depends on changing does not run the root’s scripts', async () => {
    const r = await run({ 'packages/a/src/index.ts': 'export const x = 1;\n' }, ['packages/a/src/index.ts']);
    expect(r.projects.map((p) => p.name)).toContain('root');
    expect(r.tasks.filter((t) => t.project === 'root')).toEqual([]);
  });

  test('a crate beside a package.json owns its files too; removing a crate is a removal, not a root change', async () => {
    const r = await run({ 'packages/a/src/lib.rs': 'pub fn f() { g() }\n' }, ['packages/a/src/lib.rs']);
    expect(r.projects.map((p) => p.name).sort()).toEqual(['a', 'a_core', 'root', 'user']);
    const gone = await run({ 'crates/user/Cargo.toml': null, 'crates/user/src/lib.rs': null }, ['crates/user/Cargo.toml', 'crates/user/src/lib.rs']);
    expect(gone.removed).toEqual([{ name: 'user', root: 'crates/user' }]);
    expect(gone.tasks).toEqual([]);
  });

  test('a root package.json with a byte-order mark: a description edit is not "everything"', async () => {
    const bom = { 'package.json': '\uFEFF' + files['package.json']! };
    const base = memoryTree('b', { ...files, ...bom });
    const head = memoryTree('h', { ...files, 'package.json': '\uFEFF' + JSON.stringify({ ...JSON.parse(files['package.json']!), description: 'x' }) });
    const r = await computeAffected({ base, head, changes: [{ status: 'modified', path: 'package.json' }] });
    expect(r.all).toBe(false);
  });
});
