/**
 * The policy file (`policy/rules.yaml`): path rules over actions and actor
 * kinds, and licence rules, each with an `id`, a `reason` and a `mode`.
 * Validated with line/column errors; unknown keys are rejected.
 *
 * Precedence for path rules, per file and action: the most specific matching
 * rule wins (the longest literal part, then the fewest wildcards); at equal
 * specificity `deny` beats `allow`. No matching rule means allowed.
 */
import { Minimatch } from 'minimatch';
import { z } from 'zod';
import { parseYaml, validateConfig } from '@maestro/core/config';
import { ConfigError } from '@maestro/core/errors';
import type { Severity } from '@maestro/core/sarif';
import { judgeLicence, starPattern } from './spdx.js';
import type { DependencyChange } from './deps.js';

import { ACTIONS, ACTORS, type Action, type Actor } from './actions.js';
import { convertPlan, isPlanFormat } from './plan-format.js';

export { ACTIONS, ACTORS, type Action, type Actor };
export type Mode = 'observe' | 'warn' | 'enforce';

const id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes');
const mode = z.enum(['observe', 'warn', 'enforce']);

const pathRule = z
  .object({
    id,
    reason: z.string().min(3, 'say why: the reason is shown with every block'),
    effect: z.enum(['deny', 'allow']),
    paths: z.array(z.string().min(1)).min(1),
    actions: z.array(z.enum(ACTIONS)).min(1).default(['write', 'create', 'delete', 'rename']),
    actors: z.array(z.enum(ACTORS)).min(1).default(['human', 'bot', 'agent']),
    mode: mode.optional(),
  })
  .strict();

const licenceRule = z
  .object({
    id,
    reason: z.string().min(3, 'say why: the reason is shown with every block'),
    deny: z.array(z.string().min(1)).optional(),
    allow: z.array(z.string().min(1)).optional(),
    proprietary: z.enum(['allow', 'deny']).default('deny'),
    unknown: z.enum(['allow', 'deny']).default('deny'),
    /** No licence found at all (not installed, no SBOM, nothing in the lockfile); default: as `unknown`. */
    missing: z.enum(['allow', 'deny']).optional(),
    /** Regexes (`/…/flags`) over licence strings that are not valid SPDX (`GPLv3`): a match is denied. */
    'deny-text': z.array(z.string().regex(/^\/.*\/[a-z]*$/, 'a regular expression written /…/flags')).optional(),
    mode: mode.optional(),
  })
  .strict()
  .refine((r) => r.deny || r.allow, 'give `deny`, `allow` or both');

const securityRule = z
  .object({
    id,
    reason: z.string().min(3, 'say why: the reason is shown with every block'),
    /** Findings at or above this severity in the changed files block. */
    'max-severity': z.enum(['note', 'low', 'medium', 'high', 'critical']),
    /** How many findings at or above it are tolerated (default 0). */
    allowed: z.number().int().min(0).default(0),
    /** Only findings the change brings in: in changed files (SARIF) or in dependencies it adds (Grype). `false`: every finding counts. */
    'new-only': z.boolean().default(true),
    mode: mode.optional(),
  })
  .strict();

/** Package patterns: `name`, `@scope/*`, `name@1.2.3`; only `*` is special. */
const packagePattern = z.string().regex(/^[^\s]+$/, 'a package name or name@version, no spaces');

const dependencyRule = z
  .object({
    id,
    reason: z.string().min(3, 'say why: the reason is shown with every block'),
    /** Which packages the rule is about (default: all). */
    packages: z.array(packagePattern).min(1).default(['*']),
    except: z.array(packagePattern).default([]),
    /** `new`: a package no version of which was in the base; `added`: any new name@version, upgrades included. */
    when: z.enum(['new', 'added']).default('new'),
    mode: mode.optional(),
  })
  .strict();

const secretsRule = z
  .object({
    id: id.default('no-secrets'),
    reason: z.string().min(3).default('Credentials must not be committed; rotate the secret and use a secret store'),
    /** Paths not scanned (test fixtures with fake keys, for example). */
    exclude: z.array(z.string().min(1)).default([]),
    mode: mode.optional(),
  })
  .strict();

const modelsRule = z
  .object({
    id: id.default('model-budget'),
    reason: z.string().min(3).default('LLM spend per pull request is capped'),
    'max-usd-per-pr': z.number().positive().optional(),
    'max-prompt-tokens': z.number().int().positive().optional(),
    mode: mode.optional(),
  })
  .strict();

const overridesSection = z
  .object({
    /** The pull request's author may override blocks on their own pull request (default: no). */
    'allow-self': z.boolean().default(false),
  })
  .strict();

export const policySchema = z
  .object({
    version: z.literal(1),
    mode: mode.default('warn'),
    /**
     * How path rules combine: `most-specific` (the longest literal glob wins; at a tie deny beats
     * allow) or `deny-wins` (any matching deny blocks, the first one in file order gives the reason;
     * the plan's format uses it).
     */
    precedence: z.enum(['most-specific', 'deny-wins']).default('most-specific'),
    overrides: overridesSection.default({ 'allow-self': false }),
    paths: z.array(pathRule).default([]),
    licenses: z.array(licenceRule).default([]),
    security: z.array(securityRule).default([]),
    dependencies: z.array(dependencyRule).default([]),
    secrets: secretsRule.optional(),
    models: modelsRule.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    for (const [i, r] of [...p.paths, ...p.licenses].entries()) {
      if (seen.has(r.id)) ctx.addIssue({ code: 'custom', message: `rule id '${r.id}' is used twice`, path: [i < p.paths.length ? 'paths' : 'licenses', i < p.paths.length ? i : i - p.paths.length, 'id'] });
      seen.add(r.id);
    }
    for (const section of ['security', 'dependencies'] as const) {
      for (const [i, r] of p[section].entries()) {
        if (seen.has(r.id)) ctx.addIssue({ code: 'custom', message: `rule id '${r.id}' is used twice`, path: [section, i, 'id'] });
        seen.add(r.id);
      }
    }
  });

export type Policy = z.output<typeof policySchema> & {
  /** Set when the file was written in the product plan's format (read as written; see plan-format.ts). */
  format?: 'plan';
  /** What converting the plan's format means for this file (regexes turned into licence ids, …). */
  notes?: string[];
};

export function loadPolicy(source: string, file = 'policy/rules.yaml'): Policy {
  const raw = parseYaml(source, file) ?? {};
  // The plan's own format (allow/deny/deps/models, no version): read as written, same evaluator.
  if (isPlanFormat(raw)) {
    const { doc, notes } = convertPlan(raw, source, file);
    const r = policySchema.safeParse(doc);
    if (!r.success) throw new Error(`policy-gate: the plan-format policy ${file} converted to an invalid native policy: ${r.error.issues[0]?.message}`);
    return { ...r.data, format: 'plan', notes };
  }
  return validateConfig(policySchema, raw, source, file, 'see the policy reference in actions/policy-gate/README.md');
}

export interface Change {
  path: string;
  action: Action;
}

export interface Decision {
  rule: string;
  reason: string;
  mode: Mode;
  /** The file or dependency the decision is about. */
  subject: string;
  detail: string;
  /** Where to annotate, when the decision is about a place in the repository. */
  file?: string;
  line?: number;
}

/** Specificity of a glob: more literal characters first, then fewer wildcards. */
function specificity(glob: string): [number, number] {
  const wild = (glob.match(/\*\*|\*|\?|\[/g) ?? []).length;
  return [glob.replace(/[*?[\]{}]/g, '').length, -wild];
}

interface Compiled {
  rule: Policy['paths'][number];
  globs: Array<{ glob: string; m: Minimatch; spec: [number, number] }>;
}

function compile(p: Policy): Compiled[] {
  return p.paths.map((rule) => ({ rule, globs: rule.paths.map((glob) => ({ glob, m: new Minimatch(glob, { dot: true }), spec: specificity(glob) })) }));
}

/** The winning rule for one file, action and actor, with the glob that matched (for `explain`). */
export function ruleFor(compiled: readonly Compiled[], file: string, action: Action, actor: Actor, precedence: Policy['precedence'] = 'most-specific'): { rule: Compiled['rule']; glob: string } | undefined {
  let best: { rule: Compiled['rule']; glob: string; spec: [number, number] } | undefined;
  let firstAllow: { rule: Compiled['rule']; glob: string } | undefined;
  for (const c of compiled) {
    if (!c.rule.actions.includes(action) || !c.rule.actors.includes(actor)) continue;
    for (const g of c.globs) {
      if (!g.m.match(file)) continue;
      if (precedence === 'deny-wins') {
        // The first matching deny decides; an allow only answers when no deny matches.
        if (c.rule.effect === 'deny') return { rule: c.rule, glob: g.glob };
        firstAllow ??= { rule: c.rule, glob: g.glob };
        continue;
      }
      const better = !best || g.spec[0] > best.spec[0] || (g.spec[0] === best.spec[0] && (g.spec[1] > best.spec[1] || (g.spec[1] === best.spec[1] && c.rule.effect === 'deny' && best.rule.effect === 'allow')));
      if (better) best = { rule: c.rule, glob: g.glob, spec: g.spec };
    }
  }
  if (precedence === 'deny-wins') return firstAllow;
  return best && { rule: best.rule, glob: best.glob };
}

/**
 * Path decisions for a change. A rename is judged on both sides: the old path
 * as `rename` (moving a protected file out is a change to it) and the new path
 * as `create`.
 */
export function evaluatePaths(policy: Policy, changes: ReadonlyArray<Change & { oldPath?: string }>, actor: Actor): Decision[] {
  const compiled = compile(policy);
  const out: Decision[] = [];
  const judge = (file: string, action: Action) => {
    const hit = ruleFor(compiled, file, action, actor, policy.precedence);
    if (hit && hit.rule.effect === 'deny') out.push({ rule: hit.rule.id, reason: hit.rule.reason, mode: hit.rule.mode ?? policy.mode, subject: file, detail: `${actor} may not ${action} ${file} (matched ${hit.glob})`, file });
  };
  for (const c of changes) {
    if (c.action === 'rename' && c.oldPath) {
      judge(c.oldPath, 'rename');
      judge(c.path, 'create');
    } else judge(c.path, c.action);
  }
  return out;
}

export type { DependencyChange };

const SOURCE: Record<DependencyChange['licenseSource'], string> = { sbom: 'from the SBOM', lockfile: 'from the lockfile', 'package.json': 'from the installed package.json', none: '' };

/** Licence decisions for the packages a change adds (upgrades included: a new version can change licence). */
export function evaluateLicences(policy: Policy, deps: ReadonlyArray<Pick<DependencyChange, 'name' | 'version' | 'license'> & Partial<Pick<DependencyChange, 'licenseSource' | 'lockfile' | 'licenseConflict'>>>): Decision[] {
  const out: Decision[] = [];
  for (const d of deps) {
    // A lockfile that claims another licence than the package has is edited by hand (or by the pull request): flagged under the first licence rule.
    const first = policy.licenses[0];
    if (d.licenseConflict && first) {
      out.push({ rule: first.id, reason: first.reason, mode: first.mode ?? policy.mode, subject: `${d.name}@${d.version}`, detail: `the lockfile says ${d.licenseConflict.lockfile}, but the installed package says ${d.licenseConflict.installed ?? '(none)'}; judged by the installed one${d.lockfile ? ` (${d.lockfile})` : ''}`, ...(d.lockfile ? { file: d.lockfile } : {}) });
    }
    for (const rule of policy.licenses) {
      const v = judgeLicence(d.license, rule);
      if (v.ok) continue;
      const where = d.licenseSource === 'none' ? 'no licence found: install dependencies before this step or pass an SBOM' : d.licenseSource ? `licence ${d.license ?? '(none)'} ${SOURCE[d.licenseSource]}` : '';
      out.push({ rule: rule.id, reason: rule.reason, mode: rule.mode ?? policy.mode, subject: `${d.name}@${d.version}`, detail: [v.why, where].filter(Boolean).join('; ') + (d.lockfile ? ` (${d.lockfile})` : ''), ...(d.lockfile ? { file: d.lockfile } : {}) });
    }
  }
  return out;
}

function packageMatcher(patterns: readonly string[]): (name: string, version: string) => boolean {
  const tests = patterns.map((p) => {
    const at = p.indexOf('@', 1);
    const [name, version] = at > 0 ? [p.slice(0, at), p.slice(at + 1)] : [p, '*'];
    const n = starPattern(name);
    const v = starPattern(version);
    return (pn: string, pv: string) => n.test(pn) && v.test(pv);
  });
  return (name, version) => tests.some((t) => t(name, version));
}

/** Dependency rules: packages the change adds (or adds for the first time) that a rule names. */
export function evaluateDependencies(policy: Policy, deps: readonly DependencyChange[]): Decision[] {
  const out: Decision[] = [];
  for (const rule of policy.dependencies) {
    const hit = packageMatcher(rule.packages);
    const spared = packageMatcher(rule.except);
    for (const d of deps) {
      if (rule.when === 'new' && !d.new) continue;
      if (!hit(d.name, d.version) || spared(d.name, d.version)) continue;
      const what = d.new ? 'adds a new dependency' : `upgrades from ${d.previous.join(', ')}`;
      out.push({ rule: rule.id, reason: rule.reason, mode: rule.mode ?? policy.mode, subject: `${d.name}@${d.version}`, detail: `${what} in ${d.lockfile}${d.dev ? ' (dev)' : ''}`, file: d.lockfile });
    }
  }
  return out;
}

/** Which rules apply to a path and why (for `maestro policy explain`). */
export function explainPath(policy: Policy, file: string): Array<{ action: Action; actor: Actor; effect: 'deny' | 'allow' | 'default-allow'; rule?: string; glob?: string; reason?: string }> {
  const compiled = compile(policy);
  const rows = [];
  for (const action of ACTIONS) {
    for (const actor of ACTORS) {
      const hit = ruleFor(compiled, file, action, actor, policy.precedence);
      rows.push(hit ? { action, actor, effect: hit.rule.effect, rule: hit.rule.id, glob: hit.glob, reason: hit.rule.reason } : { action, actor, effect: 'default-allow' as const });
    }
  }
  return rows;
}

/** Lowest to highest; the severity type is the SARIF reader's. */
const SEVERITY: readonly Severity[] = ['note', 'low', 'medium', 'high', 'critical'];
export type { Severity };

export interface Finding {
  tool: string;
  rule: string;
  severity: Severity;
  file: string;
  line?: number;
  message: string;
  /** name@version for dependency findings (Grype); judged by whether the change adds that package. */
  package?: string;
}

/**
 * Security decisions: per rule, findings at or above its severity beyond
 * `allowed`. With `new-only` (the default) a file finding counts when its file
 * is changed and a package finding when the change adds that name@version.
 */
export function evaluateFindings(policy: Policy, findings: readonly Finding[], changedFiles: readonly string[], addedPackages: readonly string[] = []): Decision[] {
  const changed = new Set(changedFiles);
  const added = new Set(addedPackages);
  const out: Decision[] = [];
  for (const rule of policy.security) {
    const min = SEVERITY.indexOf(rule['max-severity']);
    const isNew = (f: Finding) => (f.package ? added.has(f.package) : changed.has(f.file));
    const hits = findings.filter((f) => (!rule['new-only'] || isNew(f)) && SEVERITY.indexOf(f.severity) >= min);
    if (hits.length > rule.allowed) {
      for (const f of hits) out.push({ rule: rule.id, reason: rule.reason, mode: rule.mode ?? policy.mode, subject: f.package ?? (f.line ? `${f.file}:${f.line}` : f.file), detail: `${f.tool} ${f.rule} (${f.severity}): ${f.message}`, ...(f.file ? { file: f.file } : {}), ...(f.line && !f.package ? { line: f.line } : {}) });
    }
  }
  return out;
}

/** Model budget decisions for an agent step's spend so far (read by agent-step too). */
export function evaluateModelBudget(policy: Policy, spend: { usd: number; promptTokens: number }): Decision[] {
  const m = policy.models;
  if (!m) return [];
  const out: Decision[] = [];
  const mk = (detail: string): Decision => ({ rule: m.id, reason: m.reason, mode: m.mode ?? policy.mode, subject: 'model budget', detail });
  if (m['max-usd-per-pr'] !== undefined && spend.usd > m['max-usd-per-pr']) out.push(mk(`spent $${spend.usd.toFixed(2)} of $${m['max-usd-per-pr'].toFixed(2)} per pull request`));
  if (m['max-prompt-tokens'] !== undefined && spend.promptTokens > m['max-prompt-tokens']) out.push(mk(`${spend.promptTokens} prompt tokens, over the cap of ${m['max-prompt-tokens']}`));
  return out;
}

/** Secret findings (already limited to added lines and non-excluded files) as decisions of the `secrets` rule. */
export function evaluateSecrets(policy: Policy, findings: readonly Finding[]): Decision[] {
  const r = policy.secrets;
  if (!r) return [];
  return findings.map((f) => ({ rule: r.id, reason: r.reason, mode: r.mode ?? policy.mode, subject: f.line ? `${f.file}:${f.line}` : f.file, detail: f.message, file: f.file, ...(f.line ? { line: f.line } : {}) }));
}
