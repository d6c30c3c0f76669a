/**
 * Logistic regression on log1p-transformed, standardised change metrics,
 * fitted by Newton's method (IRLS) with a small ridge. Gives a probability,
 * the per-feature contributions behind it, and the usual evaluation measures
 * (AUC, Brier, ECE, recall at a review budget). Pure and dependency-free.
 */

export const KAMEI = ['ns', 'nd', 'nf', 'entrophy', 'la', 'ld', 'lt', 'fix', 'ndev', 'age', 'nuc', 'exp', 'rexp', 'sexp'] as const;
export type Metric = (typeof KAMEI)[number];
export type Signals = Partial<Record<Metric, number>>;

/** Plain words for each metric, for the top factors. */
export const DESCRIBE: Record<Metric, string> = {
  ns: 'subsystems touched',
  nd: 'directories touched',
  nf: 'files touched',
  entrophy: 'how spread the change is across files',
  la: 'lines added',
  ld: 'lines deleted',
  lt: 'size of the touched files before the change',
  fix: 'it is a bug fix',
  ndev: 'developers who changed these files before',
  age: 'days since the touched files last changed',
  nuc: 'earlier changes to the touched files',
  exp: "author's experience (earlier file changes)",
  rexp: "author's recent experience",
  sexp: "author's experience in these subsystems",
};

export interface Model {
  version: 1;
  kind: 'maestro-risk-model';
  features: Metric[];
  /** Per feature: mean and standard deviation of log1p(x) on the training data. */
  mean: number[];
  std: number[];
  /** Median of log1p(x), used when a signal is missing. */
  median: number[];
  weights: number[];
  intercept: number;
  /** Positive rate of the training data (the intercept's reference point). */
  baseRate: number;
  /**
   * Percentiles 0…100 of the model's log-odds over its reference changes, so a
   * review budget ("the riskiest 20 %") maps to a threshold.
   */
  logitPercentiles?: number[];
  provenance: Record<string, unknown>;
}

export interface Row {
  x: Signals;
  y: 0 | 1;
  date?: number;
}

const tf = (v: number) => Math.log1p(Math.max(0, v));
const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
const logit = (p: number) => Math.log(p / (1 - p));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Solve A x = b (A symmetric positive definite) by Cholesky. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const L = A.map((r) => r.map(() => 0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i]![j]!;
      for (let k = 0; k < j; k++) s -= L[i]![k]! * L[j]![k]!;
      if (i === j) L[i]![i] = Math.sqrt(Math.max(s, 1e-12));
      else L[i]![j] = s / L[j]![j]!;
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i]![k]! * y[k]!;
    y[i] = s / L[i]![i]!;
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k]![i]! * x[k]!;
    x[i] = s / L[i]![i]!;
  }
  return x;
}

export interface FitOptions {
  features?: readonly Metric[];
  /** Ridge strength, multiplied by n (the research protocol uses 1e-3). */
  lambda?: number;
  iterations?: number;
  provenance?: Record<string, unknown>;
}

export function fit(rows: readonly Row[], opts: FitOptions = {}): Model {
  const features = [...(opts.features ?? KAMEI)];
  const d = features.length;
  const n = rows.length;
  if (n === 0) throw new RangeError('no rows to fit');
  const raw = rows.map((r) => features.map((f) => tf(r.x[f] ?? 0)));
  const mean = features.map((_, j) => raw.reduce((a, r) => a + r[j]!, 0) / n);
  // A (near-)constant feature gets std 1: it then carries no signal instead of dividing by ~0.
  const std = features.map((_, j) => {
    const sd = Math.sqrt(raw.reduce((a, r) => a + (r[j]! - mean[j]!) ** 2, 0) / n);
    return sd < 1e-6 ? 1 : sd;
  });
  const med = features.map((_, j) => median(raw.map((r) => r[j]!)));
  const X = raw.map((r) => [1, ...r.map((v, j) => (v - mean[j]!) / std[j]!)]);
  const y = rows.map((r) => r.y);
  const lambda = (opts.lambda ?? 1e-3) * n;
  let w = new Array<number>(d + 1).fill(0);
  const pos = y.reduce<number>((a, b) => a + b, 0) / n;
  w[0] = logit(Math.min(Math.max(pos, 1e-6), 1 - 1e-6));
  for (let it = 0; it < (opts.iterations ?? 25); it++) {
    const H = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    const g = new Array<number>(d + 1).fill(0);
    for (let i = 0; i < n; i++) {
      const xi = X[i]!;
      let z = 0;
      for (let j = 0; j <= d; j++) z += w[j]! * xi[j]!;
      const p = sigmoid(z);
      const r = p - y[i]!;
      const s = p * (1 - p);
      for (let j = 0; j <= d; j++) {
        g[j]! += r * xi[j]!;
        const sj = s * xi[j]!;
        for (let k = 0; k <= j; k++) H[j]![k]! += sj * xi[k]!;
      }
    }
    for (let j = 1; j <= d; j++) {
      g[j]! += lambda * w[j]!;
      H[j]![j]! += lambda;
    }
    for (let j = 0; j <= d; j++) for (let k = j + 1; k <= d; k++) H[j]![k] = H[k]![j]!;
    const step = solve(H, g);
    const next = w.map((v, j) => v - step[j]!);
    const delta = Math.max(...step.map(Math.abs));
    w = next;
    if (delta < 1e-8) break;
  }
  return {
    version: 1,
    kind: 'maestro-risk-model',
    features,
    mean: mean.map(r6),
    std: std.map(r6),
    median: med.map(r6),
    weights: w.slice(1).map(r6),
    intercept: r6(w[0]!),
    baseRate: r6(pos),
    provenance: opts.provenance ?? {},
  };
}

function r6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * Correlated metrics are explained together: a reviewer can act on "the change is large" or "the
 * author is new to these files", not on two halves of a cancelling pair ("experience is high
 * (+0.48)" next to "experience is high (−0.47)"). A group's contribution is the sum of its members'.
 */
export const FACTOR_GROUPS = {
  size: ['la', 'ld'],
  spread: ['ns', 'nd', 'nf', 'entrophy'],
  history: ['lt', 'ndev', 'age', 'nuc'],
  experience: ['exp', 'rexp', 'sexp'],
  purpose: ['fix'],
} as const satisfies Record<string, readonly Metric[]>;
export type FactorGroup = keyof typeof FACTOR_GROUPS;

export interface Factor {
  /** The group of correlated metrics the factor explains (`size`, `spread`, `history`, `experience`, `purpose`). */
  feature: FactorGroup;
  /** The metrics behind it, as measured. */
  features: Metric[];
  /** Contribution to the log-odds: the sum over the group (weight × standardised value). */
  contribution: number;
  /** The group's leading metric's value. */
  value: number | null;
  text: string;
}

export interface Score {
  probability: number;
  logit: number;
  factors: Factor[];
  /** Signals that were not available and were replaced by the training median. */
  missing: Metric[];
}

/** Shift the intercept so the average prediction moves from the model's base rate to `rate`. */
export function withBaseRate(m: Model, rate: number): Model {
  const r = Math.min(Math.max(rate, 1e-4), 1 - 1e-4);
  const delta = logit(r) - logit(m.baseRate);
  const out: Model = { ...m, intercept: r6(m.intercept + delta), baseRate: r6(r) };
  if (m.logitPercentiles) out.logitPercentiles = m.logitPercentiles.map((q) => r6(q + delta));
  return out;
}

/** Record where the model's scores fall on a reference population (for review budgets). */
export function withPercentiles(m: Model, rows: readonly Row[]): Model {
  const z = rows.map((r) => score(m, r.x, 0).logit).sort((a, b) => a - b);
  if (!z.length) return m;
  const at = (q: number) => {
    const pos = (z.length - 1) * q;
    const lo = Math.floor(pos);
    return z[lo]! + (z[Math.ceil(pos)]! - z[lo]!) * (pos - lo);
  };
  return { ...m, logitPercentiles: Array.from({ length: 101 }, (_, i) => r6(at(i / 100))) };
}

/** The probability above which a change is among the riskiest `budget` (0–1) of the reference changes. */
export function budgetThreshold(m: Model, budget: number): number | undefined {
  if (!m.logitPercentiles || m.logitPercentiles.length !== 101) return undefined;
  const q = Math.min(100, Math.max(0, 100 - budget * 100));
  const lo = Math.floor(q);
  const hi = Math.ceil(q);
  const z = m.logitPercentiles[lo]! + (m.logitPercentiles[hi]! - m.logitPercentiles[lo]!) * (q - lo);
  return r6(sigmoid(z));
}

export function score(m: Model, x: Signals, top = 3): Score {
  let z = m.intercept;
  const contrib = new Map<Metric, number>();
  const missing: Metric[] = [];
  m.features.forEach((f, j) => {
    const v = x[f];
    const absent = v === undefined || v === null || Number.isNaN(v);
    const t = absent ? m.median[j]! : tf(v);
    if (absent) missing.push(f);
    const c = m.weights[j]! * ((t - m.mean[j]!) / m.std[j]!);
    z += c;
    if (!absent) contrib.set(f, c);
  });
  const groups = (Object.entries(FACTOR_GROUPS) as Array<[FactorGroup, readonly Metric[]]>)
    .map(([group, members]) => {
      const present = members.filter((f) => contrib.has(f));
      const sum = present.reduce((a, f) => a + contrib.get(f)!, 0);
      return { group, present, sum };
    })
    .filter((g) => g.present.length && Math.abs(g.sum) >= 0.05);
  const factors = groups
    .sort((a, b) => Math.abs(b.sum) - Math.abs(a.sum))
    .slice(0, top)
    .map((g): Factor => {
      // The member pushing the same way as the group the most leads the wording.
      const lead = [...g.present].sort((a, b) => Math.sign(g.sum) * (contrib.get(b)! - contrib.get(a)!))[0]!;
      return { feature: g.group, features: g.present, contribution: r6(g.sum), value: x[lead] ?? null, text: `${g.sum >= 0 ? 'raises' : 'lowers'} risk: ${describeGroup(g.group, x)}` };
    });
  return { probability: r6(sigmoid(z)), logit: r6(z), factors, missing };
}

/** A group in plain words, with the values a reviewer can check. */
function describeGroup(group: FactorGroup, x: Signals): string {
  const n = (v: number | undefined) => (v === undefined ? '?' : fmt(v));
  const has = (k: Metric) => x[k] !== undefined && x[k] !== null;
  switch (group) {
    case 'size':
      return `size of the change: ${n(x.la)} line(s) added${has('ld') ? `, ${n(x.ld)} deleted` : ''}`;
    case 'spread':
      return `spread: ${[has('nf') ? `${n(x.nf)} file(s)` : '', has('nd') ? `${n(x.nd)} directory(ies)` : '', has('ns') ? `${n(x.ns)} subsystem(s)` : ''].filter(Boolean).join(', ') || 'across files'}`;
    case 'history':
      return `the touched files' history: ${[has('lt') ? `${n(x.lt)} line(s) before the change` : '', has('ndev') ? `${n(x.ndev)} developer(s)` : '', has('nuc') ? `${n(x.nuc)} earlier change(s)` : '', has('age') ? `last changed ${n(x.age)} day(s) before` : ''].filter(Boolean).join(', ')}`;
    case 'experience':
      return `the author's experience: ${[has('exp') ? `${n(x.exp)} earlier file change(s)` : '', has('sexp') ? `${n(x.sexp)} in these subsystems` : '', has('rexp') ? `recent ${n(x.rexp)}` : ''].filter(Boolean).join(', ')}`;
    case 'purpose':
      return `${DESCRIBE.fix}: ${x.fix ? 'yes' : 'no'}`;
  }
}

function fmt(v: number | null): string {
  if (v === null) return 'missing';
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

// ---- evaluation ----

/** Area under the ROC curve (ties count half), by ranks. */
export function auc(scores: readonly number[], labels: readonly number[]): number {
  if (scores.some((x) => Number.isNaN(x))) throw new RangeError('auc: a score is NaN');
  const idx = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  let pos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i + 1; // always advances, even past NaN scores
    while (j < idx.length && idx[j]![0] === idx[i]![0]) j++;
    const avg = (i + j + 1) / 2; // ranks are 1-based
    for (let k = i; k < j; k++) if (idx[k]![1] === 1) {
      rankSum += avg;
      pos++;
    }
    i = j;
  }
  const neg = idx.length - pos;
  if (!pos || !neg) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function brier(p: readonly number[], y: readonly number[]): number {
  return p.reduce((a, v, i) => a + (v - y[i]!) ** 2, 0) / p.length;
}

/** Expected calibration error over 10 equal-width bins. */
export function ece(p: readonly number[], y: readonly number[], bins = 10): number {
  const sum = new Array<number>(bins).fill(0);
  const hit = new Array<number>(bins).fill(0);
  const cnt = new Array<number>(bins).fill(0);
  p.forEach((v, i) => {
    const b = Math.min(bins - 1, Math.floor(v * bins));
    sum[b]! += v;
    hit[b]! += y[i]!;
    cnt[b]!++;
  });
  let e = 0;
  for (let b = 0; b < bins; b++) if (cnt[b]) e += (cnt[b]! / p.length) * Math.abs(sum[b]! / cnt[b]! - hit[b]! / cnt[b]!);
  return e;
}

/** Share of positives caught when the riskiest `budget` share of changes is flagged. */
export function recallAtBudget(scores: readonly number[], labels: readonly number[], budget: number): number {
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => b[0] - a[0]);
  const k = Math.ceil(order.length * budget);
  const pos = labels.reduce((a, b) => a + b, 0);
  return pos ? order.slice(0, k).reduce((a, r) => a + r[1], 0) / pos : NaN;
}

/** Platt slope and intercept are kept in these bounds: a slope ≤ 0 would flip the ranking, a huge one means separable data, not calibration. */
export const PLATT_BOUNDS = { a: [0.01, 20], b: [-30, 30] } as const;

/**
 * Platt recalibration: one-feature logistic fit of y on the model's logit,
 * folded into the model. Newton steps with a backtracking line search on the
 * log-loss, inside PLATT_BOUNDS: on separable data plain Newton runs the slope
 * to infinity (a weight of 3 became −3.9e12 and every probability exactly 0
 * or 1); this stops at the bound instead, and never takes a step that makes
 * the loss worse.
 */
export function recalibrate(m: Model, rows: readonly Row[]): Model {
  const z = rows.map((r) => score(m, r.x, 0).logit);
  const clamp = (v: number, [lo, hi]: readonly [number, number]) => Math.min(hi, Math.max(lo, v));
  const loss = (a: number, b: number) => {
    let l = 0;
    rows.forEach((r, i) => {
      const t = a * z[i]! + b;
      // log(1 + e^t) − y·t, computed without overflow
      l += (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t))) - r.y * t;
    });
    return l;
  };
  let a = 1;
  let b = 0;
  let current = loss(a, b);
  for (let it = 0; it < 100; it++) {
    let g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0;
    rows.forEach((r, i) => {
      const p = sigmoid(a * z[i]! + b);
      const e = p - r.y;
      const s = p * (1 - p);
      g0 += e * z[i]!;
      g1 += e;
      h00 += s * z[i]! * z[i]!;
      h01 += s * z[i]!;
      h11 += s;
    });
    h00 += 1e-9;
    h11 += 1e-9;
    const det = h00 * h11 - h01 * h01;
    const da = (h11 * g0 - h01 * g1) / det;
    const db = (h00 * g1 - h01 * g0) / det;
    if (!Number.isFinite(da) || !Number.isFinite(db)) break;
    // Backtrack until the (bounded) step lowers the loss.
    let step = 1;
    let moved = false;
    for (let k = 0; k < 30; k++, step /= 2) {
      const na = clamp(a - step * da, PLATT_BOUNDS.a);
      const nb = clamp(b - step * db, PLATT_BOUNDS.b);
      const l = loss(na, nb);
      if (l <= current) {
        moved = Math.abs(na - a) + Math.abs(nb - b) > 1e-12;
        a = na;
        b = nb;
        current = l;
        break;
      }
    }
    if (!moved || step * (Math.abs(da) + Math.abs(db)) < 1e-10) break;
  }
  const base = rows.reduce((s, r) => s + r.y, 0) / rows.length;
  return { ...m, weights: m.weights.map((w) => r6(w * a)), intercept: r6(m.intercept * a + b), baseRate: r6(base) };
}
