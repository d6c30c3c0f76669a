import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { GitFixture } from '@maestro/harness';
import { calibrate, calibrationVerdict, changeSignals, DEFAULT_MODEL, labelHistory, modelAgeDays, readHistory } from '../src/index.js';

const A = { name: 'Ann', email: 'ann@example.com' };
const B = { name: 'Ben', email: 'ben@example.com' };
const C = { name: 'Cid', email: 'cid@example.com' };
const day = (d: number) => new Date(Date.UTC(2026, 0, 1) + d * 86400_000).toISOString();

let fx: GitFixture;
const sha: Record<string, string> = {};

beforeAll(() => {
  fx = GitFixture.create();
  sha.init = fx.commit('initial calc', { 'src/calc.ts': 'export function add(a, b) {\n  return a + b;\n}\n', 'src/fmt.ts': 'export const fmt = (x) => String(x);\n', 'docs/guide.md': '# guide\n' }, { author: A, date: day(0) });
  sha.bad = fx.commit('add rounding', { 'src/calc.ts': 'export function add(a, b) {\n  return a + b;\n}\nexport const round = (x) => Math.floor(x);\n' }, { author: B, date: day(3) });
  sha.ok = fx.commit('format numbers', { 'src/fmt.ts': 'export const fmt = (x) => x.toFixed(2);\n' }, { author: A, date: day(5) });
  sha.docsFix = fx.commit('fix typo in the guide', { 'docs/guide.md': '# Guide\n' }, { author: C, date: day(6) });
  sha.reverted = fx.commit('speed up fmt', { 'src/fast.ts': 'export const fast = 1;\n' }, { author: C, date: day(7) });
  sha.revert = fx.commit(`Revert "speed up fmt"\n\nThis reverts commit ${sha.reverted}.`, { 'src/fast.ts': null }, { author: A, date: day(8) });
  sha.trailerTarget = fx.commit('parse input', { 'src/parse.ts': 'export const parse = (s) => Number(s);\n' }, { author: B, date: day(9) });
  sha.szzFix = fx.commit('fix: rounding must round half up (#12)', { 'src/calc.ts': 'export function add(a, b) {\n  return a + b;\n}\nexport const round = (x) => Math.round(x);\n' }, { author: A, date: day(12) });
  sha.trailerFix = fx.commit(`parse: handle empty input\n\nFixes: ${sha.trailerTarget!.slice(0, 10)}`, { 'src/parse.ts': 'export const parse = (s) => (s ? Number(s) : 0);\n' }, { author: C, date: day(13) });
  sha.cosmetic = fx.commit('fix: comment wording', { 'src/fmt.ts': 'export const fmt = (x) => x.toFixed(2);\n// format with two decimals\n' }, { author: B, date: day(14) });
  sha.cosmeticFix2 = fx.commit('fix: reword the comment', { 'src/fmt.ts': 'export const fmt = (x) => x.toFixed(2);\n// formats with two decimals\n' }, { author: B, date: day(15) });
});

afterAll(() => fx?.dispose());

describe('labelled history', () => {
  test('labels by trust — trailer, revert, B-SZZ — and not cosmetic or documentation fixes', async () => {
    const { commits: history } = await readHistory({ cwd: fx.work });
    expect(history.map((c) => c.sha)).toEqual(Object.values(sha));
    const labels = await labelHistory(history, { cwd: fx.work });
    const bySha = Object.fromEntries(labels.map((l) => [l.sha, [l.source, l.fixedBy]]));
    expect(bySha).toEqual({
      [sha.bad!]: ['szz', sha.szzFix],
      [sha.reverted!]: ['revert', sha.revert],
      [sha.trailerTarget!]: ['trailer', sha.trailerFix],
    });
  });

  test('one chronological pass gives the same metrics as computing a single change from git', async () => {
    const { commits: history } = await readHistory({ cwd: fx.work });
    for (const name of ['szzFix', 'trailerFix', 'ok']) {
      const c = history.find((h) => h.sha === sha[name])!;
      const direct = await changeSignals({ cwd: fx.work, base: c.parents[0]!, head: c.sha });
      for (const k of ['ns', 'nd', 'nf', 'la', 'ld', 'lt', 'fix', 'ndev', 'nuc', 'exp', 'sexp'] as const) expect([name, k, c.signals[k]]).toEqual([name, k, direct.signals[k]]);
      for (const k of ['entrophy', 'age', 'rexp'] as const) expect(c.signals[k]).toBeCloseTo(direct.signals[k]!, 9);
    }
  });
});

describe('calibration', () => {
  test('too little history: the default model shifted to the repository’s rate, saying so', async () => {
    const { model, report } = await calibrate({ cwd: fx.work, maturityDays: 0, now: new Date('2026-03-01T00:00:00Z') });
    expect(report.mode).toBe('cold-start');
    expect(report.labels).toEqual({ trailer: 1, revert: 1, szz: 1 });
    expect(report.reason).toMatch(/^11 matured commit\(s\) with 3 defect-inducing \(need 200 and 30\); using the default model shifted to this repository's rate 27\.3 %/);
    expect(model.weights).toEqual(DEFAULT_MODEL.weights);
    expect(model.baseRate).toBeCloseTo(3 / 11, 5);
    expect(modelAgeDays(model, new Date('2026-06-09T00:00:00Z'))).toBeCloseTo(100, 5);
  });

  test('enough history: fitted on the repository, evaluated on a time-ordered hold-out next to lines added', async () => {
    const big = GitFixture.create();
    try {
      // 160 commits: large changes by a newcomer tend to be fixed later (SZZ), small ones do not.
      let s = 7;
      const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
      const buggy: string[] = [];
      for (let i = 0; i < 160; i++) {
        const large = rnd() < 0.35;
        const file = `src/m${i % 12}.ts`;
        const lines = Array.from({ length: large ? 40 : 2 }, (_, j) => `export const v${i}_${j} = ${j};`).join('\n');
        const c = big.commit(`change ${i}`, { [file]: lines + '\n', [`src/extra${i}.ts`]: large ? lines + '\n' : `export const e = ${i};\n` }, { author: large ? C : A, date: day(i) });
        if (large && rnd() < 0.8) buggy.push(`${file}|${c}`);
        if (buggy.length && rnd() < 0.5) {
          const [f] = buggy.shift()!.split('|') as [string];
          big.commit(`fix: bad value in ${f}`, { [f]: `export const fixed${i} = 1;\n` }, { author: B, date: day(i + 0.5) });
        }
      }
      const { model, report } = await calibrate({ cwd: big.work, maturityDays: 5, minCommits: 100, minPositives: 15 });
      expect(report.mode).toBe('fitted');
      expect(report.positives).toBeGreaterThanOrEqual(15);
      expect(report.holdout!.auc).toBeGreaterThan(0.7);
      expect(model.provenance['source']).toBe('repository history');
      expect(model.weights).not.toEqual(DEFAULT_MODEL.weights);
      // The window and the lines-added anchor were chosen on the data, and the model says which.
      expect([182, 365]).toContain(report.choice!.windowDays);
      expect([0, 0.25, 0.5, 1, 2]).toContain(report.choice!.laWeight);
      expect(model.provenance['choice']).toEqual(report.choice);
      expect(String(model.provenance['method'])).toMatch(/chosen on the newest 30 % of the data/);
      expect(report.holdout!.ece).toBeLessThanOrEqual(0.05);
      // Above the calibration bar: here the default is calibrated worse on the same hold-out, so the fit
      // is still written, with a warning giving both models' numbers.
      const strict = await calibrate({ cwd: big.work, maturityDays: 5, minCommits: 100, minPositives: 15, maxEce: report.holdout!.ece / 2 });
      expect(report.holdout!.defaultEce).toBeGreaterThan(report.holdout!.ece);
      expect(strict.report.mode).toBe('fitted');
      expect(strict.report.warnings.join('\n')).toMatch(new RegExp(`the fitted model is written, but its calibration error on the hold-out part is ${report.holdout!.ece}, above .* \\(AUC ${report.holdout!.auc}; the default there: AUC ${report.holdout!.defaultAuc}, calibration error ${report.holdout!.defaultEce}\\): the default would be further off`));
      // The rule itself: within the bar, fine; above it, the better-calibrated of the two.
      expect(calibrationVerdict({ ece: 0.04, defaultEce: 0.2 }, 0.05)).toBe('ok');
      expect(calibrationVerdict({ ece: 0.08, defaultEce: 0.06 }, 0.05)).toBe('keep-default');
      expect(calibrationVerdict({ ece: 0.08, defaultEce: 0.2 }, 0.05)).toBe('write-with-warning');
      // A ceiling whatever the default does: three times the bar.
      expect(calibrationVerdict({ ece: 0.16, defaultEce: 0.4 }, 0.05)).toBe('keep-default');
    } finally {
      big.dispose();
    }
  });

  test('SZZ filters: a mass move labelled "fix" blames nothing, a fix of many files is skipped, test lines are not blamed, one fix blames at most the cap', async () => {
    const fx = GitFixture.create();
    try {
      const files: Record<string, string> = {};
      for (let i = 0; i < 12; i++) files[`src/f${i}.ts`] = Array.from({ length: 5 }, (_, j) => `export const v${i}_${j} = ${j};`).join('\n') + '\n';
      // Twelve commits each write one file; a thirteenth writes a test.
      const authors: string[] = [];
      for (const [f, text] of Object.entries(files)) authors.push(fx.commit(`add ${f}`, { [f]: text }, { author: A, date: day(authors.length) }));
      const testCommit = fx.commit('add test', { 'src/f0.test.ts': 'expect(1).toBe(1);\n' }, { author: A, date: day(13) });
      // A "fix" that only moves every file: nothing changed, nothing to blame.
      const moved = Object.fromEntries(Object.keys(files).map((f) => [f.replace('src/', 'lib/'), { renameFrom: f }]));
      fx.commit('fix: move sources to lib/', moved, { author: B, date: day(14) });
      // A fix that edits every one of the twelve files (and the test): blames at most 3 commits with the cap below.
      const edits = Object.fromEntries(Object.keys(files).map((f, i) => [f.replace('src/', 'lib/'), `export const v${i}_0 = 99;\n`]));
      fx.commit('fix: off-by-one everywhere', { ...edits, 'src/f0.test.ts': 'expect(2).toBe(2);\n' }, { author: B, date: day(15) });
      const { commits: history } = await readHistory({ cwd: fx.work });
      const labels = await labelHistory(history, { cwd: fx.work, maxBlamedPerFix: 3 });
      expect(labels.filter((l) => l.source === 'szz')).toHaveLength(3);
      expect(labels.every((l) => l.rule === 'conventional')).toBe(true);
      expect(labels.map((l) => l.sha)).not.toContain(testCommit);
      // With a fix-size cap below twelve source files, the big fix is not used at all.
      expect(await labelHistory(history, { cwd: fx.work, maxFixFiles: 10 })).toEqual([]);
      // A fix older than the calibration window is not traced back (calibrate passes the window start).
      expect(await labelHistory(history, { cwd: fx.work, maxBlamedPerFix: 3, fixesSince: Date.parse(day(16)) / 1000 })).toEqual([]);
    } finally {
      fx.dispose();
    }
  });

  test('a history with missing objects (partial mirror): the unreadable commits are skipped and counted, the rest is read', async () => {
    const fx = GitFixture.create();
    try {
      const one = fx.commit('one', { 'src/a.ts': 'export const a = 1;\n' }, { author: A, date: day(1) });
      const two = fx.commit('two', { 'src/a.ts': 'export const a = 2;\n', 'src/b.ts': 'export const b = 1;\n' }, { author: A, date: day(2) });
      const three = fx.commit('three', { 'src/b.ts': 'export const b = 2;\n' }, { author: B, date: day(3) });
      const four = fx.commit('four', { 'src/c.ts': 'export const c = 1;\n' }, { author: B, date: day(4) });
      // The blob `one` added and `two` changed: neither numstat can be computed.
      const blob = fx.git(['rev-parse', `${one}:src/a.ts`]).trim();
      const { rmSync } = await import('node:fs');
      rmSync(`${fx.work}/.git/objects/${blob.slice(0, 2)}/${blob.slice(2)}`);
      const read = await readHistory({ cwd: fx.work });
      expect(read.unreadable).toEqual({ count: 2, sample: [two, one], object: blob });
      expect(read.commits.map((c) => c.sha)).toEqual([three, four]);
      // Metrics of what was read are computed from what was read: three is src/b.ts's first change here.
      expect(read.commits[0]!.signals).toMatchObject({ la: 1, ld: 1, nuc: 1, exp: 0 });
      // calibrate says so and goes on (cold start here: four commits).
      const { report } = await calibrate({ cwd: fx.work, maturityDays: 0, now: new Date('2026-03-01T00:00:00Z') });
      expect(report.unreadable.count).toBe(2);
      expect(report.warnings.join('\n')).toMatch(new RegExp(`2 commit\\(s\\) could not be read \\(missing objects, e\\.g\\. ${blob}; first: ${two.slice(0, 10)}, ${one.slice(0, 10)}\\) and were left out`));
    } finally {
      fx.dispose();
    }
  });

  test('a history whose older part is missing (a truncated mirror): the readable newer part, the rest counted after a run of failures', async () => {
    const fx = GitFixture.create();
    try {
      const shas: string[] = [];
      for (let i = 0; i < 30; i++) shas.push(fx.commit(`c${i}`, { [`src/f${i}.ts`]: `export const v = ${i};\n` }, { author: A, date: day(i) }));
      // The trees of the 25 oldest commits are gone: git can read neither their diffs nor their parents' trees.
      const { rmSync } = await import('node:fs');
      for (const sha of shas.slice(0, 25)) {
        const tree = fx.git(['rev-parse', `${sha}^{tree}`]).trim();
        rmSync(`${fx.work}/.git/objects/${tree.slice(0, 2)}/${tree.slice(2)}`);
      }
      const read = await readHistory({ cwd: fx.work });
      // c25's parent tree is gone too, so c25 cannot be diffed either: 26 unreadable, 4 read.
      expect(read.commits.map((c) => c.sha)).toEqual(shas.slice(26));
      expect(read.unreadable.count).toBe(26);
    } finally {
      fx.dispose();
    }
  });

  test('incremental: a second run reads only the new commits and traces only the new fixes, with the same result as a run from scratch', async () => {
    const fx2 = GitFixture.create();
    try {
      const { emptyHistoryCache, historyCacheFrom } = await import('../src/index.js');
      fx2.commit('initial calc', { 'src/calc.ts': 'export function add(a, b) {\n  return a + b;\n}\n' }, { author: A, date: day(0) });
      const bad = fx2.commit('add rounding', { 'src/calc.ts': 'export function add(a, b) {\n  return a + b;\n}\nexport const round = (x) => Math.floor(x);\n' }, { author: B, date: day(3) });
      const cache = emptyHistoryCache();
      const first = await calibrate({ cwd: fx2.work, maturityDays: 0, cache, now: new Date('2026-03-01T00:00:00Z') });
      expect(first.report.reused).toEqual({ commits: 0, fixes: 0, fixesTraced: 0 });
      expect(Object.keys(cache.commits).sort()).toEqual([bad, fx2.git(['rev-parse', 'HEAD~1']).trim()].sort());
      // A week later: a fix of the rounding commit. Through JSON, as the Actions cache stores it.
      const fix = fx2.commit('fix: rounding must round half up (#12)', { 'src/calc.ts': 'export function add(a, b) {\n  return a + b;\n}\nexport const round = (x) => Math.round(x);\n' }, { author: A, date: day(10) });
      const stored = historyCacheFrom(JSON.parse(JSON.stringify(cache)));
      expect(stored.valid).toBe(true);
      const second = await calibrate({ cwd: fx2.work, maturityDays: 0, cache: stored.cache, now: new Date('2026-03-01T00:00:00Z') });
      expect(second.report.reused).toEqual({ commits: 2, fixes: 0, fixesTraced: 1 });
      expect(stored.cache.szz[fix]).toEqual([[bad, 1]]);
      const third = await calibrate({ cwd: fx2.work, maturityDays: 0, cache: stored.cache, now: new Date('2026-03-01T00:00:00Z') });
      expect(third.report.reused).toEqual({ commits: 3, fixes: 1, fixesTraced: 1 });
      const scratch = await calibrate({ cwd: fx2.work, maturityDays: 0, now: new Date('2026-03-01T00:00:00Z') });
      for (const r of [second, third]) {
        expect(r.labels).toEqual(scratch.labels);
        expect(r.model).toEqual(scratch.model);
      }
      expect(scratch.labels.map((l) => l.sha)).toEqual([bad]);
      // A cache of another version (or not a cache at all) is not used: started afresh, said by valid: false.
      expect(historyCacheFrom({ ...cache, version: 0 }).valid).toBe(false);
      expect(historyCacheFrom('[]').valid).toBe(false);
      expect(historyCacheFrom({ version: 2, commits: [], szz: {} }).valid).toBe(false);
      // A damaged entry is dropped (read again from git), not a crash.
      const damaged = historyCacheFrom({ ...JSON.parse(JSON.stringify(stored.cache)), szz: { [fix]: 'x', other: [['a', 1]] }, commits: { ...JSON.parse(JSON.stringify(stored.cache.commits)), broken: [1, 2] } });
      expect(damaged.valid).toBe(true);
      expect(Object.keys(damaged.cache.szz)).toEqual(['other']);
      expect(damaged.cache.commits['broken']).toBeUndefined();
      expect((await calibrate({ cwd: fx2.work, maturityDays: 0, cache: damaged.cache, now: new Date('2026-03-01T00:00:00Z') })).model).toEqual(scratch.model);
    } finally {
      fx2.dispose();
    }
  });
});

