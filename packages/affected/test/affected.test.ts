import { afterEach, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GitFixture } from '@maestro/harness';
import { ConfigError, diffFiles } from '@maestro/core';
import { computeAffected, computeKeys, describeReason, gitTree, parseNpmLock, parsePnpmLock, reasonsMap, type AffectedResult } from '../src/index.js';

const FIX = path.resolve('packages/affected/test/fixtures');
const fixture = (f: string) => readFileSync(path.join(FIX, f), 'utf8');
const J = (o: unknown) => JSON.stringify(o, null, 2) + '\n';
const pkg = (name: string, deps: Record<string, string> = {}, extra: Record<string, unknown> = {}) => J({ name, version: '1.0.0', scripts: { build: 'tsc', test: 'jest' }, dependencies: deps, ...extra });

let fx: GitFixture | undefined;
afterEach(() => fx?.dispose());

/** utils ← api ← web-app, and docs-site standalone; a pnpm lockfile with real entries. */
function shop(extra: Record<string, string | null> = {}): GitFixture {
  fx = GitFixture.create();
  fx.commit('base', {
    'package.json': J({ name: 'shop', private: true, scripts: { lint: 'eslint .' }, devDependencies: { typescript: '5.9.3' } }),
    'pnpm-workspace.yaml': 'packages:\n  - packages/*\n  - apps/*\n  - "!packages/ignored"\n',
    'README.md': '# shop\n',
    'packages/utils/package.json': pkg('@shop/utils'),
    'packages/utils/src/money.ts': 'export const cents = (n: number) => Math.round(n * 100);\n',
    'packages/utils/src/index.ts': "export * from './money.js';\n",
    'packages/utils/test/money.test.ts': "import { cents } from '../src/money';\n",
    'packages/utils/README.md': '# utils\n',
    'packages/api/package.json': pkg('@shop/api', { '@shop/utils': 'workspace:^' }),
    'packages/api/src/checkout.ts': "import { cents } from '@shop/utils';\nexport const total = (xs: number[]) => cents(xs[0]!);\n",
    'packages/api/src/checkout.test.ts': "import { total } from './checkout';\n",
    'apps/web-app/package.json': pkg('web-app', {}, { devDependencies: { '@shop/api': '1.0.0' } }),
    'apps/web-app/src/app.ts': "import { total } from '@shop/api';\n",
    'packages/docs-site/package.json': pkg('docs-site'),
    'packages/docs-site/index.md': '# docs\n',
    'packages/ignored/package.json': pkg('ignored'),
    'docs/NOTES.md': 'notes\n',
    ...extra,
  });
  return fx;
}

async function affectedBetween(f: GitFixture, base: string, head = 'HEAD', opts: Partial<Parameters<typeof computeAffected>[0]> = {}): Promise<AffectedResult> {
  const g = { cwd: f.work };
  const [b, h] = await Promise.all([gitTree(base, g), gitTree(head, g)]);
  return computeAffected({ base: b, head: h, changes: await diffFiles(base, head, g), ...opts });
}

const names = (r: AffectedResult) => r.projects.map((p) => p.name);
const tasks = (r: AffectedResult) => r.tasks.map((t) => `${t.project}:${t.target}`);

describe('project discovery and closure', () => {
  test('a source edit selects the project and its dependents, with the chain that explains each', async () => {
    const f = shop();
    const base = f.head();
    f.commit('edit', { 'packages/utils/src/money.ts': 'export const cents = (n: number) => Math.floor(n * 100 + 0.5);\n' });
    const r = await affectedBetween(f, base);
    expect(names(r)).toEqual(['@shop/api', '@shop/utils', 'web-app']);
    expect(r.workspace.projects.has('ignored')).toBe(false); // negated glob
    const reasons = reasonsMap(r);
    expect(reasons['@shop/utils']).toEqual(['packages/utils/src/money.ts changed']);
    expect(reasons['@shop/api']).toEqual(['depends on @shop/utils (@shop/api → @shop/utils): packages/utils/src/money.ts changed']);
    expect(reasons['web-app']![0]).toBe('depends on @shop/utils (web-app → @shop/api → @shop/utils): packages/utils/src/money.ts changed');
    expect(tasks(r)).toEqual(['@shop/api:build', '@shop/api:test', '@shop/utils:build', '@shop/utils:test', 'web-app:build', 'web-app:test']);
    expect(r.all).toBe(false);
  });

  test('README-only edit: the project is listed but no task runs; root docs belong to the workspace root, which runs nothing for them', async () => {
    const f = shop();
    const base = f.head();
    f.commit('docs', { 'packages/utils/README.md': '# utils\n\nMore.\n', 'docs/NOTES.md': 'more notes\n', 'README.md': '# shop!\n' });
    const r = await affectedBetween(f, base);
    // The named root is a project, as pnpm's --filter sees it: it owns what no package owns.
    expect(names(r)).toEqual(['@shop/api', '@shop/utils', 'shop', 'web-app']);
    expect(reasonsMap(r)['shop']).toEqual(['README.md changed', 'docs/NOTES.md changed']);
    expect(r.tasks).toEqual([]);
    expect(r.unowned).toEqual([]);
  });

  test('a test-only edit runs that project’s tests, not its build nor its dependents’ tasks', async () => {
    const f = shop();
    const base = f.head();
    f.commit('test', { 'packages/utils/test/money.test.ts': "import { cents } from '../src/money';\n// more\n" });
    const r = await affectedBetween(f, base);
    expect(tasks(r)).toEqual(['@shop/utils:test']);
  });

  test('renames count on both sides; deletions and unicode paths are attributed', async () => {
    const f = shop({ 'packages/docs-site/ümlaut ñ.ts': 'export const x = 1;\n' });
    const base = f.head();
    f.commit('move', { 'packages/api/src/money-copy.ts': { renameFrom: 'packages/utils/src/money.ts' }, 'packages/docs-site/ümlaut ñ.ts': null });
    const r = await affectedBetween(f, base);
    expect(reasonsMap(r)['@shop/utils']).toEqual(['packages/utils/src/money.ts changed']);
    expect(reasonsMap(r)['@shop/api']).toContain('packages/api/src/money-copy.ts changed');
    expect(reasonsMap(r)['docs-site']).toEqual(['packages/docs-site/ümlaut ñ.ts changed']);
  });

  test('a deleted leaf package is reported as removed and selects nothing else', async () => {
    const f = shop();
    const base = f.head();
    f.commit('rm', { 'apps/web-app/package.json': null, 'apps/web-app/src/app.ts': null });
    const r = await affectedBetween(f, base);
    expect(r.removed).toEqual([{ name: 'web-app', root: 'apps/web-app' }]);
    expect(r.projects).toEqual([]);
  });

  test('a new package is affected as new', async () => {
    const f = shop();
    const base = f.head();
    f.commit('add', { 'packages/cart/package.json': pkg('@shop/cart', { '@shop/utils': 'workspace:*' }), 'packages/cart/src/cart.ts': 'export {};\n' });
    const r = await affectedBetween(f, base);
    expect(names(r)).toEqual(['@shop/cart']);
    expect(describeReason(r.projects[0]!.reasons[0]!)).toBe('new project (packages/cart/package.json)');
  });

  test('root package.json: scripts-only edits affect the workspace root alone (not a script that runs every package), dependency edits affect everything', async () => {
    const f = shop();
    const base = f.head();
    f.commit('scripts', { 'package.json': J({ name: 'shop', private: true, scripts: { lint: 'eslint .', fmt: 'prettier -w .', 'test-all': 'pnpm -r test', postinstall: 'husky' }, devDependencies: { typescript: '5.9.3' } }) });
    const scripts = await affectedBetween(f, base);
    expect(names(scripts)).toEqual(['shop']);
    expect(reasonsMap(scripts)['shop']).toEqual(['package.json changed']);
    // `pnpm -r test` from the root would run every package again; postinstall is an install hook.
    expect(tasks(scripts)).toEqual(['shop:fmt', 'shop:lint']);
    const mid = f.head();
    f.commit('deps', { 'package.json': J({ name: 'shop', private: true, scripts: {}, devDependencies: { typescript: '5.9.2' } }) });
    const r = await affectedBetween(f, mid);
    expect(r.all).toBe(true);
    expect(r.allReason).toMatch(/root package.json changed/);
    expect(names(r)).toHaveLength(5); // four packages and the root
  });

  test('global inputs (turbo.json, tsconfig.base.json, configured globs) affect everything with the reason', async () => {
    const f = shop({ 'maestro.projects.yaml': 'global:\n  - "tools/**"\n' });
    const base = f.head();
    f.commit('tool', { 'tools/gen.mjs': 'x\n' });
    const r = await affectedBetween(f, base);
    expect(r.all).toBe(true);
    expect(r.allReason).toBe('tools/gen.mjs is a global input');
    expect(r.tasks.length).toBe(9); // the root's lint included
    const mid = f.head();
    f.commit('turbo', { 'turbo.json': '{}\n' });
    expect((await affectedBetween(f, mid)).allReason).toBe('turbo.json is a global input');
  });

  test('pnpm-workspace.yaml: a catalog edit is left to the lockfile; a glob edit changes the graph (the newly included project), not everything', async () => {
    const f = shop();
    const base = f.head();
    f.commit('catalog', { 'pnpm-workspace.yaml': 'packages:\n  - packages/*\n  - apps/*\n  - "!packages/ignored"\ncatalog:\n  ms: ^2.1.3\n' });
    expect((await affectedBetween(f, base)).all).toBe(false);
    const mid = f.head();
    f.commit('globs', { 'pnpm-workspace.yaml': 'packages:\n  - packages/*\n  - apps/*\n' });
    const r = await affectedBetween(f, mid);
    expect(r.all).toBe(false);
    expect(names(r)).toEqual(['ignored']);
    expect(reasonsMap(r)['ignored']![0]).toMatch(/new project/);
  });

  test('dependency cycles are reported, and the closure terminates', async () => {
    const f = shop();
    const base = f.head();
    f.commit('cycle', { 'packages/utils/package.json': pkg('@shop/utils', { 'web-app': 'workspace:*' }) });
    const r = await affectedBetween(f, base);
    expect(r.cycles).toEqual([['@shop/api', '@shop/utils', 'web-app']]);
    expect(r.warnings.join('\n')).toMatch(/dependency cycle: @shop\/api → @shop\/utils → web-app → @shop\/api/);
    expect(names(r)).toEqual(['@shop/api', '@shop/utils', 'web-app']);
  });

  test('include-dependencies adds what a build of the affected projects needs, with its own reason', async () => {
    const f = shop();
    const base = f.head();
    f.commit('web', { 'apps/web-app/src/app.ts': "import { total } from '@shop/api';\nexport {};\n" });
    const r = await affectedBetween(f, base, 'HEAD', { includeDependencies: true });
    expect(names(r)).toEqual(['@shop/api', '@shop/utils', 'web-app']);
    expect(reasonsMap(r)['@shop/utils']).toEqual(['needed to build web-app (@shop/utils ← @shop/api ← web-app)']);
    expect(tasks(r)).toEqual(['@shop/api:build', '@shop/utils:build', 'web-app:build', 'web-app:test']);
  });
});

describe('bad input is a ConfigError with file and line', () => {
  test('malformed package.json', async () => {
    const f = shop();
    f.commit('bad', { 'packages/api/package.json': '{\n  "name": "@shop/api",\n  "dependencies": {,}\n}\n' });
    const err = await affectedBetween(f, 'HEAD~1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe('packages/api/package.json');
    expect((err as ConfigError).line).toBe(3);
  });

  test('valid JSON of the wrong shape: the schema explains what and where', async () => {
    const f = shop();
    f.commit('bad', { 'packages/api/package.json': '{\n  "name": "@shop/api",\n  "dependencies": {\n    "@shop/utils": 1\n  }\n}\n' });
    const err = await affectedBetween(f, 'HEAD~1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe('packages/api/package.json');
    expect((err as ConfigError).line).toBe(4);
    expect((err as ConfigError).message).toMatch(/dependencies\.@shop\/utils: .*string/i);
  });

  test('malformed maestro.projects.yaml: syntax and schema', async () => {
    const f = shop({ 'maestro.projects.yaml': 'projects:\n  - name: api\n    root: services/api\n    depends-on: [proto\n' });
    const err = await affectedBetween(f, 'HEAD').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe('maestro.projects.yaml');
    expect((err as ConfigError).line).toBeGreaterThanOrEqual(4);
    f.commit('schema', { 'maestro.projects.yaml': 'projects:\n  - name: api\n    root: services/api\n    tasks: {}\n' });
    const err2 = await affectedBetween(f, 'HEAD').catch((e: unknown) => e);
    expect((err2 as ConfigError).line).toBe(4); // the unknown key itself
    expect((err2 as ConfigError).message).toMatch(/tasks/);
  });

  test('a config project depending on an unknown project', async () => {
    const f = shop({ 'maestro.projects.yaml': 'projects:\n  - name: api-go\n    root: services/api\n    depends-on: [proto]\n' });
    const err = await affectedBetween(f, 'HEAD').catch((e: unknown) => e);
    expect((err as ConfigError).message).toMatch(/depends on 'proto', which is not a project/);
  });

  test('a malformed lockfile at head makes everything affected, naming the file and line (not a crash: the change may be fine)', async () => {
    const f = shop({ 'pnpm-lock.yaml': fixture('pnpm-lock.v1.yaml') });
    const base = f.head();
    f.commit('bad lock', { 'pnpm-lock.yaml': 'lockfileVersion: "9.0"\nimporters:\n  .: {\n' });
    const r = await affectedBetween(f, base);
    expect(r.all).toBe(true);
    expect(r.allReason).toMatch(/^it does not parse as YAML \(line [2-9]: .*\) in pnpm-lock\.yaml; everything is affected$/);
  });
});

describe('non-JS and Nx projects', () => {
  test('maestro.projects.yaml projects with depends-on, ownership globs and targets; Nx project.json', async () => {
    const f = shop({
      'maestro.projects.yaml': [
        'projects:',
        '  - name: proto',
        '    root: proto',
        '    targets: { build: { inputs: ["**/*.proto"], outputs: ["gen/**"] } }',
        '  - name: api-go',
        '    root: services/api',
        '    depends-on: [proto]',
        '    inputs: ["**/*.go", "go.mod", "/scripts/go-*.sh"]',
        '    targets: { build: { inputs: ["**/*.go", "go.mod"], env: [GOFLAGS] }, test: {} }',
        '',
      ].join('\n'),
      'proto/shop.proto': 'syntax = "proto3";\n',
      'services/api/main.go': 'package main\n',
      'services/api/README.md': 'go\n',
      'scripts/go-lint.sh': 'true\n',
      'libs/nx-lib/project.json': J({ name: 'nx-lib', implicitDependencies: ['proto'], targets: { build: {}, lint: {} } }),
      'libs/nx-lib/src/a.ts': 'export {};\n',
    });
    const base = f.head();
    f.commit('proto', { 'proto/shop.proto': 'syntax = "proto3";\nmessage A {}\n' });
    const r = await affectedBetween(f, base);
    expect(names(r)).toEqual(['api-go', 'nx-lib', 'proto']);
    expect(tasks(r)).toEqual(['api-go:build', 'api-go:test', 'nx-lib:build', 'nx-lib:lint', 'proto:build']);
    const mid = f.head();
    f.commit('script', { 'scripts/go-lint.sh': 'false\n', 'services/api/README.md': 'go!\n' });
    const r2 = await affectedBetween(f, mid);
    // services/api/README.md is not one of api-go's declared inputs: the workspace root owns it.
    expect(names(r2)).toEqual(['api-go', 'shop']);
    expect(tasks(r2)).toEqual([]); // neither file is an input of build or test... test defaults exclude docs only
  });
});

describe('lockfile attribution per package (real pnpm v9 and npm v3 lockfiles)', () => {
  function lockWorkspace(lock: string, file: string): GitFixture {
    fx = GitFixture.create();
    fx.commit('base', {
      'package.json': J({ name: 'lockgen', private: true, workspaces: ['packages/*'] }),
      ...(file === 'pnpm-lock.yaml' ? { 'pnpm-workspace.yaml': 'packages:\n  - "packages/*"\n' } : {}),
      'packages/a/package.json': J({ name: '@fx/a', version: '1.0.0', scripts: { build: 'x' }, dependencies: { ms: '2.1.2' } }),
      'packages/b/package.json': J({ name: '@fx/b', version: '1.0.0', scripts: { build: 'x' }, dependencies: { debug: '4.3.4' } }),
      'packages/c/package.json': J({ name: '@fx/c', version: '1.0.0', scripts: { build: 'x' }, dependencies: { '@fx/a': 'workspace:*' } }),
      [file]: lock,
    });
    return fx;
  }

  test('pnpm: a lockfile-only bump selects exactly the package (and its dependents)', async () => {
    const f = lockWorkspace(fixture('pnpm-lock.v1.yaml'), 'pnpm-lock.yaml');
    const base = f.head();
    f.commit('bump', { 'pnpm-lock.yaml': fixture('pnpm-lock.v2.yaml') });
    const r = await affectedBetween(f, base);
    expect(names(r)).toEqual(['@fx/a', '@fx/c']);
    expect(reasonsMap(r)['@fx/a']).toEqual(['pnpm-lock.yaml: ms 2.1.2 → 2.1.3']);
    expect(tasks(r)).toEqual(['@fx/a:build', '@fx/c:build']);
  });

  test('pnpm: a transitive change (debug 4.3.4 → 4.3.7 pulls a new ms) is attributed to b only', async () => {
    const f = lockWorkspace(fixture('pnpm-lock.v2.yaml'), 'pnpm-lock.yaml');
    const base = f.head();
    f.commit('bump', { 'pnpm-lock.yaml': fixture('pnpm-lock.v3.yaml') });
    const r = await affectedBetween(f, base);
    expect(names(r)).toEqual(['@fx/b']);
    expect(reasonsMap(r)['@fx/b']![0]).toBe('pnpm-lock.yaml: debug 4.3.4 → 4.3.7, ms 2.1.2 → 2.1.3');
  });

  test('npm v3: nested node_modules resolution attributes the bump to a only', async () => {
    const f = lockWorkspace(fixture('package-lock.v1.json'), 'package-lock.json');
    const base = f.head();
    f.commit('bump', { 'package-lock.json': fixture('package-lock.v2.json') });
    const r = await affectedBetween(f, base);
    expect(names(r)).toEqual(['@fx/a', '@fx/c']);
    expect(reasonsMap(r)['@fx/a']).toEqual(['package-lock.json: ms 2.1.2 → 2.1.3']);
  });

  test('parsers: closures per importer', async () => {
    const p = await parsePnpmLock(fixture('pnpm-lock.v1.yaml'));
    expect([...p.get('packages/b')!.packages.keys()].sort()).toEqual(['debug', 'ms']);
    expect([...p.get('packages/c')!.packages.keys()]).toEqual([]);
    const n = await parseNpmLock(fixture('package-lock.v2.json'));
    expect([...n.get('packages/a')!.packages.get('ms')!]).toEqual(['2.1.3']);
    expect([...n.get('packages/b')!.packages.get('ms')!]).toEqual(['2.1.2']);
  });

  test('yarn.lock changes fall back to everything, saying why', async () => {
    const f = lockWorkspace('# yarn lockfile v1\n', 'yarn.lock');
    const base = f.head();
    f.commit('bump', { 'yarn.lock': '# yarn lockfile v1\n\nms@2.1.3:\n' });
    const r = await affectedBetween(f, base);
    expect(r.all).toBe(true);
    expect(r.allReason).toMatch(/per-package attribution supports pnpm and npm lockfiles only/);
  });
});

describe('content keys', () => {
  test('stable across runs; change only where inputs changed; upstream changes propagate; env counts', async () => {
    const f = shop({ 'maestro.projects.yaml': 'targets:\n  build:\n    outputs: ["dist/**"]\n    env: [NODE_ENV]\n' });
    const keysAt = async (rev: string, env: Record<string, string> = {}) => {
      const t = await gitTree(rev, { cwd: f.work });
      const r = await computeAffected({ base: t, head: t, changes: [] });
      return Object.fromEntries(computeKeys(t, r.workspace, r.graph, { env }).map((k) => [`${k.project}:${k.target}`, k]));
    };
    const k1 = await keysAt('HEAD');
    expect(await keysAt('HEAD')).toEqual(k1);
    expect(k1['@shop/utils:build']!.outputs).toEqual(['packages/utils/dist/**']);
    expect(k1['@shop/utils:build']!.key).toMatch(/^maestro-build-shop_utils-[0-9a-f]{40}$/);
    f.commit('readme', { 'packages/utils/README.md': '# utils v2\n' });
    const k2 = await keysAt('HEAD');
    expect(k2['@shop/utils:build']!.key).toBe(k1['@shop/utils:build']!.key);
    f.commit('src', { 'packages/utils/src/money.ts': 'export const cents = 1;\n' });
    const k3 = await keysAt('HEAD');
    expect(k3['@shop/utils:build']!.key).not.toBe(k1['@shop/utils:build']!.key);
    expect(k3['web-app:build']!.key).not.toBe(k1['web-app:build']!.key); // transitive upstream
    expect(k3['docs-site:build']!.key).toBe(k1['docs-site:build']!.key);
    const k4 = await keysAt('HEAD', { NODE_ENV: 'production' });
    expect(k4['docs-site:build']!.key).not.toBe(k3['docs-site:build']!.key);
    expect(k4['docs-site:test']!.key).toBe(k3['docs-site:test']!.key);
  });
});

describe('git trees', () => {
  test('a background listing is ready before discovery; shared contents by blob id never leak another commit\'s version', async () => {
    const f = GitFixture.create();
    try {
      const base = f.commit('base', { 'a.json': '{"v":1}\n', 'same.json': '{"same":true}\n' });
      const head = f.commit('head', { 'a.json': '{"v":2}\n', 'new.json': '{}\n' });
      const blobs = new Map<string, string>();
      const h = await gitTree(head, { cwd: f.work, blobs, eager: true });
      await h.prefetch!(['a.json', 'same.json', 'new.json']);
      expect(blobs.size).toBe(3);
      const b = await gitTree(base, { cwd: f.work, blobs, eager: 'background' });
      await b.ready!();
      expect([...b.files.keys()]).toEqual(['a.json', 'same.json']);
      await b.prefetch!(['a.json', 'same.json', 'new.json', 'absent.json']);
      // a.json changed: its base blob is read from git, not taken from the head's cache entry for the same path.
      expect(b.read('a.json')).toBe('{"v":1}\n');
      expect(b.read('same.json')).toBe('{"same":true}\n');
      expect(b.read('new.json')).toBeUndefined();
      expect(b.read('absent.json')).toBeUndefined();
      expect(blobs.size).toBe(4);
      // A background listing of a commit that is not there fails where the listing is used, with git's message.
      const gone = await gitTree('0'.repeat(40), { cwd: f.work, eager: 'background' });
      await gone.ready!();
      expect(() => gone.files).toThrow(/0000000000000000000000000000000000000000/);
    } finally {
      f.dispose();
    }
  });
});
