/**
 * What is being verified, and its digest, always computed or given by us
 * (never read from the attestation):
 * - files and globs: sha256 and sha512 of the bytes;
 * - `pkg:npm/<name>@<version> sha512-<base64>` (the SRI `integrity` of the
 *   lockfile or packument) or `pkg:npm/<name>@<version> <file.tgz>`;
 * - `oci://<image>@sha256:<hex>`, `<name>@sha256:<hex>` or `sha256:<hex>`;
 * - `tree:<dir>`: a directory such as an action's `dist/`, digested as
 *   `sha256` of its `sha256sum` manifest in byte order of the paths, i.e.
 *   `(cd dir && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum) | sha256sum`.
 */
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { minimatch } from 'minimatch';
import { ConfigError, isInside } from '@maestro/core';

export interface Subject {
  /** How the report and the policy name it: a workspace-relative path, `pkg:npm/x@1.2.3`, `oci://…`, `tree:dist`. */
  name: string;
  kind: 'file' | 'npm' | 'digest' | 'tree';
  /** Lower-case hex digests by algorithm (`sha256`, `sha512`). */
  digests: Record<string, string>;
  /** npm subjects: the package and version, for the registry's attestations endpoint. */
  npm?: { name: string; version: string };
}

const HEX: Record<string, number> = { sha1: 40, sha256: 64, sha384: 96, sha512: 128 };

/** sha256 and sha512 of a file, read 1 MiB at a time (artifacts can be gigabytes). */
export function fileDigestsAt(file: string): Record<string, string> {
  const h256 = createHash('sha256');
  const h512 = createHash('sha512');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) {
      h256.update(buf.subarray(0, n));
      h512.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: h256.digest('hex'), sha512: h512.digest('hex') };
}

/** SRI (`sha512-<base64>`, space-separated alternatives) to hex digests. */
export function sriDigests(sri: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of sri.trim().split(/\s+/)) {
    const m = /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$/.exec(part);
    if (!m) return undefined;
    const hex = Buffer.from(m[2]!, 'base64').toString('hex');
    if (hex.length !== HEX[m[1]!]) return undefined;
    out[m[1]!] = hex;
  }
  return Object.keys(out).length ? out : undefined;
}

/** The tree digest described above; throws on a symlink leaving the tree. */
export function treeDigest(dir: string): { digest: string; files: number } {
  const root = realpathSync(dir);
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) files.push(r);
      else if (e.isSymbolicLink()) {
        const target = realpathSync(path.join(root, r));
        if (!isInside(target, root)) throw new ConfigError(`${r} is a symbolic link out of the tree`, { file: dir, fix: 'publish trees hold regular files only' });
        if (lstatSync(target).isFile()) files.push(r);
      }
    }
  };
  walk('');
  // The manifest is line-based: a name with a line break (or a backslash, which sha256sum escapes) could
  // forge lines of another tree's manifest. Such trees are refused.
  const odd = files.find((f) => /[\n\r\\]/.test(f));
  if (odd) throw new ConfigError(`a file name in ${dir} contains a line break or a backslash`, { file: dir, fix: 'publish trees with plain file names' });
  files.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
  const manifest = files.map((f) => `${createHash('sha256').update(readFileSync(path.join(root, f))).digest('hex')}  ${f}\n`).join('');
  return { digest: createHash('sha256').update(manifest).digest('hex'), files: files.length };
}

/** Files under `cwd` matching a glob, walked from the pattern's fixed prefix (.git and node_modules skipped unless named). */
export function globFiles(cwd: string, pattern: string): string[] {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  while (parts.length > 1 && !/[*?[{]/.test(parts[0]!)) fixed.push(parts.shift()!);
  const out: string[] = [];
  const walk = (rel: string) => {
    let entries;
    try {
      entries = readdirSync(path.join(cwd, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if ((e.name === '.git' || e.name === 'node_modules') && !pattern.includes(e.name)) continue;
        walk(r);
      } else if ((e.isFile() || e.isSymbolicLink()) && minimatch(r, pattern, { dot: true })) out.push(r); // links: the caller's resolve() confines them
    }
  };
  walk(fixed.join('/'));
  return out.sort();
}

export interface SubjectOptions {
  cwd: string;
  /** The real path of a workspace file an input names, confined like every input file (throws a ConfigError otherwise). */
  resolve: (file: string) => string;
}

const INPUT = "input 'subjects'";

/** Resolve the `subjects` input (one spec per line) to subjects with digests. */
export async function resolveSubjects(specs: readonly string[], o: SubjectOptions): Promise<Subject[]> {
  const out: Subject[] = [];
  for (const [i, raw] of specs.entries()) {
    const spec = raw.trim();
    if (!spec) continue;
    const line = i + 1;
    if (spec.startsWith('pkg:npm/')) {
      const [purl, what] = spec.split(/\s+/, 2) as [string, string | undefined];
      const m = /^pkg:npm\/((?:@[^/@\s]+\/)?[^/@\s]+)@([^@\s]+)$/.exec(purl.replace(/%40/g, '@'));
      if (!m) throw new ConfigError(`${purl} is not pkg:npm/<name>@<version>`, { file: INPUT, line, fix: 'write e.g. `pkg:npm/@scope/name@1.2.3 sha512-…`' });
      if (!what) throw new ConfigError(`${purl} has no digest`, { file: INPUT, line, fix: 'add the integrity (`sha512-…`, from the lockfile) or the path of the .tgz after a space' });
      // An SRI string (`sha512-<base64>`), else the path of the tarball.
      const digests = /^sha(1|256|384|512)-/.test(what) ? sriDigests(what) : fileDigestsAt(o.resolve(what));
      if (!digests) throw new ConfigError(`the integrity of ${purl} is not an SRI string`, { file: INPUT, line, fix: 'copy `integrity` from the lockfile (sha512-<base64>)' });
      out.push({ name: `pkg:npm/${m[1]}@${m[2]}`, kind: 'npm', digests, npm: { name: m[1]!, version: m[2]! } });
      continue;
    }
    const d = /^(?:(.+)@)?(sha256|sha512):([0-9a-fA-F]+)$/.exec(spec);
    if (d) {
      if (d[3]!.length !== HEX[d[2]!]) throw new ConfigError(`${spec}: a ${d[2]} digest has ${HEX[d[2]!]} hex digits, this one ${d[3]!.length}`, { file: INPUT, line, fix: 'copy the full digest' });
      out.push({ name: d[1] ?? `${d[2]}:${d[3]!.toLowerCase()}`, kind: 'digest', digests: { [d[2]!]: d[3]!.toLowerCase() } });
      continue;
    }
    if (spec.startsWith('tree:')) {
      const dir = spec.slice(5);
      const abs = path.resolve(o.cwd, dir);
      if (!isInside(realpathSync(abs), realpathSync(o.cwd))) throw new ConfigError(`${dir} is outside the workspace`, { file: INPUT, line, fix: 'name a directory of the checkout' });
      const t = treeDigest(abs);
      if (!t.files) throw new ConfigError(`${dir} has no files`, { file: INPUT, line, fix: 'build it before this step' });
      out.push({ name: spec, kind: 'tree', digests: { sha256: t.digest } });
      continue;
    }
    const matches: string[] = [];
    if (/[*?[{]/.test(spec)) {
      matches.push(...globFiles(o.cwd, spec));
      if (!matches.length) throw new ConfigError(`${spec} matches no file`, { file: INPUT, line, fix: 'build the artifacts before this step, or fix the pattern' });
    } else matches.push(spec);
    for (const f of matches) {
      let abs: string;
      let isDir: boolean;
      try {
        abs = path.resolve(o.cwd, f);
        isDir = statSync(abs).isDirectory();
      } catch {
        throw new ConfigError(`${f} does not exist`, { file: INPUT, line, fix: 'build the artifact before this step, or fix the path' });
      }
      // A directory where a file was named (or globbed) is not silently dropped from the gate.
      if (isDir) throw new ConfigError(`${f} is a directory, not an artifact`, { file: INPUT, line, fix: `name its files, or use tree:${f} for the directory as one subject` });
      out.push({ name: f, kind: 'file', digests: fileDigestsAt(o.resolve(f)) });
    }
  }
  return out;
}
