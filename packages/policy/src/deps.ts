/**
 * Dependency changes from lockfile diffs, with their licences.
 *
 * Lockfiles: pnpm v9 (and v6 keys; pnpm 11's env + project documents), npm v2/v3 `package-lock.json`, yarn v1
 * (and berry) `yarn.lock`. A package is *added* when its name@version is in
 * the head lockfile and not in the base one, and *new* when no version of it
 * was in the base. Workspace packages are not dependencies and are skipped.
 *
 * Licences, first source that knows: an SBOM (SPDX 2.x or CycloneDX JSON)
 * when given, the npm lockfile's own `license`, then the installed
 * `package.json` (pnpm's `.pnpm` store layout or a flat `node_modules`).
 * Legacy `license: {type}` / `licenses: [...]` forms are read, several
 * licences being joined with AND (each may apply: the conservative reading).
 * Nothing found is "unknown", never guessed.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseSyml } from '@yarnpkg/parsers';
import { ConfigError } from '@maestro/core/errors';
import { isRecord, parseJson, pnpmLockDocuments } from '@maestro/core/config';

export type LockKind = 'pnpm' | 'npm' | 'yarn';

export const LOCKFILES: Record<string, LockKind> = { 'pnpm-lock.yaml': 'pnpm', 'package-lock.json': 'npm', 'npm-shrinkwrap.json': 'npm', 'yarn.lock': 'yarn' };

export function lockKind(file: string): LockKind | undefined {
  return LOCKFILES[path.posix.basename(file)];
}

export interface LockedPackage {
  name: string;
  version: string;
  /** Only npm lockfiles record it. */
  license?: string;
  /** npm: where it is installed, relative to the lockfile's directory. */
  installPath?: string;
  dev?: boolean;
}

export interface DependencyChange {
  name: string;
  version: string;
  /** No version of this package was in the base lockfile. */
  new: boolean;
  /** Versions in the base lockfile (an upgrade when `new` is false). */
  previous: string[];
  lockfile: string;
  /** SPDX expression or the raw text found; null when no source knew it. */
  license: string | null;
  /** Where the licence came from: `sbom`, `lockfile`, `package.json`, or `none`. */
  licenseSource: 'sbom' | 'lockfile' | 'package.json' | 'none';
  /**
   * The npm lockfile's `license` (which the pull request can edit) disagrees with the
   * installed package (which the registry's tarball, pinned by integrity, decides).
   */
  licenseConflict?: { lockfile: string; installed: string | null };
  dev?: boolean;
}

const key = (name: string, version: string) => `${name}@${version}`;

/** `@scope/name@1.2.3(peer@1)` or v6 `/@scope/name/1.2.3` → [name, version]. */
function splitPnpmKey(raw: string): [string, string] | undefined {
  const k = raw.replace(/\(.*$/, '').replace(/^\//, '');
  const at = k.indexOf('@', 1);
  if (at > 0) return [k.slice(0, at), k.slice(at + 1)];
  const slash = k.lastIndexOf('/');
  return slash > 0 ? [k.slice(0, slash), k.slice(slash + 1)] : undefined;
}

/** Every external package in a lockfile, keyed by name@version. */
export function readLockPackages(kind: LockKind, source: string, file: string): Map<string, LockedPackage> {
  const out = new Map<string, LockedPackage>();
  const add = (p: LockedPackage) => {
    if (!out.has(key(p.name, p.version))) out.set(key(p.name, p.version), p);
  };
  if (kind === 'pnpm') {
    // pnpm 11+ may write an "env" document (configDependencies, the package manager itself) before the
    // project's: both install real packages, so both count.
    const { project, env } = pnpmLockDocuments(source, file);
    if (!isRecord(project)) throw new ConfigError('not a pnpm lockfile', { file, fix: 'regenerate it with `pnpm install`' });
    for (const doc of [project, env]) {
      const packages = isRecord(doc) && isRecord(doc['packages']) ? doc['packages'] : {};
      for (const k of Object.keys(packages)) {
        const nv = splitPnpmKey(k);
        // `link:` / `file:` entries are workspace or local packages, not dependencies.
        if (nv && !/^(link|file|workspace):/.test(nv[1])) add({ name: nv[0], version: nv[1] });
      }
    }
    return out;
  }
  if (kind === 'npm') {
    const doc = parseJson(source, file);
    if (!isRecord(doc) || !isRecord(doc['packages'])) throw new ConfigError(`package-lock.json without a \`packages\` map (lockfileVersion ${isRecord(doc) ? String(doc['lockfileVersion']) : '?'})`, { file, fix: 'regenerate it with npm 7 or later (lockfile v2/v3)' });
    for (const [p, v] of Object.entries(doc['packages'])) {
      if (!p || !isRecord(v) || v['link'] === true) continue;
      const at = p.lastIndexOf('node_modules/');
      if (at < 0) continue; // a workspace package folder
      const name = typeof v['name'] === 'string' ? v['name'] : p.slice(at + 'node_modules/'.length);
      if (typeof v['version'] !== 'string') continue;
      add({ name, version: v['version'], installPath: p, ...(typeof v['license'] === 'string' ? { license: v['license'] } : {}), ...(v['dev'] === true ? { dev: true } : {}) });
    }
    return out;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseSyml(source) as Record<string, unknown>;
  } catch (e) {
    const line = /line (\d+)/i.exec((e as Error).message)?.[1];
    throw new ConfigError(`yarn.lock does not parse: ${(e as Error).message.split('\n')[0]}`, { file, ...(line ? { line: Number(line) } : {}), fix: 'regenerate it with `yarn install`' });
  }
  for (const [k, v] of Object.entries(doc)) {
    if (k === '__metadata' || !isRecord(v) || typeof v['version'] !== 'string') continue;
    // berry: workspace and portal entries are soft links
    if (v['linkType'] === 'soft') continue;
    const first = k.split(',')[0]!.trim().replace(/^"|"$/g, '');
    const at = first.indexOf('@', 1);
    if (at < 0) continue;
    add({ name: first.slice(0, at), version: v['version'] });
  }
  return out;
}

/** Packages in `head` that are not in `base` (name@version), each marked new or an upgrade. */
export function diffLockPackages(base: ReadonlyMap<string, LockedPackage>, head: ReadonlyMap<string, LockedPackage>): Array<LockedPackage & { new: boolean; previous: string[] }> {
  const baseVersions = new Map<string, string[]>();
  for (const p of base.values()) baseVersions.set(p.name, [...(baseVersions.get(p.name) ?? []), p.version]);
  const out = [];
  for (const [k, p] of head) {
    if (base.has(k)) continue;
    const previous = baseVersions.get(p.name) ?? [];
    out.push({ ...p, new: previous.length === 0, previous });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** The licence in a package.json object, including legacy forms. */
export function licenceOf(pkg: unknown): string | null {
  if (!isRecord(pkg)) return null;
  const one = (v: unknown): string | null => (typeof v === 'string' ? v.trim() || null : isRecord(v) && typeof v['type'] === 'string' ? v['type'].trim() || null : null);
  if (pkg['license'] !== undefined) {
    if (Array.isArray(pkg['license'])) return joinAll(pkg['license'].map(one));
    return one(pkg['license']);
  }
  if (Array.isArray(pkg['licenses'])) return joinAll(pkg['licenses'].map(one));
  return null;
}

function joinAll(items: Array<string | null>): string | null {
  const ok = items.filter((x): x is string => !!x);
  if (!ok.length) return null;
  return ok.length === 1 ? ok[0]! : ok.map((x) => (/\s/.test(x) ? `(${x})` : x)).join(' AND ');
}

/** name@version → licence, from an SPDX 2.x or CycloneDX JSON SBOM. */
export function readSbom(text: string, file: string): Map<string, string | null> {
  const doc = parseJson(text, file);
  const out = new Map<string, string | null>();
  if (isRecord(doc) && Array.isArray(doc['packages']) && typeof doc['spdxVersion'] === 'string') {
    for (const p of doc['packages']) {
      if (!isRecord(p) || typeof p['name'] !== 'string' || typeof p['versionInfo'] !== 'string') continue;
      const pick = [p['licenseConcluded'], p['licenseDeclared']].find((l) => typeof l === 'string' && l !== 'NOASSERTION' && l !== 'NONE');
      out.set(key(p['name'], p['versionInfo']), typeof pick === 'string' ? pick : null);
    }
    return out;
  }
  if (isRecord(doc) && doc['bomFormat'] === 'CycloneDX') {
    const walk = (components: unknown) => {
      if (!Array.isArray(components)) return;
      for (const c of components) {
        if (!isRecord(c) || typeof c['name'] !== 'string' || typeof c['version'] !== 'string') continue;
        const name = typeof c['group'] === 'string' && c['group'] ? `${c['group']}/${c['name']}` : c['name'];
        const lic = Array.isArray(c['licenses'])
          ? joinAll(c['licenses'].map((l) => (isRecord(l) ? (typeof l['expression'] === 'string' ? l['expression'] : isRecord(l['license']) ? ((l['license']['id'] ?? l['license']['name']) as string | undefined) ?? null : null) : null)))
          : null;
        out.set(key(name, c['version']), lic);
        walk(c['components']);
      }
    };
    walk(doc['components']);
    return out;
  }
  throw new ConfigError('the SBOM is neither SPDX 2.x JSON (`spdxVersion`, `packages`) nor CycloneDX JSON (`bomFormat: CycloneDX`)', { file, fix: 'generate it with `npm sbom --sbom-format spdx` or `--sbom-format cyclonedx`, or syft -o spdx-json' });
}

function readPackageJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The installed package.json of name@version near a lockfile, if installed. */
export function installedPackageJson(lockDir: string, kind: LockKind, p: LockedPackage): unknown {
  const candidates: string[] = [];
  if (p.installPath) candidates.push(path.join(lockDir, p.installPath, 'package.json'));
  if (kind === 'pnpm') {
    const store = path.join(lockDir, 'node_modules/.pnpm');
    const prefix = `${p.name.replace('/', '+')}@${p.version}`;
    if (existsSync(store)) {
      for (const d of readdirSync(store)) if (d === prefix || d.startsWith(`${prefix}_`) || d.startsWith(`${prefix}(`)) candidates.push(path.join(store, d, 'node_modules', p.name, 'package.json'));
    }
  }
  candidates.push(path.join(lockDir, 'node_modules', p.name, 'package.json'));
  for (const c of candidates) {
    const pkg = readPackageJson(c);
    if (isRecord(pkg) && pkg['name'] === p.name && pkg['version'] === p.version) return pkg;
  }
  return undefined;
}

/**
 * Attach licences to added packages: SBOM, then the installed package.json
 * (its content comes from the registry tarball the lockfile's integrity pins),
 * then the npm lockfile's own `license` field (text the pull request controls:
 * used only when nothing better is there, and flagged when the installed
 * package disagrees).
 */
export function withLicences(added: ReadonlyArray<LockedPackage & { new: boolean; previous: string[] }>, opts: { lockfile: string; kind: LockKind; cwd: string; sbom?: ReadonlyMap<string, string | null> }): DependencyChange[] {
  const lockDir = path.join(opts.cwd, path.posix.dirname(opts.lockfile));
  return added.map((p) => {
    const base = { name: p.name, version: p.version, new: p.new, previous: p.previous, lockfile: opts.lockfile, ...(p.dev ? { dev: true } : {}) };
    const fromSbom = opts.sbom?.get(key(p.name, p.version));
    if (fromSbom) return { ...base, license: fromSbom, licenseSource: 'sbom' as const };
    const pkg = installedPackageJson(lockDir, opts.kind, p);
    if (pkg !== undefined) {
      const installed = licenceOf(pkg);
      const conflict = p.license !== undefined && p.license.trim() !== (installed ?? '') ? { licenseConflict: { lockfile: p.license, installed } } : {};
      return { ...base, license: installed, licenseSource: 'package.json' as const, ...conflict };
    }
    if (p.license) return { ...base, license: p.license, licenseSource: 'lockfile' as const };
    return { ...base, license: null, licenseSource: 'none' as const };
  });
}

/** Dependency changes for every lockfile changed between base and head, given both versions' text. */
export function dependencyChanges(files: ReadonlyArray<{ path: string; base: string | undefined; head: string | undefined }>, opts: { cwd: string; sbom?: ReadonlyMap<string, string | null> }): DependencyChange[] {
  const out: DependencyChange[] = [];
  for (const f of files) {
    const kind = lockKind(f.path);
    if (!kind || f.head === undefined) continue;
    const head = readLockPackages(kind, f.head, f.path);
    const base = f.base === undefined ? new Map<string, LockedPackage>() : readLockPackages(kind, f.base, `${f.path} (base)`);
    out.push(...withLicences(diffLockPackages(base, head), { lockfile: f.path, kind, cwd: opts.cwd, ...(opts.sbom ? { sbom: opts.sbom } : {}) }));
  }
  return out;
}
