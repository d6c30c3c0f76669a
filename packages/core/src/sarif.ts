/** SARIF logs (CodeQL, Semgrep, …) → one flat list of located results. Pure. */
import { ConfigError } from './errors.js';
import { parseJson } from './config.js';

export type Severity = 'note' | 'low' | 'medium' | 'high' | 'critical';

export interface SarifResult {
  tool: string;
  rule: string;
  /** The SARIF level as written (`error`, `warning`, `note`, `none`); `warning` when absent. */
  level: string;
  /** From the rule's `security-severity` (CVSS) when present, else from the level. */
  severity: Severity;
  /** Repository-relative path (`file://` and `./` removed). */
  file: string;
  line?: number;
  message: string;
}

type Log = { runs?: Array<{ tool?: { driver?: { name?: string; rules?: Array<{ id?: string; properties?: Record<string, unknown> }> } }; results?: Array<Record<string, unknown>> }> };

/** Results with a location; results without one are left out. */
export function readSarif(text: string, file: string): SarifResult[] {
  const log = parseJson(text, file) as Log;
  if (!log || !Array.isArray(log.runs)) throw new ConfigError('not a SARIF log (no `runs`)', { file, fix: 'point at the .sarif file a scanner wrote' });
  const out: SarifResult[] = [];
  for (const run of log.runs) {
    const tool = run.tool?.driver?.name ?? 'scanner';
    const rules = new Map((run.tool?.driver?.rules ?? []).map((r) => [r.id, r]));
    for (const r of run.results ?? []) {
      const rule = String(r['ruleId'] ?? 'unknown');
      const loc = (r['locations'] as Array<{ physicalLocation?: { artifactLocation?: { uri?: string }; region?: { startLine?: number } } }> | undefined)?.[0]?.physicalLocation;
      const uri = loc?.artifactLocation?.uri?.replace(/^file:\/\//, '').replace(/^\.\//, '');
      if (!uri) continue;
      const cvss = Number(rules.get(rule)?.properties?.['security-severity'] ?? (r['properties'] as Record<string, unknown> | undefined)?.['security-severity']);
      const level = String(r['level'] ?? 'warning');
      const severity: Severity = Number.isFinite(cvss) ? (cvss >= 9 ? 'critical' : cvss >= 7 ? 'high' : cvss >= 4 ? 'medium' : cvss > 0 ? 'low' : 'note') : level === 'error' ? 'high' : level === 'warning' ? 'medium' : level === 'note' ? 'note' : 'low';
      const result: SarifResult = { tool, rule, level, severity, file: uri, message: String((r['message'] as { text?: string } | undefined)?.text ?? rule) };
      if (loc?.region?.startLine) result.line = loc.region.startLine;
      out.push(result);
    }
  }
  return out;
}

/** Severities from the most to the least severe. */
export const SEVERITIES_DESC: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'note'];

type Summarizable = { tool: string; rule: string; severity: Severity; file: string; line?: number; message: string; package?: string };

/**
 * Findings summed up for a report: counts by severity and the 20 most severe
 * (at or above `min`), most severe first, messages capped at 2000 characters.
 */
export function summarizeFindings(findings: readonly Summarizable[], min: Severity = 'note'): { total: number; bySeverity: Partial<Record<Severity, number>>; top: Summarizable[] } {
  const bySeverity: Partial<Record<Severity, number>> = {};
  for (const f of findings) bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
  const rank = (s: Severity) => SEVERITIES_DESC.indexOf(s);
  const top = findings
    .filter((f) => rank(f.severity) <= rank(min))
    .sort((a, b) => rank(a.severity) - rank(b.severity))
    .slice(0, 20)
    .map((f) => ({ tool: f.tool, rule: f.rule, severity: f.severity, file: f.file, ...(f.line ? { line: f.line } : {}), message: f.message.slice(0, 2000), ...(f.package ? { package: f.package } : {}) }));
  return { total: findings.length, bySeverity, top };
}
