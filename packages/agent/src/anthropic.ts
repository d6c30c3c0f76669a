/**
 * The Anthropic Messages API through the official SDK (`@anthropic-ai/sdk`). The SDK's own retries
 * are off: retries are the budgeted call's, reserved in the ledger. Prompts are sent stable-first
 * with a `cache_control` breakpoint on the last stable block, so the shared prefix is cached and read
 * back at the cache-read price; usage is read as the API reports it (uncached input, cache writes by
 * TTL, cache reads, output).
 */
import Anthropic from '@anthropic-ai/sdk';
import { ProviderError, retryAfterMs, type Provider, type ProviderCall, type ProviderResult } from './call.js';
import type { Usage } from './prices.js';

export interface AnthropicOptions {
  apiKey: string;
  /** A compatible gateway, or the loopback fake in tests. */
  baseURL?: string;
  /** Per-request time cap (a hung stream ends here). */
  timeoutMs?: number;
  /** Cache TTL of the stable prefix: 5 minutes (1.25× input to write) or 1 hour (2×). */
  cacheTtl?: '5m' | '1h';
}

type ApiUsage = Pick<Anthropic.Usage, 'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens'> & { cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number } | null };

/** The API's usage in the ledger's terms; cache writes without a TTL split count as 5-minute writes. */
export function anthropicUsage(u: ApiUsage): Usage {
  const split = u.cache_creation;
  const w1h = split?.ephemeral_1h_input_tokens ?? 0;
  const w5m = split ? (split.ephemeral_5m_input_tokens ?? 0) : (u.cache_creation_input_tokens ?? 0);
  return { input: u.input_tokens, output: u.output_tokens, cacheRead: u.cache_read_input_tokens ?? 0, cacheWrite5m: w5m, cacheWrite1h: w1h };
}

/** Errors by what to do about them: retry (429 rate limit, 529 overloaded, 5xx, connection), or stop. */
export function classify(e: unknown): ProviderError {
  if (e instanceof Anthropic.APIConnectionTimeoutError) return new ProviderError('retryable', 'timed out', undefined, undefined, true);
  if (e instanceof Anthropic.APIConnectionError) return new ProviderError('retryable', `connection failed: ${e.message}`, undefined, undefined, true);
  if (e instanceof Anthropic.APIError) {
    const status = e.status ?? 0;
    const type = (e.type ?? (e.error as { error?: { type?: string } } | undefined)?.error?.type) as string | undefined;
    const message = `${type ?? 'error'}: ${e.apiMessage ?? e.message}`.slice(0, 300);
    const wait = retryAfterMs(e.headers?.get?.('retry-after'));
    // Billing and auth do not heal by waiting: fail fast with the provider's words.
    if (status === 401 || status === 403 || status === 402 || type === 'billing_error' || type === 'authentication_error' || type === 'permission_error') return new ProviderError('fatal', message, status);
    if (status === 429 || status === 529 || type === 'overloaded_error' || type === 'rate_limit_error' || status >= 500) return new ProviderError('retryable', message, status, wait);
    return new ProviderError('fatal', message, status);
  }
  // A stream that ended early, a body that is not the API's: the request may have been billed.
  return new ProviderError('retryable', `unreadable response: ${(e as Error)?.message ?? String(e)}`.slice(0, 300), undefined, undefined, true);
}

export class AnthropicProvider implements Provider {
  readonly name = 'anthropic';
  private readonly client: Anthropic;
  constructor(private readonly o: AnthropicOptions) {
    this.client = new Anthropic({ apiKey: o.apiKey, ...(o.baseURL ? { baseURL: o.baseURL } : {}), maxRetries: 0, timeout: o.timeoutMs ?? 120_000 });
  }

  async call(c: ProviderCall): Promise<ProviderResult> {
    const ttl = this.o.cacheTtl ?? '5m';
    // The breakpoint goes on the last stable block: everything before the PR's own text is the cached prefix.
    const system = c.system.map((text, i) => ({ type: 'text' as const, text, ...(i === c.system.length - 1 ? { cache_control: { type: 'ephemeral' as const, ttl } } : {}) }));
    const body = { model: c.model, max_tokens: c.maxOutputTokens, system, messages: [{ role: 'user' as const, content: c.prompt }] };
    let message: Anthropic.Message;
    try {
      message = c.stream ? await this.client.messages.stream(body).finalMessage() : await this.client.messages.create(body);
    } catch (e) {
      throw classify(e);
    }
    if (!message || typeof message !== 'object' || !message.usage || typeof message.usage.input_tokens !== 'number') throw new ProviderError('retryable', 'unreadable response: no usage in the message', undefined, undefined, true);
    const text = (message.content ?? []).map((b) => (b.type === 'text' ? b.text : '')).join('');
    return { text, usage: anthropicUsage(message.usage as ApiUsage), model: message.model, stopReason: message.stop_reason ?? null };
  }
}
