/**
 * The seed's fixed weighted sum, kept as `model: seed` so a team can compare it
 * with the fitted model on its own changes (and the benchmark can on the public
 * data). Source: the Maestro Conductor v0.4 plan, story S1 "Risk score
 * function": nine signals, each scaled to 0…1 and clamped, weighted (weights sum
 * to 1) and added; the result is rounded to three decimals. It is a score, not a
 * probability: nothing was fitted or calibrated, and its "reviewer at ≥ 0.70"
 * needs most of the nine signals at their caps (bench/risk measures how often).
 *
 * The seed's function takes plain numbers, so a signal we could not measure
 * enters as 0, as the seed's callers would pass it — and is listed as missing.
 * With complexity unknown that still adds 0.06: the seed centres complexity at
 * 0.5 of its weight.
 */
import type { ExtraSignal } from './extra.js';
import type { Signals } from './model.js';

export const SEED_SIGNALS = ['locChanged', 'churn30d', 'filesTouched', 'ownersTouched', 'depCentrality', 'coverageDelta', 'complexityDelta', 'staticAlerts', 'testFailRate'] as const;
export type SeedSignal = (typeof SEED_SIGNALS)[number];
export type SeedInputs = Record<SeedSignal, number | null>;

interface Term {
  weight: number;
  /** The signal's value → its share of the weight, before clamping to 0…1. */
  scale: (x: number) => number;
  what: string;
}

/** Weights and scales as the seed states them. */
export const SEED_TERMS: Readonly<Record<SeedSignal, Term>> = {
  locChanged: { weight: 0.1, scale: (x) => x / 800, what: 'lines changed (capped at 800)' },
  churn30d: { weight: 0.12, scale: (x) => x / 2000, what: 'lines changed in these files in the last 30 days (capped at 2000)' },
  filesTouched: { weight: 0.08, scale: (x) => x / 25, what: 'files touched (capped at 25)' },
  ownersTouched: { weight: 0.08, scale: (x) => x / 6, what: 'code owners touched (capped at 6)' },
  depCentrality: { weight: 0.18, scale: (x) => x, what: 'share of projects depending on the change' },
  coverageDelta: { weight: 0.14, scale: (x) => -x / 0.1, what: 'coverage drop (full weight at 10 points)' },
  complexityDelta: { weight: 0.12, scale: (x) => (x + 1) / 2, what: 'complexity change (full weight at +1)' },
  staticAlerts: { weight: 0.1, scale: (x) => x / 10, what: 'static-analysis alerts (capped at 10)' },
  testFailRate: { weight: 0.08, scale: (x) => x, what: 'share of failed tests' },
};

const clamp01 = (x: number) => Math.max(0, Math.min(1, x));

export interface SeedTerm {
  signal: SeedSignal;
  value: number | null;
  /** weight × clamp(scale(value)); the terms add up to the score. */
  term: number;
}

export interface SeedScore {
  score: number;
  terms: SeedTerm[];
  /** The three largest terms, in plain words. */
  factors: Array<{ feature: SeedSignal; contribution: number; value: number | null; text: string }>;
  missing: SeedSignal[];
}

export function seedScore(inputs: Partial<SeedInputs>, top = 3): SeedScore {
  const terms: SeedTerm[] = SEED_SIGNALS.map((signal) => {
    const v = inputs[signal];
    const value = v === undefined || v === null || Number.isNaN(v) ? null : v;
    const t = SEED_TERMS[signal];
    return { signal, value, term: t.weight * clamp01(t.scale(value ?? 0)) };
  });
  const z = terms.reduce((a, t) => a + t.term, 0);
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const factors = terms
    .filter((t) => t.value !== null && t.term > 0)
    .sort((a, b) => b.term - a.term)
    .slice(0, top)
    .map((t) => ({
      feature: t.signal,
      contribution: r3(t.term),
      value: t.value,
      text: `adds ${r3(t.term)} of ${SEED_TERMS[t.signal].weight}: ${SEED_TERMS[t.signal].what} = ${Number.isInteger(t.value) ? t.value : t.value!.toFixed(3)}`,
    }));
  return { score: r3(z), terms, factors, missing: terms.filter((t) => t.value === null).map((t) => t.signal) };
}

/**
 * The seed's inputs from what Maestro measures: size from the diff, churn from
 * git log, owners from CODEOWNERS, centrality from the project graph, and the
 * report-based signals. Coverage delta is in percentage points here and a
 * fraction in the seed (its −0.1 is a ten-point drop), so it is divided by 100.
 */
export function seedInputs(signals: Signals, churn30d: number | null, extras: readonly ExtraSignal[]): SeedInputs {
  const extra = (name: ExtraSignal['name']) => extras.find((e) => e.name === name)?.value ?? null;
  const coverage = extra('coverageDelta');
  return {
    locChanged: signals.la === undefined || signals.ld === undefined ? null : signals.la + signals.ld,
    churn30d,
    filesTouched: signals.nf ?? null,
    ownersTouched: extra('ownersTouched'),
    depCentrality: extra('dependencyCentrality'),
    coverageDelta: coverage === null ? null : coverage / 100,
    complexityDelta: extra('complexityDelta'),
    staticAlerts: extra('staticAlerts'),
    testFailRate: extra('testFailRate'),
  };
}
