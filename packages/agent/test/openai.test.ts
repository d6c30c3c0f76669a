import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { budgetedCall, Ledger, MemoryLedgerLog, OpenAIProvider, parsePriceTable } from '../src/index.js';
import { FakeOpenAI } from './fake-openai.js';

const TABLE = parsePriceTable(readFileSync(path.resolve('prompts/prices.json'), 'utf8'));
let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await FakeOpenAI.start();
});
afterAll(async () => {
  await fake?.stop();
});

function setup() {
  const ledger = new Ledger(new MemoryLedgerLog(), TABLE, { maxUsdPerPr: 2.24 }, 'run-1');
  const waits: number[] = [];
  const provider = new OpenAIProvider({ apiKey: 'sk-fake', baseURL: fake.url, promptCacheKey: 'acme/shop:critic.v1' });
  const call = () => budgetedCall({ ledger, prices: TABLE, provider, role: 'tester', promptTokens: 20_000, call: { model: 'gpt-5.4-mini', system: ['You are the Tester.', 'Repo map: …'], prompt: 'diff', maxOutputTokens: 1_000 }, sleep: async (ms) => void waits.push(ms) });
  return { ledger, waits, call };
}

describe('OpenAI Responses provider through the official SDK, against a loopback fake', () => {
  test('instructions first, prompt_cache_key sent; cached input tokens priced at the cached rate', async () => {
    const { call, ledger } = setup();
    fake.script({ response: { text: 'tests pass', input: 12_000, cached: 10_000, output: 200 } });
    const r = await call();
    expect(r).toMatchObject({ ok: true, result: { text: 'tests pass', model: 'gpt-5.4-mini', usage: { input: 2_000, cacheRead: 10_000, output: 200 } } });
    const sent = fake.requests[fake.requests.length - 1]!;
    expect(sent.body).toMatchObject({ model: 'gpt-5.4-mini', instructions: 'You are the Tester.\n\nRepo map: …', input: 'diff', max_output_tokens: 1_000, prompt_cache_key: 'acme/shop:critic.v1' });
    expect((await ledger.state()).spent).toBeCloseTo((2_000 * 0.75 + 10_000 * 0.075 + 200 * 4.5) / 1e6, 12);
  });

  test('a rate-limit 429 is retried after its retry-after; insufficient_quota (also a 429) fails fast', async () => {
    const { call, waits } = setup();
    fake.script({ error: { status: 429, code: 'rate_limit_exceeded', type: 'requests', message: 'Rate limit reached', headers: { 'retry-after': '3' } } }, { response: { text: 'ok', input: 10, output: 1 } });
    expect(await call()).toMatchObject({ ok: true, attempts: 2 });
    expect(waits).toEqual([3_000]);
    const before = fake.requests.length;
    fake.script({ error: { status: 429, code: 'insufficient_quota', type: 'insufficient_quota', message: 'You exceeded your current quota' } });
    expect(await call()).toMatchObject({ ok: false, attempts: 1, reason: 'openai 429 insufficient_quota: You exceeded your current quota (not retried)' });
    expect(fake.requests.length - before).toBe(1);
  });
});
