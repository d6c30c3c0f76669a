/** Platt recalibration on data that made plain Newton diverge (#23 bug 1), and the written-model check. */
import { describe, expect, test } from '@jest/globals';
import { PLATT_BOUNDS, auc, checkWrittenModel, fit, recalibrate, score, type Row } from '../src/index.js';

/** A deterministic data set whose outcome is decided by lines added alone: separable on the model's logit. */
function separable(n = 400): Row[] {
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: n }, (_, i) => {
    const la = Math.floor(rnd() * 500);
    return { x: { la, ld: 3, nf: 1 }, y: la > 250 ? 1 : 0, date: i };
  });
}

describe('recalibrate', () => {
  test('separable data: the slope stops at its bound, every weight is finite, the ranking is kept; the written-model check then refuses it', () => {
    const rows = separable();
    const base = fit(rows.slice(0, 100));
    const m = recalibrate(base, rows);
    for (const w of [...m.weights, m.intercept]) expect(Number.isFinite(w)).toBe(true);
    const before = auc(rows.map((r) => score(base, r.x, 0).probability), rows.map((r) => r.y));
    const after = auc(rows.map((r) => score(m, r.x, 0).probability), rows.map((r) => r.y));
    expect(before).toBeGreaterThan(0.9);
    expect(after).toBeCloseTo(before, 3);
    const slope = m.weights.find((w, i) => base.weights[i] !== 0)! / base.weights.find((w) => w !== 0)!;
    expect(slope).toBeGreaterThanOrEqual(PLATT_BOUNDS.a[0]);
    // Separable: the maximum-likelihood slope is infinite; it stops at the bound (plain Newton ran it to -3.9e12 or +inf).
    expect(slope).toBeCloseTo(PLATT_BOUNDS.a[1], 3);
    // Bounded, but a weight this large is separable data, not a calibrated model: calibrate keeps the default.
    expect(checkWrittenModel(m, rows, before)).toMatch(/^a weight is \d+/);
  });

  test('the written-model check refuses non-finite or huge weights, pinned probabilities and a hold-out AUC that collapsed', () => {
    const rows = separable(200);
    const m = fit(rows);
    expect(checkWrittenModel({ ...m, weights: m.weights.map(() => -3.9e12) }, rows, 0.9)).toMatch(/a weight is -3900000000000/);
    expect(checkWrittenModel({ ...m, weights: m.weights.map((w) => -w) }, rows, 0.9)).toMatch(/its AUC on the hold-out part is 0\.\d+, below the hold-out fit's 0\.900/);
    expect(checkWrittenModel({ ...m, intercept: 90, weights: m.weights.map(() => 0) }, rows, 0.5)).toMatch(/every probability is 0 or 1/);
  });
});
