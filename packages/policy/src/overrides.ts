/**
 * Overrides: `/maestro override <rule-id> reason: <why> [expires: YYYY-MM-DD]`
 * in a PR comment, from someone with write access (checked by the caller
 * through the API). Every override — applied, expired or refused — is in the
 * audit log; an expired one stops applying.
 */
import type { Decision } from './dsl.js';

export interface OverrideRequest {
  rule: string;
  reason: string;
  /** ISO date; default: `defaultDays` after the comment. */
  expires: string;
  by: string;
  at: string;
  commentId: number;
  /** How it was asked for (default: a comment). */
  via?: 'comment' | 'label';
}

export interface AuditEntry extends OverrideRequest {
  status: 'applied' | 'expired' | 'refused' | 'unused';
  note: string;
}

const RE = /^\/maestro\s+override\s+([a-z0-9][a-z0-9-]*)\s+reason:\s*(.+?)(?:\s+expires:\s*(\d{4}-\d{2}-\d{2}))?\s*$/im;

export function parseOverride(body: string, meta: { by: string; at: string; commentId: number }, defaultDays = 7): OverrideRequest | undefined {
  const m = RE.exec(body);
  if (!m) return undefined;
  const expires = m[3] ? new Date(`${m[3]}T23:59:59Z`) : new Date(new Date(meta.at).getTime() + defaultDays * 86400_000);
  return { rule: m[1]!, reason: m[2]!.trim(), expires: expires.toISOString(), ...meta };
}

/**
 * Apply overrides to decisions: an applied override turns the rule's decisions
 * into `observe` (recorded, not blocking). `canOverride(login)` says whether
 * the commenter may (write permission or above).
 */
export function applyOverrides(decisions: readonly Decision[], requests: readonly OverrideRequest[], canOverride: ReadonlyMap<string, boolean>, now = new Date()): { decisions: Decision[]; audit: AuditEntry[] } {
  const audit: AuditEntry[] = [];
  const active = new Map<string, OverrideRequest>();
  for (const r of requests) {
    if (!canOverride.get(r.by)) audit.push({ ...r, status: 'refused', note: `${r.by} does not have write access` });
    else if (new Date(r.expires) < now) audit.push({ ...r, status: 'expired', note: `expired ${r.expires.slice(0, 10)}` });
    else if (!decisions.some((d) => d.rule === r.rule)) audit.push({ ...r, status: 'unused', note: 'no violation of this rule in the change' });
    else {
      audit.push({ ...r, status: 'applied', note: `until ${r.expires.slice(0, 10)}` });
      active.set(r.rule, r);
    }
  }
  const out = decisions.map((d) => {
    const r = active.get(d.rule);
    return r ? { ...d, mode: 'observe' as const, detail: `${d.detail} — overridden by @${r.by}: ${r.reason}` } : d;
  });
  return { decisions: out, audit };
}
