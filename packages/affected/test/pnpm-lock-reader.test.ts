import { describe, expect, test } from '@jest/globals';
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
    packages: Object.fromEntries(Object.entries(lock['packages'] ?? {}).map(([k, v]) => [k, { resolution: (v as Obj)?.['resolution'] }])),
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

  test('anything outside the known shape is left to js-yaml', () => {
    expect(readPnpmLockFast("lockfileVersion: '9.0'\nimporters:\n  .: {\n")).toBeUndefined();
    expect(readPnpmLockFast("lockfileVersion: '6.0'\nimporters: {}\n")).toBeUndefined();
    expect(readPnpmLockFast("lockfileVersion: '9.0'\nsnapshots:\n  a@1.0.0:\n    dependencies:\n      b: &x 1.0.0\n")).toBeUndefined();
    expect(readPnpmLockFast("lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      a:\n        specifier: |\n          multi\n")).toBeUndefined();
  });
});
