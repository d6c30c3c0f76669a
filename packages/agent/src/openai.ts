/**
 * The OpenAI Responses API through the official SDK (`openai` 6.x: the 7.x line needs Node 22, and
 * this repository's test runner is Node 20; the actions run on Node 24 either way). SDK retries are
 * off (the budgeted call retries inside its reservation). The stable prompt blocks go first as
 * `instructions` and `prompt_cache_key` routes requests that share them to the same cache; usage is
 * read as the API reports it, cached input tokens apart.
 */
import OpenAI from 'openai';
import { ProviderError, retryAfterMs, type Provider, type ProviderCall, type ProviderResult } from './call.js';
import type { Usage } from './prices.js';

export interface OpenAIOptions {
  apiKey: string;
  baseURL?: string;
  timeoutMs?: number;
  /** Groups requests that share the stable prefix (e.g. the repository and prompt version). */
  promptCacheKey?: string;
}

/** `input_tokens` includes the cached ones: the ledger's `input` is the uncached part. */
export function openaiUsage(u: { input_tokens: number; output_tokens: number; input_tokens_details?: { cached_tokens?: number } | null }): Usage {
  const cached = u.input_tokens_details?.cached_tokens ?? 0;
  return { input: Math.max(0, u.input_tokens - cached), cacheRead: cached, output: u.output_tokens };
}

export function classifyOpenAI(e: unknown): ProviderError {
  if (e instanceof OpenAI.APIConnectionTimeoutError) return new ProviderError('retryable', 'timed out', undefined, undefined, true);
  if (e instanceof OpenAI.APIConnectionError) return new ProviderError('retryable', `connection failed: ${e.message}`, undefined, undefined, true);
  if (e instanceof OpenAI.APIError) {
    const status = e.status ?? 0;
    const code = e.code ?? e.type ?? 'error';
    const message = `${code}: ${(e.error as { message?: string } | undefined)?.message ?? e.message}`.slice(0, 300);
    const wait = retryAfterMs(e.headers?.get?.('retry-after'));
    // A 429 for an empty account is not a rate limit: waiting does not refill it.
    if (code === 'insufficient_quota' || status === 401 || status === 403) return new ProviderError('fatal', message, status);
    if (status === 429 || status >= 500) return new ProviderError('retryable', message, status, wait);
    return new ProviderError('fatal', message, status);
  }
  return new ProviderError('retryable', `unreadable response: ${(e as Error)?.message ?? String(e)}`.slice(0, 300), undefined, undefined, true);
}

export class OpenAIProvider implements Provider {
  readonly name = 'openai';
  private readonly client: OpenAI;
  constructor(private readonly o: OpenAIOptions) {
    this.client = new OpenAI({ apiKey: o.apiKey, ...(o.baseURL ? { baseURL: o.baseURL } : {}), maxRetries: 0, timeout: o.timeoutMs ?? 120_000 });
  }

  async call(c: ProviderCall): Promise<ProviderResult> {
    let r: OpenAI.Responses.Response;
    try {
      r = await this.client.responses.create({ model: c.model, instructions: c.system.join('\n\n'), input: c.prompt, max_output_tokens: c.maxOutputTokens, ...(this.o.promptCacheKey ? { prompt_cache_key: this.o.promptCacheKey } : {}) });
    } catch (e) {
      throw classifyOpenAI(e);
    }
    if (!r || typeof r !== 'object' || !r.usage || typeof r.usage.input_tokens !== 'number') throw new ProviderError('retryable', 'unreadable response: no usage', undefined, undefined, true);
    return { text: r.output_text ?? '', usage: openaiUsage(r.usage), model: r.model, stopReason: r.status ?? null };
  }
}
