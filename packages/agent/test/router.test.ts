import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePriceTable, pick, seedPickModel, type RouterConfig, type Task } from '../src/index.js';

const TABLE = parsePriceTable(readFileSync(path.resolve('prompts/prices.json'), 'utf8'));
const CFG: RouterConfig = { models: { small: 'claude-haiku-5-5', medium: 'claude-sonnet-5-5', large: 'claude-opus-5-5' }, contextTokens: { small: 200_000, medium: 200_000, large: 1_000_000 } };
const route = (t: Task, residual = 2.24) => pick(t, residual, CFG, TABLE);

describe('capability router', () => {
  test('cheapest capable first, by role; every decision says why', () => {
    const r = route({ role: 'tester', promptTokens: 30_000 });
    expect(r).toMatchObject({ ok: true, tier: 'small', model: 'claude-haiku-5-5', maxOutputTokens: 2_000, attempts: 3, escalated: false, downshifted: false });
    expect(r.rationale).toEqual(['tester starts at small', 'claude-haiku-5-5: worst case $0.0210 of $2.2400 left']);
    expect(route({ role: 'implementer', promptTokens: 30_000 })).toMatchObject({ ok: true, tier: 'medium' });
  });

  test('risk raises the floor of the judging roles only; failed checks escalate one tier each', () => {
    expect(route({ role: 'critic', promptTokens: 10_000, risk: 0.55 })).toMatchObject({ tier: 'medium', rationale: expect.arrayContaining(['risk 0.55 raises a judging role to medium']) });
    expect(route({ role: 'critic', promptTokens: 10_000, risk: 0.8 })).toMatchObject({ tier: 'large' });
    expect(route({ role: 'tester', promptTokens: 10_000, risk: 0.8 })).toMatchObject({ tier: 'small' });
    expect(route({ role: 'fixer', promptTokens: 10_000, failures: 1 })).toMatchObject({ tier: 'large', escalated: true, rationale: expect.arrayContaining(['1 failed check(s) escalate to large']) });
    expect(route({ role: 'tester', promptTokens: 10_000, failures: 5 })).toMatchObject({ tier: 'large', escalated: true });
  });

  test('short budget: downshifted with the reason, refused when even the smallest does not fit; never a pick that cannot be paid', () => {
    const r = route({ role: 'implementer', promptTokens: 60_000 }, 0.5);
    // Sonnet: 3 × (60k × $4 + 8k × $10) / 1M = $0.96 > $0.50 → Haiku: 3 × (60k × $0.2 + 8k × $0.5) / 1M = $0.048.
    expect(r).toMatchObject({ ok: true, tier: 'small', downshifted: true, worstCase: 0.048 });
    expect(r.rationale).toContain("medium's worst case $0.9600 is more than the $0.5000 left; small");
    const none = route({ role: 'implementer', promptTokens: 60_000 }, 0.01);
    expect(none).toMatchObject({ ok: false, reason: 'even small (claude-haiku-5-5) may cost $0.0480 for 3 attempt(s), more than the $0.0100 left' });
  });

  test('a prompt larger than a tier’s context window skips it, and is not downshifted back into it', () => {
    const r = route({ role: 'tester', promptTokens: 400_000 }, 100);
    expect(r).toMatchObject({ ok: true, tier: 'large', rationale: expect.arrayContaining(["a 400000-token prompt does not fit small's context window; medium"]) });
    expect(route({ role: 'tester', promptTokens: 400_000 }, 0.5)).toMatchObject({ ok: false, reason: expect.stringMatching(/^even large/) });
    expect(route({ role: 'tester', promptTokens: 2_000_000 })).toMatchObject({ ok: false, reason: "a 2000000-token prompt does not fit any tier's context window" });
  });

  test("the seed's pickModel, as the plan wrote it, on the same cases: where it differs, and why ours is the one a budget can trust", () => {
    // $0.05 left, 60k-token implementer: the seed says small — whose worst case ($0.048 for three attempts) fits; with
    // $0.04 left it still says small, and that call may cost more than is left. Ours refuses.
    expect(seedPickModel({ tokens: 60_000, risk: 0.2 }, 0.04)).toBe('small');
    expect(route({ role: 'implementer', promptTokens: 60_000 }, 0.04).ok).toBe(false);
    // A 30k-token tester step: the seed sends every prompt over 20k tokens to the large model; ours stays small.
    expect(seedPickModel({ tokens: 30_000, risk: 0.1 }, 2.24)).toBe('large');
    expect(route({ role: 'tester', promptTokens: 30_000, risk: 0.1 })).toMatchObject({ tier: 'small' });
    // Same decision where the seed's rule is right: a risky change's critic gets the large model.
    expect(seedPickModel({ tokens: 8_000, risk: 0.8 }, 2.24)).toBe('large');
    expect(route({ role: 'critic', promptTokens: 8_000, risk: 0.8 })).toMatchObject({ tier: 'large' });
  });
});
