/**
 * Findings other than SARIF: Grype JSON (`grype -o json`) and a secret scan of
 * the lines a change adds (secretlint's recommended preset). Secret values are
 * never copied into a finding: secretlint masks them and we keep only the rule
 * and position.
 */
import { ConfigError } from '@maestro/core/errors';
import { isRecord, parseJson } from '@maestro/core/config';
import type { Finding, Severity } from './dsl.js';

const GRYPE_SEVERITY: Record<string, Severity> = { critical: 'critical', high: 'high', medium: 'medium', low: 'low', negligible: 'note', unknown: 'medium' };

/**
 * Grype matches as findings about packages (`package: name@version`).
 * `ignoredMatches` (the project's accepted ones) are left out. An unknown
 * severity counts as medium: unrated is not harmless.
 */
export function readGrype(text: string, file: string): Finding[] {
  const doc = parseJson(text, file);
  if (!isRecord(doc) || !Array.isArray(doc['matches'])) throw new ConfigError('not a Grype JSON report: no `matches` list', { file, fix: 'run grype with `-o json` and pass that file' });
  const out: Finding[] = [];
  for (const [i, m] of doc['matches'].entries()) {
    const v = isRecord(m) ? m['vulnerability'] : undefined;
    const a = isRecord(m) ? m['artifact'] : undefined;
    if (!isRecord(v) || !isRecord(a) || typeof v['id'] !== 'string' || typeof a['name'] !== 'string' || typeof a['version'] !== 'string') {
      throw new ConfigError(`match ${i} has no vulnerability.id, artifact.name or artifact.version`, { file, fix: 'pass the unmodified output of `grype -o json`' });
    }
    const sev = GRYPE_SEVERITY[String(v['severity'] ?? 'unknown').toLowerCase()] ?? 'medium';
    const fix = isRecord(v['fix']) && Array.isArray(v['fix']['versions']) && v['fix']['versions'].length ? `; fixed in ${(v['fix']['versions'] as unknown[]).join(', ')}` : '; no fix yet';
    const loc = Array.isArray(a['locations']) && isRecord(a['locations'][0]) && typeof a['locations'][0]['path'] === 'string' ? a['locations'][0]['path'].replace(/^\/+/, '') : '';
    out.push({ tool: 'Grype', rule: v['id'], severity: sev, file: loc, message: `${a['name']}@${a['version']}${fix}`, package: `${a['name']}@${a['version']}` });
  }
  return out;
}

/**
 * Secrets in the added lines of each file. The whole new file is linted (so a
 * multi-line key is seen whole) and a finding is kept when it starts or ends on
 * an added line.
 */
export async function scanSecrets(files: ReadonlyArray<{ path: string; content: string; added: ReadonlySet<number> }>): Promise<Finding[]> {
  if (!files.length) return [];
  const [{ lintSource }, { creator }] = await Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend')]);
  const config = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: creator }] };
  const out: Finding[] = [];
  for (const f of files) {
    if (!f.added.size) continue;
    const r = await lintSource({ source: { filePath: `/${f.path}`, content: f.content, contentType: 'text' }, options: { config, maskSecrets: true } });
    for (const m of r.messages) {
      const start = m.loc.start.line;
      const end = m.loc.end.line;
      let onAdded = false;
      for (let l = start; l <= end && !onAdded; l++) onAdded = f.added.has(l);
      if (!onAdded) continue;
      const kind = String(m.ruleId).replace(/^@secretlint\/secretlint-rule-/, '');
      out.push({ tool: 'secretlint', rule: kind, severity: 'critical', file: f.path, line: start, message: `a ${kind} credential is added on this line (value not shown)` });
    }
  }
  return out;
}
