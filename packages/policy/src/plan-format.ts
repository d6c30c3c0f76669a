/**
 * The policy file exactly as the product plan prints it (`policy/rules.yaml`
 * in the v0.4 sprint plan), which users arriving from the plan commit as is:
 *
 * ```yaml
 * allow:
 *   - path: 'server/**'
 *     actions: ['read', 'write']
 * deny:
 *   - path: 'infra/**'
 *     actions: ['write']
 *     reason: 'Infra changes require human review.'
 * deps:
 *   deny:
 *     - pattern: '/.*GPL.*\/i'
 *       reason: 'GPL-licensed deps violate distribution policy.'
 * models:
 *   max_usd_per_pr: 3.00
 *   max_prompt_tokens: 60000
 * ```
 *
 * It is read into the native policy (one evaluator, one set of decisions),
 * with these meanings:
 * - **deny wins**: a change (path × action) is blocked when any `deny` entry
 *   matches it, and the first matching entry's reason is the decision's
 *   reason; an `allow` entry never overrides a `deny` (it records what is
 *   expected); anything no `deny` matches is allowed. Blocks are `enforce`.
 * - **actions**: `write` means changing the file in any way (modify, create,
 *   delete, rename: "infra changes" include new and removed files); `read`,
 *   `create`, `delete`, `rename` mean themselves; no `actions` means every
 *   change.
 * - **`deps.deny`** patterns are licence patterns. A regex (`/.*GPL.*\/i`) is
 *   applied to each SPDX licence id, and a package is denied only when every
 *   way it may be used (each `OR` alternative) carries a matching id:
 *   `MIT OR GPL-3.0-or-later` passes, `MIT AND GPL-2.0-only` is denied. A
 *   licence string that is not SPDX (`GPLv3`) is matched as text; a package
 *   whose licence cannot be found at all (pnpm and yarn lockfiles record
 *   none; install dependencies or pass an SBOM) is blocked as unjudgeable,
 *   not waved through.
 * - **`models`** caps are the native `models` section (agent-step's budget).
 *
 * Every deny needs its `reason`: the plan's rule is that every block carries
 * one. `maestro policy migrate` writes the same policy in the native format.
 */
import { z } from 'zod';
import { validateConfig } from '@maestro/core/config';
import { ACTIONS, type Action } from './actions.js';
import { regexToIds } from './licence-ids.js';
import { textRegex } from './spdx.js';

const planAction = z.enum(ACTIONS);

const planPathRule = z
  .object({
    path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    actions: z.array(planAction).min(1).optional(),
    reason: z.string().optional(),
  })
  .strict();

const planDenyRule = planPathRule.refine((r) => (r.reason ?? '').trim().length >= 3, { message: 'a deny entry needs a `reason` (at least a few words): it is shown with every block', path: ['reason'] });

const planPattern = z.union([z.string().min(1), z.object({ pattern: z.string().min(1), reason: z.string().optional() }).strict()]);

export const planSchema = z
  .object({
    allow: z.array(planPathRule).default([]),
    deny: z.array(planDenyRule).default([]),
    deps: z.object({ deny: z.array(planPattern).default([]), reason: z.string().optional() }).strict().optional(),
    models: z.object({ max_usd_per_pr: z.number().positive().optional(), max_prompt_tokens: z.number().int().positive().optional() }).strict().optional(),
  })
  .strict();

/** The plan's format: no `version`, and at least one of its top-level keys. */
export function isPlanFormat(raw: unknown): raw is Record<string, unknown> {
  return !!raw && typeof raw === 'object' && !Array.isArray(raw) && !('version' in raw) && ['allow', 'deny', 'deps', 'models'].some((k) => k in raw);
}

/** What the plan's `actions` mean in the native DSL: `write` is any change. */
export function planActions(actions: readonly Action[] | undefined): Action[] {
  if (!actions) return ['write', 'create', 'delete', 'rename'];
  const out = new Set<Action>();
  for (const a of actions) {
    if (a === 'write') for (const x of ['write', 'create', 'delete', 'rename'] as const) out.add(x);
    else out.add(a);
  }
  return ACTIONS.filter((a) => out.has(a));
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'rule';

export interface PlanConversion {
  /** A native (version 1) policy document. */
  doc: Record<string, unknown>;
  /** What a reader of the converted policy should know (regexes turned into ids, …). */
  notes: string[];
}

/** Validate the plan's file (errors at their line) and convert it to a native policy document. */
export function convertPlan(raw: unknown, source: string, file: string): PlanConversion {
  const plan = validateConfig(planSchema, raw ?? {}, source, file, "see actions/policy-gate/README.md#the-plans-format");
  const notes: string[] = [];
  const used = new Set<string>();
  const uniqueId = (want: string) => {
    let id = want;
    for (let i = 2; used.has(id); i++) id = `${want}-${i}`;
    used.add(id);
    return id;
  };
  const globs = (p: string | string[]) => (Array.isArray(p) ? p : [p]);
  // Deny entries first, in file order: with `precedence: deny-wins` the first matching deny decides.
  const paths = [
    ...plan.deny.map((r) => ({ id: uniqueId(`deny-${slug(globs(r.path)[0]!)}`), reason: r.reason!.trim(), effect: 'deny', paths: globs(r.path), actions: planActions(r.actions) })),
    ...plan.allow.map((r) => ({ id: uniqueId(`allow-${slug(globs(r.path)[0]!)}`), reason: r.reason?.trim() || `expected: ${globs(r.path).join(', ')}`, effect: 'allow', paths: globs(r.path), actions: planActions(r.actions) })),
  ];
  const licenses = (plan.deps?.deny ?? []).map((p, i) => {
    const pattern = typeof p === 'string' ? p : p.pattern;
    const reason = ((typeof p === 'string' ? undefined : p.reason) ?? plan.deps?.reason ?? '').trim() || `licences matching ${pattern} are denied`;
    const re = textRegex(pattern);
    const id = uniqueId(`deps-deny-${slug(re ? re.source.replace(/\.\*/g, ' ') : pattern) || i + 1}`);
    // The seed denies what matches; a package without a licence string, or a proprietary one, is not matched.
    // The seed denies what matches; a licence string that is not SPDX is matched as text (deny-text), and
    // a package whose licence could not be found at all is not passed unseen (missing: deny).
    const common = { id, reason, unknown: 'allow', missing: 'deny', proprietary: 'allow' };
    if (!re) return { ...common, deny: [pattern] };
    const { patterns, families } = regexToIds(re);
    const text = { 'deny-text': [pattern] };
    if (!patterns.length) notes.push(`${pattern} matches no SPDX licence id, so ${id} denies nothing: check it`);
    else notes.push(`${pattern} is applied to each licence id: ${families.join(', ')} ${families.length > 1 ? 'families' : 'family'} (${families.length > 1 ? 'drop any you did not mean: /GPL/ catches LGPL and AGPL too' : 'as written'}); 'MIT OR GPL-3.0-or-later' passes (usable under MIT), 'MIT AND GPL-2.0-only' is denied`);
    return { ...common, deny: patterns.length ? patterns : [pattern], ...text };
  });
  const m = plan.models;
  const models = m && (m.max_usd_per_pr !== undefined || m.max_prompt_tokens !== undefined) ? { ...(m.max_usd_per_pr !== undefined ? { 'max-usd-per-pr': m.max_usd_per_pr } : {}), ...(m.max_prompt_tokens !== undefined ? { 'max-prompt-tokens': m.max_prompt_tokens } : {}) } : undefined;
  const doc = { version: 1, mode: 'enforce', precedence: 'deny-wins', paths, licenses, ...(models ? { models } : {}) };
  return { doc, notes };
}
