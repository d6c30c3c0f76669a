/**
 * Config loading: YAML (or JSON) files validated by zod, with every error
 * pointing at the file, line and column of the offending value. Pure.
 */
import { readFileSync } from 'node:fs';
import { EVENT_ID, getScalarValue, load, loadAll, parseEvents, YAMLException, type Event } from 'js-yaml';
import type { z } from 'zod';
import { ConfigError } from './errors.js';

export interface Position {
  line: number; // 1-based
  column: number; // 1-based
}

type PathKey = string; // JSON of the path array

function positionOf(source: string, offset: number): Position {
  let line = 1;
  let lastNl = -1;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lastNl = i;
    }
  }
  return { line, column: offset - lastNl };
}

/**
 * Map each node path (e.g. `["rules",2,"paths"]`) of the first document to the
 * offset where its value (and, for mapping entries, its key) starts.
 */
export function yamlPositions(source: string): Map<PathKey, { key?: number; value: number }> {
  const positions = new Map<PathKey, { key?: number; value: number }>();
  let events: Event[];
  try {
    events = parseEvents(source, {});
  } catch {
    return positions;
  }
  interface Frame {
    kind: 'map' | 'seq';
    path: (string | number)[];
    index: number; // seq: next item index; map: count of scalars/nodes seen
    pendingKey?: string;
    pendingKeyOffset?: number;
  }
  const stack: Frame[] = [];
  let docs = 0;
  const childPath = (): { path: (string | number)[]; key?: number } | null => {
    const top = stack[stack.length - 1];
    if (!top) return { path: [] };
    if (top.kind === 'seq') return { path: [...top.path, top.index++] };
    if (top.pendingKey === undefined) return null; // this node is a key
    const p = { path: [...top.path, top.pendingKey], key: top.pendingKeyOffset! };
    top.pendingKey = undefined;
    return p;
  };
  for (const ev of events) {
    if (ev.type === EVENT_ID.DOCUMENT) {
      if (++docs > 1) break;
      continue;
    }
    if (ev.type === EVENT_ID.POP) {
      stack.pop();
      continue;
    }
    const start = ev.type === EVENT_ID.SCALAR ? ev.valueStart : 'start' in ev ? ev.start : -1;
    const top = stack[stack.length - 1];
    const isKey = top?.kind === 'map' && top.pendingKey === undefined;
    if (isKey) {
      top!.pendingKey = ev.type === EVENT_ID.SCALAR ? getScalarValue(source, ev) : '?';
      top!.pendingKeyOffset = start;
      if (ev.type === EVENT_ID.MAPPING || ev.type === EVENT_ID.SEQUENCE) stack.push({ kind: 'map', path: ['?complex-key'], index: 0 });
      continue;
    }
    const at = childPath();
    if (at) {
      const entry: { key?: number; value: number } = { value: start };
      if (at.key !== undefined) entry.key = at.key;
      positions.set(JSON.stringify(at.path), entry);
      if (ev.type === EVENT_ID.MAPPING) stack.push({ kind: 'map', path: at.path, index: 0 });
      else if (ev.type === EVENT_ID.SEQUENCE) stack.push({ kind: 'seq', path: at.path, index: 0 });
    }
  }
  return positions;
}

/** Line/column of a path, falling back to its nearest ancestor that has a position. */
export function locate(source: string, path: readonly PropertyKey[], positions = yamlPositions(source)): Position | undefined {
  const p = path.map((k) => (typeof k === 'symbol' ? String(k) : k));
  for (let n = p.length; n >= 0; n--) {
    const hit = positions.get(JSON.stringify(p.slice(0, n)));
    if (hit) {
      const off = hit.value >= 0 ? hit.value : hit.key;
      // A missing key is best reported at its parent's key.
      const offset = n < p.length && hit.key !== undefined ? hit.key : off;
      if (offset !== undefined && offset >= 0) return positionOf(source, offset);
    }
  }
  return undefined;
}

export function parseYaml(source: string, file: string): unknown {
  try {
    return load(source, { filename: file });
  } catch (e) {
    throw yamlError(e, file);
  }
}

/** Every document of a YAML stream (`---`-separated), with the same error reporting as parseYaml. */
export function parseYamlAll(source: string, file: string): unknown[] {
  try {
    return loadAll(source, null, { filename: file });
  } catch (e) {
    throw yamlError(e, file);
  }
}

/**
 * `pnpm-lock.yaml` as pnpm writes it today. pnpm 11+ may write two documents:
 * an "env" document first (`packageManagerDependencies`, `configDependencies`)
 * and the project's lockfile last (pnpm/pnpm#10964; pnpm.io "Reading
 * pnpm-lock.yaml": read every document, the project graph is the last one).
 * Returns the project document and, when there is one, the env document.
 */
export function pnpmLockDocuments(source: string, file: string): { project: unknown; env?: unknown } {
  const docs = /^---[ \t]*$/m.test(source) ? parseYamlAll(source, file).filter((d) => d !== null && d !== undefined) : [parseYaml(source, file)];
  const project = docs[docs.length - 1];
  return docs.length > 1 ? { project, env: docs[0] } : { project };
}

/** The text of the last document of a YAML stream (after the last `---` line), for line-oriented readers. */
export function lastYamlDocumentText(source: string): string {
  const re = /^---[ \t]*$/gm;
  let last = -1;
  for (let m = re.exec(source); m; m = re.exec(source)) last = m.index + m[0].length;
  return last < 0 ? source : source.slice(last).replace(/^\r?\n/, '');
}

function yamlError(e: unknown, file: string): unknown {
  if (!(e instanceof YAMLException)) return e;
  const mark = e.mark;
  return new ConfigError(`invalid YAML: ${e.reason}`, {
    file,
    ...(mark ? { line: mark.line + 1, column: mark.column + 1 } : {}),
    fix: 'fix the YAML syntax at that position (indentation, quotes, a missing colon)',
    cause: e,
  });
}

function describePath(path: readonly PropertyKey[]): string {
  return path.length ? path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)';
}

/**
 * Validate already-parsed data; the first problem becomes a ConfigError at its
 * line (all problems are listed in the message).
 */
export function validateConfig<S extends z.ZodType>(schema: S, data: unknown, source: string, file: string, fix?: string): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const positions = yamlPositions(source);
  // An unknown key is best pointed at where it is written, not at its parent.
  const where = (i: z.core.$ZodIssue) => (i.code === 'unrecognized_keys' && i.keys.length ? [...i.path, i.keys[0]!] : i.path);
  // A typo shows up as an unknown key plus a missing one; the unknown key is the better place to point at.
  const ordered = [...r.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
  const issues = ordered.map((i) => ({ issue: i, pos: locate(source, where(i), positions) }));
  const first = issues[0]!;
  const lines = issues.map(({ issue, pos }) => `${pos ? `line ${pos.line}: ` : ''}${describePath(issue.path)}: ${issue.message}`);
  throw new ConfigError(lines.length === 1 ? lines[0]!.replace(/^line \d+: /, '') : `${lines.length} problems: ${lines.join('; ')}`, {
    file,
    ...(first.pos ? { line: first.pos.line, column: first.pos.column } : {}),
    fix: fix ?? 'correct the value(s) named above; see the documentation of this file',
  });
}

/** Read, parse and validate a YAML/JSON config file. A missing file is a ConfigError. */
export function loadConfigFile<S extends z.ZodType>(schema: S, file: string, opts: { displayPath?: string; fix?: string } = {}): z.output<S> {
  const shown = opts.displayPath ?? file;
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      file: shown,
      fix: 'check the path (it is relative to the repository root)',
      cause: e,
    });
  }
  return validateConfig(schema, parseYaml(source, shown), source, shown, opts.fix);
}

/** A JSON/YAML object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deepest JSON nesting accepted: recursive consumers (zod, JSON.stringify, walkers) overflow the stack long before V8's parser does. */
export const MAX_JSON_DEPTH = 256;

/**
 * Offset of the first syntax error in a JSON text (-1 when it is valid) and
 * what was expected there. Iterative: a hostile file nested 100,000 deep costs
 * a loop, not a stack.
 */
export function scanJson(text: string): { error: number; expected: string } {
  let i = 0;
  const stack: Array<'{' | '['> = [];
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (expected: string) => ({ error: Math.min(i, n), expected });
  const str = (): boolean => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return true;
      }
      if (c < 32) return false;
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return false;
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else return false;
      } else i++;
    }
    return false;
  };
  const NUM = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  // States: expecting a value, or what follows a value inside a container.
  let wantValue = true;
  ws();
  for (;;) {
    if (wantValue) {
      ws();
      const c = text[i];
      if (c === '{' || c === '[') {
        stack.push(c);
        i++;
        ws();
        const close = c === '{' ? '}' : ']';
        if (text[i] === close) {
          stack.pop();
          i++;
          wantValue = false;
          continue;
        }
        if (c === '{') {
          if (text[i] !== '"') return fail('a quoted key or }');
          if (!str()) return fail('a valid string');
          ws();
          if (text[i] !== ':') return fail(':');
          i++;
        }
        continue;
      }
      if (c === '"') {
        if (!str()) return fail('a valid string');
      } else if (text.startsWith('true', i)) i += 4;
      else if (text.startsWith('false', i)) i += 5;
      else if (text.startsWith('null', i)) i += 4;
      else {
        NUM.lastIndex = i;
        const m = NUM.exec(text);
        if (!m || !m[0]) return fail('a value');
        i += m[0].length;
      }
      wantValue = false;
      continue;
    }
    ws();
    const top = stack[stack.length - 1];
    if (!top) return i >= n ? { error: -1, expected: '' } : fail('the end of the text');
    const c = text[i];
    if (c === ',') {
      i++;
      if (top === '{') {
        ws();
        if (text[i] !== '"') return fail('a quoted key');
        if (!str()) return fail('a valid string');
        ws();
        if (text[i] !== ':') return fail(':');
        i++;
      }
      wantValue = true;
    } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
      stack.pop();
      i++;
    } else return fail(top === '{' ? ', or }' : ', or ]');
  }
}

/** Deepest bracket nesting of a valid JSON text (strings skipped); one pass over the characters. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // skip the string
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 || c === 91) {
      if (++depth > max) max = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/**
 * Parse JSON; a syntax error becomes a ConfigError at its line and column.
 * The message never quotes the file (a lockfile or report may hold a token),
 * and nesting deeper than MAX_JSON_DEPTH is refused before anything recurses.
 */
export function parseJson(source: string, file: string): unknown {
  const fix = 'fix the JSON syntax at that position (a trailing comma, a missing quote or brace)';
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (e) {
    const scan = scanJson(source);
    const at = scan.error >= 0 ? scan.error : 0;
    const pos = positionOf(source, at);
    const what = at >= source.length ? 'the text ends too early' : `unexpected character`;
    throw new ConfigError(`invalid JSON: ${what}; expected ${scan.expected || 'valid JSON'}`, { file, ...pos, fix, cause: e });
  }
  if (value !== null && typeof value === 'object') {
    const depth = jsonDepth(source);
    if (depth > MAX_JSON_DEPTH) throw new ConfigError(`JSON nested ${depth} levels deep; more than ${MAX_JSON_DEPTH} is refused`, { file, fix: 'pass the file the tool wrote; no report nests this deep' });
  }
  return value;
}
