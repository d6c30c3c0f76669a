import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FakeCacheService, FakeGitHub, GitFixture, assertContract, pullRequestEvent, runAction, scopesFor, type RunResult } from '@maestro/harness';

const actionDir = path.resolve('actions/risk-score');
const REPO = { owner: 'acme', name: 'shop' };
const FULL = 'acme/shop';
const json = (r: RunResult, name: string) => JSON.parse(r.outputs[name]!);

let gh: FakeGitHub;
let fx: GitFixture;
let token: string;
let small: { base: string; head: string; merge: string };
let big: { base: string; head: string; merge: string };

beforeAll(async () => {
  expect(existsSync(path.join(actionDir, 'dist/index.js'))).toBe(true);
  gh = await FakeGitHub.start();
  gh.addRepo(FULL);
  token = gh.addToken('ghs_risk_token');
  fx = GitFixture.create();
  fx.commit('base', {
    '.github/CODEOWNERS': '*  @lead\n/payments/  @alice @acme/payments\n/docs/  @writer\n',
    'payments/charge.ts': 'export const charge = 1;\n',
    'docs/guide.md': '# guide\n',
  }, { author: { name: 'Lead', email: 'lead@example.com' } });
  for (let i = 0; i < 3; i++) fx.commit(`history ${i}`, { 'payments/charge.ts': `export const charge = ${i + 2};\n` }, { author: { name: 'Alice', email: 'alice@example.com' } });
  fx.push('main');
  fx.branch('typo');
  fx.commit('docs: typo', { 'docs/guide.md': '# Guide\n' }, { author: { name: 'Mona', email: 'mona@example.com' } });
  small = fx.pullRequest(1, 'main', 'typo');
  fx.checkout('main');
  fx.branch('rewrite');
  const files: Record<string, string> = {};
  for (let i = 0; i < 24; i++) files[`payments/engine/part${i}.ts`] = Array.from({ length: 150 }, (_, j) => `export const p${j} = ${j};`).join('\n') + '\n';
  fx.commit('rewrite payments engine', files, { author: { name: 'Mona', email: 'mona@example.com' } });
  big = fx.pullRequest(2, 'main', 'rewrite');
  gh.addPull(FULL, { number: 1, headSha: small.head, baseSha: small.base, author: 'mona' });
  gh.addPull(FULL, { number: 2, headSha: big.head, baseSha: big.base, author: 'mona' });
});

afterAll(async () => {
  await gh?.stop();
  fx?.dispose();
});

const prEvent = (n: number, pr: { base: string; head: string; merge: string }, extra: { fork?: { owner: string } } = {}) => pullRequestEvent({ repo: REPO, number: n, ...pr, author: 'mona', ...extra });

describe('risk-score bundle under runner-sim', () => {
  test('a docs typo scores low: no reviewers, no label, outputs and summary', async () => {
    const workspace = fx.checkoutLike(small.merge, { depth: 0 });
    const r = await runAction({ actionDir, workspace, event: prEvent(1, small), token, apiUrl: gh.url });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(r.outputs['level']).toBe('low');
    expect(Number(r.outputs['score'])).toBeLessThan(0.6);
    expect(json(r, 'factors')).toHaveLength(3);
    expect(json(r, 'missing')).toEqual([]);
    expect(json(r, 'model').source).toBe('default (four public JIT data sets)');
    expect(r.summary).toMatch(/🟢 \*\*\d+\.\d %\*\* chance that this change introduces a defect — \*\*low\*\*/);
    // docs/guide.md was written (one line) by the base commit, within the 30 days before the change.
    expect(r.summary).toContain('| churn30d (lines changed in these files, last 30 days) | 1 |');
    expect(gh.reviewRequests(FULL, 1)).toEqual({ users: [], teams: [] });
    expect(gh.labels(FULL, 1)).toEqual([]);
  });

  test('a big rewrite scores high: CODEOWNERS reviewers requested (author excluded), label added, warning annotation', async () => {
    const workspace = fx.checkoutLike(big.merge, { depth: 0 });
    const r = await runAction({ actionDir, workspace, event: prEvent(2, big), token, apiUrl: gh.url });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(r.outputs['level']).toBe('high');
    expect(json(r, 'reviewers')).toEqual({ users: ['alice'], teams: ['payments'] });
    expect(gh.reviewRequests(FULL, 2)).toEqual({ users: ['alice'], teams: ['payments'] });
    expect(gh.labels(FULL, 2)).toEqual(['risk:high']);
    expect(json(r, 'factors')[0].text).toMatch(/^raises risk: /);
    expect(r.annotations.some((a) => a.level === 'warning' && /^risk high/.test(a.title ?? ''))).toBe(true);
    gh.assertNoViolations();
  });

  test('other signals: owners, centrality, coverage delta, complexity, SARIF alerts, test failures — each a value or missing with the reason', async () => {
    const workspace = fx.checkoutLike(big.merge, { depth: 0 });
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(path.join(workspace, 'reports'), { recursive: true });
    writeFileSync(path.join(workspace, 'reports/base.lcov'), 'SF:payments/charge.ts\nLF:10\nLH:9\nend_of_record\n');
    writeFileSync(path.join(workspace, 'reports/head.lcov'), 'SF:payments/charge.ts\nLF:10\nLH:9\nend_of_record\nSF:payments/engine/part0.ts\nLF:150\nLH:30\nend_of_record\n');
    writeFileSync(path.join(workspace, 'reports/scan.sarif'), JSON.stringify({ version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [{ level: 'warning', locations: [{ physicalLocation: { artifactLocation: { uri: 'payments/engine/part1.ts' } } }] }, { level: 'error', locations: [{ physicalLocation: { artifactLocation: { uri: 'other/file.ts' } } }] }] }] }));
    writeFileSync(path.join(workspace, 'reports/junit.xml'), '<testsuites><testsuite name="a"><testcase name="x" time="1"/><testcase name="y" time="1"><failure>no</failure></testcase><testcase name="z"><skipped/></testcase></testsuite></testsuites>');
    const r = await runAction({ actionDir, workspace, event: prEvent(2, big), token, apiUrl: gh.url, stages: ['main'], with: { mode: 'observe', 'coverage-base': 'reports/base.lcov', 'coverage-head': 'reports/head.lcov', sarif: 'reports/scan.sarif', junit: 'reports/junit.xml' } });
    assertContract(r);
    const sig = Object.fromEntries(json(r, 'signals').map((e: { name: string; value: number | null; detail: string }) => [e.name, [e.value, e.detail]]));
    expect(sig['ownersTouched']![0]).toBe(2); // @alice and @acme/payments
    expect(sig['dependencyCentrality']![0]).toBeNull();
    // The changed files are all new: no base coverage to compare with, which is said rather than guessed.
    expect(sig['coverageDelta']).toEqual([null, 'missing: no base coverage for the changed files (head: 20.0 %)']);
    expect(sig['complexityDelta']).toEqual([0, expect.stringContaining('cyclomatic complexity (TypeScript syntax tree) of')]);
    expect(sig['staticAlerts']).toEqual([1, '1 alert(s) in the changed files']);
    expect(sig['testFailRate']).toEqual([0.5, '1 of 2 test case(s) failed']);
    expect(r.summary).toContain('Other signals (reported, not part of the score');
  });

  test('unreadable reports (truncated JUnit, malformed Cobertura, a SARIF path that does not exist): those signals missing with the reason and a warning at the line; the score still computed', async () => {
    const workspace = fx.checkoutLike(big.merge, { depth: 0 });
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(path.join(workspace, 'reports'), { recursive: true });
    writeFileSync(path.join(workspace, 'reports/junit.xml'), '<testsuites>\n  <testsuite name="unit">\n    <testcase name="a" time="1">\n');
    writeFileSync(path.join(workspace, 'reports/head.xml'), '<coverage>\n<packages>\n');
    const r = await runAction({ actionDir, workspace, event: prEvent(2, big), token, apiUrl: gh.url, stages: ['main'], with: { mode: 'observe', junit: 'reports/junit.xml', 'coverage-head': 'reports/head.xml', sarif: 'reports/missing.sarif' } });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(Number(r.outputs['score'])).toBeGreaterThan(0);
    const sig = Object.fromEntries(json(r, 'signals').map((e: { name: string; value: number | null; detail: string }) => [e.name, e]));
    expect(sig['testFailRate']).toMatchObject({ value: null, detail: expect.stringMatching(/^missing: reports\/junit\.xml:\d+(:\d+)?: invalid JUnit XML/) });
    expect(sig['coverageDelta']).toMatchObject({ value: null, detail: expect.stringMatching(/^missing: reports\/head\.xml:\d+(:\d+)?: invalid Cobertura XML/) });
    expect(sig['staticAlerts']).toMatchObject({ value: null, detail: expect.stringMatching(/^missing: reports\/missing\.sarif: report 'reports\/missing\.sarif' does not exist/) });
    const warned = r.annotations.filter((a) => a.level === 'warning' && /missing$/.test(a.title ?? ''));
    expect(warned.map((a) => a.title).sort()).toEqual(['risk-score: coverageDelta missing', 'risk-score: staticAlerts missing', 'risk-score: testFailRate missing']);
    expect(warned.find((a) => a.title === 'risk-score: testFailRate missing')).toMatchObject({ file: 'reports/junit.xml', line: expect.any(Number) });
  });

  test('model: seed scores with the seed\'s fixed weights: the same number by hand, shown as a score (not a %), missing signals named', async () => {
    const workspace = fx.checkoutLike(big.merge, { depth: 0 });
    const r = await runAction({ actionDir, workspace, event: prEvent(2, big), token, apiUrl: gh.url, stages: ['main'], with: { model: 'seed', warn: '0.2', enforce: '0.7', 'request-reviewers': 'false', label: '' } });
    assertContract(r);
    // 3600 lines (capped: 0.1) + 24 of 25 files (0.0768) + 2 of 6 owners (0.0267) + complexity unchanged (the seed's centre, 0.06);
    // the files are new, so no churn; one project, no centrality; no coverage, SARIF or JUnit given.
    expect(Number(r.outputs['score'])).toBe(0.263);
    expect(r.outputs['level']).toBe('elevated');
    expect(json(r, 'missing')).toEqual(['depCentrality', 'coverageDelta', 'staticAlerts', 'testFailRate']);
    expect(json(r, 'factors').map((f: { feature: string }) => f.feature)).toEqual(['locChanged', 'filesTouched', 'complexityDelta']);
    expect(json(r, 'model')).toMatchObject({ calibrated: false, source: expect.stringMatching(/^seed formula/) });
    expect(r.summary).toContain('seed score **0.263** (a weighted sum, not a probability) — **elevated** (warn at 0.2, enforce at 0.7');
    expect(r.summary).toContain('Missing signals (the seed formula counts them as 0): depCentrality, coverageDelta, staticAlerts, testFailRate.');
    expect(r.annotations.some((a) => a.title === 'risk elevated: 0.263 (seed formula)')).toBe(true);
    // The seed has no percentiles and no base rate: asking for either is a configuration error, not a silent fallback.
    const budget = await runAction({ actionDir, workspace, event: prEvent(2, big), with: { model: 'seed', 'review-budget': '20' }, stages: ['main'] });
    expect(budget.conclusion).toBe('failure');
    expect(budget.log).toMatch(/a review budget needs a model with score percentiles; the seed formula has none/);
    const rate = await runAction({ actionDir, workspace, event: prEvent(2, big), with: { model: 'seed', 'base-rate': '0.1' }, stages: ['main'] });
    expect(rate.log).toMatch(/the seed formula has no base rate to shift/);
  });

  test('review budget: the threshold comes from where scores fall on the reference changes', async () => {
    const workspace = fx.checkoutLike(small.merge, { depth: 0 });
    const tight = await runAction({ actionDir, workspace, event: prEvent(1, small), token, apiUrl: gh.url, stages: ['main'], with: { mode: 'observe', 'review-budget': '95' } });
    assertContract(tight);
    // Flagging 95 % of changes puts the bar low enough that even a typo is high.
    expect(tight.outputs['level']).toBe('high');
    expect(tight.log).toMatch(/review budget 95 %: changes at or above \d+\.\d % are flagged/);
    const loose = await runAction({ actionDir, workspace, event: prEvent(1, small), token, apiUrl: gh.url, stages: ['main'], with: { mode: 'observe', 'review-budget': '5' } });
    expect(loose.outputs['level']).not.toBe('high');
  });

  test('enforce mode fails the step at high, with the reasons', async () => {
    const workspace = fx.checkoutLike(big.merge, { depth: 0 });
    const r = await runAction({ actionDir, workspace, event: prEvent(2, big), token, apiUrl: gh.url, with: { mode: 'enforce', 'request-reviewers': 'false', label: '' } });
    expect(r.conclusion).toBe('failure');
    expect(r.annotations.some((a) => a.level === 'error' && /raises risk/.test(a.message))).toBe(true);
  });

  test('fork PR with a read-only token: scored and reported, reviewer request skipped with a warning, not a failure', async () => {
    const ro = gh.addToken('ghs_readonly_fork', { permission: 'read' });
    const workspace = fx.checkoutLike(big.merge, { depth: 0 });
    const before = gh.reviewRequests(FULL, 2);
    const r = await runAction({ actionDir, workspace, event: prEvent(2, big, { fork: { owner: 'forker' } }), token: ro, apiUrl: gh.url });
    expect(r.conclusion).toBe('success');
    expect(r.outputs['level']).toBe('high');
    expect(r.log).toMatch(/cannot request reviewers here \(fork pull request\?\)/);
    expect(r.log).toMatch(/cannot add the label risk:high here \(fork pull request\?\)/);
    expect(gh.reviewRequests(FULL, 2)).toEqual(before);
  });

  test('API trouble: a 502 and a rate limit are retried (one request, one label); a lasting 500 is a warning, and the score still reaches the outputs', async () => {
    const repoName = 'acme/flaky';
    gh.addRepo(repoName);
    gh.addPull(repoName, { number: 2, headSha: big.head, baseSha: big.base, author: 'mona' });
    const event = pullRequestEvent({ repo: { owner: 'acme', name: 'flaky' }, number: 2, ...big, author: 'mona' });
    const workspace = fx.checkoutLike(big.merge, { depth: 0 });
    gh.fault({ operation: 'pulls/request-reviewers', status: 502 });
    gh.rateLimit('issues/add-labels', { retryAfter: 1 });
    const r = await runAction({ actionDir, workspace, event, token, apiUrl: gh.url, stages: ['main'] });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(gh.reviewRequests(repoName, 2)).toEqual({ users: ['alice'], teams: ['payments'] });
    expect(gh.labels(repoName, 2)).toEqual(['risk:high']);
    // The wait itself is computed by the client from x-ratelimit-reset against its own clock (0–2 s on a
    // loaded machine): what matters is that it waited and retried, and one label was added.
    expect(r.log).toMatch(/GitHub primary rate limit on POST .*labels: retrying after \d+s/);

    gh.fault({ operation: 'pulls/request-reviewers', status: 500, times: 10 });
    const down = await runAction({ actionDir, workspace, event, token, apiUrl: gh.url, stages: ['main'], with: { label: 'risk:review' } });
    assertContract(down);
    expect(down.conclusion).toBe('success');
    expect(down.outputs['level']).toBe('high');
    expect(existsSync(down.outputs['evidence-path']!)).toBe(true);
    expect(down.annotations.some((a) => a.level === 'warning' && /could not request reviewers: HTTP 500 /.test(a.message))).toBe(true);
    // The label is tried on its own, so the outage of one call does not cost the other.
    expect(gh.labels(repoName, 2)).toEqual(['risk:high', 'risk:review']);
    expect(gh.clearFaults()).toBe(6); // the first request and three retries met the outage
    expect(down.log).not.toMatch(/^\s+at /m);
    gh.assertNoViolations();
  });

  test('shallow checkout: history signals reported missing, the score still computed', async () => {
    const workspace = fx.checkoutLike(small.merge, { depth: 1 });
    const r = await runAction({ actionDir, workspace, event: prEvent(1, small), token, apiUrl: gh.url, stages: ['main'] });
    assertContract(r);
    expect(json(r, 'missing')).toEqual(['ndev', 'age', 'nuc', 'exp', 'rexp', 'sexp']);
    expect(r.summary).toMatch(/Missing signals \(not counted as 0\): ndev, age, nuc, exp, rexp, sexp/);
    expect(r.summary).toContain('| churn30d (lines changed in these files, last 30 days) | missing (shallow history) |');
  });

  test('a repository model older than 90 days is used, with a warning to recalibrate', async () => {
    const workspace = fx.checkoutLike(small.merge, { depth: 0 });
    const { DEFAULT_MODEL } = await import('@maestro/risk');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(path.join(workspace, 'policy'), { recursive: true });
    writeFileSync(path.join(workspace, 'policy/risk-model.json'), JSON.stringify({ ...DEFAULT_MODEL, baseRate: 0.05, intercept: DEFAULT_MODEL.intercept - 1, provenance: { source: 'repository history', generated: '2025-01-01T00:00:00Z' } }));
    const r = await runAction({ actionDir, workspace, event: prEvent(1, small), token, apiUrl: gh.url, stages: ['main'] });
    assertContract(r);
    expect(json(r, 'model').source).toBe('policy/risk-model.json');
    expect(r.annotations.some((a) => /calibrated \d+ days ago; recalibrate/.test(a.message))).toBe(true);
  });

  test('calibrate mode: labels the checkout’s history and writes the model; the next run scores with it', async () => {
    const workspace = fx.checkoutLike(big.head, { depth: 0 });
    const r = await runAction({ actionDir, workspace, event: prEvent(2, big), with: { mode: 'calibrate', 'maturity-days': '0' }, stages: ['main'] });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    const report = json(r, 'calibration');
    expect(report).toMatchObject({ mode: 'cold-start', commits: 5 });
    expect(r.outputs['model-path']).toBe(path.join(workspace, 'policy/risk-model.json'));
    expect(r.summary).toContain('## Risk model calibration');
    // No cache service in this environment: said once, no waiting on retries.
    expect(r.summary).toContain('the Actions cache is not available here (no cache service in the environment): every commit is read');
    const next = await runAction({ actionDir, workspace, event: prEvent(2, big), with: { mode: 'observe' }, stages: ['main'] });
    expect(json(next, 'model').source).toBe('policy/risk-model.json');
  });

  test('calibrate mode keeps its history in the Actions cache: the next run reads only the new commits, with the same model', async () => {
    const cache = await FakeCacheService.start();
    try {
      const env = { ...cache.env(scopesFor('refs/heads/main')) };
      const workspace = fx.checkoutLike(small.base, { depth: 0 });
      const first = await runAction({ actionDir, workspace, event: prEvent(1, small), env: { ...env, GITHUB_RUN_ID: '9000000001' }, with: { mode: 'calibrate', 'maturity-days': '0' }, stages: ['main'] });
      assertContract(first);
      expect(first.conclusion).toBe('success');
      expect(json(first, 'calibration').reused).toEqual({ commits: 0, fixes: 0, fixesTraced: 0 });
      expect(first.summary).toContain('no history cache yet: every commit is read');
      expect(cache.entries.filter((e) => e.finalized).map((e) => e.key)).toEqual(['maestro-risk-history-v1-9000000001-1']);
      // A later run on a newer commit: four commits come from the cache, the new one is read.
      const later = fx.checkoutLike(big.head, { depth: 0 });
      const second = await runAction({ actionDir, workspace: later, event: prEvent(2, big), env: { ...env, GITHUB_RUN_ID: '9000000002' }, with: { mode: 'calibrate', 'maturity-days': '0' }, stages: ['main'] });
      expect(second.conclusion).toBe('success');
      const report = json(second, 'calibration');
      expect(report).toMatchObject({ commits: 5, reused: { commits: 4 } });
      expect(second.summary).toMatch(/history cache: 4 commits, 0 traced fixes \(maestro-risk-history-v1-9000000001-1\); reused 4 commits/);
      // Without the cache the model is the same.
      const fresh = fx.checkoutLike(big.head, { depth: 0 });
      const none = await runAction({ actionDir, workspace: fresh, event: prEvent(2, big), with: { mode: 'calibrate', 'maturity-days': '0', 'history-cache': 'false' }, stages: ['main'] });
      const { readFileSync } = await import('node:fs');
      const model = (dir: string) => { const m = JSON.parse(readFileSync(path.join(dir, 'policy/risk-model.json'), 'utf8')); delete m.provenance.generated; return m; };
      expect(model(later)).toEqual(model(fresh));
      expect(json(none, 'calibration').reused).toEqual({ commits: 0, fixes: 0, fixesTraced: 0 });
      // A cache that refuses writes (a fork's token) costs time, never the result.
      cache.mode = 'read-only';
      const down = await runAction({ actionDir, workspace: fx.checkoutLike(big.head, { depth: 0 }), event: prEvent(2, big), env: { ...env, GITHUB_RUN_ID: '9000000003' }, with: { mode: 'calibrate', 'maturity-days': '0' }, stages: ['main'] });
      expect(down.conclusion).toBe('success');
      expect(json(down, 'calibration')).toMatchObject({ commits: 5 });
    } finally {
      await cache.stop();
    }
  });

  test('bad input: thresholds out of range or inverted, a model file that is not a model', async () => {
    const workspace = fx.checkoutLike(small.merge, { depth: 0 });
    const bad = await runAction({ actionDir, workspace, event: prEvent(1, small), with: { warn: '1.5' }, stages: ['main'] });
    expect(bad.conclusion).toBe('failure');
    expect(bad.log).toMatch(/warn must be a probability between 0 and 1/);
    const inverted = await runAction({ actionDir, workspace, event: prEvent(1, small), with: { warn: '0.9', enforce: '0.5' }, stages: ['main'] });
    expect(inverted.log).toMatch(/warn \(0\.9\) is above enforce \(0\.5\)/);
    const notModel = await runAction({ actionDir, workspace, event: prEvent(1, small), with: { model: '.github/CODEOWNERS' }, stages: ['main'] });
    expect(notModel.conclusion).toBe('failure');
    expect(notModel.log).toMatch(/invalid JSON/);
  });

  describe('the change under review does not grade itself (security review #13)', () => {
    test('a PR-added .gitattributes (*.ts -diff) cannot turn 600 added lines into "binary, 0 lines"', async () => {
      fx.checkout('main');
      fx.branch('attrs');
      const code = Array.from({ length: 600 }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\n';
      fx.commit('feature plus attributes', { '.gitattributes': '*.ts -diff\n', 'payments/big.ts': code }, { author: { name: 'Mona', email: 'mona@example.com' } });
      const pr = fx.pullRequest(31, 'main', 'attrs');
      const workspace = fx.checkoutLike(pr.merge, { depth: 0 });
      const r = await runAction({ actionDir, workspace, event: prEvent(31, pr), stages: ['main'], with: { mode: 'observe' } });
      assertContract(r);
      expect(r.summary).toMatch(/\| la \| 601 \|/);
      expect(r.summary).toContain('marks binary hold text: their lines are counted');
    });

    test('a PR-added policy/risk-model.json scoring everything 0 is ignored (default model, warning); a PR-edited one is read at the base', async () => {
      const { DEFAULT_MODEL } = await import('@maestro/risk');
      const zero = JSON.stringify({ ...DEFAULT_MODEL, intercept: -40, weights: DEFAULT_MODEL.weights.map(() => 0), provenance: { source: 'my own model', generated: '2026-11-30T00:00:00Z' } });
      fx.checkout('rewrite');
      fx.branch('self-grade');
      fx.commit('rewrite + my model', { 'policy/risk-model.json': zero }, { author: { name: 'Mona', email: 'mona@example.com' } });
      const pr = fx.pullRequest(32, 'main', 'self-grade');
      const workspace = fx.checkoutLike(pr.merge, { depth: 0 });
      const r = await runAction({ actionDir, workspace, event: prEvent(32, pr), stages: ['main'], with: { mode: 'observe' } });
      assertContract(r);
      expect(json(r, 'model').source).toBe('default (four public JIT data sets)');
      expect(r.outputs['level']).toBe('high');
      expect(r.annotations.some((a) => a.level === 'warning' && /policy\/risk-model\.json is added by the change under review and is not used/.test(a.message))).toBe(true);
    });

    test('a model reached through a symlink the PR commits (policy -> docs) is not used', async () => {
      const { DEFAULT_MODEL } = await import('@maestro/risk');
      const zero = JSON.stringify({ ...DEFAULT_MODEL, intercept: -40, weights: DEFAULT_MODEL.weights.map(() => 0), provenance: { source: 'mine' } });
      fx.checkout('rewrite');
      fx.branch('self-grade-link');
      fx.commit('rewrite + linked model', { 'docs/risk-model.json': zero, policy: { symlink: 'docs' } }, { author: { name: 'Mona', email: 'mona@example.com' } });
      const pr = fx.pullRequest(34, 'main', 'self-grade-link');
      const workspace = fx.checkoutLike(pr.merge, { depth: 0 });
      const r = await runAction({ actionDir, workspace, event: prEvent(34, pr), stages: ['main'], with: { mode: 'observe' } });
      assertContract(r);
      expect(json(r, 'model').source).toBe('default (four public JIT data sets)');
      expect(r.outputs['level']).toBe('high');
      expect(r.annotations.some((a) => /reached through a symlink in the checkout and is not used/.test(a.message))).toBe(true);
    });

    test("reviewers come from the base branch's CODEOWNERS, not the PR's own; a high score with token: '' still writes every output", async () => {
      fx.checkout('rewrite');
      fx.branch('owners');
      fx.commit('rewrite + owners', { '.github/CODEOWNERS': '*  @mona\n/payments/  @mona-friend\n' }, { author: { name: 'Mona', email: 'mona@example.com' } });
      const pr = fx.pullRequest(33, 'main', 'owners');
      gh.addPull(FULL, { number: 33, headSha: pr.head, baseSha: pr.base, author: 'mona' });
      const workspace = fx.checkoutLike(pr.merge, { depth: 0 });
      const r = await runAction({ actionDir, workspace, event: prEvent(33, pr), token, apiUrl: gh.url, stages: ['main'] });
      assertContract(r);
      expect(r.outputs['level']).toBe('high');
      // The base's rules: payments/ → alice and the team; the changed CODEOWNERS file itself → lead (`*`). Never @mona-friend.
      expect(json(r, 'reviewers')).toEqual({ users: ['alice', 'lead'], teams: ['payments'] });
      const none = await runAction({ actionDir, workspace, event: prEvent(33, pr), apiUrl: gh.url, stages: ['main'], with: { token: '' } });
      assertContract(none);
      expect(none.conclusion).toBe('success');
      expect(none.outputs['level']).toBe('high');
      expect(none.outputs['evidence-path']).toBeTruthy();
      expect(none.log).toMatch(/no token, so reviewers are not requested/);
      expect(none.log).not.toMatch(/internal error/);
    });

    test('a JUnit report committed as a symlink to a file outside the workspace is not read or echoed; calibrate refuses to write outside the workspace', async () => {
      const { mkdtempSync, symlinkSync, writeFileSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const outside = mkdtempSync(path.join(tmpdir(), 'outside-'));
      writeFileSync(path.join(outside, 'id_rsa'), '-----BEGIN OPENSSH PRIVATE KEY----- SECRETKEYMATERIAL');
      const workspace = fx.checkoutLike(small.merge, { depth: 0 });
      symlinkSync(path.join(outside, 'id_rsa'), path.join(workspace, 'junit.xml'));
      const r = await runAction({ actionDir, workspace, event: prEvent(1, small), stages: ['main'], with: { junit: 'junit.xml', mode: 'observe' } });
      assertContract(r);
      expect(r.conclusion).toBe('success');
      const all = [r.log, r.summary, ...Object.values(r.outputs)].join('\n');
      expect(all).not.toContain('SECRETKEYMATERIAL');
      expect(all).toMatch(/resolves outside the workspace/);
      // An XML external entity in a report: the signal is missing with the reason, nothing is read, no internal error.
      writeFileSync(path.join(workspace, 'xxe.xml'), `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file://${path.join(outside, 'id_rsa')}">]><testsuite><testcase name="&xxe;"/></testsuite>`);
      const xxe = await runAction({ actionDir, workspace, event: prEvent(1, small), stages: ['main'], with: { junit: 'xxe.xml', mode: 'observe' } });
      assertContract(xxe);
      expect(xxe.conclusion).toBe('success');
      expect(JSON.parse(xxe.outputs['signals']!).find((x: { name: string }) => x.name === 'testFailRate')).toMatchObject({ value: null, detail: expect.stringMatching(/declares an external entity/) });
      expect([xxe.log, xxe.summary, ...Object.values(xxe.outputs)].join('\n')).not.toContain('SECRETKEYMATERIAL');
      expect(xxe.log).not.toMatch(/internal error/);
      const cal = await runAction({ actionDir, workspace, event: prEvent(1, small), stages: ['main'], with: { mode: 'calibrate', model: '../x.json' } });
      expect(cal.conclusion).toBe('failure');
      expect(cal.log).toMatch(/'\.\.\/x\.json' is outside the workspace; the action writes only inside it/);
      expect(existsSync(path.join(path.dirname(workspace), 'x.json'))).toBe(false);
    });
  });
});

