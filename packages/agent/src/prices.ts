/**
 * The price table (`prompts/prices.json`): per model, USD per million tokens for input, output,
 * cache reads and cache writes, the date the price was read and where. A model that is not in the
 * table is refused — never priced at 0 — and a malformed table is a ConfigError at its line.
 */
import { z } from 'zod';
import { ConfigError } from '@maestro/core/errors';
import { parseJson, validateConfig } from '@maestro/core/config';

const usd = z.number().finite().nonnegative();
const rates = z.object({ input: usd, output: usd, cacheRead: usd.optional(), cacheWrite5m: usd.optional(), cacheWrite1h: usd.optional() });
const modelPrice = rates.extend({
  provider: z.enum(['anthropic', 'openai']),
  tier: z.enum(['small', 'medium', 'large']),
  /** Above this many prompt tokens (input + cache read + cache write) the whole request is billed at these rates. */
  longContext: rates.extend({ above: z.number().int().positive() }).optional(),
  read: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-11-24'),
  source: z.string().min(1),
});
export const priceTableSchema = z.object({ version: z.literal(1), currency: z.literal('USD'), unit: z.literal('per 1M tokens'), note: z.string().optional(), models: z.record(z.string().min(1), modelPrice) });

export type ModelPrice = z.infer<typeof modelPrice>;
export type PriceTable = z.infer<typeof priceTableSchema>;

export function parsePriceTable(text: string, file = 'prompts/prices.json'): PriceTable {
  return validateConfig(priceTableSchema, parseJson(text, file), text, file, 'each model needs provider, tier, input, output (USD per 1M tokens), read (date) and source');
}

/** Usage as the providers report it (Anthropic: input excludes cache reads and writes; OpenAI's cached tokens are mapped to cacheRead). */
export interface Usage {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite5m?: number;
  cacheWrite1h?: number;
  /** An attempt whose usage never came back (a cut stream, a timeout): counted at its worst case. */
  worstCase?: { promptTokens: number; maxOutputTokens: number };
}

export function priceOf(table: PriceTable, model: string): ModelPrice {
  const p = Object.hasOwn(table.models, model) ? table.models[model] : undefined;
  if (!p) throw new ConfigError(`no price for model ${model}: a model without a price is refused, not treated as free`, { file: 'prompts/prices.json', fix: `add ${model} with its input/output/cache prices and the date you read them, or pick one of ${Object.keys(table.models).join(', ')}` });
  return p;
}

/** The rates that apply to a request of this many prompt tokens (the long-context tier above its threshold). */
function ratesFor(p: ModelPrice, promptTokens: number): z.infer<typeof rates> {
  return p.longContext && promptTokens > p.longContext.above ? p.longContext : p;
}

/** What a call cost, in USD, from the usage the provider reported. */
export function costOf(p: ModelPrice, u: Usage): number {
  if (u.worstCase) return worstCaseOf(p, u.worstCase.promptTokens, u.worstCase.maxOutputTokens);
  const prompt = u.input + (u.cacheRead ?? 0) + (u.cacheWrite5m ?? 0) + (u.cacheWrite1h ?? 0);
  const r = ratesFor(p, prompt);
  // A cache rate the table does not give is billed like plain input (OpenAI writes) — never as 0.
  return (u.input * r.input + u.output * r.output + (u.cacheRead ?? 0) * (r.cacheRead ?? r.input) + (u.cacheWrite5m ?? 0) * (r.cacheWrite5m ?? r.input) + (u.cacheWrite1h ?? 0) * (r.cacheWrite1h ?? r.input)) / 1e6;
}

/**
 * The most one attempt can cost: every prompt token billed at the dearest way it can be billed
 * (a 1-hour cache write costs twice the input price), every allowed output token produced, at the
 * long-context rates if the prompt can reach them.
 */
export function worstCaseOf(p: ModelPrice, promptTokens: number, maxOutputTokens: number): number {
  const r = ratesFor(p, promptTokens);
  const dearestInput = Math.max(r.input, r.cacheRead ?? 0, r.cacheWrite5m ?? 0, r.cacheWrite1h ?? 0);
  return (promptTokens * dearestInput + maxOutputTokens * r.output) / 1e6;
}
