/**
 * Every pnpm lockfile shape pnpm writes today, and what happens with one it
 * does not: pnpm 11+'s two documents (an "env" document, then the project's),
 * and an unknown `lockfileVersion`, which makes everything affected with the
 * reason instead of blaming a valid file.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GitFixture } from '@maestro/harness';
import { diffFiles } from '@maestro/core';
import { UnsupportedLockfile, computeAffected, gitTree, parsePnpmLock, reasonsMap } from '../src/index.js';

const FX = path.resolve('packages/affected/test/fixtures/pnpm12');
const read = (f: string) => readFileSync(path.join(FX, f), 'utf8');
const fixtures: GitFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.dispose();
});

function workspace(lock: string): GitFixture {
  const fx = GitFixture.create();
  fixtures.push(fx);
  fx.commit('workspace', {
    'package.json': '{"name":"ws","private":true}\n',
    'pnpm-workspace.yaml': read('pnpm-workspace.yaml'),
    'packages/a/package.json': JSON.stringify({ name: '@ws/a', version: '1.0.0', scripts: { build: 'tsc' }, dependencies: { 'is-odd': '3.0.1' } }),
    'packages/b/package.json': JSON.stringify({ name: '@ws/b', version: '1.0.0', scripts: { build: 'tsc' }, dependencies: { '@ws/a': 'workspace:*', ms: '2.1.3' } }),
    'pnpm-lock.yaml': lock,
  });
  return fx;
}

async function between(fx: GitFixture, base: string) {
  const g = { cwd: fx.work };
  const [b, h] = await Promise.all([gitTree(base, g), gitTree('HEAD', g)]);
  return computeAffected({ base: b, head: h, changes: await diffFiles(base, 'HEAD', g) });
}

describe('pnpm lockfile formats', () => {
  test("pnpm 12's two-document lockfile (written by pnpm 12.23.0): the project document is read, the env document does not make everything affected", async () => {
    const index = await parsePnpmLock(read('pnpm-lock.base.yaml'));
    expect([...index.keys()].sort()).toEqual(['.', 'packages/a', 'packages/b']);
    expect([...index.get('packages/b')!.packages.get('ms')!]).toEqual(['2.1.3']);
    const fx = workspace(read('pnpm-lock.base.yaml'));
    const base = fx.head();
    fx.commit('ms 2.1.2', { 'packages/b/package.json': JSON.stringify({ name: '@ws/b', version: '1.0.0', scripts: { build: 'tsc' }, dependencies: { '@ws/a': 'workspace:*', ms: '2.1.2' } }), 'pnpm-lock.yaml': read('pnpm-lock.head.yaml') });
    const r = await between(fx, base);
    expect(r.all).toBe(false);
    expect(r.projects.map((p) => p.name)).toEqual(['@ws/b']);
    expect(reasonsMap(r)['@ws/b']!.join(' ')).toMatch(/ms 2\.1\.3 → 2\.1\.2/);
  });

  test('an unknown lockfileVersion, or a lockfile that does not parse: everything is affected with the reason, no ConfigError blaming the file', async () => {
    await expect(parsePnpmLock("lockfileVersion: '42.0'\nimporters: {}\n")).rejects.toBeInstanceOf(UnsupportedLockfile);
    const fx = workspace(read('pnpm-lock.base.yaml'));
    const base = fx.head();
    fx.commit('future pnpm', { 'pnpm-lock.yaml': "lockfileVersion: '42.0'\n\nimporters:\n  .: {}\n" });
    const r = await between(fx, base);
    expect(r.all).toBe(true);
    expect(r.allReason).toMatch(/unsupported lockfile format 'lockfileVersion: 42\.0' in pnpm-lock\.yaml; everything is affected/);
    fx.commit('broken', { 'pnpm-lock.yaml': "lockfileVersion: '9.0'\nimporters:\n  .: {\n" });
    const broken = await between(fx, base);
    expect(broken.all).toBe(true);
    expect(broken.allReason).toMatch(/does not parse as YAML .*; everything is affected/);
  });
});

describe('pnpm-workspace.yaml settings, compared by meaning', () => {
  const ws = (extra: string) => `${read('pnpm-workspace.yaml')}${extra}`;
  test('release-age and trust settings affect nothing; a catalog edit that leaves the lockfile as it was affects nothing', async () => {
    const fx = workspace(read('pnpm-lock.base.yaml'));
    const base = fx.head();
    fx.commit('supply-chain settings', { 'pnpm-workspace.yaml': ws("minimumReleaseAge: 1440\nminimumReleaseAgeExclude: ['@ws/*']\ntrustPolicy: no-downgrade\ncatalog:\n  react: ^19.0.0\n") });
    const r = await between(fx, base);
    expect(r.all).toBe(false);
    expect(r.projects).toEqual([]);
  });

  test('a node_modules layout or build-script setting makes everything affected, naming the key', async () => {
    const fx = workspace(read('pnpm-lock.base.yaml'));
    const base = fx.head();
    fx.commit('hoisted', { 'pnpm-workspace.yaml': ws('nodeLinker: hoisted\nonlyBuiltDependencies: [esbuild]\n') });
    const r = await between(fx, base);
    expect(r.all).toBe(true);
    expect(r.allReason).toBe('pnpm-workspace.yaml changed `nodeLinker`, `onlyBuiltDependencies`, which can change how every package installs or runs');
  });

  test('moving projects to another folder glob: the moved projects (and their dependents) are affected, not everything', async () => {
    const fx = workspace(read('pnpm-lock.base.yaml'));
    fx.commit('a third project', { 'packages/c/package.json': JSON.stringify({ name: '@ws/c', version: '1.0.0', scripts: { build: 'tsc' } }) });
    const base = fx.head();
    fx.git(['mv', 'packages/a', 'core-a']);
    fx.commit('move a', { 'pnpm-workspace.yaml': read('pnpm-workspace.yaml').replace('  - packages/*\n', '  - packages/*\n  - core-*\n') });
    const r = await between(fx, base);
    expect(r.all).toBe(false);
    expect(r.projects.map((p) => p.name)).toEqual(['@ws/a', '@ws/b']);
  });
});

describe('edges follow what pnpm links', () => {
  test('a dependency on a workspace package name that the lockfile resolves from the registry (catalog:) is not an edge; a link: is', async () => {
    const lock = (bVersion: string) => `lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

catalogs:
  default:
    '@ws/a':
      specifier: 1.0.0
      version: 1.0.0

importers:

  .: {}

  packages/a: {}

  packages/b:
    dependencies:
      '@ws/a':
        specifier: 'catalog:'
        version: ${bVersion}

packages:

  '@ws/a@1.0.0':
    resolution: {integrity: sha512-AAAA}

snapshots:

  '@ws/a@1.0.0': {}
`;
    const fx = GitFixture.create();
    fixtures.push(fx);
    fx.commit('workspace', {
      'package.json': '{"name":"ws","private":true}\n',
      'pnpm-workspace.yaml': "packages:\n  - packages/*\ncatalog:\n  '@ws/a': 1.0.0\n",
      'packages/a/package.json': JSON.stringify({ name: '@ws/a', version: '2.0.0', scripts: { build: 'tsc' } }),
      'packages/a/src/index.ts': 'export const a = 1;\n',
      'packages/b/package.json': JSON.stringify({ name: '@ws/b', version: '1.0.0', scripts: { build: 'tsc' }, dependencies: { '@ws/a': 'catalog:' } }),
      'pnpm-lock.yaml': lock('1.0.0'),
    });
    const base = fx.head();
    fx.commit('edit a', { 'packages/a/src/index.ts': 'export const a = 2;\n' });
    const r = await between(fx, base);
    // b uses the published @ws/a 1.0.0, not the workspace's: editing a does not affect b.
    expect(r.projects.map((p) => p.name)).toEqual(['@ws/a']);
    // The same manifest with the lockfile saying link: is an edge.
    const fx2 = GitFixture.create();
    fixtures.push(fx2);
    fx2.commit('workspace', {
      'package.json': '{"name":"ws","private":true}\n',
      'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
      'packages/a/package.json': JSON.stringify({ name: '@ws/a', version: '1.0.0', scripts: { build: 'tsc' } }),
      'packages/a/src/index.ts': 'export const a = 1;\n',
      'packages/b/package.json': JSON.stringify({ name: '@ws/b', version: '1.0.0', scripts: { build: 'tsc' }, dependencies: { '@ws/a': '^1.0.0' } }),
      'pnpm-lock.yaml': lock('link:../a'),
    });
    const base2 = fx2.head();
    fx2.commit('edit a', { 'packages/a/src/index.ts': 'export const a = 2;\n' });
    expect((await between(fx2, base2)).projects.map((p) => p.name)).toEqual(['@ws/a', '@ws/b']);
  });
});

describe('root toolchain changes (#14 item 4)', () => {
  const RT = path.resolve('packages/affected/test/fixtures/root-tools');
  const lockOf = (f: string) => readFileSync(path.join(RT, f), 'utf8');
  function tools(): GitFixture {
    const fx = GitFixture.create();
    fixtures.push(fx);
    fx.commit('workspace', {
      'package.json': '{"name":"tools","private":true}\n',
      'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
      'packages/a/package.json': JSON.stringify({ name: '@t/a', version: '1.0.0', scripts: { build: 'rimraf dist && node build.js', test: 'node --test' } }),
      'packages/b/package.json': JSON.stringify({ name: '@t/b', version: '1.0.0', scripts: { lint: 'cross-env NODE_ENV=ci node lint.js', test: 'node --test' }, dependencies: { '@t/a': 'workspace:*' } }),
      'pnpm-lock.yaml': lockOf('pnpm-lock.base.yaml'),
    });
    return fx;
  }

  test('a root tool bump selects only the tasks whose scripts call it, and says which tool', async () => {
    const fx = tools();
    const base = fx.head();
    fx.commit('cross-env 7.0.3', { 'pnpm-lock.yaml': lockOf('pnpm-lock.cross-env.yaml') });
    const r = await between(fx, base);
    expect(r.all).toBe(false);
    expect(r.tasks.map((t) => `${t.project}:${t.target}`)).toEqual(['@t/b:lint']);
    expect(r.tasks[0]!.reason).toBe('root tool cross-env changed in pnpm-lock.yaml (7.0.2 → 7.0.3), and lint calls it');
  });

  test('a root library may be imported by any package — also one that ships a command (semver), whatever hasBin says: everything, naming it', async () => {
    const fx = tools();
    const base = fx.head();
    fx.commit('semver 7.6.3', { 'pnpm-lock.yaml': lockOf('pnpm-lock.semver.yaml') });
    const r = await between(fx, base);
    expect(r.all).toBe(true);
    expect(r.allReason).toBe('root dependencies changed in pnpm-lock.yaml: semver 7.6.0 → 7.6.3 (a library any package may import)');
  });

  test('a removed tool selects the tasks that called it; an added tool nobody calls selects nothing, with a warning', async () => {
    const fx = tools();
    const base = fx.head();
    fx.commit('rimraf out, concurrently in', { 'pnpm-lock.yaml': lockOf('pnpm-lock.swap.yaml') });
    const r = await between(fx, base);
    expect(r.all).toBe(false);
    expect(r.tasks.map((t) => `${t.project}:${t.target}`)).toEqual(['@t/a:build']);
    expect(r.warnings.join('\n')).toMatch(/root tool concurrently changed in pnpm-lock\.yaml \(\+ 8\.2\.2\); no project's script calls concurrently, so it selects nothing/);
  });
});
