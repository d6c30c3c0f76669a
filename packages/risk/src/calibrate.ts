/**
 * Calibration on the repository's own history: label past commits (trailers,
 * reverts, B-SZZ), drop the newest ones whose bugs may not be found yet,
 * fit on a recent window, report AUC / ECE / recall at a 20 % review budget
 * on a time-ordered hold-out next to the lines-added baseline, and return a
 * model with its provenance. Too little data: the default model shifted to
 * the repository's bug rate (cold start), said so.
 */
import { DEFAULT_MODEL } from './default-model.data.js';
import { labelHistory, readHistory, type HistoryCache, type Label } from './history.js';
import { DAY } from './signals.js';
import { auc, ece, recallAtBudget, score, withBaseRate, withPercentiles, type Model, type Row } from './model.js';
import { fitAnchored, type AnchoredChoice } from './anchored.js';
import type { GitOptions } from '@maestro/core/git';


export interface CalibrateOptions extends GitOptions {
  rev?: string;
  maxCommits?: number;
  /** Commits younger than this are left out (their bugs may not be found yet). */
  maturityDays?: number;
  /** Fit on this many days of matured history. */
  windowDays?: number;
  minCommits?: number;
  minPositives?: number;
  /** The most expected calibration error on the hold-out a written fit may have (default 0.05). */
  maxEce?: number;
  now?: Date;
  exclude?: readonly string[];
  /** Numstat records and blame results of earlier runs: reused, and this run's added (the caller stores it). */
  cache?: HistoryCache;
}

export interface CalibrationReport {
  mode: 'fitted' | 'cold-start' | 'default-kept';
  reason: string;
  commits: number;
  matured: number;
  positives: number;
  labels: Record<Label['source'], number>;
  holdout?: { rows: number; positives: number; auc: number; laAuc: number; ece: number; recallAt20: number; laRecallAt20: number; defaultAuc: number; defaultEce: number };
  /** What the fit chose on its validation slice: the window and how far it leans on lines added. */
  choice?: AnchoredChoice;
  /** Doubts about the labels (a positive rate outside the plausible band), commits that could not be read. */
  warnings: string[];
  /** Commits git could not read (partial mirror): skipped, counted, a sample named. */
  unreadable: { count: number; sample: string[]; object?: string };
  /** What a reviewer needs to trust the labels: of the matured commits in the window, who labelled them and a sample to read. */
  audit: LabelAudit;
  /** How much came from the history cache: commits whose numstat was reused, fixes whose blame was reused (of those traced). */
  reused: { commits: number; fixes: number; fixesTraced: number };
}

export interface LabelAudit {
  positiveRate: number;
  /** SZZ labels by the rule that made their fixing commit a fix. */
  byRule: Record<string, number>;
  /** The fixing commits that labelled the most commits (a mass edit shows up here). */
  topFixes: Array<{ sha: string; subject: string; labelled: number }>;
  /** Up to ten labels spread over the window (every k-th by date), to read by hand. */
  sample: Array<{ sha: string; subject: string; source: Label['source']; rule?: string; fixedBy: string; fixSubject: string }>;
}

/** The audit in one line, as the action's summary and `maestro risk calibrate` print it. */
export function auditLine(a: LabelAudit): string {
  return `Labels in the window: ${(a.positiveRate * 100).toFixed(1)} % of matured commits; SZZ by fix rule: ${Object.entries(a.byRule).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`;
}

const subjectOf = (m: string | undefined) => (m ?? '').split('\n', 1)[0]!.slice(0, 120);

function auditLabels(labels: readonly Label[], inWindow: ReadonlySet<string>, messages: ReadonlyMap<string, string>, rows: number): LabelAudit {
  const used = labels.filter((l) => inWindow.has(l.sha)).sort((a, b) => a.sha.localeCompare(b.sha));
  const byRule: Record<string, number> = {};
  const byFix = new Map<string, number>();
  for (const l of used) {
    if (l.source === 'szz') byRule[l.rule ?? 'unknown'] = (byRule[l.rule ?? 'unknown'] ?? 0) + 1;
    byFix.set(l.fixedBy, (byFix.get(l.fixedBy) ?? 0) + 1);
  }
  const topFixes = [...byFix].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5).map(([sha, labelled]) => ({ sha, subject: subjectOf(messages.get(sha)), labelled }));
  const step = Math.max(1, Math.floor(used.length / 10));
  const sample = used.filter((_, i) => i % step === 0).slice(0, 10).map((l) => ({ sha: l.sha, subject: subjectOf(messages.get(l.sha)), source: l.source, ...(l.rule ? { rule: l.rule } : {}), fixedBy: l.fixedBy, fixSubject: subjectOf(messages.get(l.fixedBy)) }));
  return { positiveRate: rows ? Math.round((used.length / rows) * 1000) / 1000 : 0, byRule, topFixes, sample };
}

export async function calibrate(opts: CalibrateOptions): Promise<{ model: Model; report: CalibrationReport; labels: Label[] }> {
  const cache = opts.cache;
  const { commits: history, unreadable, cached } = await readHistory({ cwd: opts.cwd, ...(opts.rev ? { rev: opts.rev } : {}), ...(opts.maxCommits ? { maxCommits: opts.maxCommits } : {}), ...(opts.exclude ? { exclude: opts.exclude } : {}), ...(cache ? { cache } : {}) });
  const latest = history.length ? history[history.length - 1]!.time : 0;
  const maturity = (opts.maturityDays ?? 30) * DAY;
  const windowStart = latest - maturity - (opts.windowDays ?? 365) * DAY;
  // Only fixes from the window on can blame a commit in it: older ones are not traced (most of the SZZ work on a long history).
  const blamedBefore = new Set(cache ? Object.keys(cache.szz) : []);
  const labels = await labelHistory(history, { cwd: opts.cwd, fixesSince: windowStart, ...(cache ? { cache } : {}) });
  const traced = cache ? Object.keys(cache.szz).filter((k) => !blamedBefore.has(k)).length : 0;
  const reusedFixes = cache ? history.filter((c) => c.time >= windowStart && blamedBefore.has(c.sha)).length : 0;
  const bad = new Set(labels.map((l) => l.sha));
  const windowCommits = history.filter((c) => c.time <= latest - maturity && c.time >= windowStart && c.files.length > 0);
  const rows: Row[] = windowCommits.map((c) => ({ x: c.signals, y: bad.has(c.sha) ? 1 : 0, date: c.time }));
  const positives = rows.reduce((a, r) => a + r.y, 0);
  const audit = auditLabels(labels, new Set(windowCommits.map((c) => c.sha)), new Map(history.map((c) => [c.sha, c.message])), rows.length);
  // Published JIT data sets run 10-40 % defect-inducing; far outside that, the labels are suspect.
  const warnings: string[] = [];
  const share = rows.length ? positives / rows.length : 0;
  if (rows.length >= 50 && (share > 0.5 || share < 0.02)) warnings.push(`${(share * 100).toFixed(1)} % of the matured commits are labelled defect-inducing; published data sets run 10-40 %, so check the labels (fix wording in this repository's commit messages, mass edits) before trusting the fit`);
  if (unreadable.count) warnings.push(`${unreadable.count} commit(s) could not be read (missing objects${unreadable.object ? `, e.g. ${unreadable.object}` : ''}; first: ${unreadable.sample.map((s) => s.slice(0, 10)).join(', ')}) and were left out; the metrics of the commits after them miss that history. Calibrate on a full clone (fetch-depth: 0, no partial-clone filter) for a complete fit`);
  const counts = { trailer: 0, revert: 0, szz: 0 } as Record<Label['source'], number>;
  for (const l of labels) counts[l.source]++;
  const base: Omit<CalibrationReport, 'mode' | 'reason'> = { commits: history.length, matured: rows.length, positives, labels: counts, warnings, unreadable, audit, reused: { commits: cached, fixes: reusedFixes, fixesTraced: reusedFixes + traced } };
  // What the model file records about its data: not how much this run took from the cache.
  const { reused: _reused, audit: _audit, ...repository } = base;
  const generated = (opts.now ?? new Date()).toISOString();
  const minCommits = opts.minCommits ?? 200;
  const minPositives = opts.minPositives ?? 30;
  if (rows.length < minCommits || positives < minPositives) {
    const rate = rows.length && positives ? positives / rows.length : undefined;
    const shifted = rate ? withBaseRate(DEFAULT_MODEL, rate) : DEFAULT_MODEL;
    // Budgets are relative to this repository's changes when it has any.
    const model = rows.length >= 20 ? withPercentiles(shifted, rows) : shifted;
    const reason = `${rows.length} matured commit(s) with ${positives} defect-inducing (need ${minCommits} and ${minPositives}); using the default model${rate ? ` shifted to this repository's rate ${(rate * 100).toFixed(1)} %` : ''}`;
    return { model: { ...model, provenance: { ...model.provenance, source: 'default, cold start', generated, repository } }, report: { mode: 'cold-start', reason, ...base }, labels };
  }
  // Candidate windows: six months and the whole window read (the fit picks on its own validation slice).
  const windowDays = opts.windowDays ?? 365;
  const windows = [...new Set([Math.min(182, windowDays), windowDays])];
  const cut = Math.floor(rows.length * 0.7);
  const train = rows.slice(0, cut);
  const test = rows.slice(cut);
  const held = fitAnchored(train, { windows }).model;
  const y = test.map((r) => r.y);
  const p = test.map((r) => score(held, r.x, 0).probability);
  const la = test.map((r) => r.x.la ?? 0);
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  // The default model at the training part's rate, on the same hold-out: what keeping it would give.
  const trainRate = train.reduce((a, r) => a + r.y, 0) / train.length;
  const shiftedDefault = withBaseRate(DEFAULT_MODEL, trainRate);
  const d = test.map((r) => score(shiftedDefault, r.x, 0).probability);
  const holdout = { rows: test.length, positives: y.reduce<number>((a, b) => a + b, 0), auc: r3(auc(p, y)), laAuc: r3(auc(la, y)), ece: r3(ece(p, y)), recallAt20: r3(recallAtBudget(p, y, 0.2)), laRecallAt20: r3(recallAtBudget(la, y, 0.2)), defaultAuc: r3(auc(d, y)), defaultEce: r3(ece(d, y)) };
  const { model: anchored, choice } = fitAnchored(rows, { windows });
  const fitted: Model = {
    ...anchored,
    provenance: {
      source: 'repository history',
      generated,
      method: `logistic regression on log1p of the 14 Kamei change metrics, ${choice.laWeight ? `leaning on lines added (weight ${choice.laWeight})` : 'not leaning on lines added'}, fitted on the last ${choice.windowDays} days (both chosen on the newest 30 % of the data), recalibrated on the newest 30 %; labels from trailers, reverts and B-SZZ`,
      window: { from: new Date(Math.max(windowStart, rows[0]!.date ?? 0) * 1000).toISOString(), to: new Date((latest - maturity) * 1000).toISOString(), maturityDays: opts.maturityDays ?? 30 },
      choice,
      repository,
      holdout,
    },
  };
  const model = withPercentiles(fitted, rows);
  // The written model is its own fit: check it, not only the hold-out fit, before anyone scores with it.
  // Probabilities people read as probabilities: a fit whose hold-out calibration error is above the bar
  // is not written when the default is calibrated at least as well there (the reason names both models'
  // numbers); when the default is worse still, the fit is written with a warning saying so.
  const maxEce = opts.maxEce ?? 0.05;
  const eceNote = `its calibration error on the hold-out part is ${holdout.ece}, above ${maxEce} (AUC ${holdout.auc}; the default there: AUC ${holdout.defaultAuc}, calibration error ${holdout.defaultEce})`;
  const verdict = calibrationVerdict(holdout, maxEce);
  const broken = checkWrittenModel(model, test, holdout.auc) ?? (verdict === 'keep-default' ? eceNote : undefined);
  if (!broken && verdict === 'write-with-warning') warnings.push(`the fitted model is written, but ${eceNote}: the default would be further off. Read its probabilities as a ranking more than as rates`);
  if (broken) {
    const rate = positives / rows.length;
    const kept = withPercentiles(withBaseRate(DEFAULT_MODEL, rate), rows);
    const reason = `the fitted model failed its check (${broken}); keeping the default model shifted to this repository's rate ${(rate * 100).toFixed(1)} %`;
    return { model: { ...kept, provenance: { ...kept.provenance, source: 'default, kept after a failed fit', generated, repository, holdout } }, report: { mode: 'default-kept', reason, ...base, holdout, choice }, labels };
  }
  return { model, report: { mode: 'fitted', reason: `fitted on ${rows.length} commits (${positives} defect-inducing); last ${choice.windowDays} days, lines-added weight ${choice.laWeight}`, ...base, holdout, choice }, labels };
}

/**
 * Why a model must not be written, or undefined when it is sound: every weight finite and bounded,
 * probabilities not all pinned to 0 or 1, and on the hold-out part no more than 0.05 below the AUC
 * the hold-out fit reached.
 */
export function checkWrittenModel(m: Model, test: readonly Row[], holdoutAuc: number): string | undefined {
  const params = [...m.weights, m.intercept];
  if (params.some((w) => !Number.isFinite(w) || Math.abs(w) > 100)) return `a weight is ${params.find((w) => !Number.isFinite(w) || Math.abs(w) > 100)}`;
  if (!test.length) return undefined;
  const p = test.map((r) => score(m, r.x, 0).probability);
  if (p.every((x) => x < 1e-9 || x > 1 - 1e-9)) return 'every probability is 0 or 1';
  const a = auc(p, test.map((r) => r.y));
  if (Number.isFinite(holdoutAuc) && a < holdoutAuc - 0.05) return `its AUC on the hold-out part is ${a.toFixed(3)}, below the hold-out fit's ${holdoutAuc.toFixed(3)}`;
  return undefined;
}

/**
 * What a hold-out calibration error above the bar means: keep the default when it is calibrated at
 * least as well on the same hold-out, else write the fit and say both are off.
 */
export function calibrationVerdict(h: { ece: number; defaultEce: number }, maxEce: number): 'ok' | 'write-with-warning' | 'keep-default' {
  if (!(h.ece > maxEce)) return 'ok';
  // Never more than three times the bar, whatever the default does: such probabilities are not worth writing.
  return h.defaultEce <= h.ece || h.ece > 3 * maxEce ? 'keep-default' : 'write-with-warning';
}

/** Days since a model was generated (undefined for models without a date). */
export function modelAgeDays(m: Model, now = new Date()): number | undefined {
  const g = (m.provenance as { generated?: string }).generated;
  if (!g) return undefined;
  return (now.getTime() - new Date(g).getTime()) / (DAY * 1000);
}
