/** `maestro health`: render the PR health summary from evidence files (what health-comment would post). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '@maestro/core/errors';
import { BUNDLE_SCHEMA, EVIDENCE_NAMES, conclusion, parseBundle, readEvidence, readEvidenceFiles, render, type HealthBundle } from '@maestro/health';
import type { CommandContext } from '../main.js';

export async function healthCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args: ctx.args,
    options: {
      evidence: { type: 'string', multiple: true, default: [] },
      bundle: { type: 'string' },
      sha: { type: 'string' },
      required: { type: 'string', default: '' },
      json: { type: 'boolean', default: false },
      cwd: { type: 'string' },
    },
    strict: true,
  });
  const cwd = values.cwd ?? ctx.cwd;
  // What the pipeline ran: missing evidence for these fails the result, as in the action (`required`).
  const required = values.required!.split(/[\s,]+/).filter(Boolean);
  const bad = required.filter((r) => !(EVIDENCE_NAMES as readonly string[]).includes(r));
  if (bad.length) throw new ConfigError(`unknown evidence '${bad.join("', '")}' in --required`, { file: 'maestro health', fix: `use ${EVIDENCE_NAMES.join(', ')}` });
  let b: HealthBundle;
  if (values.bundle) {
    b = parseBundle(readFileSync(path.resolve(cwd, values.bundle), 'utf8'), values.bundle);
    if (required.length) b.required = required as HealthBundle['required'];
  } else {
    const targets = values.evidence!.length ? values.evidence! : ['.maestro/maestro-evidence'];
    // On the command line the named folders are yours: files may resolve anywhere inside them.
    const { files, missing } = readEvidenceFiles(targets, cwd, targets.map((t) => path.resolve(cwd, t)));
    if (missing.length) throw new ConfigError(`no evidence at ${missing[0]}`, { file: 'maestro health', fix: 'pass --evidence <dir> (the downloaded maestro-evidence-* artifacts) or --bundle health.json' });
    const { evidence, problems, sources } = readEvidence(files, values.sha ? { sha: values.sha } : {});
    const sha = values.sha ?? Object.values(sources).find((s) => /^[0-9a-f]{40}$/.test(s.sha))?.sha ?? '0'.repeat(40);
    b = { schema: BUNDLE_SCHEMA, repo: 'local/repo', pr: null, headSha: sha, run: { id: 0, attempt: 1, number: 0 }, createdAt: new Date().toISOString(), required: required as HealthBundle['required'], evidence, security: null, uncovered: null, problems };
  }
  if (values.json) ctx.stdout(JSON.stringify({ conclusion: conclusion(b), bundle: b }, null, 2));
  else ctx.stdout(render(b, { budget: 1_000_000, measure: 'bytes' }).markdown.trimEnd());
  return conclusion(b) === 'failure' ? 1 : 0;
}
