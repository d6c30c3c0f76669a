/**
 * A fast reader for the sections of a pnpm v9 lockfile that attribution
 * needs (`lockfileVersion`, `importers`, `packages[*].resolution`,
 * `snapshots`). pnpm writes these in a fixed shape, which this reads line by
 * line about ten times faster than a general YAML parser. Any line outside
 * that shape makes it return `undefined`, and the caller falls back to
 * js-yaml, so an unusual file is still read correctly (or reported with its
 * line number).
 */
import { lastYamlDocumentText, pnpmLockDocuments } from '@maestro/core/config';
import type { PnpmLock } from './guards.js';

type Obj = Record<string, unknown>;

function unquote(s: string): string | undefined {
  if (s.startsWith("'")) return s.endsWith("'") && s.length >= 2 ? s.slice(1, -1).replace(/''/g, "'") : undefined;
  if (s.startsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      return undefined;
    }
  }
  // Plain scalars that YAML would read as something else are left to js-yaml.
  if (/^[&*!|>%@`{[]|^- |: | #/.test(s) || s === '' || s.includes(': ') || s.includes(' #')) return undefined;
  return s;
}

/** Split `key: value` (value may be empty) on the first `: ` outside quotes. */
function keyValue(line: string): [string, string] | undefined {
  let i = 0;
  if (line[0] === "'" || line[0] === '"') {
    const q = line[0];
    i = 1;
    while (i < line.length) {
      if (line[i] === q) {
        if (q === "'" && line[i + 1] === "'") {
          i += 2;
          continue;
        }
        break;
      }
      if (q === '"' && line[i] === '\\') i++;
      i++;
    }
    i++;
  } else {
    // A plain key ends at the first ': ' or a ':' ending the line (`node@runtime:26.7.0:` has colons inside).
    const sp = line.indexOf(': ');
    const at = sp >= 0 ? sp : line.endsWith(':') ? line.length - 1 : -1;
    if (at < 0) return undefined;
    i = at;
  }
  if (line[i] !== ':') return undefined;
  const key = unquote(line.slice(0, i));
  if (key === undefined) return undefined;
  const rest = line.slice(i + 1);
  if (rest !== '' && !rest.startsWith(' ')) return undefined;
  return [key, rest.trim()];
}

/** `{integrity: sha512-…, tarball: …}` → object of plain scalars; undefined for anything nested. */
function flowMap(s: string): Obj | undefined {
  if (s === '{}') return {};
  if (!s.startsWith('{') || !s.endsWith('}')) return undefined;
  const body = s.slice(1, -1);
  if (/[{}[\]]/.test(body)) return undefined;
  const out: Obj = {};
  for (const part of body.split(', ')) {
    const kv = keyValue(part.trim());
    if (!kv) return undefined;
    const v = kv[1] === '' ? undefined : scalar(kv[1]);
    if (v === undefined) return undefined;
    out[kv[0]] = v;
  }
  return out;
}

function scalar(s: string): string | boolean | undefined {
  if (s === 'true') return true;
  if (s === 'false') return false;
  return unquote(s);
}

export function readPnpmLockFast(source: string): PnpmLock | undefined {
  const lines = source.split('\n');
  const lock: { lockfileVersion?: string; importers: Obj; packages: Obj; snapshots: Obj } = { importers: {}, packages: {}, snapshots: {} };
  let section = '';
  let l2: Obj | undefined; // importer / package / snapshot entry
  let l4: Obj | undefined; // field inside it (dependencies, …)
  let l6: Obj | undefined; // importer dependency {specifier, version}
  let l4Name = '';
  let blockResolution: Obj | undefined;
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!;
    if (raw === '' || raw.trimStart().startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.slice(indent);
    if (raw.endsWith('\r')) return undefined;
    if (section === 'packages' && indent >= 6) {
      // Nested fields of a package entry (engines, os lists, …) are skipped; a block-form resolution
      // (`resolution:` then its fields, e.g. node@runtime's variations) keeps its top-level scalars.
      if (blockResolution && indent === 6) {
        const f = keyValue(line);
        const v = f && f[1] !== '' ? scalar(f[1]) : undefined;
        if (f && v !== undefined) blockResolution[f[0]] = v;
      }
      continue;
    }
    blockResolution = undefined;
    if (section === 'snapshots' && indent === 6 && l4Name === 'transitivePeerDependencies' && line.startsWith('- ')) continue;
    if (indent % 2 !== 0 || line.startsWith('- ')) return undefined;
    const kv = keyValue(line);
    if (indent === 0) {
      if (!kv) return undefined;
      section = kv[0];
      l2 = l4 = l6 = undefined;
      if (section === 'lockfileVersion') {
        const v = unquote(kv[1]);
        if (v === undefined) return undefined;
        lock.lockfileVersion = v;
      } else if ((section === 'importers' || section === 'packages' || section === 'snapshots') && kv[1] !== '') {
        if (kv[1] !== '{}') return undefined;
      }
      continue;
    }
    if (section !== 'importers' && section !== 'packages' && section !== 'snapshots') continue; // settings, catalogs, … are not read
    if (!kv) return undefined;
    const [key, value] = kv;
    const target = lock[section];
    if (indent === 2) {
      if (value === '{}') {
        target[key] = {};
        l2 = undefined;
      } else if (value === '') {
        l2 = {};
        target[key] = l2;
      } else return undefined;
      l4 = l6 = undefined;
      continue;
    }
    if (!l2) return undefined;
    if (indent === 4) {
      l6 = undefined;
      if (section === 'packages') {
        // Only `resolution` matters; other fields may be any shape on one line or nested below.
        if (key === 'resolution') {
          if (value === '') {
            blockResolution = {};
            l2['resolution'] = blockResolution;
          } else {
            const m = flowMap(value);
            if (!m) return undefined;
            l2['resolution'] = m;
          }
        }
        l4 = undefined;
        continue;
      }
      if (value === '{}') {
        l2[key] = {};
        l4 = undefined;
        l4Name = key;
      } else if (value === '') {
        l4 = {};
        l4Name = key;
        if (key !== 'transitivePeerDependencies') l2[key] = l4;
      } else {
        const v = flowMap(value) ?? scalar(value);
        if (v === undefined) return undefined;
        l2[key] = v;
        l4 = undefined;
      }
      continue;
    }
    if (!l4) {
      if (section === 'snapshots' && indent > 4) continue; // nested metadata under a scalar-less field
      return undefined;
    }
    if (indent === 6) {
      if (section === 'importers') {
        if (value !== '') return undefined;
        l6 = {};
        l4[key] = l6;
      } else {
        // snapshots: `name: version` under dependencies/optionalDependencies; other lists are names only.
        if (value === '') return undefined;
        const v = scalar(value);
        if (v === undefined) return undefined;
        if (l4Name === 'transitivePeerDependencies') return undefined;
        l4[key] = v;
      }
      continue;
    }
    if (indent === 8 && section === 'importers' && l6) {
      const v = scalar(value);
      if (v === undefined) return undefined;
      l6[key] = v;
      continue;
    }
    return undefined;
  }
  if (lock.lockfileVersion === undefined || !lock.lockfileVersion.startsWith('9.')) return undefined;
  return lock as PnpmLock;
}

/**
 * The project document of a pnpm lockfile (pnpm 11+ may write an "env"
 * document before it): the fast reader on the last document, else js-yaml on
 * the whole stream. A file that does not parse is a ConfigError.
 */
export function readPnpmProject(source: string, file = 'pnpm-lock.yaml'): unknown {
  return readPnpmLockFast(lastYamlDocumentText(source)) ?? pnpmLockDocuments(source, file).project;
}

/** The resolved version in an importer or snapshot dependency entry (`1.2.3`, or `{specifier, version}`). */
export function depVersion(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && 'version' in v && typeof (v as { version: unknown }).version === 'string') return (v as { version: string }).version;
  return undefined;
}
