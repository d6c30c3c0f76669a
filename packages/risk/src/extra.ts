/**
 * The signals beyond the 14 change metrics: owners touched (CODEOWNERS),
 * dependency centrality (the project graph), coverage delta (lcov, Cobertura,
 * istanbul json-summary), complexity delta (cyclomatic complexity from the
 * TypeScript compiler's syntax tree for JS/TS, decision points in the text for
 * other languages), static alerts (SARIF) and test failures (JUnit). There is no public
 * labelled data to weigh them, so they are reported next to the score — each
 * either a number or `missing` with the reason — and not folded into it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@maestro/core/errors';
import { readInputFile } from '@maestro/core/files';
import { git, readBlobs } from '@maestro/core/git';
import { ownersOf, parseCodeowners } from './codeowners.js';
import { excluder } from './signals.js';
import { parseJson } from '@maestro/core/config';
import { readSarif } from '@maestro/core/sarif';
import { JUNIT_FIX, parseXml, xmlList as list, type XmlNode } from '@maestro/core/xml';

export interface ExtraSignal {
  name: 'ownersTouched' | 'dependencyCentrality' | 'coverageDelta' | 'complexityDelta' | 'staticAlerts' | 'testFailRate';
  value: number | null;
  /** What the value means, or why it is missing. */
  detail: string;
  /** A report that could not be read (absent, malformed): where, for an annotation. The signal is then missing. */
  problem?: { file: string; line?: number; message: string };
}

/** Line coverage (covered, total) per file from lcov, Cobertura XML or istanbul json-summary. */
export function readCoverage(text: string, file: string): Map<string, { covered: number; total: number }> {
  const out = new Map<string, { covered: number; total: number }>();
  const t = text.trimStart();
  if (t.startsWith('{')) {
    const data = parseJson(text, file) as Record<string, { lines?: { covered?: number; total?: number } }>;
    for (const [k, v] of Object.entries(data)) {
      if (k === 'total' || !v?.lines) continue;
      out.set(k.replace(/\\/g, '/'), { covered: Number(v.lines.covered ?? 0), total: Number(v.lines.total ?? 0) });
    }
    return out;
  }
  if (t.startsWith('<')) {
    // Cobertura: <coverage><packages><package><classes><class filename="…"><lines><line number hits/>…
    const doc = parseXml(text, file, 'Cobertura', 'regenerate the coverage report (a crashed run leaves it truncated)');
    const root = doc['coverage'] as XmlNode | undefined;
    if (!root) throw new ConfigError('not a Cobertura report (no <coverage> element)', { file, fix: 'point coverage inputs at cobertura.xml, lcov.info or coverage-summary.json' });
    for (const pkg of list((root['packages'] as XmlNode | undefined)?.['package'])) {
      for (const cls of list((pkg['classes'] as XmlNode | undefined)?.['class'])) {
        const name = cls['@filename'];
        if (typeof name !== 'string') continue;
        const lines = list((cls['lines'] as XmlNode | undefined)?.['line']);
        const prev = out.get(name) ?? { covered: 0, total: 0 };
        out.set(name, { covered: prev.covered + lines.filter((l) => Number(l['@hits']) > 0).length, total: prev.total + lines.length });
      }
    }
    return out;
  }
  let current = '';
  let sawRecord = false;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('SF:')) {
      current = line.slice(3).replace(/\\/g, '/');
      sawRecord = true;
    } else if (line.startsWith('LF:') && current) out.set(current, { covered: out.get(current)?.covered ?? 0, total: Number(line.slice(3)) });
    else if (line.startsWith('LH:') && current) out.set(current, { covered: Number(line.slice(3)), total: out.get(current)?.total ?? 0 });
  }
  if (!sawRecord) throw new ConfigError('not a coverage report (lcov, Cobertura XML or istanbul json-summary)', { file, fix: 'point coverage inputs at lcov.info, cobertura.xml or coverage-summary.json' });
  return out;
}

/** Change in line coverage (percentage points) over the files the change touched, base → head. */
export function coverageDelta(base: Map<string, { covered: number; total: number }>, head: Map<string, { covered: number; total: number }>, files: readonly string[]): ExtraSignal {
  const pick = (m: Map<string, { covered: number; total: number }>) => {
    let c = 0;
    let t = 0;
    for (const [k, v] of m) if (files.some((f) => k === f || k.endsWith(`/${f}`))) {
      c += v.covered;
      t += v.total;
    }
    return t ? (100 * c) / t : undefined;
  };
  const a = pick(base);
  const b = pick(head);
  if (b === undefined) return { name: 'coverageDelta', value: null, detail: 'missing: the head coverage report covers none of the changed files' };
  if (a === undefined) return { name: 'coverageDelta', value: null, detail: `missing: no base coverage for the changed files (head: ${b.toFixed(1)} %)` };
  return { name: 'coverageDelta', value: Math.round((b - a) * 10) / 10, detail: `line coverage of the changed files ${a.toFixed(1)} % → ${b.toFixed(1)} %` };
}

/** Decision points in source text (language-neutral): branches, loops, cases, boolean operators, catches, ternaries. */
export function decisionPoints(src: string): number {
  const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1').replace(/^\s*#.*$/gm, '').replace(/(["'`])(?:\\.|(?!\1).)*\1/g, '""');
  return (code.match(/\b(if|elif|for|foreach|while|case|catch|except|when)\b|&&|\|\||\?\?|\?(?!\.)|\band\b|\bor\b/g) ?? []).length;
}

export const JS_TS = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/i;

type TS = typeof import('typescript');

/**
 * McCabe cyclomatic complexity of a JS/TS file from the TypeScript compiler's
 * syntax tree (parse only, no type check): 1 per function-like body plus 1 per
 * branch anywhere (a file of plain declarations is 0, so a delta counts logic) — if, ?:, case (not default),
 * for/for-in/for-of/while/do, catch, and the short-circuit operators && || ??
 * and their assignment forms.
 */
export function cyclomatic(ts: TS, src: string, fileName: string): number {
  const sf = ts.createSourceFile(fileName, src, ts.ScriptTarget.Latest, false, /\.[jt]sx$/i.test(fileName) ? ts.ScriptKind.TSX : undefined);
  const K = ts.SyntaxKind;
  const branch = new Set([K.IfStatement, K.ConditionalExpression, K.CaseClause, K.ForStatement, K.ForInStatement, K.ForOfStatement, K.WhileStatement, K.DoStatement, K.CatchClause]);
  const shortCircuit = new Set([K.AmpersandAmpersandToken, K.BarBarToken, K.QuestionQuestionToken, K.AmpersandAmpersandEqualsToken, K.BarBarEqualsToken, K.QuestionQuestionEqualsToken]);
  let n = 0;
  const visit = (node: import('typescript').Node): void => {
    if (branch.has(node.kind)) n++;
    else if (ts.isBinaryExpression(node) && shortCircuit.has(node.operatorToken.kind)) n++;
    else if (ts.isFunctionLike(node) && (node as { body?: unknown }).body) n++;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return n;
}

/**
 * Complexity of the changed files before and after. JS/TS files are measured
 * with the TypeScript compiler (loaded only when such a file changed); other
 * languages count decision points in the text.
 */
/**
 * The TypeScript compiler, loaded on first use. It is CommonJS and reads the
 * free variable `__filename` at load (to probe file-system case sensitivity),
 * which an ES module bundle does not define: give it this file's path first.
 */
export async function loadTypeScript(): Promise<TS> {
  const g = globalThis as { __filename?: string };
  g.__filename ??= fileURLToPath(import.meta.url);
  return ((await import('typescript')) as unknown as { default: TS }).default;
}

export async function complexityDelta(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>, loadTs: () => Promise<TS> = loadTypeScript): Promise<ExtraSignal> {
  const files = new Set([...before.keys(), ...after.keys()]);
  const jsts = [...files].filter((f) => JS_TS.test(f)).length;
  const ts = jsts ? await loadTs() : undefined;
  const measure = (file: string, src: string) => (ts && JS_TS.test(file) ? cyclomatic(ts, src, file) : decisionPoints(src));
  let a = 0;
  let b = 0;
  for (const [k, v] of before) a += measure(k, v);
  for (const [k, v] of after) b += measure(k, v);
  const how = [jsts ? `cyclomatic complexity (TypeScript syntax tree) of ${jsts} JS/TS file(s)` : '', files.size > jsts ? `decision points of ${files.size - jsts} other file(s)` : ''].filter(Boolean).join(' + ');
  return { name: 'complexityDelta', value: b - a, detail: `${how}: ${a} → ${b}` };
}

/** SARIF results located in the changed files (all tools, all levels but `none`). */
export function staticAlerts(text: string, file: string, files: readonly string[]): ExtraSignal {
  const n = readSarif(text, file).filter((r) => r.level !== 'none' && files.some((f) => r.file === f || r.file.endsWith(`/${f}`))).length;
  return { name: 'staticAlerts', value: n, detail: `${n} alert(s) in the changed files` };
}

/**
 * Share of failed tests in JUnit reports (jest-junit, pytest, vitest, playwright, surefire). A test is
 * identified by its file, class and name across all the reports; it failed when no attempt passed, so
 * a test that passed on a retry (a repeated element, or pytest's and surefire's rerun/flaky elements)
 * counts as passed. Skipped tests do not count. Malformed XML is a ConfigError at its line.
 */
export function testFailRate(reports: ReadonlyArray<{ text: string; file: string }>): ExtraSignal {
  const passed = new Map<string, boolean>();
  let retried = 0;
  for (const r of reports) {
    const doc = parseXml(r.text, r.file, 'JUnit', JUNIT_FIX);
    const visit = (suite: XmlNode, file: string) => {
      const f = typeof suite['@file'] === 'string' ? suite['@file'] : file;
      for (const inner of list(suite['testsuite'])) visit(inner, f);
      for (const tc of list(suite['testcase'])) {
        if (tc['skipped'] !== undefined) continue;
        const key = `${typeof tc['@file'] === 'string' ? tc['@file'] : f}\0${String(tc['@classname'] ?? '')}\0${String(tc['@name'] ?? '')}`;
        const ok = tc['failure'] === undefined && tc['error'] === undefined;
        if (ok && (tc['flakyFailure'] !== undefined || tc['rerunFailure'] !== undefined || passed.get(key) === false)) retried++;
        passed.set(key, (passed.get(key) ?? false) || ok);
      }
    };
    visit((doc['testsuites'] as XmlNode | undefined) ?? doc, '');
  }
  const total = passed.size;
  const failed = [...passed.values()].filter((ok) => !ok).length;
  if (!total) return { name: 'testFailRate', value: null, detail: 'missing: the JUnit reports hold no test cases' };
  return { name: 'testFailRate', value: Math.round((failed / total) * 1000) / 1000, detail: `${failed} of ${total} test case(s) failed${retried ? `; ${retried} passed on a retry` : ''}` };
}


export interface ExtraOptions {
  cwd: string;
  base: string;
  head: string;
  files: readonly string[];
  codeowners?: string;
  coverageBase?: string;
  coverageHead?: string;
  sarif?: string;
  junit?: readonly string[];
  /** Globs of files left out of complexity (default: the vendored, generated and lock files the metrics skip). */
  exclude?: readonly string[];
  /** At most this many changed source files are measured for complexity (default 1000). */
  maxComplexityFiles?: number;
}

/** A blob this large is generated or data, not code someone reviews: left out of complexity. */
const MAX_COMPLEXITY_BYTES = 1 << 20;

const CODE = /\.(ts|tsx|js|jsx|mjs|cjs|py|go|java|kt|scala|rb|rs|c|cc|cpp|h|hpp|cs|php|swift)$/i;

/** Paths changed between two commits (renames by their new path), as the extra signals and reviewers take them. */
export async function changedPaths(cwd: string, base: string, head: string): Promise<string[]> {
  return (await git(['-c', 'core.quotePath=false', 'diff', '--name-only', '-z', base, head], { cwd })).split('\0').filter(Boolean);
}

/** Every extra signal, each a value or missing with the reason. Files are read relative to `cwd`. */
export async function collectExtras(opts: ExtraOptions): Promise<ExtraSignal[]> {
  // Reports are read only inside the workspace or RUNNER_TEMP: a report committed as a symlink to a file
  // elsewhere is refused (and its content never echoed), like a missing one.
  const read = (p: string) => {
    try {
      return readInputFile(opts.cwd, p, { what: 'report', input: p, fix: 'write the report in an earlier step, or leave the input empty' });
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(e.message, { file: p, ...(e.fix ? { fix: e.fix } : {}) });
      throw e;
    }
  };
  const out: ExtraSignal[] = [];
  // Owners touched.
  if (opts.codeowners) {
    const rules = parseCodeowners(opts.codeowners);
    const owners = new Set(opts.files.flatMap((f) => ownersOf(rules, f).owners));
    out.push({ name: 'ownersTouched', value: owners.size, detail: `${owners.size} CODEOWNERS owner(s) across the changed files` });
  } else out.push({ name: 'ownersTouched', value: null, detail: 'missing: no CODEOWNERS file' });
  // Dependency centrality from the project graph.
  try {
    // The project graph is loaded only here: it is the one heavy dependency of these signals.
    const { discover, gitTree, Ownership, ProjectGraph } = await import('@maestro/affected');
    const ws = await discover(await gitTree(opts.head, { cwd: opts.cwd, eager: true }));
    if (ws.projects.size < 2) out.push({ name: 'dependencyCentrality', value: null, detail: 'missing: fewer than two projects in the workspace' });
    else {
      const graph = new ProjectGraph(ws.projects);
      const own = new Ownership(ws.projects.values());
      const touched = new Set(opts.files.flatMap((f) => own.owners(f).map((p) => p.name)));
      let best = 0;
      let who = '';
      for (const t of touched) {
        const n = graph.closure([t], 'dependents').size - 1;
        if (n > best || !who) [best, who] = [n, t];
      }
      const share = touched.size ? Math.round((best / (ws.projects.size - 1)) * 1000) / 1000 : 0;
      out.push({ name: 'dependencyCentrality', value: share, detail: touched.size ? `${who} has ${best} of ${ws.projects.size - 1} other projects depending on it` : 'no project touched' });
    }
  } catch (e) {
    out.push({ name: 'dependencyCentrality', value: null, detail: `missing: the project graph could not be read (${(e as Error).message})` });
  }
  // A report that cannot be read makes its signal missing, with the reason, rather than costing the score.
  const fromReport = (name: ExtraSignal['name'], f: () => ExtraSignal): ExtraSignal => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return { name, value: null, detail: `missing: ${e.format()}`, problem: { file: e.file ?? '', ...(e.line !== undefined ? { line: e.line } : {}), message: e.message } };
    }
  };
  // Coverage delta.
  if (opts.coverageHead) {
    out.push(
      fromReport('coverageDelta', () => {
        const head = readCoverage(read(opts.coverageHead!), opts.coverageHead!);
        const base = opts.coverageBase ? readCoverage(read(opts.coverageBase), opts.coverageBase) : new Map();
        return coverageDelta(base, head, opts.files);
      }),
    );
  } else out.push({ name: 'coverageDelta', value: null, detail: 'missing: no coverage report given' });
  // Complexity delta over changed source files.
  const excluded = excluder(opts.exclude);
  const allCode = opts.files.filter((f) => CODE.test(f) && !excluded(f));
  // A huge change is measured on its first files (in path order), and says so.
  const max = opts.maxComplexityFiles ?? 1000;
  const code = allCode.slice(0, max);
  if (code.length) {
    const g = { cwd: opts.cwd };
    const [before, after] = await Promise.all([readBlobs(code.map((f) => `${opts.base}:${f}`), g), readBlobs(code.map((f) => `${opts.head}:${f}`), g)]);
    let big = 0;
    // Keyed by path (the blobs come back keyed by `<rev>:<path>`); blobs over 1 MiB are left out.
    const asText = (m: Map<string, Buffer>, rev: string) =>
      new Map(
        [...m].flatMap(([k, v]): Array<[string, string]> => {
          if (v.length > MAX_COMPLEXITY_BYTES) return (big++, []);
          return [[k.slice(rev.length + 1), v.toString('utf8')]];
        }),
      );
    const delta = await complexityDelta(asText(before, opts.base), asText(after, opts.head));
    const notes = [allCode.length > max ? `measured on the first ${max} of ${allCode.length} changed source files` : '', big ? `${big} version(s) over 1 MiB left out` : ''].filter(Boolean);
    out.push(notes.length ? { ...delta, detail: `${delta.detail} (${notes.join('; ')})` } : delta);
  } else out.push({ name: 'complexityDelta', value: 0, detail: allCode.length ? 'no source files measured' : 'no source files changed' });
  // Static alerts and test failures.
  out.push(opts.sarif ? fromReport('staticAlerts', () => staticAlerts(read(opts.sarif!), opts.sarif!, opts.files)) : { name: 'staticAlerts', value: null, detail: 'missing: no SARIF log given' });
  out.push(opts.junit?.length ? fromReport('testFailRate', () => testFailRate(opts.junit!.map((f) => ({ text: read(f), file: f })))) : { name: 'testFailRate', value: null, detail: 'missing: no JUnit report given' });
  return out;
}
