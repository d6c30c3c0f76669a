import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { readPnpmLockFast } from '../src/pnpm-lock-reader.js';

type Obj = Record<string, any>;

/** What attribution reads from a lockfile, taken from js-yaml's full parse. */
function projection(lock: Obj): Obj {
  const pick = (o: Obj | null | undefined, keys: string[]) => Object.fromEntries(keys.filter((k) => o?.[k] !== undefined).map((k) => [k, o![k]]));
  return {
    lockfileVersion: String(lock['lockfileVersion']),
    importers: Object.fromEntries(Object.entries(lock['importers'] ?? {}).map(([k, v]) => [k, pick(v as Obj, ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'])])),
    // Attribution reads a package's integrity, tarball or commit (nothing nested deeper).
    packages: Object.fromEntries(Object.entries(lock['packages'] ?? {}).map(([k, v]) => [k, pick((v as Obj)?.['resolution'], ['integrity', 'tarball', 'commit', 'type'])])),
    snapshots: Object.fromEntries(Object.entries(lock['snapshots'] ?? {}).map(([k, v]) => [k, pick(v as Obj, ['dependencies', 'optionalDependencies'])])),
  };
}

function fastProjection(src: string): Obj | undefined {
  const fast = readPnpmLockFast(src) as Obj | undefined;
  return fast && projection(fast);
}

const FIXTURES = ['pnpm-lock.v1.yaml', 'pnpm-lock.v2.yaml', 'pnpm-lock.v3.yaml'].map((f) => path.resolve('packages/affected/test/fixtures', f));

describe('fast pnpm v9 lockfile reader', () => {
  test.each([...FIXTURES, path.resolve('pnpm-lock.yaml')])('reads %s exactly as js-yaml does (for the fields used)', (file) => {
    const src = readFileSync(file, 'utf8');
    expect(fastProjection(src)).toEqual(projection(load(src) as Obj));
  });

  test("a block-form resolution (pnpm's node@runtime variations, in pnpm/pnpm's own lockfile) is read, not left to js-yaml", () => {
    const src = [
      "lockfileVersion: '9.0'",
      'importers:',
      '  .:',
      '    devDependencies:',
      '      node:',
      '        specifier: runtime:26.7.0',
      '        version: runtime:26.7.0',
      'packages:',
      "  a@1.0.0:",
      "    resolution: {integrity: sha512-aaa}",
      "    engines: {node: '>=18'}",
      '',
      '  node@runtime:26.7.0:',
      '    resolution:',
      '      type: variations',
      '      variants:',
      '        - resolution:',
      '            archive: tarball',
      '            integrity: sha256-aiblNEH7fhCX+gsZYWAAoDCpuWFW6xWg/iJoLP3xmtI=',
      '            url: https://nodejs.org/download/release/v26.7.0/node-v26.7.0-aix-ppc64.tar.gz',
      '          targets:',
      '            - cpu: ppc64',
      '              os: aix',
      '    hasBin: true',
      '  b@2.0.0:',
      '    resolution:',
      '      integrity: sha512-bbb',
      '      tarball: https://example.com/b.tgz',
      'snapshots:',
      '  a@1.0.0: {}',
      '',
    ].join('\n');
    expect(readPnpmLockFast(src)).toBeDefined();
    expect(fastProjection(src)).toEqual(projection(load(src) as Obj));
  });

  test('anything outside the known shape is left to js-yaml', () => {
    expect(readPnpmLockFast("lockfileVersion: '9.0'\nimporters:\n  .: {\n")).toBeUndefined();
    expect(readPnpmLockFast("lockfileVersion: '6.0'\nimporters: {}\n")).toBeUndefined();
    expect(readPnpmLockFast("lockfileVersion: '9.0'\nsnapshots:\n  a@1.0.0:\n    dependencies:\n      b: &x 1.0.0\n")).toBeUndefined();
    expect(readPnpmLockFast("lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      a:\n        specifier: |\n          multi\n")).toBeUndefined();
  });
});

describe('importersThatMayDiffer', () => {
  /** Brute force: every importer's full closure on both sides. */
  async function differing(a: string, b: string): Promise<{ brute: string[]; candidates: string[] }> {
    const { parsePnpmLock, importersThatMayDiffer } = await import('../src/lockfile.js');
    const [la, lb] = [await parsePnpmLock(a), await parsePnpmLock(b)];
    const roots = new Set([...la.keys(), ...lb.keys()]);
    const brute = [...roots].filter((r) => la.get(r)?.fingerprint !== lb.get(r)?.fingerprint).sort();
    const [ca, cb] = [await parsePnpmLock(a), await parsePnpmLock(b)];
    return { brute, candidates: [...importersThatMayDiffer(ca, cb)!].sort() };
  }

  test.each([
    ['pnpm-lock.v1.yaml', 'pnpm-lock.v2.yaml'],
    ['pnpm-lock.v2.yaml', 'pnpm-lock.v3.yaml'],
    ['pnpm-lock.v3.yaml', 'pnpm-lock.v1.yaml'],
  ])('fixtures %s → %s: exactly the importers whose closure changed', async (x, y) => {
    const read = (f: string) => readFileSync(path.resolve('packages/affected/test/fixtures', f), 'utf8');
    const r = await differing(read(x), read(y));
    expect(r.candidates).toEqual(r.brute);
    expect(r.brute.length).toBeGreaterThan(0);
  });

  test('this repository: its lockfile at an older commit vs now, and a deep integrity change; candidates always cover every changed importer', async () => {
    const now = readFileSync('pnpm-lock.yaml', 'utf8');
    const old = execFileSync('git', ['show', 'fb870b2:pnpm-lock.yaml'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const real = await differing(old, now);
    expect(real.brute.length).toBeGreaterThan(0);
    for (const b of real.brute) expect(real.candidates).toContain(b);
    // A transitive package's integrity changes: every importer that reaches it, and nothing else.
    const m = /\n {2}(ms@2\.1\.3):\n {4}resolution: \{integrity: (sha512-[^}]+)\}/.exec(now)!;
    const tampered = now.replace(m[0], m[0].replace(m[2]!, 'sha512-changed'));
    const deep = await differing(now, tampered);
    expect(deep.brute.length).toBeGreaterThan(0);
    expect(deep.candidates).toEqual(deep.brute);
    expect((await differing(now, now)).candidates).toEqual([]);
  });
});
