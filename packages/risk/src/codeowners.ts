/**
 * CODEOWNERS: which owners a set of changed files needs, by GitHub's rules —
 * gitignore-style patterns, the last matching line wins, an owner-less line
 * un-owns. Owners are `@user`, `@org/team` or e-mail addresses.
 */
import { Minimatch } from 'minimatch';

export const CODEOWNERS_PATHS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'];

interface Rule {
  line: number;
  pattern: string;
  owners: string[];
  matchers: Minimatch[];
}

export function parseCodeowners(text: string): Rule[] {
  const rules: Rule[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const [pattern, ...owners] = line.split(/\s+/) as [string, ...string[]];
    let p = pattern.replace(/\\ /g, ' ');
    const anchored = p.startsWith('/') || p.slice(0, -1).includes('/');
    p = p.replace(/^\//, '');
    if (p.endsWith('/')) p += '**';
    const base = anchored ? p : `**/${p}`;
    // A pattern naming a directory owns everything below it.
    const globs = base.endsWith('**') ? [base] : [base, `${base}/**`];
    rules.push({ line: i + 1, pattern, owners, matchers: globs.map((g) => new Minimatch(g, { dot: true })) });
  });
  return rules;
}

/** Owners of one file: the last matching rule's owners (empty when unowned). */
export function ownersOf(rules: readonly Rule[], file: string): { owners: string[]; line?: number } {
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    if (r.matchers.some((m) => m.match(file))) return { owners: r.owners, line: r.line };
  }
  return { owners: [] };
}

/** Users and teams to request for a change (the author excluded). */
export function reviewersFor(rules: readonly Rule[], files: readonly string[], author?: string): { users: string[]; teams: string[] } {
  const users = new Set<string>();
  const teams = new Set<string>();
  for (const f of files) {
    for (const o of ownersOf(rules, f).owners) {
      if (!o.startsWith('@')) continue; // e-mail owners cannot be requested through the API
      const name = o.slice(1);
      if (name.includes('/')) teams.add(name.split('/')[1]!);
      else if (name.toLowerCase() !== author?.toLowerCase()) users.add(name);
    }
  }
  return { users: [...users].sort(), teams: [...teams].sort() };
}
