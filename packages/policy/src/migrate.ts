/**
 * `maestro policy migrate`: the product plan's policy file (`allow`/`deny`
 * path entries, `deps.deny` licence patterns, `models` caps; see
 * plan-format.ts) → the native version-1 format, with ids, modes, actors and
 * `precedence: deny-wins`, so the migrated file makes exactly the decisions
 * the plan's file makes when policy-gate reads it directly. From there the
 * native format adds what the plan's cannot say: per-rule modes (observe →
 * warn → enforce), actors, dependency and security rules, secrets.
 *
 * The one rule that changes shape: a regex over the licence string
 * (`/.*GPL.*\/i`) becomes the SPDX ids it matches (`GPL-*`, …) judged per
 * alternative, and the notes say which families it caught, so an author who
 * meant "GPL" sees that LGPL and AGPL were caught too.
 */
import { dump } from 'js-yaml';
import { ConfigError } from '@maestro/core/errors';
import { parseYaml } from '@maestro/core/config';
import { loadPolicy } from './dsl.js';
import { convertPlan, isPlanFormat } from './plan-format.js';

export { regexToIds } from './licence-ids.js';

export interface Migration {
  yaml: string;
  notes: string[];
}

export function migrateSeedPolicy(source: string, file = 'policy/rules.yaml'): Migration {
  const raw = parseYaml(source, file);
  if (raw && typeof raw === 'object' && 'version' in raw) throw new ConfigError('this policy already has a `version`; nothing to migrate', { file, fix: 'run `maestro policy check` to use it' });
  if (!isPlanFormat(raw)) throw new ConfigError("this is not the plan's policy format (top-level `allow`, `deny`, `deps`, `models`)", { file, line: 1, fix: 'see actions/policy-gate/README.md#the-plans-format' });
  const { doc, notes } = convertPlan(raw, source, file);
  notes.push("precedence: deny-wins keeps the plan's meaning (any matching deny blocks); every rule is `enforce` as in the plan's file — to roll a rule out gently set its `mode: observe`, then `warn`");
  const yaml = `# Migrated from the plan's format by \`maestro policy migrate\`; it makes the same decisions.\n${notes.map((n) => `# - ${n}`).join('\n')}\n${dump(doc, { lineWidth: 120, noRefs: true })}`;
  // The result must load: a migration that produces an invalid policy is a bug here, not the user's.
  loadPolicy(yaml, file);
  return { yaml, notes };
}
