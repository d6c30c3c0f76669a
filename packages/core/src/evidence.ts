/**
 * Evidence files: each action writes what it found to
 * `$RUNNER_TEMP/maestro-evidence/<action>.json` so `health-comment` can sum a
 * pull request up without computing anything again, and without passing big
 * JSON through inputs (the runner passes inputs as environment variables;
 * ~128 KiB kills the step). The envelope says which commit and run produced
 * the data, so older evidence never overrides newer.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runnerEvent, runnerTempPath, subjectSha } from './context.js';

export const EVIDENCE_SCHEMA = 'maestro.evidence/1';

export interface EvidenceEnvelope<T = unknown> {
  schema: typeof EVIDENCE_SCHEMA;
  action: string;
  /** The commit the data is about (the PR head when known). */
  sha: string;
  run: { id: number; attempt: number; number: number };
  createdAt: string;
  data: T;
}

export function evidenceDir(env: NodeJS.ProcessEnv = process.env): string {
  return runnerTempPath('maestro-evidence', env['GITHUB_WORKSPACE'] ?? process.cwd(), env);
}

/** Write an action's evidence; returns the file path (set it as the `evidence-path` output). */
export function writeEvidence<T>(action: string, data: T, opts: { sha?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const env = opts.env ?? process.env;
  const dir = evidenceDir(env);
  mkdirSync(dir, { recursive: true });
  const envelope: EvidenceEnvelope<T> = {
    schema: EVIDENCE_SCHEMA,
    action,
    sha: opts.sha ?? subjectSha(runnerEvent(env)),
    run: { id: Number(env['GITHUB_RUN_ID'] ?? 0), attempt: Number(env['GITHUB_RUN_ATTEMPT'] ?? 1), number: Number(env['GITHUB_RUN_NUMBER'] ?? 0) },
    createdAt: new Date().toISOString(),
    data,
  };
  const file = path.join(dir, `${action}.json`);
  writeFileSync(file, JSON.stringify(envelope));
  return file;
}
