/**
 * Evidence from the other actions and the health bundle, validated as
 * untrusted data. In the fork path the bundle is an artifact a pull request's
 * run produced — anyone can write it — so every field is checked and capped by
 * zod before it is rendered, and nothing in it is ever executed or used as a
 * path. Unknown fields are dropped, not trusted.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { EVIDENCE_SCHEMA } from '@maestro/core/evidence';
import { ConfigError } from '@maestro/core/errors';
import { parseJson } from '@maestro/core/config';
import { allowedRoots, isInside, rootsFor } from '@maestro/core/files';

/** Largest evidence or bundle file read (bytes). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Largest integer an id may be: run, check-run and comment ids are 64-bit on GitHub (run ids are past 1.6e10). */
export const MAX_ID = Number.MAX_SAFE_INTEGER;

/** Cut for display, never rejected for its length: a verdict must not be dropped because a path was long. */
export function cap(s: string, max: number): string {
  if (s.length <= max) return s;
  let t = s.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(t)) t = t.slice(0, -1);
  return `${t}…`;
}
export const str = (max = 2000) => z.string().transform((s) => cap(s, max));
/** A list kept to its first `max` items (the renderer says how many there were where it matters). */
export const list = <T extends z.ZodType>(item: T, max: number) => z.array(item).transform((a) => a.slice(0, max));
/** A record with at most `max` entries and keys cut to `keyMax` characters. */
const rec = <T extends z.ZodType>(value: T, max: number, keyMax = 1000) =>
  z.preprocess((v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).slice(0, max).map(([k, x]) => [cap(k, keyMax), x])) : v), z.record(z.string(), value));
const sha = z.string().regex(/^[0-9a-f]{7,64}$/i, 'a commit SHA');
export const count = z.number().int().min(0).max(MAX_ID);
export const id = z.number().int().min(0).max(MAX_ID);
const prob = z.number().min(0).max(1);

export const affectedData = z.object({
  base: sha.nullable(),
  head: sha,
  baseSource: str(100).nullable(),
  all: z.boolean(),
  allReason: str().nullable(),
  projects: list(str(300), 500),
  projectCount: count,
  reasons: rec(list(str(1000), 3), 500, 300).default({}),
  removed: list(z.object({ name: str(300), root: str(500) }), 100).default([]),
  changedFiles: count,
  files: list(str(1000), 5000).default([]),
  tests: z.object({ selected: count, testsPerFile: rec(count, 5000) }).nullable().default(null),
  cache: z.object({ targets: count, hits: count, missed: list(str(500), 100) }).nullable().default(null),
});

export const shardsData = z.object({
  tests: count,
  shards: count,
  predictedSeconds: z.number().min(0),
  skew: z.number(),
  timingCoverage: prob,
  flakes: z.object({ probability: prob, known: count, top: list(z.object({ id: str(1000), probability: prob, flaky: count, runs: count }), 20) }),
});

const factor = z.object({ feature: str(100), contribution: z.number(), text: str(500) }).loose();

export const riskData = z.object({
  score: prob.nullable(),
  level: z.enum(['low', 'elevated', 'high', 'unknown']),
  mode: z.enum(['observe', 'warn', 'enforce', 'calibrate']),
  blocks: z.boolean(),
  unscored: str().optional(),
  thresholds: z.object({ warn: prob, enforce: prob }).optional(),
  factors: list(factor, 10),
  missing: list(z.union([str(300), z.object({ signal: str(100), why: str(500) }).loose()]), 30).default([]),
  model: z.object({ name: str(200).optional(), baseRate: prob.optional() }).loose().default({}),
});

const severity = z.enum(['note', 'low', 'medium', 'high', 'critical']);
const violation = z.object({ rule: str(100), reason: str(1000), mode: z.enum(['observe', 'warn', 'enforce']), subject: str(1000), detail: str(2000), file: str(1000).optional(), line: count.optional() });

const policyObject = z.object({
  outcome: z.enum(['pass', 'warn', 'block']),
  policy: str(300),
  actor: z.enum(['human', 'bot', 'agent']),
  violations: list(violation, 5000),
  overrides: list(z.object({ rule: str(100), by: str(100), status: str(20), reason: str(1000), expires: str(40) }).loose(), 100).default([]),
  truncated: z.object({ violations: count }).loose().optional(),
  findings: z
    .object({ total: count, bySeverity: z.partialRecord(severity, count), top: list(z.object({ tool: str(100), rule: str(300), severity, file: str(1000), line: count.optional(), message: str(2000), package: str(300).optional() }), 20) })
    .optional(),
});

/** More violations than the schema keeps are counted in `truncated`, never lost from the verdict. */
export const policyData = z.preprocess((v) => {
  if (!v || typeof v !== 'object' || !Array.isArray((v as { violations?: unknown }).violations)) return v;
  const p = v as { violations: unknown[]; truncated?: { violations?: unknown } };
  const extra = p.violations.length - 5000;
  if (extra <= 0) return v;
  const before = typeof p.truncated?.violations === 'number' ? p.truncated.violations : 0;
  return { ...p, truncated: { ...(p.truncated ?? {}), violations: before + extra } };
}, policyObject);

/** What agent-step records about spend (the ledger for this PR). */
export const agentData = z.object({
  usd: z.number().min(0),
  budgetUsd: z.number().min(0).nullable(),
  promptTokens: count,
  maxPromptTokens: count.nullable(),
  promptCache: z.object({ hits: count, lookups: count }).nullable().default(null),
});

/** What attest-verify found: per subject, whether its required attestations verified, who signed, what failed. */
export const attestData = z.object({
  mode: z.enum(['observe', 'warn', 'enforce']),
  verified: count,
  failed: count,
  blocks: z.boolean(),
  policy: str(300),
  subjects: list(
    z.object({
      subject: str(500),
      ok: z.boolean(),
      failures: list(str(2000), 10),
      accepted: list(z.object({ require: str(100), signer: str(500), ref: str(300).optional(), commit: str(64).optional() }), 10).default([]),
    }),
    200,
  ),
});

/** The pieces of evidence the pipeline can require. */
export const EVIDENCE_NAMES = ['affected', 'allocate-shards', 'risk-score', 'policy-gate', 'agent-step', 'attest-verify'] as const;

export const EVIDENCE_SCHEMAS = { affected: affectedData, 'allocate-shards': shardsData, 'risk-score': riskData, 'policy-gate': policyData, 'agent-step': agentData, 'attest-verify': attestData } as const;
export type EvidenceName = keyof typeof EVIDENCE_SCHEMAS;

const envelope = z.object({
  schema: z.literal(EVIDENCE_SCHEMA),
  action: str(50),
  sha: z.union([sha, z.literal('')]),
  run: z.object({ id, attempt: count, number: count }),
  createdAt: str(40),
  data: z.unknown(),
});

export interface Evidence {
  affected?: z.output<typeof affectedData>;
  'allocate-shards'?: z.output<typeof shardsData>;
  'risk-score'?: z.output<typeof riskData>;
  'policy-gate'?: z.output<typeof policyData>;
  'agent-step'?: z.output<typeof agentData>;
  'attest-verify'?: z.output<typeof attestData>;
}

/**
 * The JSON files under each target (a file, or a directory read recursively:
 * downloaded artifacts may keep their folders), named relative to `cwd`.
 * Targets that do not exist are returned in `missing`; the caller decides.
 * A file whose real path is outside the workspace and RUNNER_TEMP (a symlink
 * a pull request committed) is not read: it is listed in `skipped`.
 */
export function readEvidenceFiles(targets: readonly string[], cwd: string, roots?: readonly string[]): { files: Array<{ name: string; text: string }>; missing: string[]; skipped: EvidenceProblem[] } {
  const files: Array<{ name: string; text: string }> = [];
  const missing: string[] = [];
  const skipped: EvidenceProblem[] = [];
  const base = allowedRoots(cwd, roots);
  for (const named of targets) {
    const t = path.resolve(cwd, named);
    const allowed = rootsFor(cwd, named, base);
    if (!existsSync(t)) {
      missing.push(t);
      continue;
    }
    const list = statSync(t).isDirectory() ? readdirSync(t, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(t, f)) : [t];
    for (const f of list) {
      const name = path.relative(cwd, f) || f;
      let real: string;
      try {
        real = realpathSync(f);
      } catch {
        skipped.push({ file: name, problem: 'cannot be resolved (a dangling symlink?); not read' });
        continue;
      }
      if (!allowed.some((r) => isInside(real, r))) {
        skipped.push({ file: name, problem: 'resolves outside the workspace and the runner temp directory (a symlink?); not read' });
        continue;
      }
      const st = statSync(real);
      if (!st.isFile()) continue;
      if (st.size > MAX_FILE_BYTES) {
        skipped.push({ file: name, problem: `larger than ${MAX_FILE_BYTES} bytes; ignored` });
        continue;
      }
      files.push({ name, text: readFileSync(real, 'utf8') });
    }
  }
  return { files, missing, skipped };
}

export interface EvidenceProblem {
  file: string;
  problem: string;
}

/** How bad a piece of evidence is, to pick the worse of two files from the same run and attempt. */
function severityOf(name: EvidenceName, data: unknown): number {
  if (name === 'policy-gate') return { pass: 0, warn: 1, block: 2 }[(data as z.output<typeof policyData>).outcome];
  if (name === 'risk-score') {
    const r = data as z.output<typeof riskData>;
    return r.blocks ? 3 : { low: 0, unknown: 1, elevated: 2, high: 2 }[r.level];
  }
  if (name === 'attest-verify') {
    const a = data as z.output<typeof attestData>;
    return a.blocks ? 2 : a.failed ? 1 : 0;
  }
  return 0;
}

export interface ReadEvidenceOptions {
  /** The commit the health is about: evidence about another commit is ignored. */
  sha?: string;
  /** This workflow run: evidence from another run (an old artifact, a forged one) is ignored. */
  run?: { id: number; attempt: number };
}

/**
 * Validate evidence files. Only evidence of this run counts (when `run` is
 * given): an artifact from another run, or one claiming a huge run id, never
 * outranks this run's gates. Per action the newest attempt wins, and between
 * files of the same attempt the worse verdict wins (fail closed). Evidence
 * about another commit is ignored. Invalid files are reported, never thrown:
 * one broken file must not hide the rest.
 */
export function readEvidence(files: ReadonlyArray<{ name: string; text: string }>, o: ReadEvidenceOptions = {}): { evidence: Evidence; problems: EvidenceProblem[]; sources: Record<string, { sha: string; run: number }> } {
  const sha = o.sha;
  const problems: EvidenceProblem[] = [];
  const best = new Map<EvidenceName, { run: [number, number]; data: unknown; sha: string; severity: number }>();
  for (const f of files) {
    if (Buffer.byteLength(f.text) > MAX_FILE_BYTES) {
      problems.push({ file: f.name, problem: `larger than ${MAX_FILE_BYTES} bytes; ignored` });
      continue;
    }
    let raw: unknown;
    try {
      raw = parseJson(f.text, f.name);
    } catch (e) {
      problems.push({ file: f.name, problem: `not JSON (${e instanceof ConfigError ? e.format() : 'unreadable'})` });
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
    if (o.run && (env.data.run.id !== o.run.id || env.data.run.attempt > o.run.attempt)) {
      problems.push({ file: f.name, problem: `${name} evidence from run ${env.data.run.id}.${env.data.run.attempt}, not this run (${o.run.id}.${o.run.attempt}); ignored` });
      continue;
    }
    const data = (schema as z.ZodType).safeParse(env.data.data);
    if (!data.success) {
      const i = data.error.issues[0]!;
      problems.push({ file: f.name, problem: `${name} evidence is malformed at ${i.path.join('.') || '(root)'}: ${i.message}` });
      continue;
    }
    const run: [number, number] = [env.data.run.id, env.data.run.attempt];
    const severity = severityOf(name, data.data);
    const cur = best.get(name);
    const newer = !cur || run[0] > cur.run[0] || (run[0] === cur.run[0] && run[1] > cur.run[1]);
    const same = !!cur && run[0] === cur.run[0] && run[1] === cur.run[1];
    if (newer || (same && severity >= cur!.severity)) best.set(name, { run, data: data.data, sha: env.data.sha, severity });
  }
  const evidence: Evidence = {};
  const sources: Record<string, { sha: string; run: number }> = {};
  for (const [name, v] of best) {
    (evidence as Record<string, unknown>)[name] = v.data;
    sources[name] = { sha: v.sha, run: v.run[0] };
  }
  return { evidence, problems, sources };
}
