/** One call from a change to a risk assessment: signals, score, level, factors. Shared by the action and the CLI. */
import { ConfigError } from '@maestro/core/errors';
import { parseJson } from '@maestro/core/config';
import { changeSignals } from './signals.js';
import { score, withBaseRate, type Factor, type Metric, type Model, type Signals } from './model.js';
import { DEFAULT_MODEL } from './default-model.data.js';

export type Level = 'low' | 'elevated' | 'high';

export interface Assessment {
  score: number;
  level: Level;
  thresholds: { warn: number; enforce: number };
  factors: Factor[];
  signals: Signals;
  missing: Metric[];
  notes: string[];
  files: number;
  author: string;
  model: { source: string; baseRate: number; features: number; trainedOn: unknown };
}

export const DEFAULT_SOURCE = 'default (four public JIT data sets)';

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
  model?: Model;
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
  const base = opts.model ?? DEFAULT_MODEL;
  const model = opts.baseRate !== undefined ? withBaseRate(base, opts.baseRate) : base;
  const warn = opts.warn ?? 0.6;
  const enforce = opts.enforce ?? 0.75;
  const sig = await changeSignals({ cwd: opts.cwd, base: opts.base, head: opts.head, ...(opts.extraMessage ? { extraMessage: opts.extraMessage } : {}), ...(opts.exclude ? { exclude: opts.exclude } : {}) });
  const s = score(model, sig.signals);
  return {
    score: s.probability,
    level: levelOf(s.probability, warn, enforce),
    thresholds: { warn, enforce },
    factors: s.factors,
    signals: sig.signals,
    missing: s.missing,
    notes: sig.notes,
    files: sig.files.length,
    author: sig.author,
    model: {
      source: opts.source ?? (opts.model ? String((model.provenance as { source?: string }).source ?? 'repository model') : DEFAULT_SOURCE),
      baseRate: model.baseRate,
      features: model.features.length,
      trainedOn: (model.provenance as { training?: unknown }).training ?? null,
    },
  };
}
