import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AnthropicProvider, budgetedCall, costOf, Ledger, MemoryLedgerLog, parsePriceTable, priceOf, worstCaseOf, type ProviderCall } from '../src/index.js';
import { FakeAnthropic } from './fake-anthropic.js';

const TABLE = parsePriceTable(readFileSync(path.resolve('prompts/prices.json'), 'utf8'));
const SONNET = 'claude-sonnet-5-5';
let fake: FakeAnthropic;

beforeAll(async () => {
  fake = await FakeAnthropic.start();
});
afterAll(async () => {
  await fake?.stop();
});

/** A run's wiring: the real SDK against the loopback fake, a fresh ledger, waits recorded instead of slept. */
function setup(maxUsdPerPr = 2.24, timeoutMs = 30_000) {
  const log = new MemoryLedgerLog();
  const ledger = new Ledger(log, TABLE, { maxUsdPerPr }, 'run-1');
  const waits: number[] = [];
  const lines: string[] = [];
  const provider = new AnthropicProvider({ apiKey: 'sk-ant-fake', baseURL: fake.url, timeoutMs });
  const call = (c: Partial<ProviderCall> = {}) =>
    budgetedCall({
      ledger, prices: TABLE, provider, role: 'critic', promptTokens: 50_000,
      call: { model: SONNET, system: ['You are the Critic.', 'Policy: …', 'Repo map: …'], prompt: 'diff --git a/x b/x', maxOutputTokens: 2_000, ...c },
      sleep: async (ms) => void waits.push(ms), log: (l) => lines.push(l),
    });
  return { log, ledger, waits, lines, call };
}

describe('Anthropic provider through the official SDK, against a loopback fake', () => {
  test('a call sends the prompt stable-first with a cache breakpoint, reads usage with cache tokens, and settles at its exact cost', async () => {
    const { call, ledger } = setup();
    const before = fake.requests.length;
    fake.script({ message: { text: 'LGTM', usage: { input_tokens: 1_200, output_tokens: 350, cache_read_input_tokens: 40_000, cache_creation_input_tokens: 2_000, cache_creation: { ephemeral_5m_input_tokens: 2_000, ephemeral_1h_input_tokens: 0 } } } });
    const r = await call();
    expect(r).toMatchObject({ ok: true, attempts: 1, result: { text: 'LGTM', model: SONNET, stopReason: 'end_turn', usage: { input: 1_200, output: 350, cacheRead: 40_000, cacheWrite5m: 2_000, cacheWrite1h: 0 } } });
    const sent = fake.requests[before]!;
    // SDK 1.x sends the key as a bearer token.
    expect(sent.headers['authorization']).toBe('Bearer sk-ant-fake');
    expect(sent.body).toMatchObject({ model: SONNET, max_tokens: 2_000, messages: [{ role: 'user', content: 'diff --git a/x b/x' }] });
    const system = sent.body['system'] as Array<Record<string, unknown>>;
    expect(system.map((b) => b['cache_control'] ?? null)).toEqual([null, null, { type: 'ephemeral', ttl: '5m' }]);
    const expected = (1_200 * 2 + 350 * 10 + 40_000 * 0.2 + 2_000 * 2.5) / 1e6;
    expect((r as { cost: number }).cost).toBeCloseTo(expected, 12);
    const s = await ledger.state();
    expect(s.spent).toBeCloseTo(expected, 12);
    expect(s.held).toBeCloseTo(0, 12);
  });

  test('streaming (SSE): the text assembled from deltas, usage from message_start and message_delta', async () => {
    const { call } = setup();
    fake.script({ message: { text: 'Two findings: the loop is off by one; the test does not cover it.', usage: { input_tokens: 900, output_tokens: 57, cache_read_input_tokens: 30_000 } } });
    const r = await call({ stream: true });
    expect(r).toMatchObject({ ok: true, result: { text: 'Two findings: the loop is off by one; the test does not cover it.', usage: { input: 900, output: 57, cacheRead: 30_000 } } });
    expect(fake.requests[fake.requests.length - 1]!.body['stream']).toBe(true);
  });

  test('429 with retry-after and 529 overloaded are retried within the reservation, waiting on the injected clock; failed attempts cost nothing', async () => {
    const { call, waits, ledger } = setup();
    fake.script(
      { error: { status: 429, type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit', headers: { 'retry-after': '7' } } },
      { error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } },
      { message: { text: 'ok', usage: { input_tokens: 100, output_tokens: 10 } } },
    );
    const r = await call();
    expect(r).toMatchObject({ ok: true, attempts: 3 });
    expect(waits).toEqual([7_000, 2_000]);
    expect((await ledger.state()).spent).toBeCloseTo((100 * 2 + 10 * 10) / 1e6, 12);
  });

  test('a retry-after beyond the wait cap, and an overload storm, end the call with the reason; the reservation is released', async () => {
    const { call, ledger, lines } = setup();
    fake.script({ error: { status: 429, type: 'rate_limit_error', message: 'daily limit', headers: { 'retry-after': '86400' } } });
    const far = await call();
    expect(far).toMatchObject({ ok: false, attempts: 1, reason: expect.stringMatching(/rate_limit_error: daily limit \(retry-after 86400 s is beyond the 60 s cap\)/) });
    fake.script(...Array.from({ length: 3 }, () => ({ error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } })));
    const storm = await call();
    expect(storm).toMatchObject({ ok: false, attempts: 3, reason: expect.stringMatching(/gave up after 3 attempt\(s\)/) });
    const s = await ledger.state();
    expect(s.held).toBeCloseTo(0, 12);
    expect(s.spent).toBe(0);
    expect(lines.filter((l) => l.includes('retrying'))).toHaveLength(2);
  });

  test('auth and billing fail fast, once, with the provider’s words', async () => {
    const { call } = setup();
    const before = fake.requests.length;
    fake.script({ error: { status: 401, type: 'authentication_error', message: 'invalid x-api-key' } });
    expect(await call()).toMatchObject({ ok: false, attempts: 1, reason: 'anthropic 401 authentication_error: invalid x-api-key (not retried)' });
    fake.script({ error: { status: 402, type: 'billing_error', message: 'Your credit balance is too low' } });
    expect(await call()).toMatchObject({ ok: false, attempts: 1, reason: expect.stringMatching(/billing_error: Your credit balance is too low \(not retried\)/) });
    expect(fake.requests.length - before).toBe(2);
  });

  test('a silent model switch is detected and logged, and billed at the price of what answered', async () => {
    const { call, lines, ledger } = setup();
    fake.script({ message: { text: 'ok', model: 'claude-haiku-5-5', usage: { input_tokens: 1_000, output_tokens: 100 } } });
    const r = await call();
    expect(r).toMatchObject({ ok: true, result: { model: 'claude-haiku-5-5' } });
    expect(lines).toContain(`critic: asked ${SONNET}, anthropic answered with claude-haiku-5-5`);
    expect((await ledger.state()).spent).toBeCloseTo(costOf(priceOf(TABLE, 'claude-haiku-5-5'), { input: 1_000, output: 100 }), 12);
    // A dated snapshot of the model asked for is the same model.
    fake.script({ message: { text: 'ok', model: `${SONNET}-20261001`, usage: { input_tokens: 1, output_tokens: 1 } } });
    await call();
    expect(lines.filter((l) => l.includes('answered with'))).toHaveLength(1);
  });

  test('no budget, no request: a refused call never reaches the provider', async () => {
    const { call } = setup(0.01);
    const before = fake.requests.length;
    expect(await call()).toMatchObject({ ok: false, attempts: 0, reason: expect.stringMatching(/is more than the \$0\.0100 left/) });
    expect(fake.requests.length).toBe(before);
  });

  test('a cut stream, garbage and a hung stream: retried, and each attempt whose usage never came back is counted at its worst case', async () => {
    const { call, ledger } = setup(2.24, 300);
    fake.script({ cutStream: true }, { garbage: '<html>502 Bad Gateway</html>' }, { hang: true });
    const r = await call({ stream: true });
    expect(r).toMatchObject({ ok: false, attempts: 3 });
    const worst = worstCaseOf(priceOf(TABLE, SONNET), 50_000, 2_000);
    const s = await ledger.state();
    // Nothing is lost: three attempts that may have been billed count as three worst cases, exactly the reservation.
    expect(s.spent).toBeCloseTo(3 * worst, 12);
    expect(s.overruns).toEqual([]);
  });
});
