/**
 * The per-PR budget ledger: zero overruns by construction.
 *
 * Before a call is made its worst case is reserved — every attempt it may make (retries included),
 * each with every prompt token at the dearest rate and every allowed output token. A call whose
 * worst case does not fit what is left under every cap (per PR, per run, per role) is not made, and
 * the decision says why and how much is left (the router downshifts on that). After the call the
 * reservation is settled with the real usage, which by construction costs no more than it.
 *
 * The ledger is an append-only log of entries at consecutive indexes, and an index can be written
 * once (`LedgerLog.append` is create-only, as Actions cache keys are). A reservation is decided on the
 * whole log read so far and written at the next index; if another job wrote that index first, the
 * decision is made again on the longer log. So two jobs of one PR cannot both spend the last dollar.
 */
import { costOf, priceOf, worstCaseOf, type PriceTable, type Usage } from './prices.js';

export interface Limits {
  /** The PR's whole budget, across jobs and re-runs (the seed's `max_usd_per_pr`). */
  maxUsdPerPr: number;
  /** One workflow run's share. */
  maxUsdPerRun?: number;
  /** Per role (planner, implementer, critic, …). */
  maxUsdPerRole?: Readonly<Record<string, number>>;
  /** No single prompt above this many tokens (the seed's `max_prompt_tokens`). */
  maxPromptTokens?: number;
}

export interface CallPlan {
  role: string;
  model: string;
  /** An upper bound of the prompt's tokens: the provider's count-tokens answer, or `promptTokenBound` of its bytes. */
  promptTokens: number;
  maxOutputTokens: number;
  /** Attempts reserved: 1 + the retries the caller may make on 429/529 (each retry is paid for). */
  attempts: number;
}

export type Entry =
  | { kind: 'reserve'; id: string; run: string; role: string; model: string; usd: number; promptTokens: number; maxOutputTokens: number; attempts: number }
  | { kind: 'settle'; id: string; usd: number; usage: Usage[]; model: string }
  | { kind: 'refuse'; run: string; role: string; model: string; usd: number; reason: string };

/** Append-only, create-only storage: `append(i, e)` is false when index i is already written. */
export interface LedgerLog {
  read(): Promise<Entry[]>;
  append(index: number, entry: Entry): Promise<boolean>;
}

export class MemoryLedgerLog implements LedgerLog {
  readonly entries: Entry[] = [];
  async read(): Promise<Entry[]> {
    return this.entries.slice();
  }
  async append(index: number, entry: Entry): Promise<boolean> {
    if (index !== this.entries.length) return false;
    this.entries.push(structuredClone(entry));
    return true;
  }
}

/**
 * A safe upper bound of the tokens a prompt of `bytes` UTF-8 bytes can be billed for when no
 * count-tokens endpoint answered: BPE tokenizers emit at most one token per byte. Loose (about 4×
 * for English), never low.
 */
export function promptTokenBound(bytes: number): number {
  return Math.max(1, bytes);
}

export interface State {
  /** Settled spend. */
  spent: number;
  /** Reserved and not yet settled. */
  held: number;
  byRun: Map<string, number>;
  byRole: Map<string, number>;
  /** Settlements that cost more than their reservation (a bound that was not one): should stay empty. */
  overruns: Array<{ id: string; reserved: number; actual: number }>;
}

/** The ledger's state from its entries: a reservation counts its worst case until settled, then its real cost. */
export function stateOf(entries: readonly Entry[]): State {
  const open = new Map<string, Extract<Entry, { kind: 'reserve' }>>();
  const s: State = { spent: 0, held: 0, byRun: new Map(), byRole: new Map(), overruns: [] };
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const e of entries) {
    if (e.kind === 'reserve') {
      open.set(e.id, e);
      s.held += e.usd;
      add(s.byRun, e.run, e.usd);
      add(s.byRole, e.role, e.usd);
    } else if (e.kind === 'settle') {
      const r = open.get(e.id);
      if (!r) continue;
      open.delete(e.id);
      s.held -= r.usd;
      s.spent += e.usd;
      // The run and the role now count the real cost instead of the worst case.
      add(s.byRun, r.run, e.usd - r.usd);
      add(s.byRole, r.role, e.usd - r.usd);
      if (e.usd > r.usd + 1e-12) s.overruns.push({ id: e.id, reserved: r.usd, actual: e.usd });
    }
  }
  return s;
}

export type Decision =
  | { ok: true; id: string; usd: number; residual: number }
  | { ok: false; usd: number; residual: number; reason: string };

const EPS = 1e-9;

export class Ledger {
  constructor(
    private readonly log: LedgerLog,
    private readonly prices: PriceTable,
    private readonly limits: Limits,
    /** This run (workflow run id and attempt): reservation ids and the per-run cap. */
    private readonly run: string,
  ) {
    for (const [k, v] of Object.entries({ maxUsdPerPr: limits.maxUsdPerPr, maxUsdPerRun: limits.maxUsdPerRun, ...limits.maxUsdPerRole })) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new RangeError(`budget ${k} must be a number ≥ 0, got ${v}`);
    }
  }

  /** What is left under the tightest cap that applies to this role in this run. */
  residual(s: State, role: string): number {
    const committed = s.spent + s.held;
    let left = this.limits.maxUsdPerPr - committed;
    if (this.limits.maxUsdPerRun !== undefined) left = Math.min(left, this.limits.maxUsdPerRun - (s.byRun.get(this.run) ?? 0));
    const roleCap = this.limits.maxUsdPerRole?.[role];
    if (roleCap !== undefined) left = Math.min(left, roleCap - (s.byRole.get(role) ?? 0));
    return Math.max(0, left);
  }

  /** Reserve a call's worst case, or refuse it with the reason. The refusal is recorded too. */
  async reserve(plan: CallPlan): Promise<Decision> {
    if (!(Number.isInteger(plan.attempts) && plan.attempts >= 1)) throw new RangeError(`attempts must be a whole number ≥ 1, got ${plan.attempts}`);
    if (!(Number.isFinite(plan.promptTokens) && plan.promptTokens >= 0 && Number.isFinite(plan.maxOutputTokens) && plan.maxOutputTokens >= 1)) throw new RangeError('promptTokens must be ≥ 0 and maxOutputTokens ≥ 1');
    const price = priceOf(this.prices, plan.model);
    const usd = plan.attempts * worstCaseOf(price, plan.promptTokens, plan.maxOutputTokens);
    for (;;) {
      const entries = await this.log.read();
      const s = stateOf(entries);
      const residual = this.residual(s, plan.role);
      let reason: string | undefined;
      if (this.limits.maxPromptTokens !== undefined && plan.promptTokens > this.limits.maxPromptTokens) reason = `the prompt may be ${plan.promptTokens} tokens, above max_prompt_tokens ${this.limits.maxPromptTokens}`;
      else if (usd > residual + EPS) reason = `its worst case $${usd.toFixed(4)} (${plan.attempts} attempt(s) × ${plan.promptTokens} prompt + ${plan.maxOutputTokens} output tokens of ${plan.model}) is more than the $${residual.toFixed(4)} left`;
      const entry: Entry = reason
        ? { kind: 'refuse', run: this.run, role: plan.role, model: plan.model, usd, reason }
        : { kind: 'reserve', id: `${this.run}#${entries.length}`, run: this.run, role: plan.role, model: plan.model, usd, promptTokens: plan.promptTokens, maxOutputTokens: plan.maxOutputTokens, attempts: plan.attempts };
      // Written at the next index or not at all: a concurrent job that got there first means decide again.
      if (!(await this.log.append(entries.length, entry))) continue;
      return reason ? { ok: false, usd, residual, reason } : { ok: true, id: (entry as { id: string }).id, usd, residual: residual - usd };
    }
  }

  /**
   * Settle a reservation with what the provider reported for each attempt made. Usage beyond the
   * plan's bounds (more attempts, a longer prompt, more output) is a broken bound: it is recorded as
   * an overrun and thrown, so the caller stops rather than spending on.
   */
  async settle(id: string, model: string, attempts: readonly Usage[]): Promise<number> {
    const price = priceOf(this.prices, model);
    const usd = attempts.reduce((a, u) => a + costOf(price, u), 0);
    for (;;) {
      const entries = await this.log.read();
      const r = entries.find((e): e is Extract<Entry, { kind: 'reserve' }> => e.kind === 'reserve' && e.id === id);
      if (!r) throw new Error(`no reservation ${id}`);
      if (entries.some((e) => e.kind === 'settle' && e.id === id)) throw new Error(`reservation ${id} is already settled`);
      if (!(await this.log.append(entries.length, { kind: 'settle', id, usd, usage: attempts.slice(), model }))) continue;
      if (usd > r.usd + EPS) throw new Error(`reservation ${id} was for $${r.usd.toFixed(6)} but the call cost $${usd.toFixed(6)}: a bound (prompt tokens, output tokens or attempts) did not hold`);
      return usd;
    }
  }

  async state(): Promise<State> {
    return stateOf(await this.log.read());
  }
}
