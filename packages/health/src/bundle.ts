/**
 * The health bundle: everything the comment is rendered from, in one
 * versioned JSON. A same-repository run renders it directly; a fork's run
 * uploads it as an artifact and the `workflow_run` job validates it here
 * before rendering (the fork wrote it: untrusted).
 */
import { z } from 'zod';
import { ConfigError } from '@maestro/core/errors';
import { EVIDENCE_SCHEMAS, MAX_FILE_BYTES, type Evidence, type EvidenceProblem } from './evidence.js';

export const BUNDLE_SCHEMA = 'maestro.health/1';

const severity = z.enum(['note', 'low', 'medium', 'high', 'critical']);
const count = z.number().int().min(0).max(1e9);

export const securitySchema = z.object({
  total: count,
  bySeverity: z.partialRecord(severity, count),
  top: z.array(z.object({ tool: z.string().max(100), rule: z.string().max(300), severity, file: z.string().max(1000), line: count.optional(), message: z.string().max(2000), package: z.string().max(300).optional() })).max(20),
  sources: z.array(z.string().max(300)).max(20).default([]),
});

export const bundleSchema = z.object({
  schema: z.literal(BUNDLE_SCHEMA),
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
  /** As the producing run saw it; the publisher finds the PR from the head SHA instead. */
  pr: z.number().int().positive().nullable(),
  headSha: z.string().regex(/^[0-9a-f]{40}$/i),
  run: z.object({ id: count, attempt: count, number: count }),
  createdAt: z.string().max(40),
  evidence: z
    .object({
      affected: EVIDENCE_SCHEMAS.affected.optional(),
      'allocate-shards': EVIDENCE_SCHEMAS['allocate-shards'].optional(),
      'risk-score': EVIDENCE_SCHEMAS['risk-score'].optional(),
      'policy-gate': EVIDENCE_SCHEMAS['policy-gate'].optional(),
      'agent-step': EVIDENCE_SCHEMAS['agent-step'].optional(),
    })
    .default({}),
  security: securitySchema.nullable().default(null),
  uncovered: z.array(z.object({ file: z.string().max(1000), lines: z.array(count).max(2000) })).max(500).nullable().default(null),
  problems: z.array(z.object({ file: z.string().max(300), problem: z.string().max(1000) })).max(50).default([]),
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
    raw = JSON.parse(text);
  } catch (e) {
    throw fail(`the health bundle is not JSON: ${(e as Error).message}`);
  }
  const r = bundleSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw fail(`the health bundle is invalid at ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}
