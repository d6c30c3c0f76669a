/**
 * One budgeted model call: reserve its worst case (every attempt the retry policy may make), call
 * the provider, retry what is worth retrying within the reservation and a wait cap, fail fast on what
 * is not, and settle with the usage the provider reported. A usage the provider never reported (a
 * stream cut off, a timeout after the request was sent) is settled at that attempt's worst case:
 * it may have been billed, and the ledger never counts less than could have been spent.
 */
import type { PriceTable, Usage } from './prices.js';
import type { Ledger } from './ledger.js';
import type { ResponseCache } from './response-cache.js';

export interface ProviderCall {
  model: string;
  /** Stable-first prompt blocks (system, role prompt, policy, repo map): cacheable prefixes. */
  system: string[];
  /** The PR-specific part, last. */
  prompt: string;
  maxOutputTokens: number;
  stream?: boolean;
}

export interface ProviderResult {
  text: string;
  usage: Usage;
  /** The model that answered, as the provider says. */
  model: string;
  stopReason: string | null;
}

export type FailureKind = 'retryable' | 'fatal';

export class ProviderError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
    /** The provider's retry-after, in ms. */
    readonly retryAfterMs?: number,
    /** True when the request may have been billed but no usage came back (cut stream, timeout). */
    readonly usageUnknown = false,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** A `retry-after` header in ms (seconds as the providers send it); undefined when absent or not a number. */
export function retryAfterMs(header: string | null | undefined): number | undefined {
  const n = header == null || header.trim() === '' ? NaN : Number(header);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : undefined;
}

export interface Provider {
  readonly name: string;
  call(c: ProviderCall): Promise<ProviderResult>;
}

export interface BudgetedCallOptions {
  ledger: Ledger;
  prices: PriceTable;
  provider: Provider;
  role: string;
  call: ProviderCall;
  /** Upper bound of the prompt's tokens (count-tokens answer, or `promptTokenBound` of its bytes). */
  promptTokens: number;
  /** Retries on 429/529/5xx/connection errors, reserved up front (default 2). */
  retries?: number;
  /** A retry-after longer than this is not waited for (default 60 s). */
  maxWaitMs?: number;
  /** Injected: waiting is the caller's clock (tests never sleep). */
  sleep: (ms: number) => Promise<void>;
  log?: (line: string) => void;
  /** A re-run on the same inputs is answered from here (no call, no spend). */
  cache?: { store: ResponseCache; promptVersion: string; revision: string };
}

export type BudgetedCallResult =
  | { ok: true; result: ProviderResult; cost: number; attempts: number; reservation?: string; cached?: boolean }
  | { ok: false; reason: string; cost: number; attempts: number };

/** The model that answered is the one asked for, allowing a dated snapshot of it (`…-20261001`). */
export function sameModel(requested: string, served: string): boolean {
  return served === requested || served.startsWith(`${requested}-`);
}

export async function budgetedCall(o: BudgetedCallOptions): Promise<BudgetedCallResult> {
  const retries = o.retries ?? 2;
  const maxWait = o.maxWaitMs ?? 60_000;
  const parts = o.cache && { model: o.call.model, promptVersion: o.cache.promptVersion, revision: o.cache.revision, system: o.call.system, prompt: o.call.prompt };
  if (o.cache && parts) {
    const hit = await o.cache.store.get(parts);
    if (hit) {
      o.log?.(`${o.role}: answered from the response cache (${o.cache.promptVersion} at ${o.cache.revision.slice(0, 12)}); no call, no spend`);
      return { ok: true, result: hit, cost: 0, attempts: 0, cached: true };
    }
  }
  const decision = await o.ledger.reserve({ role: o.role, model: o.call.model, promptTokens: o.promptTokens, maxOutputTokens: o.call.maxOutputTokens, attempts: 1 + retries });
  if (!decision.ok) {
    o.log?.(`${o.role}: not called — ${decision.reason}`);
    return { ok: false, reason: decision.reason, cost: 0, attempts: 0 };
  }
  const usages: Usage[] = [];
  const worst: Usage = { input: 0, output: o.call.maxOutputTokens, worstCase: { promptTokens: o.promptTokens, maxOutputTokens: o.call.maxOutputTokens } };
  let failure = '';
  for (let attempt = 1; attempt <= 1 + retries; attempt++) {
    try {
      const result = await o.provider.call(o.call);
      let model = o.call.model;
      if (!sameModel(o.call.model, result.model)) {
        // A silent switch: said, and billed at what answered when its price is known (never below the request's).
        o.log?.(`${o.role}: asked ${o.call.model}, ${o.provider.name} answered with ${result.model}`);
        if (Object.hasOwn(o.prices.models, result.model)) model = result.model;
      }
      usages.push(result.usage);
      const cost = await o.ledger.settle(decision.id, model, usages);
      if (o.cache && parts) await o.cache.store.set(parts, result);
      return { ok: true, result, cost, attempts: attempt, reservation: decision.id };
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      usages.push(e.usageUnknown ? worst : { input: 0, output: 0 });
      const left = 1 + retries - attempt;
      const wait = e.retryAfterMs ?? Math.min(maxWait, 1000 * 2 ** (attempt - 1));
      failure = `${o.provider.name} ${e.status ?? ''} ${e.message}`.replace(/\s+/g, ' ').trim();
      if (e.kind === 'fatal' || left === 0 || wait > maxWait) {
        const why = e.kind === 'fatal' ? 'not retried' : left === 0 ? `gave up after ${attempt} attempt(s)` : `retry-after ${Math.ceil(wait / 1000)} s is beyond the ${Math.ceil(maxWait / 1000)} s cap`;
        const cost = await o.ledger.settle(decision.id, o.call.model, usages);
        o.log?.(`${o.role}: ${failure} (${why})`);
        return { ok: false, reason: `${failure} (${why})`, cost, attempts: attempt };
      }
      o.log?.(`${o.role}: ${failure}; retrying in ${Math.ceil(wait / 1000)} s (attempt ${attempt + 1} of ${1 + retries}, reserved)`);
      await o.sleep(wait);
    }
  }
  // Unreachable: the loop returns on success and on its last failure.
  throw new Error(`internal: ${failure}`);
}
