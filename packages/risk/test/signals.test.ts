import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { GitFixture } from '@maestro/harness';
import { changeSignals } from '../src/index.js';

const ALICE = { name: 'Alice', email: 'alice@example.com' };
const BOB = { name: 'Bob', email: 'bob@example.com' };
const day = (d: number) => new Date(Date.UTC(2026, 0, 1) + d * 86400_000).toISOString();

let fx: GitFixture;
let base: string;
let head: string;

beforeAll(() => {
  fx = GitFixture.create();
  fx.commit('add a and b', { 'src/a.ts': '1\n2\n3\n', 'lib/b.ts': 'x\ny\n' }, { author: ALICE, date: day(0) });
  fx.commit('tweak a', { 'src/a.ts': '1\n2\n3\n4\n' }, { author: BOB, date: day(1) });
  base = fx.commit('docs', { 'docs/x.md': '# x\n' }, { author: ALICE, date: day(2) });
  fx.push('main');
  head = fx.commit('fix: rounding (#12)', { 'src/a.ts': '1\n2\nthree\n4\n5\n', 'lib/c.ts': 'a\nb\nc\nd\ne\n' }, { author: ALICE, date: day(5) });
  fx.push('main');
});

afterAll(() => fx?.dispose());

describe('Kamei change metrics from git', () => {
  test('every metric computed by the published definitions (checked by hand)', async () => {
    const r = await changeSignals({ cwd: fx.work, base, head });
    expect(r.missing).toEqual([]);
    expect(r.author).toBe('alice@example.com');
    const s = r.signals;
    expect({ la: s.la, ld: s.ld, nf: s.nf, nd: s.nd, ns: s.ns, lt: s.lt, fix: s.fix, ndev: s.ndev, nuc: s.nuc, exp: s.exp, sexp: s.sexp }).toEqual({ la: 7, ld: 1, nf: 2, nd: 2, ns: 2, lt: 4, fix: 1, ndev: 2, nuc: 4, exp: 3, sexp: 2 });
    expect(s.entrophy).toBeCloseTo(0.9544, 4);
    expect(s.age).toBeCloseTo(4, 6);
    expect(s.rexp).toBeCloseTo(2 / 6 + 1 / 4, 6);
  });

  test('in a shallow clone the history metrics are missing, with the reason, never 0', async () => {
    const dir = fx.checkoutLike(head, { depth: 1 });
    fx.git(['fetch', '-q', '--depth=1', 'origin', base], dir);
    const r = await changeSignals({ cwd: dir, base, head });
    expect(r.missing).toEqual(['ndev', 'age', 'nuc', 'exp', 'rexp', 'sexp']);
    expect(r.signals.ndev).toBeUndefined();
    expect(r.notes[0]).toMatch(/shallow \(\d+ commit\(s\), \d+ day\(s\) of history before the base\).* fetch-depth: 0/);
    expect(r.signals.la).toBe(7);
  });
});

describe('CODEOWNERS', () => {
  test('last match wins, directories own their contents, unanchored names match anywhere, teams and the author', async () => {
    const { parseCodeowners, ownersOf, reviewersFor } = await import('../src/index.js');
    const rules = parseCodeowners(['# owners', '*       @core-team-lead', '/src/   @alice @acme/web', '*.md    @docs', 'lib/payments @bob', 'src/legacy/  # nobody owns this', ''].join('\n'));
    expect(ownersOf(rules, 'src/a.ts').owners).toEqual(['@alice', '@acme/web']);
    expect(ownersOf(rules, 'src/readme.md').owners).toEqual(['@docs']);
    expect(ownersOf(rules, 'lib/payments/charge.ts').owners).toEqual(['@bob']);
    expect(ownersOf(rules, 'src/legacy/old.ts')).toEqual({ owners: [], line: 6 });
    expect(ownersOf(rules, 'tools/x.sh').owners).toEqual(['@core-team-lead']);
    expect(reviewersFor(rules, ['src/a.ts', 'lib/payments/charge.ts', 'docs/x.md'], 'Alice')).toEqual({ users: ['bob', 'docs'], teams: ['web'] });
  });
});

describe('vendored, generated and lock files', () => {
  test('are left out of the metrics by default, said in the notes; configurable', async () => {
    const f = GitFixture.create();
    try {
      const b = f.commit('base', { 'src/a.ts': 'a\n' });
      const vendored = Array.from({ length: 500 }, (_, i) => `v${i}`).join('\n') + '\n';
      const h = f.commit('bump', { 'src/a.ts': 'a\nb\n', 'vendor/lib/x.js': vendored, 'pnpm-lock.yaml': vendored, 'web/app.min.js': vendored });
      const r = await changeSignals({ cwd: f.work, base: b, head: h });
      expect(r.signals).toMatchObject({ la: 1, nf: 1 });
      expect(r.notes[0]).toMatch(/^3 vendored, generated or lock file\(s\) left out/);
      const all = await changeSignals({ cwd: f.work, base: b, head: h, exclude: [] });
      expect(all.signals).toMatchObject({ la: 1501, nf: 4 });
    } finally {
      f.dispose();
    }
  });
});

describe('other signals', () => {
  test('coverage formats, coverage delta, decision points, SARIF and JUnit', async () => {
    const { readCoverage, coverageDelta, decisionPoints, staticAlerts, testFailRate } = await import('../src/index.js');
    const lcov = readCoverage('TN:\nSF:src/a.ts\nLF:10\nLH:5\nend_of_record\n', 'lcov.info');
    const cob = readCoverage('<coverage><packages><package><classes><class name="a" filename="src/a.ts" line-rate="0.8"><lines><line number="1" hits="1"/><line number="2" hits="0"/><line number="3" hits="4"/><line number="4" hits="2"/><line number="5" hits="1"/></lines></class></classes></package></packages></coverage>', 'cobertura.xml');
    const ist = readCoverage(JSON.stringify({ total: { lines: { total: 10, covered: 9 } }, 'src/a.ts': { lines: { total: 10, covered: 9 } } }), 'coverage-summary.json');
    expect(lcov.get('src/a.ts')).toEqual({ covered: 5, total: 10 });
    expect(cob.get('src/a.ts')).toEqual({ covered: 4, total: 5 });
    expect(coverageDelta(lcov, ist, ['src/a.ts'])).toEqual({ name: 'coverageDelta', value: 40, detail: 'line coverage of the changed files 50.0 % → 90.0 %' });
    expect(() => readCoverage('hello', 'x.txt')).toThrow(/not a coverage report/);
    expect(decisionPoints('if (a && b) { for (;;) {} } // if\nconst s = "if while";\nx ? y : z; a?.b; c ?? d;')).toBe(5);
    expect(staticAlerts(JSON.stringify({ runs: [{ results: [{ level: 'none', locations: [{ physicalLocation: { artifactLocation: { uri: 'src/a.ts' } } }] }, { locations: [{ physicalLocation: { artifactLocation: { uri: 'file://src/a.ts' } } }] }] }] }), 's.sarif', ['src/a.ts']).value).toBe(1);
    expect(() => staticAlerts('{}', 's.sarif', [])).toThrow(/not a SARIF log/);
    expect(testFailRate([{ text: '<testsuite></testsuite>', file: 'j.xml' }]).value).toBeNull();
  });

  test('cyclomatic complexity of JS/TS from the TypeScript syntax tree; other languages by decision points; strings and comments never count', async () => {
    const { cyclomatic, complexityDelta } = await import('../src/index.js');
    const ts = ((await import('typescript')) as unknown as { default: typeof import('typescript') }).default;
    const src = [
      '// if (x) { while (y) {} }',
      'const s = "if && || ?? for";',
      'export function pay(a: number, b?: number): number {', // 1
      '  if (a > 0 && b) return a;', // if + &&
      '  for (const x of [1]) a += x;', // for-of
      '  switch (a) { case 1: break; case 2: break; default: break; }', // 2 cases
      '  try { a ||= 1; } catch { a = b ?? 0; }', // ||= + catch + ??
      '  return a > 1 ? a : 0;', // ?:
      '}',
      'export const f = (x: number) => x;', // 1
      'class C { m() { return this?.n; } n = 1; }', // 1 (optional chaining is not a branch)
    ].join('\n');
    expect(cyclomatic(ts, src, 'a.ts')).toBe(1 + 2 + 1 + 2 + 3 + 1 + 1 + 1);
    expect(cyclomatic(ts, 'export const x = 1;\n', 'x.ts')).toBe(0);
    expect(cyclomatic(ts, 'export const App = () => <div>{ok && <b/>}</div>;\n', 'App.tsx')).toBe(2);
    const d = await complexityDelta(new Map([['src/a.ts', 'export function f(a) { return a; }\n'], ['tool.py', 'if a:\n  pass\n']]), new Map([['src/a.ts', 'export function f(a) { if (a) return a && 1; return 0; }\n'], ['tool.py', 'if a and b:\n  pass\n']]));
    expect(d).toEqual({ name: 'complexityDelta', value: 3, detail: 'cyclomatic complexity (TypeScript syntax tree) of 1 JS/TS file(s) + decision points of 1 other file(s): 2 → 5' });
  });
});

describe('numstat records', () => {
  test('paths keep their tabs; binary files count 0; a rename has an empty path; anything else is not a record', async () => {
    const { numstatRecord } = await import('../src/index.js');
    expect(numstatRecord('3\t1\tsrc/a\tb.ts')).toEqual({ added: 3, deleted: 1, path: 'src/a\tb.ts' });
    expect(numstatRecord('\n\n-\t-\tlogo.png')).toEqual({ added: 0, deleted: 0, path: 'logo.png', binary: true });
    expect(numstatRecord('2\t0\t')).toEqual({ added: 2, deleted: 0, path: '' });
    expect(numstatRecord('commit message\twith tabs')).toBeUndefined();
    expect(numstatRecord('')).toBeUndefined();
  });
});

describe('JUnit and Cobertura reports', () => {
  test('a test passed on a retry counts as passed, across reports and rerun elements; skipped do not count; nested suites are read', async () => {
    const { testFailRate } = await import('../src/index.js');
    const first = '<testsuites><testsuite name="unit" file="src/a.test.ts"><testsuite name="inner"><testcase classname="A" name="adds"/><testcase classname="A" name="rounds"><failure>1 != 2</failure></testcase></testsuite><testcase classname="A" name="later"><skipped/></testcase></testsuite></testsuites>';
    const rerun = '<testsuite name="unit" file="src/a.test.ts"><testcase classname="A" name="rounds"/></testsuite>';
    const pytest = '<testsuite><testcase classname="t.test_x" name="test_flaky" file="t/test_x.py"><rerunFailure message="boom"/></testcase><testcase classname="t.test_x" name="test_broken" file="t/test_x.py"><error message="x"/></testcase></testsuite>';
    expect(testFailRate([{ text: first, file: 'a.xml' }])).toMatchObject({ value: 0.5, detail: '1 of 2 test case(s) failed' });
    expect(testFailRate([{ text: first, file: 'a.xml' }, { text: rerun, file: 'b.xml' }])).toMatchObject({ value: 0, detail: '0 of 2 test case(s) failed; 1 passed on a retry' });
    expect(testFailRate([{ text: pytest, file: 'p.xml' }])).toMatchObject({ value: 0.5, detail: '1 of 2 test case(s) failed; 1 passed on a retry' });
  });

  test('malformed XML is a ConfigError at its line; a Cobertura file without <coverage> says so', async () => {
    const { readCoverage, testFailRate } = await import('../src/index.js');
    const { ConfigError } = await import('@maestro/core/errors');
    const truncated = '<testsuites>\n<testsuite name="unit">\n<testcase name="a">\n';
    let err: unknown;
    try {
      testFailRate([{ text: truncated, file: 'reports/junit.xml' }]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as InstanceType<typeof ConfigError>).format()).toMatch(/^reports\/junit\.xml:\d+(:\d+)?: invalid JUnit XML: .* Fix: check that the test run finished/);
    expect(() => readCoverage('<coverage><packages><package>', 'cov.xml')).toThrow(/invalid Cobertura XML/);
    expect(() => readCoverage('<report/>', 'cov.xml')).toThrow(/not a Cobertura report/);
    expect(readCoverage('<coverage><packages><package><classes><class filename="a.ts"><lines><line number="1" hits="0"/></lines></class><class filename="a.ts"><lines><line number="2" hits="3"/></lines></class></classes></package></packages></coverage>', 'c.xml').get('a.ts')).toEqual({ covered: 1, total: 2 });
  });
});

describe('fix detection (#23 bug 2)', () => {
  test('narrow rules, each named: conventional type, trailer, fix keyword + issue reference, fix wording in the subject', async () => {
    const { fixRule, isFix } = await import('../src/index.js');
    const cases: Array<[string, string | undefined]> = [
      ['fix(core): null check on empty lockfile', 'conventional'],
      ['hotfix!: roll back the cache key', 'conventional'],
      ['feat: add opus-4 and node-20 support; resolves conflicts', undefined],
      ['feat: fix-like wording does not make a feature a fix', undefined],
      ['chore(deps): bump resolve to 1.22.8', undefined],
      ['docs: describe the bug report template', undefined],
      ['Merge pull request #12345 from acme/feature', undefined],
      ['Update README\n\nThis resolves the confusion about #12.', undefined],
      ['Use node-20 and opus-4 in CI', undefined],
      ['Handle empty input\n\nFixes #123', 'closing'],
      ['Handle empty input\n\nfixed JIRA-42 by checking length', 'closing'],
      ['Handle empty input\n\nFixes: 1a2b3c4d5e6f', 'trailer'],
      ['Fix typo in error message', 'subject'],
      ['Prevent crash when the config is missing', 'subject'],
      ['Refactor prefix and suffix handling', undefined],
    ];
    for (const [message, rule] of cases) expect([message, fixRule(message)]).toEqual([message, rule]);
    // A PR body is prose: only references and trailers count there.
    expect(isFix(['Add a setting'], ['This fixes a bug we saw.'])).toBe(false);
    expect(isFix(['Add a setting'], ['Fixes #77'])).toBe(true);
  });
});
