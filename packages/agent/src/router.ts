/**
 * The capability router: which model a step gets, and why.
 *
 * Cheapest capable first: each role starts at a tier (configurable), a risky change raises the
 * floor of the roles that judge it, a failed check (the Critic or the Tester rejected the last
 * attempt) escalates one tier per failure, and a prompt larger than a tier's context window skips
 * that tier. Then the budget: the pick is downshifted while its worst case (every reserved attempt
 * at the dearest rates) does not fit what the ledger has left, and refused when no tier fits. Every
 * decision carries its rationale, for the log, the job summary and the ledger.
 *
 * The seed's `pickModel` ("< $0.10 left → small; risk > 0.7 or > 20k tokens → large; risk > 0.4 →
 * medium") differs on purpose: it can pick a model whose call does not fit what is left (small is
 * not free), sends every prompt over 20k tokens to the large model whatever the role, and never
 * escalates after a failure. `seedPickModel` is kept verbatim for comparison.
 */
import { priceOf, worstCaseOf, type PriceTable } from './prices.js';

export type Tier = 'small' | 'medium' | 'large';
export const TIERS: readonly Tier[] = ['small', 'medium', 'large'];
export type Role = 'planner' | 'implementer' | 'critic' | 'fixer' | 'tester' | 'reviewer';

export interface RouterConfig {
  /** The model of each tier (one provider, or mixed). */
  models: Record<Tier, string>;
  /** Context window of each tier's model, in tokens (a larger prompt skips the tier). */
  contextTokens?: Partial<Record<Tier, number>>;
  /** Starting tier per role (default below). */
  start?: Partial<Record<Role, Tier>>;
  /** max_tokens per role (default below). */
  maxOutputTokens?: Partial<Record<Role, number>>;
  /** Attempts reserved per call (1 + retries; default 3). */
  attempts?: number;
}

export const DEFAULT_START: Record<Role, Tier> = { planner: 'medium', implementer: 'medium', critic: 'small', fixer: 'medium', tester: 'small', reviewer: 'medium' };
export const DEFAULT_MAX_OUTPUT: Record<Role, number> = { planner: 2_000, implementer: 8_000, critic: 2_000, fixer: 4_000, tester: 2_000, reviewer: 2_000 };
/** Roles whose judgement a risky change should not get from the smallest model. */
const JUDGES: ReadonlySet<Role> = new Set(['critic', 'reviewer', 'planner']);

export interface Task {
  role: Role;
  /** Upper bound of the prompt's tokens. */
  promptTokens: number;
  /** risk-score's probability for the change, when known. */
  risk?: number;
  /** Checks this role's previous attempts failed (Critic/Tester rejections). */
  failures?: number;
}

export type Route =
  | { ok: true; tier: Tier; model: string; maxOutputTokens: number; attempts: number; worstCase: number; escalated: boolean; downshifted: boolean; rationale: string[] }
  | { ok: false; rationale: string[]; reason: string };

const rank = (t: Tier) => TIERS.indexOf(t);

export function pick(task: Task, residualUsd: number, cfg: RouterConfig, prices: PriceTable): Route {
  const why: string[] = [];
  let tier = cfg.start?.[task.role] ?? DEFAULT_START[task.role];
  why.push(`${task.role} starts at ${tier}`);
  if (task.risk !== undefined && JUDGES.has(task.role)) {
    const floor: Tier | undefined = task.risk > 0.7 ? 'large' : task.risk > 0.4 ? 'medium' : undefined;
    if (floor && rank(floor) > rank(tier)) {
      tier = floor;
      why.push(`risk ${task.risk.toFixed(2)} raises a judging role to ${floor}`);
    }
  }
  const failures = Math.max(0, Math.floor(task.failures ?? 0));
  const escalatedFrom = tier;
  if (failures) {
    tier = TIERS[Math.min(TIERS.length - 1, rank(tier) + failures)]!;
    why.push(tier === escalatedFrom ? `${failures} failed check(s), already at ${tier}` : `${failures} failed check(s) escalate to ${tier}`);
  }
  const escalated = rank(tier) > rank(escalatedFrom);
  // A tier whose context window cannot take the prompt is skipped upward.
  const fits = (t: Tier) => (cfg.contextTokens?.[t] ?? Infinity) >= task.promptTokens + (cfg.maxOutputTokens?.[task.role] ?? DEFAULT_MAX_OUTPUT[task.role]);
  while (!fits(tier) && rank(tier) < TIERS.length - 1) {
    const next = TIERS[rank(tier) + 1]!;
    why.push(`a ${task.promptTokens}-token prompt does not fit ${tier}'s context window; ${next}`);
    tier = next;
  }
  if (!fits(tier)) return { ok: false, rationale: why, reason: `a ${task.promptTokens}-token prompt does not fit any tier's context window` };
  const wanted = tier;
  const maxOutputTokens = cfg.maxOutputTokens?.[task.role] ?? DEFAULT_MAX_OUTPUT[task.role];
  const attempts = cfg.attempts ?? 3;
  const cost = (t: Tier) => attempts * worstCaseOf(priceOf(prices, cfg.models[t]), task.promptTokens, maxOutputTokens);
  // Downshift while the worst case does not fit the residual budget; never below a tier whose window is too small.
  while (cost(tier) > residualUsd && rank(tier) > 0 && fits(TIERS[rank(tier) - 1]!)) {
    const lower = TIERS[rank(tier) - 1]!;
    why.push(`${tier}'s worst case $${cost(tier).toFixed(4)} is more than the $${residualUsd.toFixed(4)} left; ${lower}`);
    tier = lower;
  }
  if (cost(tier) > residualUsd) {
    return { ok: false, rationale: why, reason: `even ${tier} (${cfg.models[tier]}) may cost $${cost(tier).toFixed(4)} for ${attempts} attempt(s), more than the $${residualUsd.toFixed(4)} left` };
  }
  why.push(`${cfg.models[tier]}: worst case $${cost(tier).toFixed(4)} of $${residualUsd.toFixed(4)} left`);
  return { ok: true, tier, model: cfg.models[tier], maxOutputTokens, attempts, worstCase: cost(tier), escalated, downshifted: rank(tier) < rank(wanted), rationale: why };
}

/** The seed plan's router, verbatim, for comparison. */
export function seedPickModel({ tokens, risk }: { tokens: number; risk: number }, remainingUSD: number): Tier {
  if (remainingUSD < 0.1) return 'small';
  if (risk > 0.7 || tokens > 20_000) return 'large';
  if (risk > 0.4) return 'medium';
  return 'small';
}
