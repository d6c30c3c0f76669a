/**
 * Timing sources → per-test results. Reads flat JSON maps (`ci/test-timings.json`,
 * pytest-split `.test_durations`, knapsack reports), Jest `--json` output, the
 * Maestro timing store, and JUnit XML (jest-junit, pytest `--junitxml`, vitest,
 * playwright). Bad values are ConfigErrors naming the file and the entry.
 */
import { ConfigError } from '@maestro/core/errors';
import { parseJson } from '@maestro/core/config';
import { JUNIT_FIX, parseXml, xmlList as asArray, type XmlNode } from '@maestro/core/xml';
import { fileOf, normalizeKey } from './plan.js';
import { droppedNote, readStore, type TimingStore } from './store.js';

export type Status = 'passed' | 'failed' | 'skipped';

export interface TestResult {
  /** `file::name` (or the file alone when the source only knows files). */
  id: string;
  file: string;
  seconds: number;
  status: Status;
  /** 1 for the first attempt, 2… for retries within the same report. */
  attempt: number;
}

export interface TimingSource {
  file: string;
  kind: 'json-map' | 'jest-json' | 'store' | 'junit';
  results: TestResult[];
  /** A store keeps its own history; planning reads it directly. */
  store?: TimingStore;
  warnings: string[];
}

/** A value named in an error without quoting it: numbers as they are, anything else by its type. */
function describe(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'string') return 'a string';
  return Array.isArray(v) ? 'a list' : `a${typeof v === 'object' ? 'n object' : ` ${typeof v}`}`;
}

/** A test name in a message, cut to a readable length. */
export function shortKey(k: string): string {
  return k.length > 120 ? `${k.slice(0, 117)}…` : k;
}

function checkSeconds(v: unknown, file: string, key: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigError(`duration of '${shortKey(key)}' is ${describe(v)}: durations must be finite, non-negative numbers of seconds`, { file, fix: 'regenerate the timing file, or remove that entry' });
  }
  return v;
}

function looksLikePath(s: string): boolean {
  return /\.[a-z0-9]+$/i.test(s) && (s.includes('/') || /\.(spec|test)\./.test(s) || /^test_|_test\./.test(s));
}

export function readJUnit(xml: string, file: string): TimingSource {
  const doc = parseXml(xml, file, 'JUnit', JUNIT_FIX);
  const results: TestResult[] = [];
  const warnings: string[] = [];
  const attempts = new Map<string, number>();
  let missingFile = 0;
  const visitSuite = (suite: XmlNode, inheritedFile: string | undefined) => {
    const suiteFile = (suite['@file'] as string | undefined) ?? (typeof suite['@name'] === 'string' && looksLikePath(suite['@name']) ? (suite['@name'] as string) : undefined) ?? inheritedFile;
    for (const inner of asArray(suite['testsuite'])) visitSuite(inner, suiteFile);
    for (const tc of asArray(suite['testcase'])) {
      const name = String(tc['@name'] ?? '');
      const classname = String(tc['@classname'] ?? '');
      const f = (tc['@file'] as string | undefined) ?? suiteFile;
      if (!f) {
        missingFile++;
        continue;
      }
      const timeRaw = tc['@time'];
      const seconds = timeRaw === undefined || timeRaw === '' ? 0 : Number(String(timeRaw).replace(/,/g, ''));
      const key = `${f}::${classname}::${name}`;
      checkSeconds(seconds, file, key);
      const status: Status = tc['failure'] !== undefined || tc['error'] !== undefined ? 'failed' : tc['skipped'] !== undefined ? 'skipped' : 'passed';
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      const nf = normalizeKey(f);
      results.push({ id: `${nf}::${classname && classname !== f && !nf.endsWith(classname) ? `${classname}::` : ''}${name}`, file: nf, seconds, status, attempt });
      // pytest-rerunfailures and jest retries also report reruns as separate elements.
      const reruns = asArray(tc['rerunFailure']).length + asArray(tc['flakyFailure']).length;
      for (let i = 0; i < reruns; i++) results.push({ id: results[results.length - 1]!.id, file: nf, seconds: 0, status: 'failed', attempt: 0 });
    }
  };
  const root = doc['testsuites'] !== undefined ? (doc['testsuites'] as XmlNode) : doc;
  for (const s of asArray(root['testsuite'])) visitSuite(s, undefined);
  if (root['testcase'] !== undefined) visitSuite(root, undefined);
  if (missingFile) warnings.push(`${file}: ${missingFile} test case(s) have no file attribute and were skipped (jest-junit: set addFileAttribute; pytest: junit_family=xunit1)`);
  return { file, kind: 'junit', results, warnings };
}

const QUOTE = 34;
const BACKSLASH = 92;
const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

/** End (index of the closing quote) of the JSON string opening at `i`, or -1; `escaped` tells whether it holds a backslash. */
function stringEnd(text: string, i: number): { end: number; escaped: boolean } {
  let escaped = false;
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) return { end: j, escaped };
    if (c === BACKSLASH) {
      escaped = true;
      j++;
    } else if (c < 32) return { end: -1, escaped };
  }
  return { end: -1, escaped };
}

/** Keys that occur more than once in the top-level object of a JSON text (JSON.parse keeps the last silently). One pass; only keys with escapes are decoded. */
export function duplicateTopLevelKeys(text: string): string[] {
  const seen = new Set<string>();
  const dups = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const { end, escaped } = stringEnd(text, i);
      if (end < 0) break;
      if (depth === 1 && expectKey) {
        const key = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        if (seen.has(key)) dups.add(key);
        seen.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      expectKey = c === 123 && depth === 1;
    } else if (c === 125 || c === 93) depth--;
    else if (c === 44 /* , */ && depth === 1) expectKey = true;
  }
  return [...dups];
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * A flat JSON map `{"<test>": <number>, …}` read in one pass over the text,
 * without building the object: entries in file order and the keys listed more
 * than once. Undefined when the text is anything else (nested values, strings,
 * invalid JSON): the general reader handles it and reports errors.
 */
export function readFlatMap(text: string): { entries: Array<[string, number]>; duplicates: string[] } | undefined {
  const n = text.length;
  let i = 0;
  const ws = () => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };
  ws();
  if (text.charCodeAt(i) !== 123) return undefined;
  i++;
  const entries: Array<[string, number]> = [];
  const seen = new Set<string>();
  const dups = new Set<string>();
  ws();
  if (text.charCodeAt(i) === 125) {
    i++;
    ws();
    return i === n ? { entries, duplicates: [] } : undefined;
  }
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return undefined;
    const { end, escaped } = stringEnd(text, i);
    if (end < 0) return undefined;
    let key: string;
    if (escaped) {
      try {
        key = JSON.parse(text.slice(i, end + 1)) as string;
      } catch {
        return undefined;
      }
    } else key = text.slice(i + 1, end);
    i = end + 1;
    ws();
    if (text.charCodeAt(i) !== 58 /* : */) return undefined;
    i++;
    ws();
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return undefined;
    i += m[0].length;
    if (seen.has(key)) dups.add(key);
    else seen.add(key);
    entries.push([key, Number(m[0])]);
    ws();
    const c = text.charCodeAt(i);
    i++;
    if (c === 44) {
      ws();
      continue;
    }
    if (c !== 125) return undefined;
    ws();
    return i === n ? { entries, duplicates: [...dups] } : undefined;
  }
}

function duplicatesError(dups: readonly string[], file: string): ConfigError {
  return new ConfigError(`the timing file lists ${dups.slice(0, 3).map((d) => `'${shortKey(d)}'`).join(', ')} more than once`, { file, fix: 'keep one entry per test (merge shards with `mode: collect` instead of concatenating files)' });
}

function mapResults(entries: Iterable<[string, unknown]>, file: string): TestResult[] {
  const results: TestResult[] = [];
  for (const [k, v] of entries) {
    const seconds = checkSeconds(v, file, k);
    const key = normalizeKey(k);
    results.push({ id: key, file: fileOf(key), seconds, status: 'passed', attempt: 1 });
  }
  return results;
}

/** A timing store given as a timing file: checked like a cached one (bad entries dropped, a newer format ignored). */
function storeSource(data: unknown, file: string): TimingSource {
  const check = readStore(data);
  if (check.status === 'newer') return { file, kind: 'store', results: [], warnings: [`${file}: a timing store written by a newer allocate-shards (format ${check.version}); ignored`] };
  if (check.status === 'invalid') throw new ConfigError(`not a valid timing store: ${check.reason}`, { file, fix: 'pass the store-path file written by allocate-shards collect mode, or remove it from `timings`' });
  const note = droppedNote(check.dropped);
  return { file, kind: 'store', results: [], store: check.store, warnings: note ? [`${file}: ${note} dropped from the timing store`] : [] };
}

export function readJsonTimings(text: string, file: string): TimingSource {
  // The common large case (pytest-split, knapsack, ci/test-timings.json) in one pass, without JSON.parse.
  const flat = readFlatMap(text);
  if (flat) {
    if (flat.duplicates.length) throw duplicatesError(flat.duplicates, file);
    return { file, kind: 'json-map', results: mapResults(flat.entries, file), warnings: [] };
  }
  const data = parseJson(text, file);
  const dups = duplicateTopLevelKeys(text);
  if (dups.length) throw duplicatesError(dups, file);
  if (data && typeof data === 'object' && (data as { kind?: unknown }).kind === 'maestro-timing-store') return storeSource(data, file);
  if (data && typeof data === 'object' && !Array.isArray(data) && Array.isArray((data as { testResults?: unknown }).testResults)) {
    // Jest --json: one entry per test file, perfStats in milliseconds.
    const results: TestResult[] = [];
    for (const r of (data as { testResults: Array<Record<string, unknown>> }).testResults) {
      const name = String(r['name'] ?? r['testFilePath'] ?? '');
      const perf = (r['perfStats'] ?? {}) as Record<string, number>;
      const ms = typeof perf['runtime'] === 'number' ? perf['runtime'] : typeof perf['end'] === 'number' && typeof perf['start'] === 'number' ? perf['end'] - perf['start'] : (Number(r['endTime']) - Number(r['startTime']));
      const seconds = checkSeconds(ms / 1000, file, name);
      results.push({ id: normalizeKey(name), file: normalizeKey(name), seconds, status: r['status'] === 'failed' ? 'failed' : 'passed', attempt: 1 });
    }
    return { file, kind: 'jest-json', results, warnings: results.some((r) => r.file.startsWith('/') || /^[A-Z]:/.test(r.file)) ? [`${file}: absolute paths; pass them relative to the repository root`] : [] };
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError('a timing file must be a JSON object {"<test>": seconds}, Jest --json output, a Maestro timing store, or JUnit XML', { file, fix: 'point `timings` at one of those formats' });
  }
  return { file, kind: 'json-map', results: mapResults(Object.entries(data as Record<string, unknown>), file), warnings: [] };
}

/** Any supported timing file, by content. */
export function readTimings(text: string, file: string): TimingSource {
  const head = text.trimStart();
  if (head.startsWith('<')) return readJUnit(text, file);
  if (head === '') throw new ConfigError('the timing file is empty', { file, fix: 'check that the test run wrote it' });
  return readJsonTimings(text, file);
}

/**
 * One duration per key from plain sources: the first attempt of each test
 * (retries do not inflate it), skipped tests left out; later sources win for
 * the same key (newest measurement wins).
 */
export function durations(sources: readonly TimingSource[]): Map<string, number> {
  let out = new Map<string, number>();
  for (const s of sources) {
    if (s.store) for (const [k, e] of Object.entries(s.store.tests)) out.set(k, e.p85);
    const mine = new Map<string, number>();
    for (const r of s.results) {
      if (r.status === 'skipped' || r.attempt !== 1) continue;
      const prev = mine.get(r.id);
      mine.set(r.id, prev === undefined ? r.seconds : prev + r.seconds);
    }
    if (out.size === 0) out = mine; // the first source: no copy
    else for (const [k, v] of mine) out.set(k, v);
  }
  return out;
}
