// agent-step's cost engine on a replay corpus: $/PR, budget refusals and overruns, the token-weighted
// prompt-cache read ratio and response-cache hits on a re-run, for three strategies on the same
// scripted PRs: always the large model without caching, the seed's pickModel, and the router.
//
// The corpus is SCRIPTED, not recorded: 200 PR tasks drawn with a seeded generator (diff sizes
// log-uniform from 500 to 200,000 tokens, a risk per PR, output sizes per role, and for each check —
// the Critic and the Tester — whether a small, medium or large model's attempt passes, with pass rates
// that fall with risk and rise with the tier). No model is called: each call's usage is what the
// provider would report for that prompt layout (Anthropic's cache accounting), priced with
// prompts/prices.json through the real Ledger (reserve, settle) and router. What the numbers say is
// how the engine spends on this script, not how good a model's review is.
//   node bench/agent/run.mjs [--prs 200]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildLib } from '../build-lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const { values } = parseArgs({ options: { prs: { type: 'string', default: '200' } } });
const { Ledger, MemoryLedgerLog, MemoryStore, ResponseCache, parsePriceTable, pick, seedPickModel, seededRandom } = await buildLib(here);
const prices = parsePriceTable(readFileSync(path.join(root, 'prompts/prices.json'), 'utf8'));
const CAP = 2.24; // the seed's $/PR goal, as the cap
const MODELS = { small: 'claude-haiku-5-5', medium: 'claude-sonnet-5-5', large: 'claude-opus-5-5' };
const CONTEXT = { small: 200_000, medium: 200_000, large: 1_000_000 };
const STABLE = 12_000; // system + role prompt + policy + repo map: the same for every role of a PR
const ROLE_PROMPT = 800;

// ---- the scripted corpus ----
const next = seededRandom(424242);
const passRate = { small: (r) => 0.92 - 0.55 * r, medium: (r) => 0.96 - 0.3 * r, large: (r) => 0.985 - 0.12 * r };
const corpus = Array.from({ length: Number(values.prs) }, (_, i) => {
  const diff = Math.round(500 * Math.exp(next() * Math.log(200_000 / 500)));
  const risk = Math.min(0.99, Math.max(0.01, next() ** 1.6));
  const out = { planner: 600 + Math.round(next() * 900), implementer: 1_500 + Math.round(next() * 5_000), critic: 400 + Math.round(next() * 1_200), fixer: 800 + Math.round(next() * 2_500), tester: 300 + Math.round(next() * 900), reviewer: 400 + Math.round(next() * 800) };
  // Up to three rounds per check; each round's pass/fail for each tier is fixed in the script.
  const checks = Object.fromEntries(['critic', 'tester'].map((role) => [role, Array.from({ length: 3 }, () => Object.fromEntries(['small', 'medium', 'large'].map((t) => [t, next() < passRate[t](risk)])))]));
  return { id: `pr-${i + 1}`, diff, risk, out, checks };
});

/** The usage Anthropic would report: the stable prefix written once per PR, then read; the diff likewise when cached; output as scripted. */
function usageFor(promptTokens, diff, output, cacheOn, state) {
  if (!cacheOn) return { input: promptTokens, output };
  const prefix = STABLE + diff; // two breakpoints: after the stable part, after the diff
  const read = state.written ? prefix : 0;
  const write = state.written ? 0 : prefix;
  state.written = true;
  return { input: promptTokens - read - write, cacheRead: read, cacheWrite5m: write, output };
}

function runPr(task, strategy, ledgerLog, responses) {
  const ledger = new Ledger(ledgerLog, prices, { maxUsdPerPr: CAP }, 'run-1');
  const cacheState = { written: false };
  const cacheOn = strategy !== 'always-large';
  const tokens = { input: 0, cacheRead: 0, cacheWrite: 0 };
  let spent = 0, refused = 0, failures = { critic: 0, tester: 0 }, resolved = true;
  const calls = [];
  const call = async (role, extraOut = 0) => {
    const promptTokens = STABLE + ROLE_PROMPT + task.diff + extraOut;
    const s = await ledger.state();
    const residual = CAP - s.spent - s.held;
    let tier, model, maxOutputTokens, attempts = 1;
    if (strategy === 'always-large') ({ tier, model, maxOutputTokens } = { tier: 'large', model: MODELS.large, maxOutputTokens: 8_000 });
    else if (strategy === 'seed') {
      tier = seedPickModel({ tokens: promptTokens, risk: task.risk }, residual);
      model = MODELS[tier];
      maxOutputTokens = 8_000;
    } else {
      const r = pick({ role, promptTokens, risk: task.risk, failures: failures[role] ?? 0 }, residual, { models: MODELS, contextTokens: CONTEXT, attempts: 1 }, prices);
      if (!r.ok) return { refused: true };
      ({ tier, model, maxOutputTokens, attempts } = r);
    }
    // A re-run of the same step on the same inputs: answered from the response cache, no call.
    const parts = { model, promptVersion: `${role}@v1`, revision: task.id, system: ['stable prefix'], prompt: `${task.id}/${role}/${calls.length}` };
    const hit = responses && (await responses.get(parts));
    if (hit) {
      calls.push(`${role}:${tier}`);
      return { tier };
    }
    // The ledger decides for every strategy: a call that does not fit is not made.
    const d = await ledger.reserve({ role, model, promptTokens, maxOutputTokens, attempts });
    if (!d.ok) return { refused: true };
    const usage = usageFor(promptTokens, task.diff, Math.min(maxOutputTokens, task.out[role]), cacheOn, cacheState);
    tokens.input += usage.input;
    tokens.cacheRead += usage.cacheRead ?? 0;
    tokens.cacheWrite += usage.cacheWrite5m ?? 0;
    spent += await ledger.settle(d.id, model, [usage]);
    await responses?.set(parts, { text: '', usage, model, stopReason: 'end_turn' });
    calls.push(`${role}:${tier}`);
    return { tier };
  };
  return (async () => {
    for (const role of ['planner', 'implementer']) if ((await call(role)).refused) refused++;
    for (const role of ['critic', 'tester']) {
      let passed = false;
      for (let round = 0; round < 3 && !passed; round++) {
        const r = await call(role);
        if (r.refused) {
          refused++;
          break;
        }
        passed = task.checks[role][round][r.tier];
        if (!passed) {
          failures[role]++;
          if ((await call('fixer')).refused) refused++;
        }
      }
      if (!passed) resolved = false;
    }
    if ((await call('reviewer')).refused) refused++;
    const s = await ledger.state();
    return { spent, refused, resolved, overruns: s.overruns.length, over: s.spent > CAP + 1e-9, tokens, calls };
  })();
}

const strategies = ['always-large', 'seed', 'router'];
const results = {};
for (const strategy of strategies) {
  const per = [];
  for (const task of corpus) per.push(await runPr(task, strategy, new MemoryLedgerLog()));
  const tok = per.reduce((a, r) => ({ input: a.input + r.tokens.input, cacheRead: a.cacheRead + r.tokens.cacheRead, cacheWrite: a.cacheWrite + r.tokens.cacheWrite }), { input: 0, cacheRead: 0, cacheWrite: 0 });
  const usd = per.map((r) => r.spent).sort((a, b) => a - b);
  results[strategy] = {
    meanUsdPerPr: +(usd.reduce((a, b) => a + b, 0) / usd.length).toFixed(4),
    medianUsdPerPr: +usd[Math.floor(usd.length / 2)].toFixed(4),
    maxUsdPerPr: +usd[usd.length - 1].toFixed(4),
    prsOverCap: per.filter((r) => r.over).length,
    overruns: per.reduce((a, r) => a + r.overruns, 0),
    refusedCalls: per.reduce((a, r) => a + r.refused, 0),
    resolved: per.filter((r) => r.resolved).length,
    cacheReadRatio: +(tok.cacheRead / Math.max(1, tok.input + tok.cacheRead + tok.cacheWrite)).toFixed(3),
  };
}
// Response cache on a re-run: the router's run again on the same inputs (a re-run of the workflow).
const responses = new ResponseCache(new MemoryStore(), { now: () => 0 });
let firstRunUsd = 0, rerunUsd = 0;
for (const task of corpus) firstRunUsd += (await runPr(task, 'router', new MemoryLedgerLog(), responses)).spent;
const afterFirst = { ...responses.stats };
for (const task of corpus) rerunUsd += (await runPr(task, 'router', new MemoryLedgerLog(), responses)).spent;
const rerun = { hits: responses.stats.hits - afterFirst.hits, misses: responses.stats.misses - afterFirst.misses, falseHits: responses.stats.falseHits, usdFirst: +firstRunUsd.toFixed(4), usdRerun: +rerunUsd.toFixed(4) };
const out = { date: new Date().toISOString(), prs: corpus.length, cap: CAP, models: MODELS, results, rerun, note: 'scripted corpus; see the header of bench/agent/run.mjs' };
writeFileSync(path.join(here, 'results.json'), JSON.stringify(out, null, 2) + '\n');
const lines = ['| strategy | mean $/PR | median | max | PRs over the cap | overruns | refused calls | PRs whose checks passed | token-weighted prompt-cache reads |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
for (const [s, r] of Object.entries(results)) lines.push(`| ${s} | ${r.meanUsdPerPr} | ${r.medianUsdPerPr} | ${r.maxUsdPerPr} | ${r.prsOverCap} | ${r.overruns} | ${r.refusedCalls} | ${r.resolved}/${corpus.length} | ${(r.cacheReadRatio * 100).toFixed(1)} % |`);
writeFileSync(path.join(here, 'results.md'), lines.join('\n') + '\n');
lines.push('', `Re-run of the router's 200 PRs on the same inputs: ${rerun.hits} response-cache hits, ${rerun.misses} misses, ${rerun.falseHits} false hits; $${rerun.usdFirst} the first time, $${rerun.usdRerun} the second.`);
writeFileSync(path.join(here, 'results.md'), lines.join('\n') + '\n');
console.log(lines.join('\n'));
