/**
 * Timing sources → per-test results. Reads flat JSON maps (`ci/test-timings.json`,
 * pytest-split `.test_durations`, knapsack reports), Jest `--json` output, the
 * Maestro timing store, and JUnit XML (jest-junit, pytest `--junitxml`, vitest,
 * playwright). Bad values are ConfigErrors naming the file and the entry.
 */
import { ConfigError } from '@maestro/core/errors';
import { parseJson } from '@maestro/core/config';
import { JUNIT_FIX, parseXml, xmlList as asArray, type XmlNode } from '@maestro/core/xml';
import { normalizeKey } from './plan.js';
import { isStore, type TimingStore } from './store.js';

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

function checkSeconds(v: unknown, file: string, key: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigError(`duration of '${key}' is ${JSON.stringify(v)}: durations must be finite, non-negative numbers of seconds`, { file, fix: 'regenerate the timing file, or remove that entry' });
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

/** Keys that occur more than once in the top-level object of a JSON text (JSON.parse keeps the last silently). */
export function duplicateTopLevelKeys(text: string): string[] {
  const seen = new Set<string>();
  const dups = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) dups.add(key);
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return [...dups];
}

export function readJsonTimings(text: string, file: string): TimingSource {
  const data = parseJson(text, file);
  const dups = duplicateTopLevelKeys(text);
  if (dups.length) throw new ConfigError(`the timing file lists ${dups.slice(0, 3).map((d) => `'${d}'`).join(', ')} more than once`, { file, fix: 'keep one entry per test (merge shards with `mode: collect` instead of concatenating files)' });
  if (isStore(data)) return { file, kind: 'store', results: [], store: data, warnings: [] };
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
  const results: TestResult[] = [];
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    const seconds = checkSeconds(v, file, k);
    const key = normalizeKey(k);
    results.push({ id: key, file: key.split('::')[0]!, seconds, status: 'passed', attempt: 1 });
  }
  return { file, kind: 'json-map', results, warnings: [] };
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
  const out = new Map<string, number>();
  for (const s of sources) {
    if (s.store) for (const [k, e] of Object.entries(s.store.tests)) out.set(k, e.p85);
    const mine = new Map<string, number>();
    for (const r of s.results) {
      if (r.status === 'skipped' || r.attempt !== 1) continue;
      mine.set(r.id, (mine.get(r.id) ?? 0) + r.seconds);
    }
    for (const [k, v] of mine) out.set(k, v);
  }
  return out;
}
