/**
 * The default model: LR on the 14 change metrics, fitted on the chronologically
 * first 70 % of each of the four public data sets pooled, and evaluated on each
 * last 30 %. Deterministic: the same files give the same JSON, which a test checks
 * against the committed `policy/risk-model.default.json`.
 */
import { auc, ece, fit, recalibrate, recallAtBudget, score, withBaseRate, withPercentiles, type Model, type Row } from './model.js';
import { bestLaWeight, blendWithLinesAdded } from './anchored.js';

export interface Dataset {
  name: string;
  rows: Row[];
  source: string;
}

export function fitDefaultModel(datasets: readonly Dataset[]): Model {
  const train: Row[] = [];
  const cut = (d: Dataset) => Math.floor(d.rows.length * 0.7);
  for (const d of datasets) train.push(...d.rows.slice(0, cut(d)));
  // How far to lean on lines added (as calibrate does for one repository): fit on the first 70 % of each
  // training part, pick the weight with the best mean AUC on the rest of each, never on the test parts.
  const inner: Row[] = [];
  const valid: Row[][] = [];
  for (const d of datasets) {
    const t = d.rows.slice(0, cut(d));
    const c = Math.floor(t.length * 0.7);
    inner.push(...t.slice(0, c));
    valid.push(t.slice(c));
  }
  const { weight: laWeight, auc: best } = bestLaWeight(fit(inner), inner, valid);
  // The blend rescales the logit: recalibrate on the pooled training data, as the plain fit is calibrated there.
  const model = withPercentiles(recalibrate(blendWithLinesAdded(fit(train), train, laWeight), train), train);
  const evaluation = Object.fromEntries(
    datasets.map((d) => {
      const test = d.rows.slice(cut(d));
      const y = test.map((r) => r.y);
      const p = test.map((r) => score(model, r.x, 0).probability);
      const la = test.map((r) => r.x.la ?? 0);
      // What a repository gets once its own bug rate is known: the same model, intercept shifted.
      const trainRows = d.rows.slice(0, cut(d));
      const shifted = withBaseRate(model, trainRows.reduce((a, r) => a + r.y, 0) / trainRows.length);
      const ps = test.map((r) => score(shifted, r.x, 0).probability);
      const r3 = (x: number) => Math.round(x * 1000) / 1000;
      return [d.name, { testRows: test.length, auc: r3(auc(p, y)), laAuc: r3(auc(la, y)), ece: r3(ece(p, y)), eceWithRepoBaseRate: r3(ece(ps, y)), recallAt20: r3(recallAtBudget(p, y, 0.2)), laRecallAt20: r3(recallAtBudget(la, y, 0.2)) }];
    }),
  );
  model.provenance = {
    method: `logistic regression on log1p of the 14 Kamei change metrics, z-scored, ridge 1e-3·n, IRLS; standardised logit plus ${laWeight} × z(log1p lines added), the weight chosen on the newest 30 % of each training part (mean validation AUC ${Math.round(best * 1000) / 1000}); Platt-recalibrated on the pooled training data`,
    laWeight,
    training: 'first 70 % (by commit date) of each data set, pooled',
    data: datasets.map((d) => ({ name: d.name, rows: d.rows.length, source: d.source })),
    licence: 'data: MIT (ZZR0/ISSTA21-JIT-DP, Zeng et al., ISSTA 2021)',
    evaluation,
  };
  return model;
}
