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
import { judgeLicence } from './spdx.js';

export const ACTIONS = ['read', 'write', 'create', 'delete', 'rename'] as const;
export const ACTORS = ['human', 'bot', 'agent'] as const;
export type Action = (typeof ACTIONS)[number];
export type Actor = (typeof ACTORS)[number];
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
    mode: mode.optional(),
  })
  .strict()
  .refine((r) => r.deny || r.allow, 'give `deny`, `allow` or both');

export const policySchema = z
  .object({
    version: z.literal(1),
    mode: mode.default('warn'),
    paths: z.array(pathRule).default([]),
    licenses: z.array(licenceRule).default([]),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    for (const [i, r] of [...p.paths, ...p.licenses].entries()) {
      if (seen.has(r.id)) ctx.addIssue({ code: 'custom', message: `rule id '${r.id}' is used twice`, path: [i < p.paths.length ? 'paths' : 'licenses', i < p.paths.length ? i : i - p.paths.length, 'id'] });
      seen.add(r.id);
    }
  });

export type Policy = z.output<typeof policySchema>;

export function loadPolicy(source: string, file = 'policy/rules.yaml'): Policy {
  return validateConfig(policySchema, parseYaml(source, file) ?? {}, source, file, 'see the policy reference in actions/policy-gate/README.md');
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
export function ruleFor(compiled: readonly Compiled[], file: string, action: Action, actor: Actor): { rule: Compiled['rule']; glob: string } | undefined {
  let best: { rule: Compiled['rule']; glob: string; spec: [number, number] } | undefined;
  for (const c of compiled) {
    if (!c.rule.actions.includes(action) || !c.rule.actors.includes(actor)) continue;
    for (const g of c.globs) {
      if (!g.m.match(file)) continue;
      const better = !best || g.spec[0] > best.spec[0] || (g.spec[0] === best.spec[0] && (g.spec[1] > best.spec[1] || (g.spec[1] === best.spec[1] && c.rule.effect === 'deny' && best.rule.effect === 'allow')));
      if (better) best = { rule: c.rule, glob: g.glob, spec: g.spec };
    }
  }
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
    const hit = ruleFor(compiled, file, action, actor);
    if (hit && hit.rule.effect === 'deny') out.push({ rule: hit.rule.id, reason: hit.rule.reason, mode: hit.rule.mode ?? policy.mode, subject: file, detail: `${actor} may not ${action} ${file} (matched ${hit.glob})` });
  };
  for (const c of changes) {
    if (c.action === 'rename' && c.oldPath) {
      judge(c.oldPath, 'rename');
      judge(c.path, 'create');
    } else judge(c.path, c.action);
  }
  return out;
}

export interface DependencyChange {
  name: string;
  version: string;
  license: string | null;
}

export function evaluateLicences(policy: Policy, deps: readonly DependencyChange[]): Decision[] {
  const out: Decision[] = [];
  for (const d of deps) {
    for (const rule of policy.licenses) {
      const v = judgeLicence(d.license, rule);
      if (!v.ok) out.push({ rule: rule.id, reason: rule.reason, mode: rule.mode ?? policy.mode, subject: `${d.name}@${d.version}`, detail: v.why });
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
      const hit = ruleFor(compiled, file, action, actor);
      rows.push(hit ? { action, actor, effect: hit.rule.effect, rule: hit.rule.id, glob: hit.glob, reason: hit.rule.reason } : { action, actor, effect: 'default-allow' as const });
    }
  }
  return rows;
}
