/**
 * Overrides: `/maestro override <rule-id> sha: <head> reason: <why> [expires: YYYY-MM-DD]`
 * in a PR comment, or the label `maestro-override:<rule-id>`, from someone
 * with write access (checked by the caller through the API). Every override —
 * applied, expired or refused — is in the audit log.
 *
 * An override is bound to the commit it was given for: a comment names the
 * head commit (`sha:`, 7+ hex digits), and a label counts only when it was
 * added after the head commit was pushed. A new push needs a new override, so
 * an approval of one change never carries over to the next one. The pull
 * request's author cannot override their own block unless the policy says so
 * (`overrides: { allow-self: true }`).
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
  /** The commit the override names (comments). */
  sha?: string;
}

export interface AuditEntry extends OverrideRequest {
  status: 'applied' | 'expired' | 'refused' | 'unused';
  note: string;
}

const RE = /^\/maestro\s+override\s+([a-z0-9][a-z0-9-]*)(?:\s+sha:\s*([0-9a-f]{7,64}))?\s+reason:\s*(.+?)(?:\s+expires:\s*(\d{4}-\d{2}-\d{2}))?\s*$/im;

export function parseOverride(body: string, meta: { by: string; at: string; commentId: number }, defaultDays = 7): OverrideRequest | undefined {
  const m = RE.exec(body);
  if (!m) return undefined;
  const expires = m[4] ? new Date(`${m[4]}T23:59:59Z`) : new Date(new Date(meta.at).getTime() + defaultDays * 86400_000);
  return { rule: m[1]!, reason: m[3]!.trim(), expires: expires.toISOString(), ...meta, ...(m[2] ? { sha: m[2].toLowerCase() } : {}) };
}

/** The comment that overrides `rule` for `head`: what the gate tells a maintainer to write. */
export function overrideCommand(rule: string, head: string): string {
  return `/maestro override ${rule} sha: ${head.slice(0, 12)} reason: <why>`;
}

export interface OverrideContext {
  /** The head commit under review. */
  head: string;
  /** The pull request's author. */
  author?: string;
  /** The policy lets the author override their own pull request (default false). */
  allowSelf?: boolean;
  /** When GitHub first saw the head commit (server time); unknown → label overrides are refused. */
  headPushedAt?: string;
  /** Why `headPushedAt` is unknown, for the audit note. */
  headPushedUnknown?: string;
}

/**
 * Apply overrides to decisions: an applied override turns the rule's decisions
 * into `observe` (recorded, not blocking). `canOverride(login)` says whether
 * the requester may (write permission or above).
 */
export function applyOverrides(decisions: readonly Decision[], requests: readonly OverrideRequest[], canOverride: ReadonlyMap<string, boolean>, now = new Date(), ctx?: OverrideContext): { decisions: Decision[]; audit: AuditEntry[] } {
  const audit: AuditEntry[] = [];
  const active = new Map<string, OverrideRequest>();
  const head = ctx?.head.toLowerCase();
  for (const r of requests) {
    const refuse = (note: string) => audit.push({ ...r, status: 'refused', note });
    if (!canOverride.get(r.by)) refuse(`${r.by} does not have write access`);
    else if (ctx?.author && r.by.toLowerCase() === ctx.author.toLowerCase() && !ctx.allowSelf) refuse(`${r.by} is the pull request's author; a block is overridden by someone else (the policy's \`overrides: { allow-self: true }\` allows it)`);
    else if (head && (r.via ?? 'comment') === 'comment' && !r.sha) refuse(`not bound to a commit: name the head, e.g. \`${overrideCommand(r.rule, head)}\``);
    else if (head && (r.via ?? 'comment') === 'comment' && r.sha && !head.startsWith(r.sha)) refuse(`given for commit ${r.sha.slice(0, 12)}, not the head ${head.slice(0, 12)}; a new push needs a new override`);
    else if (head && r.via === 'label' && !ctx?.headPushedAt) refuse(`cannot tell whether the label came after the head was pushed (${ctx?.headPushedUnknown ?? 'push time unknown'}); comment \`${overrideCommand(r.rule, head)}\` instead`);
    else if (head && r.via === 'label' && new Date(r.at) <= new Date(ctx!.headPushedAt!)) refuse(`the label was added before the head ${head.slice(0, 12)} was pushed; a new push needs a new override (remove and add the label again)`);
    else if (new Date(r.expires) < now) audit.push({ ...r, status: 'expired', note: `expired ${r.expires.slice(0, 10)}` });
    else if (!decisions.some((d) => d.rule === r.rule)) audit.push({ ...r, status: 'unused', note: 'no violation of this rule in the change' });
    else {
      audit.push({ ...r, status: 'applied', note: `until ${r.expires.slice(0, 10)}${head ? ` for ${head.slice(0, 12)}` : ''}` });
      active.set(r.rule, r);
    }
  }
  const out = decisions.map((d) => {
    const r = active.get(d.rule);
    return r ? { ...d, mode: 'observe' as const, detail: `${d.detail} — overridden by @${r.by}: ${r.reason}` } : d;
  });
  return { decisions: out, audit };
}
