/** One call from a change to a risk assessment: signals, score, level, factors. Shared by the action and the CLI. */
import { ConfigError } from '@maestro/core/errors';
import { parseJson } from '@maestro/core/config';
import { changeSignals } from './signals.js';
import { score, withBaseRate, type Model, type Signals } from './model.js';
import { DEFAULT_MODEL } from './default-model.data.js';
import type { ExtraSignal } from './extra.js';
import { seedInputs, seedScore } from './seed.js';

export type Level = 'low' | 'elevated' | 'high';

export interface Assessment {
  score: number;
  level: Level;
  thresholds: { warn: number; enforce: number };
  /** Largest contributions first: log-odds for a fitted model, the term for the seed formula. */
  factors: Array<{ feature: string; contribution: number; value: number | null; text: string }>;
  signals: Signals;
  /** Lines changed in the touched files over the 30 days before the change (null: too little history). Reported; only the seed formula weighs it. */
  churn30d: number | null;
  /** Signals that could not be measured (a fitted model uses its training median; the seed formula, 0). */
  missing: string[];
  notes: string[];
  files: number;
  author: string;
  /** `calibrated: false` for the seed formula: its score is a weighted sum in 0…1, not a probability, and it has no base rate. */
  model: { source: string; calibrated: boolean; baseRate?: number; features: number; trainedOn: unknown };
}

export const DEFAULT_SOURCE = 'default (four public JIT data sets)';
export const SEED_SOURCE = "seed formula (the plan's fixed weights; a score, not a probability)";

/** A model file's text → the model, or a ConfigError naming the file. */
export function readModel(text: string, file: string): Model {
  const data = parseJson(text, file);
  if (!isModel(data)) throw new ConfigError('not a Maestro risk model (kind, version, features, weights, mean and std are required)', { file, fix: 'regenerate it with `maestro risk calibrate`' });
  return data;
}

export function isModel(v: unknown): v is Model {
  const m = v as Model;
  return !!m && m.kind === 'maestro-risk-model' && m.version === 1 && Array.isArray(m.weights) && Array.isArray(m.features) && m.weights.length === m.features.length && m.mean?.length === m.features.length && m.std?.length === m.features.length;
}

export function levelOf(p: number, warn: number, enforce: number): Level {
  return p >= enforce ? 'high' : p >= warn ? 'elevated' : 'low';
}

export interface AssessOptions {
  cwd: string;
  base: string;
  head: string;
  /** A fitted model (default: the bundled one), or `'seed'` for the seed's weighted sum. */
  model?: Model | 'seed';
  /** Signals beyond the change metrics (the seed formula weighs them; a fitted model reports them only). */
  extras?: readonly ExtraSignal[];
  /** The repository's own bug rate, when known: the model's intercept is shifted to it. */
  baseRate?: number;
  warn?: number;
  enforce?: number;
  extraMessage?: string;
  exclude?: readonly string[];
  /** How to name the model in the result (default: the bundled default's name, or the model's provenance). */
  source?: string;
}

export async function assess(opts: AssessOptions): Promise<Assessment> {
  const warn = opts.warn ?? 0.6;
  const enforce = opts.enforce ?? 0.75;
  const sig = await changeSignals({ cwd: opts.cwd, base: opts.base, head: opts.head, ...(opts.extraMessage ? { extraMessage: opts.extraMessage } : {}), ...(opts.exclude ? { exclude: opts.exclude } : {}) });
  const common = { thresholds: { warn, enforce }, signals: sig.signals, churn30d: sig.churn30d, notes: sig.notes, files: sig.files.length, author: sig.author };
  if (opts.model === 'seed') {
    if (opts.baseRate !== undefined) throw new ConfigError('the seed formula has no base rate to shift', { file: 'model: seed', fix: 'leave base-rate empty, or use a fitted model' });
    const s = seedScore(seedInputs(sig.signals, sig.churn30d, opts.extras ?? []));
    return { ...common, score: s.score, level: levelOf(s.score, warn, enforce), factors: s.factors, missing: s.missing, model: { source: opts.source ?? SEED_SOURCE, calibrated: false, features: s.terms.length, trainedOn: null } };
  }
  const base = opts.model ?? DEFAULT_MODEL;
  const model = opts.baseRate !== undefined ? withBaseRate(base, opts.baseRate) : base;
  const s = score(model, sig.signals);
  return {
    ...common,
    score: s.probability,
    level: levelOf(s.probability, warn, enforce),
    factors: s.factors,
    missing: s.missing,
    model: {
      source: opts.source ?? (opts.model ? String((model.provenance as { source?: string }).source ?? 'repository model') : DEFAULT_SOURCE),
      calibrated: true,
      baseRate: model.baseRate,
      features: model.features.length,
      trainedOn: (model.provenance as { training?: unknown }).training ?? null,
    },
  };
}
