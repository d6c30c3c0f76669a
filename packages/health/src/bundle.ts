/**
 * The health bundle: everything the comment is rendered from, in one
 * versioned JSON. A same-repository run renders it directly; a fork's run
 * uploads it as an artifact and the `workflow_run` job validates it here
 * before rendering (the fork wrote it: untrusted).
 */
import { z } from 'zod';
import { ConfigError } from '@maestro/core/errors';
import { parseJson } from '@maestro/core/config';
import { EVIDENCE_NAMES, EVIDENCE_SCHEMAS, MAX_FILE_BYTES, MAX_ID, count, id, list, str, type Evidence, type EvidenceProblem } from './evidence.js';

export const BUNDLE_SCHEMA = 'maestro.health/1';

const severity = z.enum(['note', 'low', 'medium', 'high', 'critical']);

export const securitySchema = z.object({
  total: count,
  bySeverity: z.partialRecord(severity, count),
  top: list(z.object({ tool: str(100), rule: str(300), severity, file: str(1000), line: count.optional(), message: str(2000), package: str(300).optional() }), 20),
  sources: list(str(300), 20).default([]),
});

export const bundleSchema = z.object({
  schema: z.literal(BUNDLE_SCHEMA),
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
  /** As the producing run saw it; the publisher finds the PR from the head SHA instead. */
  pr: z.number().int().positive().max(MAX_ID).nullable(),
  headSha: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/i),
  run: z.object({ id, attempt: count, number: count }),
  createdAt: str(40),
  /**
   * Evidence the pipeline ran a step for: missing or invalid, it fails the health check (a gate that
   * crashed or was skipped is not a pass). The publisher replaces it with its own input.
   */
  required: list(z.enum(EVIDENCE_NAMES), 10).default([]),
  evidence: z
    .object({
      affected: EVIDENCE_SCHEMAS.affected.optional(),
      'allocate-shards': EVIDENCE_SCHEMAS['allocate-shards'].optional(),
      'risk-score': EVIDENCE_SCHEMAS['risk-score'].optional(),
      'policy-gate': EVIDENCE_SCHEMAS['policy-gate'].optional(),
      'agent-step': EVIDENCE_SCHEMAS['agent-step'].optional(),
      'attest-verify': EVIDENCE_SCHEMAS['attest-verify'].optional(),
    })
    .default({}),
  security: securitySchema.nullable().default(null),
  uncovered: list(z.object({ file: str(1000), lines: list(count, 2000) }), 500).nullable().default(null),
  problems: list(z.object({ file: str(300), problem: str(1000) }), 50).default([]),
});

export type HealthBundle = z.output<typeof bundleSchema>;
export type Security = z.output<typeof securitySchema>;
export type { Evidence, EvidenceProblem };

/** Parse an untrusted bundle; a ConfigError names the first problem's path (it is the producer's mistake, or tampering). */
export function parseBundle(text: string, file = 'health.json'): HealthBundle {
  const fail = (message: string) => new ConfigError(message, { file, fix: 'use the health.json that health-comment wrote in the pull request run' });
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw fail(`the health bundle is larger than ${MAX_FILE_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = parseJson(text, file);
  } catch (e) {
    throw fail(`the health bundle is not JSON: ${(e as ConfigError).message}`);
  }
  const r = bundleSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw fail(`the health bundle is invalid at ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}
