/** SPDX licence ids and what a regex over them means: the plan's `deps.deny` patterns become id patterns. */
import ids from 'spdx-license-ids/index.json' with { type: 'json' };
import deprecated from 'spdx-license-ids/deprecated.json' with { type: 'json' };

const ALL_IDS: readonly string[] = [...new Set([...(ids as string[]), ...(deprecated as string[])])].sort();

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

