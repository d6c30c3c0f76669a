/**
 * `maestro policy migrate`: the seed's example policy (unversioned; `rules`
 * with `allow`/`deny` path lists × actions, `deps.deny` regex patterns with
 * reasons, `models.max_usd_per_pr` / `max_prompt_tokens`) → version 1.
 *
 * The one rule that cannot move as is: a regex over the licence string
 * (`/.*GPL.*\/i`). Run over a whole expression it denies `MIT OR
 * GPL-3.0-or-later`, which may be used under MIT. The migration keeps the
 * regex's meaning per licence id — it is tested against every SPDX id and the
 * ids it matches become id patterns (`GPL-*`, …) judged per alternative — and
 * says which families it caught, so an author who meant "GPL" sees that LGPL
 * and AGPL were caught too. The migrated policy starts in `observe` mode: a
 * staged rollout, not a new wall on day one.
 */
import { dump } from 'js-yaml';
import { z } from 'zod';
import ids from 'spdx-license-ids/index.json' with { type: 'json' };
import deprecated from 'spdx-license-ids/deprecated.json' with { type: 'json' };
import { ConfigError } from '@maestro/core/errors';
import { parseYaml, validateConfig } from '@maestro/core/config';
import { ACTIONS, ACTORS, loadPolicy } from './dsl.js';

const seedPathRule = z
  .object({
    id: z.string().optional(),
    reason: z.string().optional(),
    allow: z.array(z.string()).optional(),
    deny: z.array(z.string()).optional(),
    actions: z.array(z.enum(ACTIONS)).optional(),
    actors: z.array(z.enum(ACTORS)).optional(),
  })
  .strict()
  .refine((r) => !!r.allow !== !!r.deny, 'a rule has either `allow` or `deny` paths');

const seedPattern = z.union([z.string(), z.object({ pattern: z.string(), reason: z.string().optional() }).strict()]);

export const seedSchema = z
  .object({
    rules: z.array(seedPathRule).default([]),
    deps: z.object({ deny: z.array(seedPattern).default([]), reason: z.string().optional() }).strict().optional(),
    models: z.object({ max_usd_per_pr: z.number().positive().optional(), max_prompt_tokens: z.number().int().positive().optional() }).strict().optional(),
  })
  .strict();

const ALL_IDS: readonly string[] = [...new Set([...(ids as string[]), ...(deprecated as string[])])].sort();

/** `/body/flags` → RegExp; a plain string is an exact id or `*` pattern. */
function asRegex(p: string): RegExp | undefined {
  const m = /^\/(.*)\/([a-z]*)$/.exec(p.trim());
  return m ? new RegExp(m[1]!, m[2]!.replace(/g/g, '')) : undefined;
}

/** The family of an id: the part before the first dash (`LGPL-2.1-only` → `LGPL`). */
const family = (id: string) => id.split('-')[0]!;

/**
 * The SPDX ids a regex matches, compressed to `FAMILY-*` where it matches a
 * whole family, plus the families for the note.
 */
export function regexToIds(re: RegExp): { patterns: string[]; families: string[] } {
  const matched = ALL_IDS.filter((id) => re.test(id));
  const byFamily = new Map<string, string[]>();
  for (const id of matched) byFamily.set(family(id), [...(byFamily.get(family(id)) ?? []), id]);
  const patterns: string[] = [];
  for (const [fam, list] of byFamily) {
    const members = ALL_IDS.filter((id) => family(id) === fam);
    if (list.length === members.length && members.length > 1) patterns.push(members.includes(fam) ? fam : `${fam}-*`, ...(members.includes(fam) ? [`${fam}-*`] : []));
    else patterns.push(...list);
  }
  return { patterns, families: [...byFamily.keys()] };
}

export interface Migration {
  yaml: string;
  notes: string[];
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'rule';

export function migrateSeedPolicy(source: string, file = 'policy/rules.yaml'): Migration {
  const raw = parseYaml(source, file);
  if (raw && typeof raw === 'object' && 'version' in raw) throw new ConfigError('this policy already has a `version`; nothing to migrate', { file, fix: 'run `maestro policy check` to use it' });
  const seed = validateConfig(seedSchema, raw ?? {}, source, file, 'the seed format has `rules`, `deps.deny` and `models`; see actions/policy-gate/README.md#migrating-the-seed-example');
  const notes: string[] = [];
  const used = new Set<string>();
  const uniqueId = (want: string) => {
    let id = want;
    for (let i = 2; used.has(id); i++) id = `${want}-${i}`;
    used.add(id);
    return id;
  };
  const needReason = (what: string) => {
    notes.push(`${what} had no reason; write one (it is shown with every block)`);
    return `(migrated without a reason: say why ${what} exists)`;
  };
  const paths = seed.rules.map((r, i) => {
    const globs = (r.deny ?? r.allow)!;
    const id = uniqueId(r.id ? slug(r.id) : `${r.deny ? 'deny' : 'allow'}-${slug(globs[0] ?? String(i))}`);
    return {
      id,
      reason: r.reason ?? needReason(`rule ${id}`),
      effect: r.deny ? 'deny' : 'allow',
      paths: globs,
      ...(r.actions ? { actions: r.actions } : {}),
      ...(r.actors ? { actors: r.actors } : {}),
    };
  });
  const licenses = (seed.deps?.deny ?? []).map((p, i) => {
    const pattern = typeof p === 'string' ? p : p.pattern;
    const reason = (typeof p === 'string' ? undefined : p.reason) ?? seed.deps?.reason;
    const re = asRegex(pattern);
    const id = uniqueId(`licence-deny-${i + 1}`);
    if (!re) return { id, reason: reason ?? needReason(`licence rule ${id}`), deny: [pattern] };
    const { patterns, families } = regexToIds(re);
    if (!patterns.length) notes.push(`${pattern} matches no SPDX licence id; rule ${id} denies nothing — check it`);
    else
      notes.push(
        `${pattern} was a regex over the whole licence string; it is now the ids it matches (${families.join(', ')} families), judged per alternative: 'MIT OR GPL-3.0-or-later' passes (usable under MIT), 'MIT AND GPL-2.0-only' is denied.${families.length > 1 ? ` The regex caught ${families.length} families; drop any you did not mean (LGPL and AGPL are matched by /GPL/ too).` : ''}`,
      );
    return { id, reason: reason ?? needReason(`licence rule ${id}`), deny: patterns.length ? patterns : [pattern] };
  });
  const models = seed.models && { ...(seed.models.max_usd_per_pr !== undefined ? { 'max-usd-per-pr': seed.models.max_usd_per_pr } : {}), ...(seed.models.max_prompt_tokens !== undefined ? { 'max-prompt-tokens': seed.models.max_prompt_tokens } : {}) };
  const doc = { version: 1, mode: 'observe', paths, licenses, ...(models && Object.keys(models).length ? { models } : {}) };
  notes.push('the migrated policy starts in `mode: observe` (violations are recorded, nothing blocks); move to `warn`, then `enforce`, rule by rule');
  const yaml = `# Migrated from the seed format by \`maestro policy migrate\`.\n${notes.map((n) => `# - ${n}`).join('\n')}\n${dump(doc, { lineWidth: 120, noRefs: true })}`;
  // The result must load: a migration that produces an invalid policy is a bug here, not the user's.
  loadPolicy(yaml, file);
  return { yaml, notes };
}
