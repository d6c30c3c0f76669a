/** The verdicts as people read them (job summary) and as tools read them (report JSON). */
import { mdCode, mdText, table } from '@maestro/core';
import type { Verdict } from './gate.js';

export const REPORT_SCHEMA = 'maestro.attest-report/1';

export interface AttestReport {
  schema: typeof REPORT_SCHEMA;
  mode: 'observe' | 'warn' | 'enforce';
  policy: string;
  verified: number;
  failed: number;
  /** Licences of the verified SBOMs, for policy-gate's SPDX rules. */
  licences: string[];
  subjects: Verdict[];
}

export function buildReport(verdicts: Verdict[], mode: AttestReport['mode'], policy: string): AttestReport {
  const licences = new Set<string>();
  for (const v of verdicts) for (const a of v.accepted) for (const l of a.sbom?.licences ?? []) licences.add(l);
  return { schema: REPORT_SCHEMA, mode, policy, verified: verdicts.filter((v) => v.ok).length, failed: verdicts.filter((v) => !v.ok).length, licences: [...licences].sort(), subjects: verdicts.map((v) => ({ ...v, accepted: v.accepted.map(({ document: _d, ...a }) => a) })) };
}

const short = (d: string) => d.replace(/^(sha\d+:)([0-9a-f]{12})[0-9a-f]+$/, '$1$2…');

/** Markdown: a headline, one row per subject, then the reasons of each failure. */
export function renderSummary(r: AttestReport, maxRows = 200): string {
  const icon = r.failed ? (r.mode === 'enforce' ? '🔴' : '🟠') : '🟢';
  const lines = ['## Attestations', '', `${icon} **${r.verified} verified, ${r.failed} failed** against ${mdCode(r.policy)} (mode \`${r.mode}\`; verified offline against pinned trust roots).`, ''];
  const rows = r.subjects.slice(0, maxRows).map((v) => [
    v.ok ? '✅' : '❌',
    mdCode(v.subject),
    short(v.digest),
    v.accepted.map((a) => mdText(`${a.require}: ${a.signer}${a.ref ? ` at ${a.ref}` : ''}${a.commit ? ` (${a.commit.slice(0, 7)})` : ''}${a.sbom ? ` — ${a.sbom.format}, ${a.sbom.components} components` : ''}`)).join('<br>') || '—',
    v.failures.length ? v.failures.map((f) => mdText(f)).join('<br>') : '—',
  ]);
  lines.push(table(['', 'subject', 'digest', 'verified (by whom, from where)', 'what failed'], rows), '');
  if (r.subjects.length > maxRows) lines.push(`_${r.subjects.length - maxRows} more subjects in the report file._`, '');
  const notes = r.subjects.flatMap((v) => v.notes.map((n) => `- ${mdCode(v.subject)}: ${mdText(n)}`));
  if (notes.length) lines.push('Notes:', '', ...notes.slice(0, 50), '');
  if (r.licences.length) lines.push(`Licences in the verified SBOMs: ${r.licences.map((l) => `\`${mdText(l)}\``).join(', ')}.`, '');
  return lines.join('\n') + '\n';
}
