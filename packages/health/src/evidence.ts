/**
 * Evidence from the other actions and the health bundle, validated as
 * untrusted data. In the fork path the bundle is an artifact a pull request's
 * run produced — anyone can write it — so every field is checked and capped by
 * zod before it is rendered, and nothing in it is ever executed or used as a
 * path. Unknown fields are dropped, not trusted.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { EVIDENCE_SCHEMA } from '@maestro/core/evidence';

/** Largest evidence or bundle file read (bytes). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

const str = (max = 2000) => z.string().max(max);
const sha = z.string().regex(/^[0-9a-f]{7,64}$/i, 'a commit SHA');
const count = z.number().int().min(0).max(1e9);
const prob = z.number().min(0).max(1);

export const affectedData = z.object({
  base: sha.nullable(),
  head: sha,
  baseSource: str(100).nullable(),
  all: z.boolean(),
  allReason: str().nullable(),
  projects: z.array(str(300)).max(500),
  projectCount: count,
  reasons: z.record(str(300), z.array(str(1000)).max(3)).default({}),
  removed: z.array(z.object({ name: str(300), root: str(500) })).max(100).default([]),
  changedFiles: count,
  files: z.array(str(1000)).max(5000).default([]),
  tests: z.object({ selected: count, testsPerFile: z.record(str(1000), count) }).nullable().default(null),
  cache: z.object({ targets: count, hits: count, missed: z.array(str(500)).max(100) }).nullable().default(null),
});

export const shardsData = z.object({
  tests: count,
  shards: count,
  predictedSeconds: z.number().min(0),
  skew: z.number(),
  timingCoverage: prob,
  flakes: z.object({ probability: prob, known: count, top: z.array(z.object({ id: str(1000), probability: prob, flaky: count, runs: count })).max(20) }),
});

const factor = z.object({ feature: str(100), contribution: z.number(), text: str(500) }).loose();

export const riskData = z.object({
  score: prob.nullable(),
  level: z.enum(['low', 'elevated', 'high', 'unknown']),
  mode: z.enum(['observe', 'warn', 'enforce', 'calibrate']),
  blocks: z.boolean(),
  unscored: str().optional(),
  thresholds: z.object({ warn: prob, enforce: prob }).optional(),
  factors: z.array(factor).max(10),
  missing: z.array(z.union([str(300), z.object({ signal: str(100), why: str(500) }).loose()])).max(30).default([]),
  model: z.object({ name: str(200).optional(), baseRate: prob.optional() }).loose().default({}),
});

const severity = z.enum(['note', 'low', 'medium', 'high', 'critical']);
const violation = z.object({ rule: str(100), reason: str(1000), mode: z.enum(['observe', 'warn', 'enforce']), subject: str(1000), detail: str(2000), file: str(1000).optional(), line: count.optional() });

export const policyData = z.object({
  outcome: z.enum(['pass', 'warn', 'block']),
  policy: str(300),
  actor: z.enum(['human', 'bot', 'agent']),
  violations: z.array(violation).max(5000),
  overrides: z.array(z.object({ rule: str(100), by: str(100), status: str(20), reason: str(1000), expires: str(40) }).loose()).max(100).default([]),
  truncated: z.object({ violations: count }).loose().optional(),
  findings: z
    .object({ total: count, bySeverity: z.partialRecord(severity, count), top: z.array(z.object({ tool: str(100), rule: str(300), severity, file: str(1000), line: count.optional(), message: str(2000), package: str(300).optional() })).max(20) })
    .optional(),
});

/** What agent-step records about spend (the ledger for this PR). */
export const agentData = z.object({
  usd: z.number().min(0),
  budgetUsd: z.number().min(0).nullable(),
  promptTokens: count,
  maxPromptTokens: count.nullable(),
  promptCache: z.object({ hits: count, lookups: count }).nullable().default(null),
});

export const EVIDENCE_SCHEMAS = { affected: affectedData, 'allocate-shards': shardsData, 'risk-score': riskData, 'policy-gate': policyData, 'agent-step': agentData } as const;
export type EvidenceName = keyof typeof EVIDENCE_SCHEMAS;

const envelope = z.object({
  schema: z.literal(EVIDENCE_SCHEMA),
  action: str(50),
  sha: z.union([sha, z.literal('')]),
  run: z.object({ id: count, attempt: count, number: count }),
  createdAt: str(40),
  data: z.unknown(),
});

export interface Evidence {
  affected?: z.output<typeof affectedData>;
  'allocate-shards'?: z.output<typeof shardsData>;
  'risk-score'?: z.output<typeof riskData>;
  'policy-gate'?: z.output<typeof policyData>;
  'agent-step'?: z.output<typeof agentData>;
}

/**
 * The JSON files under each target (a file, or a directory read recursively:
 * downloaded artifacts may keep their folders), named relative to `cwd`.
 * Targets that do not exist are returned in `missing`; the caller decides.
 */
export function readEvidenceFiles(targets: readonly string[], cwd: string): { files: Array<{ name: string; text: string }>; missing: string[] } {
  const files: Array<{ name: string; text: string }> = [];
  const missing: string[] = [];
  for (const t of targets.map((x) => path.resolve(cwd, x))) {
    if (!existsSync(t)) {
      missing.push(t);
      continue;
    }
    const list = statSync(t).isDirectory() ? readdirSync(t, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(t, f)) : [t];
    for (const f of list) files.push({ name: path.relative(cwd, f) || f, text: readFileSync(f, 'utf8') });
  }
  return { files, missing };
}

export interface EvidenceProblem {
  file: string;
  problem: string;
}

/**
 * Validate evidence files. Per action the newest run wins (run id, then
 * attempt); evidence about another commit than `sha` is ignored. Invalid
 * files are reported, never thrown: one broken file must not hide the rest.
 */
export function readEvidence(files: ReadonlyArray<{ name: string; text: string }>, sha?: string): { evidence: Evidence; problems: EvidenceProblem[]; sources: Record<string, { sha: string; run: number }> } {
  const problems: EvidenceProblem[] = [];
  const best = new Map<EvidenceName, { run: [number, number]; data: unknown; sha: string }>();
  for (const f of files) {
    if (Buffer.byteLength(f.text) > MAX_FILE_BYTES) {
      problems.push({ file: f.name, problem: `larger than ${MAX_FILE_BYTES} bytes; ignored` });
      continue;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(f.text);
    } catch (e) {
      problems.push({ file: f.name, problem: `not JSON (${(e as Error).message})` });
      continue;
    }
    const env = envelope.safeParse(raw);
    if (!env.success) {
      problems.push({ file: f.name, problem: `not a maestro evidence file: ${env.error.issues[0]?.path.join('.')} ${env.error.issues[0]?.message}` });
      continue;
    }
    const name = env.data.action as EvidenceName;
    const schema = EVIDENCE_SCHEMAS[name];
    if (!schema) {
      problems.push({ file: f.name, problem: `unknown action '${env.data.action}'` });
      continue;
    }
    if (sha && env.data.sha && env.data.sha !== sha) {
      problems.push({ file: f.name, problem: `about commit ${env.data.sha.slice(0, 12)}, not ${sha.slice(0, 12)}; ignored` });
      continue;
    }
    const data = (schema as z.ZodType).safeParse(env.data.data);
    if (!data.success) {
      const i = data.error.issues[0]!;
      problems.push({ file: f.name, problem: `${name} evidence is malformed at ${i.path.join('.') || '(root)'}: ${i.message}` });
      continue;
    }
    const run: [number, number] = [env.data.run.id, env.data.run.attempt];
    const cur = best.get(name);
    if (!cur || run[0] > cur.run[0] || (run[0] === cur.run[0] && run[1] >= cur.run[1])) best.set(name, { run, data: data.data, sha: env.data.sha });
  }
  const evidence: Evidence = {};
  const sources: Record<string, { sha: string; run: number }> = {};
  for (const [name, v] of best) {
    (evidence as Record<string, unknown>)[name] = v.data;
    sources[name] = { sha: v.sha, run: v.run[0] };
  }
  return { evidence, problems, sources };
}
