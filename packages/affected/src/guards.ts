/**
 * Hand-written type guards for the files discovery reads on every run
 * (package.json, project.json, pnpm-workspace.yaml, lockfiles). They accept
 * exactly what the zod schemas in `schemas.ts` accept; when one rejects a
 * file, the schema is loaded to say where and why. Reading 1000 manifests this
 * way costs a few milliseconds instead of zod's start-up plus parse time.
 */
export type SchemaName = 'configSchema' | 'manifestSchema' | 'pnpmWorkspaceSchema' | 'nxProjectSchema' | 'pnpmSchema' | 'npmSchema';

import { isRecord } from '@maestro/core/config';

type Obj = Record<string, unknown>;

const isObj: (v: unknown) => v is Obj = isRecord;
const opt = (v: unknown, check: (x: unknown) => boolean) => v === undefined || check(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isStringRecord = (v: unknown): v is Record<string, string> => isObj(v) && Object.values(v).every((x) => typeof x === 'string');

export interface Manifest {
  name?: string | undefined;
  workspaces?: string[] | { packages?: string[] | undefined } | undefined;
  scripts?: Record<string, string> | undefined;
  dependencies?: Record<string, string> | undefined;
  devDependencies?: Record<string, string> | undefined;
  peerDependencies?: Record<string, string> | undefined;
  optionalDependencies?: Record<string, string> | undefined;
}

export function isManifest(v: unknown): v is Manifest {
  return (
    isObj(v) &&
    opt(v['name'], (x) => typeof x === 'string') &&
    opt(v['workspaces'], (x) => isStrings(x) || (isObj(x) && opt(x['packages'], isStrings))) &&
    opt(v['scripts'], isStringRecord) &&
    opt(v['dependencies'], isStringRecord) &&
    opt(v['devDependencies'], isStringRecord) &&
    opt(v['peerDependencies'], isStringRecord) &&
    opt(v['optionalDependencies'], isStringRecord)
  );
}

export type PnpmWorkspace = { packages?: string[] | undefined } | null;

export function isPnpmWorkspace(v: unknown): v is PnpmWorkspace {
  return v === null || (isObj(v) && opt(v['packages'], isStrings));
}

export interface NxProject {
  name?: string | undefined;
  implicitDependencies?: string[] | undefined;
  targets?: Record<string, unknown> | undefined;
}

export function isNxProject(v: unknown): v is NxProject {
  return isObj(v) && opt(v['name'], (x) => typeof x === 'string') && opt(v['implicitDependencies'], isStrings) && opt(v['targets'], isObj);
}

type DepMap = Record<string, unknown> | undefined;
export interface PnpmLock {
  lockfileVersion: string | number;
  importers?: Record<string, { dependencies?: DepMap; devDependencies?: DepMap; optionalDependencies?: DepMap; peerDependencies?: DepMap } | null> | undefined;
  packages?: Record<string, Obj | null> | null | undefined;
  snapshots?: Record<string, Obj | null> | null | undefined;
  dependencies?: DepMap;
  devDependencies?: DepMap;
  optionalDependencies?: DepMap;
}

const isNullableObjRecord = (x: unknown) => x === null || (isObj(x) && Object.values(x).every((e) => e === null || isObj(e)));

export function isPnpmLock(v: unknown): v is PnpmLock {
  if (!isObj(v)) return false;
  const version = v['lockfileVersion'];
  if (typeof version !== 'string' && typeof version !== 'number') return false;
  const importers = v['importers'];
  if (importers !== undefined) {
    if (!isObj(importers)) return false;
    for (const imp of Object.values(importers)) {
      if (imp === null) continue;
      if (!isObj(imp)) return false;
      for (const f of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) if (!opt(imp[f], isObj)) return false;
    }
  }
  return opt(v['packages'], isNullableObjRecord) && opt(v['snapshots'], isNullableObjRecord) && opt(v['dependencies'], isObj) && opt(v['devDependencies'], isObj) && opt(v['optionalDependencies'], isObj);
}

export interface NpmLockEntry {
  version?: string | undefined;
  integrity?: string | undefined;
  resolved?: string | undefined;
  link?: boolean | undefined;
  dependencies?: Record<string, string> | undefined;
  devDependencies?: Record<string, string> | undefined;
  optionalDependencies?: Record<string, string> | undefined;
  peerDependencies?: Record<string, string> | undefined;
}

export interface NpmLock {
  lockfileVersion: number;
  packages?: Record<string, NpmLockEntry> | undefined;
}

function isNpmEntry(e: unknown): e is NpmLockEntry {
  return (
    isObj(e) &&
    opt(e['version'], (x) => typeof x === 'string') &&
    opt(e['integrity'], (x) => typeof x === 'string') &&
    opt(e['resolved'], (x) => typeof x === 'string') &&
    opt(e['link'], (x) => typeof x === 'boolean') &&
    opt(e['dependencies'], isStringRecord) &&
    opt(e['devDependencies'], isStringRecord) &&
    opt(e['optionalDependencies'], isStringRecord) &&
    opt(e['peerDependencies'], isStringRecord)
  );
}

export function isNpmLock(v: unknown): v is NpmLock {
  return isObj(v) && typeof v['lockfileVersion'] === 'number' && opt(v['packages'], (p) => isObj(p) && Object.values(p).every(isNpmEntry));
}
