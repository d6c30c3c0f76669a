import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { seededRandom as rng } from '@maestro/core/random';
import { costOf, Ledger, MemoryLedgerLog, parsePriceTable, priceOf, promptTokenBound, stateOf, worstCaseOf, type Entry, type LedgerLog, type Limits, type PriceTable, type Usage } from '../src/index.js';

const TABLE_TEXT = readFileSync(path.resolve('prompts/prices.json'), 'utf8');
const TABLE = parsePriceTable(TABLE_TEXT);

describe('price table', () => {
  test('the shipped table parses; a cost is the sum of each kind of token at its own rate, cache reads and writes included', () => {
    const sonnet = priceOf(TABLE, 'claude-sonnet-5-5');
    // 10k uncached input, 30k cache read, 2k written for 1 h, 1k output: (10k·2 + 30k·0.2 + 2k·4 + 1k·10) / 1M.
    expect(costOf(sonnet, { input: 10_000, cacheRead: 30_000, cacheWrite1h: 2_000, output: 1_000 })).toBeCloseTo((20_000 + 6_000 + 8_000 + 10_000) / 1e6, 12);
    // Haiku 5.5 bills the whole request at its long-context rates above 100k prompt tokens.
    const haiku = priceOf(TABLE, 'claude-haiku-5-5');
    expect(costOf(haiku, { input: 50_000, cacheRead: 60_000, output: 1_000 })).toBeCloseTo((50_000 * 0.5 + 60_000 * 0.05 + 1_000 * 2.5) / 1e6, 12);
    expect(costOf(haiku, { input: 50_000, cacheRead: 40_000, output: 1_000 })).toBeCloseTo((50_000 * 0.1 + 40_000 * 0.01 + 1_000 * 0.5) / 1e6, 12);
    // OpenAI: cached input at the cached rate; a cache write the table has no price for is billed as input, never 0.
    expect(costOf(priceOf(TABLE, 'gpt-5.4-mini'), { input: 1_000, cacheRead: 9_000, cacheWrite5m: 500, output: 100 })).toBeCloseTo((1_000 * 0.75 + 9_000 * 0.075 + 500 * 0.75 + 100 * 4.5) / 1e6, 12);
  });

  test('an unknown model is refused, not priced at 0; a malformed table is a ConfigError at its line', () => {
    expect(() => priceOf(TABLE, 'gpt-9-ultra')).toThrow(/no price for model gpt-9-ultra: a model without a price is refused, not treated as free/);
    const bad = TABLE_TEXT.replace('"output": 10,', '"output": -10,');
    expect(() => parsePriceTable(bad)).toThrow(expect.objectContaining({ name: 'ConfigError', line: expect.any(Number) }));
    expect(() => parsePriceTable('{"version": 1, "currency": "USD", "unit": "per 1M tokens", "models": {"m": {"provider": "anthropic", "tier": "small", "input": 1, "output": 2, "read": "yesterday", "source": "x"}}}')).toThrow(/a date like 2026-11-24/);
    expect(() => parsePriceTable('{"version": 1, "models": {}')).toThrow(expect.objectContaining({ name: 'ConfigError' }));
  });

  test('the worst case of an attempt bounds every usage within its prompt and output bounds', () => {
    const next = rng(7);
    for (const [name, p] of Object.entries(TABLE.models)) {
      for (let i = 0; i < 2000; i++) {
        const prompt = Math.floor(next() * 300_000);
        const maxOut = 1 + Math.floor(next() * 32_000);
        // Split the prompt any way between plain input, cache reads and both kinds of writes.
        const cuts = [next(), next(), next()].sort();
        const u: Usage = { input: Math.floor(prompt * cuts[0]!), cacheRead: Math.floor(prompt * (cuts[1]! - cuts[0]!)), cacheWrite5m: Math.floor(prompt * (cuts[2]! - cuts[1]!)), cacheWrite1h: 0, output: Math.floor(next() * maxOut) };
        u.cacheWrite1h = prompt - u.input - u.cacheRead! - u.cacheWrite5m!;
        if (costOf(p, u) > worstCaseOf(p, prompt, maxOut) + 1e-12) throw new Error(`${name}: ${JSON.stringify(u)} costs more than the worst case of ${prompt} + ${maxOut}`);
      }
    }
  });

  test('without a count-tokens answer, the prompt bound is its UTF-8 bytes (one BPE token per byte at most)', () => {
    expect(promptTokenBound(Buffer.byteLength('héllo wörld'))).toBe(13);
    expect(promptTokenBound(0)).toBe(1);
  });
});

const plan = (role: string, model: string, promptTokens: number, maxOutputTokens: number, attempts = 1) => ({ role, model, promptTokens, maxOutputTokens, attempts });

describe('ledger', () => {
  test('a budget of 0 makes no call; a call that fits is reserved at its worst case and settled at its cost', async () => {
    const log = new MemoryLedgerLog();
    const none = new Ledger(log, TABLE, { maxUsdPerPr: 0 }, 'run-1');
    const refused = await none.reserve(plan('planner', 'claude-haiku-5-5', 10, 10));
    expect(refused).toMatchObject({ ok: false, residual: 0, reason: expect.stringMatching(/is more than the \$0\.0000 left/) });

    const ledger = new Ledger(new MemoryLedgerLog(), TABLE, { maxUsdPerPr: 2.24 }, 'run-1');
    const d = await ledger.reserve(plan('implementer', 'claude-sonnet-5-5', 60_000, 4_000, 2));
    // Two attempts × (60k prompt tokens at the 1-hour write rate $4 + 4k output at $10) = $0.56.
    expect(d).toMatchObject({ ok: true, usd: 0.56 });
    expect((await ledger.state()).held).toBeCloseTo(0.56, 12);
    const cost = await ledger.settle((d as { id: string }).id, 'claude-sonnet-5-5', [{ input: 18_000, cacheRead: 42_000, output: 3_100 }]);
    expect(cost).toBeCloseTo((18_000 * 2 + 42_000 * 0.2 + 3_100 * 10) / 1e6, 12);
    const s = await ledger.state();
    expect(s.held).toBeCloseTo(0, 12);
    expect(s.spent).toBeCloseTo(cost, 12);
    expect(s.overruns).toEqual([]);
  });

  test('per-run and per-role caps, and max_prompt_tokens, each refuse with their reason; the refusal is in the ledger', async () => {
    const log = new MemoryLedgerLog();
    const limits: Limits = { maxUsdPerPr: 10, maxUsdPerRun: 1, maxUsdPerRole: { critic: 0.05 }, maxPromptTokens: 100_000 };
    const ledger = new Ledger(log, TABLE, limits, 'run-7');
    expect(await ledger.reserve(plan('planner', 'claude-sonnet-5-5', 200_000, 1_000))).toMatchObject({ ok: false, reason: 'the prompt may be 200000 tokens, above max_prompt_tokens 100000' });
    expect(await ledger.reserve(plan('critic', 'claude-sonnet-5-5', 20_000, 1_000))).toMatchObject({ ok: false, residual: 0.05 });
    expect((await ledger.reserve(plan('critic', 'claude-haiku-5-5', 20_000, 1_000))).ok).toBe(true);
    expect((await ledger.reserve(plan('implementer', 'claude-opus-5-5', 100_000, 8_000))).ok).toBe(true);
    // $0.0045 + $0.96 of this run's $1 are held; a $0.10 call does not fit the run although the PR has $9 left.
    const next = await ledger.reserve(plan('reviewer', 'claude-sonnet-5-5', 20_000, 2_000));
    expect(next).toMatchObject({ ok: false, reason: expect.stringMatching(/worst case \$0\.1000 .* is more than the \$0\.0355 left/) });
    // A later run (a re-run) has its own share of what the PR has left.
    expect((await new Ledger(log, TABLE, limits, 'run-8').reserve(plan('reviewer', 'claude-sonnet-5-5', 20_000, 2_000))).ok).toBe(true);
    expect(log.entries.filter((e) => e.kind === 'refuse').map((e) => (e as { role: string }).role)).toEqual(['planner', 'critic', 'reviewer']);
  });

  test('usage beyond a reservation (a bound that did not hold) is recorded as an overrun and stops the caller', async () => {
    const ledger = new Ledger(new MemoryLedgerLog(), TABLE, { maxUsdPerPr: 1 }, 'run-1');
    const d = await ledger.reserve(plan('tester', 'gpt-5.4-nano', 1_000, 100));
    await expect(ledger.settle((d as { id: string }).id, 'gpt-5.4-nano', [{ input: 1_000, output: 100 }, { input: 1_000, output: 100 }])).rejects.toThrow(/a bound \(prompt tokens, output tokens or attempts\) did not hold/);
    expect((await ledger.state()).overruns).toHaveLength(1);
  });

  test('two jobs of one PR cannot both spend the last dollar: the second decision is made on the first one’s reservation', async () => {
    const log = new MemoryLedgerLog();
    // Both jobs read the log before either writes (the race), then write.
    let reads = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((r) => (release = r));
    const racing: LedgerLog = {
      read: async () => {
        const e = await log.read();
        if (++reads === 2) release();
        if (reads <= 2) await bothRead;
        return e;
      },
      append: (i, e) => log.append(i, e),
    };
    const limits = { maxUsdPerPr: 1 };
    const a = new Ledger(racing, TABLE, limits, 'job-a');
    const b = new Ledger(racing, TABLE, limits, 'job-b');
    const call = plan('implementer', 'claude-sonnet-5-5', 50_000, 5_000); // worst case $0.25... ×3 attempts = $0.75
    const [ra, rb] = await Promise.all([a.reserve({ ...call, attempts: 3 }), b.reserve({ ...call, attempts: 3 })]);
    expect([ra.ok, rb.ok].sort()).toEqual([false, true]);
    expect(reads).toBe(3); // the loser read again after its write at the taken index failed
    expect(stateOf(log.entries).held).toBeCloseTo(0.75, 12);
  });
});

describe('property: 10,000 randomized agent runs never spend over a cap', () => {
  test('adversarial usage within the bounds, retries, up to four concurrent jobs racing on the log', async () => {
    const next = rng(20261202);
    const models = Object.keys(TABLE.models);
    const roles = ['planner', 'implementer', 'critic', 'fixer', 'tester', 'reviewer'];
    const EPS = 1e-9;
    let reserved = 0;
    let refused = 0;
    let lostRaces = 0;
    for (let run = 0; run < 10_000; run++) {
      const limits: Limits = {
        maxUsdPerPr: next() < 0.05 ? 0 : next() * 3,
        ...(next() < 0.5 ? { maxUsdPerRun: next() * 2 } : {}),
        ...(next() < 0.5 ? { maxUsdPerRole: { critic: next() * 0.3, implementer: next() * 1.5 } } : {}),
      };
      const base = new MemoryLedgerLog();
      const caps = (entries: readonly Entry[]) => {
        const s = stateOf(entries);
        // At every moment, what is spent or held stays within every cap (plain checks: this runs ~100k times).
        const over = [s.spent + s.held > limits.maxUsdPerPr + EPS && 'PR', ...[...s.byRun.values()].map((v) => limits.maxUsdPerRun !== undefined && v > limits.maxUsdPerRun + EPS && 'run'), ...Object.entries(limits.maxUsdPerRole ?? {}).map(([role, cap]) => (s.byRole.get(role) ?? 0) > cap + EPS && `role ${role}`), s.overruns.length > 0 && 'overrun'].filter(Boolean);
        if (over.length) throw new Error(`run ${run}: over the cap (${over.join(', ')}) with ${JSON.stringify(limits)}`);
      };
      // A log that hands control to other jobs at random points between reading and writing.
      const yieldRandomly = async () => {
        for (let k = Math.floor(next() * 3); k > 0; k--) await Promise.resolve();
      };
      const log: LedgerLog = {
        read: async () => {
          const e = await base.read();
          await yieldRandomly();
          return e;
        },
        append: async (i, e) => {
          await yieldRandomly();
          const ok = await base.append(i, e);
          if (ok) caps(base.entries);
          else lostRaces++;
          return ok;
        },
      };
      const jobs = 1 + Math.floor(next() * 4);
      await Promise.all(
        Array.from({ length: jobs }, async (_, j) => {
          const ledger = new Ledger(log, TABLE, limits, `run-${j % 2}`);
          const calls = 1 + Math.floor(next() * 6);
          for (let c = 0; c < calls; c++) {
            const model = models[Math.floor(next() * models.length)]!;
            const p = { role: roles[Math.floor(next() * roles.length)]!, model, promptTokens: Math.floor(next() * 150_000), maxOutputTokens: 1 + Math.floor(next() * 16_000), attempts: 1 + Math.floor(next() * 4) };
            const d = await ledger.reserve(p);
            if (!d.ok) {
              refused++;
              continue;
            }
            reserved++;
            // The adversary: as many attempts as reserved, each billing the whole prompt at the dearest
            // cache rate or split at random, and every output token allowed.
            const used = 1 + Math.floor(next() * p.attempts);
            const usage: Usage[] = Array.from({ length: used }, () => {
              const dear = next() < 0.5;
              const w = Math.floor(next() * p.promptTokens);
              return dear ? { input: 0, cacheWrite1h: p.promptTokens, output: p.maxOutputTokens } : { input: p.promptTokens - w, cacheRead: w, output: Math.floor(next() * (p.maxOutputTokens + 1)) };
            });
            await ledger.settle(d.id, model, usage);
          }
        }),
      );
      const s = stateOf(base.entries);
      expect(s.held).toBeCloseTo(0, 9);
      expect(s.spent).toBeLessThanOrEqual(limits.maxUsdPerPr + EPS);
    }
    // Both outcomes happened many times: the property was exercised, not vacuous.
    expect(reserved).toBeGreaterThan(5_000);
    expect(refused).toBeGreaterThan(5_000);
    // Jobs really raced: many writes found their index taken and were decided again.
    expect(lostRaces).toBeGreaterThan(1_000);
  });
});
