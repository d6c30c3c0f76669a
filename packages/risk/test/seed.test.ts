import { afterAll, describe, expect, test } from '@jest/globals';
import { GitFixture } from '@maestro/harness';
import { changeSignals, seedInputs, seedScore, SEED_SIGNALS, SEED_TERMS, type ExtraSignal } from '../src/index.js';

const fixtures: GitFixture[] = [];
afterAll(() => fixtures.forEach((f) => f.dispose()));

describe('the seed formula (model: seed)', () => {
  test('weights as the seed states them: nine terms summing to 1', () => {
    expect(SEED_SIGNALS).toHaveLength(9);
    expect(SEED_SIGNALS.reduce((a, s) => a + SEED_TERMS[s].weight, 0)).toBeCloseTo(1, 12);
  });

  test('a worked example, term by term (checked by hand)', () => {
    const s = seedScore({ locChanged: 400, churn30d: 3000, filesTouched: 5, ownersTouched: 3, depCentrality: 0.25, coverageDelta: -0.05, complexityDelta: 0, staticAlerts: 2, testFailRate: 0.1 });
    // 0.1·0.5 + 0.12·1 (capped) + 0.08·0.2 + 0.08·0.5 + 0.18·0.25 + 0.14·0.5 + 0.12·0.5 + 0.1·0.2 + 0.08·0.1
    expect(s.score).toBe(0.429);
    expect(s.missing).toEqual([]);
    expect(s.factors.map((f) => [f.feature, f.contribution])).toEqual([['churn30d', 0.12], ['coverageDelta', 0.07], ['complexityDelta', 0.06]]);
    expect(s.factors[0]!.text).toBe('adds 0.12 of 0.12: lines changed in these files in the last 30 days (capped at 2000) = 3000');
  });

  test('clamping: everything at its cap gives 1, nothing gives the complexity centre 0.06, coverage gains and complexity drops add nothing', () => {
    expect(seedScore({ locChanged: 1e6, churn30d: 1e6, filesTouched: 1e3, ownersTouched: 50, depCentrality: 1, coverageDelta: -1, complexityDelta: 40, staticAlerts: 99, testFailRate: 1 }).score).toBe(1);
    expect(seedScore({ locChanged: 0, churn30d: 0, filesTouched: 0, ownersTouched: 0, depCentrality: 0, coverageDelta: 0, complexityDelta: 0, staticAlerts: 0, testFailRate: 0 }).score).toBe(0.06);
    expect(seedScore({ coverageDelta: 0.2, complexityDelta: -5 }).score).toBe(0);
  });

  test('an unmeasured signal enters as 0, as the seed would be called, and is listed as missing (never a factor)', () => {
    const s = seedScore({ locChanged: 800, filesTouched: 25 });
    // 0.1 + 0.08, plus 0.06: complexity unknown enters as 0, which the seed centres at half its weight.
    expect(s.score).toBe(0.24);
    expect(s.missing).toEqual(['churn30d', 'ownersTouched', 'depCentrality', 'coverageDelta', 'complexityDelta', 'staticAlerts', 'testFailRate']);
    expect(s.factors.map((f) => f.feature)).toEqual(['locChanged', 'filesTouched']);
  });

  test('inputs from what Maestro measures: lines added + deleted, coverage points as a fraction, missing extras stay missing', () => {
    const extras: ExtraSignal[] = [
      { name: 'ownersTouched', value: 2, detail: '' },
      { name: 'dependencyCentrality', value: null, detail: 'missing' },
      { name: 'coverageDelta', value: -3.5, detail: '' },
      { name: 'complexityDelta', value: 4, detail: '' },
      { name: 'staticAlerts', value: 1, detail: '' },
      { name: 'testFailRate', value: null, detail: 'missing' },
    ];
    expect(seedInputs({ la: 30, ld: 12, nf: 3 }, 120, extras)).toEqual({ locChanged: 42, churn30d: 120, filesTouched: 3, ownersTouched: 2, depCentrality: null, coverageDelta: -0.035, complexityDelta: 4, staticAlerts: 1, testFailRate: null });
  });

  test('churn30d: lines changed in the touched files by commits of the 30 days before the change; older ones and other files do not count', async () => {
    const fx = GitFixture.create();
    fixtures.push(fx);
    const day = (d: number) => new Date(Date.UTC(2026, 0, 1) + d * 86400_000).toISOString();
    fx.commit('old', { 'src/a.ts': Array.from({ length: 10 }, (_, i) => `${i}\n`).join(''), 'src/b.ts': 'b\n' }, { date: day(0) });
    // A path with a tab, a quote, non-ASCII letters and glob characters: matched literally, read unquoted.
    const odd = 'src/ü "q"\t[x]*.ts';
    fx.commit('recent', { 'src/a.ts': Array.from({ length: 12 }, (_, i) => `${i}\n`).join(''), 'src/b.ts': 'b\nb\nb\n', [odd]: '1\n2\n3\n' }, { date: day(50) });
    const base = fx.commit('docs', { 'docs/x.md': 'x\n' }, { date: day(60) });
    const head = fx.commit('change a', { 'src/a.ts': 'changed\n', [odd]: '1\n' }, { date: day(70) });
    const r = await changeSignals({ cwd: fx.work, base, head });
    // Window: day 40 to the change. 'recent' added 2 lines to src/a.ts and 3 to the odd file;
    // 'old' (day 0) and src/b.ts (not touched by the change) do not count.
    expect(r.churn30d).toBe(5);
  });
});

describe('complexity on big changes', () => {
  test('vendored files are left out, blobs over 1 MiB are left out, and a huge change is measured on its first files, saying so', async () => {
    const { collectExtras } = await import('../src/index.js');
    const fx = GitFixture.create();
    fixtures.push(fx);
    const big = `export const data = [${'1,'.repeat(600_000)}];\n`;
    const files = ['src/a.ts', 'src/b.ts', 'src/big.js', 'src/c.ts', 'vendor/lib.js'];
    const base = fx.commit('base', Object.fromEntries(files.map((f) => [f, f === 'src/big.js' ? big : 'export const x = 1;\n'])));
    const head = fx.commit('branches', Object.fromEntries(files.map((f) => [f, f === 'src/big.js' ? `${big}if (data) {}\n` : 'export const x = a ? 1 : 2;\n'])));
    const measure = async (max?: number) => (await collectExtras({ cwd: fx.work, base, head, files, ...(max ? { maxComplexityFiles: max } : {}) })).find((e) => e.name === 'complexityDelta')!;
    const all = await measure();
    // a, b and c gain one branch each; big.js (over 1 MiB) and vendor/lib.js are not measured.
    expect(all.value).toBe(3);
    expect(all.detail).toMatch(/of 3 JS\/TS file\(s\): 0 → 3 \(2 version\(s\) over 1 MiB left out\)$/);
    const first = await measure(2);
    expect(first.value).toBe(2);
    expect(first.detail).toMatch(/\(measured on the first 2 of 4 changed source files\)$/);
  });
});
