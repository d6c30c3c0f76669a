/**
 * Licence decisions with SPDX semantics: an expression is expanded into its
 * alternatives (disjunctive normal form); a package passes a deny list when at
 * least one alternative contains no denied licence, and an allow list when at
 * least one alternative is made only of allowed licences. `UNLICENSED` is
 * proprietary (not "The Unlicense"); anything that is not valid SPDX is
 * "unknown" and has its own rule — it is never silently corrected.
 */
import parse from 'spdx-expression-parse';

type Node = { license: string; plus?: boolean; exception?: string } | { left: Node; conjunction: 'and' | 'or'; right: Node };

export type LicenceClass = { kind: 'spdx'; clauses: string[][] } | { kind: 'proprietary' } | { kind: 'unknown'; raw: string };

/** Alternatives of an expression, each a list of licence ids that all apply (`+` kept as `-or-later`). */
function dnf(n: Node): string[][] {
  if ('license' in n) return [[n.plus ? `${n.license}+` : n.license]];
  const l = dnf(n.left);
  const r = dnf(n.right);
  if (n.conjunction === 'or') return [...l, ...r];
  return l.flatMap((a) => r.map((b) => [...a, ...b]));
}

export function classify(raw: string | undefined | null): LicenceClass {
  const s = (raw ?? '').trim();
  if (!s || s === 'NOASSERTION' || s === 'NONE') return { kind: 'unknown', raw: s || '(none)' };
  if (s === 'UNLICENSED') return { kind: 'proprietary' };
  try {
    return { kind: 'spdx', clauses: dnf(parse(s) as Node) };
  } catch {
    return { kind: 'unknown', raw: s };
  }
}

/** A whole-string pattern where only `*` is special (any run of characters). */
export function starPattern(p: string): RegExp {
  return new RegExp(`^${p.replace(/[.+^$|()[\]{}\\?]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

/** `GPL-*` style patterns (only `*` is special), or exact ids. */
function matcher(patterns: readonly string[]): (id: string) => boolean {
  const res = patterns.map(starPattern);
  return (id) => {
    const base = id.replace(/\+$/, '');
    return res.some((r) => r.test(base) || r.test(id));
  };
}

/** Named families, expanded to explicit patterns. */
export const FAMILIES: Record<string, string[]> = {
  'strong-copyleft': ['GPL-*', 'AGPL-*', 'SSPL-*', 'OSL-*', 'EUPL-*', 'CPAL-*'],
  'weak-copyleft': ['LGPL-*', 'MPL-*', 'EPL-*', 'CDDL-*', 'CECILL-*'],
  copyleft: ['GPL-*', 'AGPL-*', 'SSPL-*', 'OSL-*', 'EUPL-*', 'CPAL-*', 'LGPL-*', 'MPL-*', 'EPL-*', 'CDDL-*', 'CECILL-*'],
};

export function expandFamilies(patterns: readonly string[]): string[] {
  return patterns.flatMap((p) => FAMILIES[p] ?? [p]);
}

export type LicenceVerdict = { ok: true; why: string } | { ok: false; why: string; kind: 'denied' | 'not-allowed' | 'proprietary' | 'unknown' };

export function judgeLicence(raw: string | undefined | null, rule: { deny?: readonly string[]; allow?: readonly string[]; proprietary?: 'allow' | 'deny'; unknown?: 'allow' | 'deny'; missing?: 'allow' | 'deny'; 'deny-text'?: readonly string[] }): LicenceVerdict {
  const c = classify(raw);
  // No licence found at all is not "some licence we cannot parse": it can be judged only after an install or with an SBOM.
  if (c.kind === 'unknown' && c.raw === '(none)' && (rule.missing ?? rule.unknown) !== 'allow') return { ok: false, kind: 'unknown', why: 'no licence found, so it cannot be judged' };
  // A licence string that is not SPDX (`GPLv3`) is text: a `deny-text` regex (the plan's `/.*GPL.*/i`) judges it as text.
  if (c.kind === 'unknown' && c.raw !== '(none)') {
    const hit = (rule['deny-text'] ?? []).find((p) => textRegex(p)?.test(c.raw));
    if (hit) return { ok: false, kind: 'denied', why: `licence '${c.raw}' is not valid SPDX, and its text matches ${hit}` };
  }
  if (c.kind === 'proprietary') return rule.proprietary === 'allow' ? { ok: true, why: 'UNLICENSED (proprietary) is allowed' } : { ok: false, kind: 'proprietary', why: 'UNLICENSED means proprietary, not "The Unlicense"' };
  if (c.kind === 'unknown') return rule.unknown === 'allow' ? { ok: true, why: `unknown licence '${c.raw}' is allowed by the rule` } : { ok: false, kind: 'unknown', why: `licence '${c.raw}' is not a valid SPDX expression` };
  const denied = matcher(expandFamilies(rule.deny ?? []));
  const allowed = rule.allow ? matcher(expandFamilies(rule.allow)) : undefined;
  const passing = c.clauses.filter((clause) => !clause.some(denied) && (!allowed || clause.every(allowed)));
  if (passing.length) return { ok: true, why: `can be used under ${passing[0]!.join(' AND ')}` };
  const offending = [...new Set(c.clauses.flatMap((clause) => clause.filter(denied)))];
  if (offending.length) return { ok: false, kind: 'denied', why: `every alternative includes a denied licence (${offending.join(', ')})` };
  return { ok: false, kind: 'not-allowed', why: `no alternative is made only of allowed licences (${c.clauses.map((x) => x.join(' AND ')).join(' | ')})` };
}

/** `/body/flags` → RegExp (the `g` flag dropped), else undefined. */
export function textRegex(p: string): RegExp | undefined {
  const m = /^\/(.*)\/([a-z]*)$/.exec(p.trim());
  if (!m) return undefined;
  try {
    return new RegExp(m[1]!, m[2]!.replace(/g/g, ''));
  } catch {
    return undefined;
  }
}
