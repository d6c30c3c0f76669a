/** Test files among the tracked files of a checkout, by globs (`!` excludes; always `{dot: true}`). */
import { execFileSync } from 'node:child_process';
import { Minimatch } from 'minimatch';

export function discoverTests(cwd: string, globs: readonly string[]): string[] {
  const tracked = execFileSync('git', ['-c', 'core.quotePath=false', 'ls-files', '-z'], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 }).split('\0').filter(Boolean);
  const inc = globs.filter((g) => !g.startsWith('!')).map((g) => new Minimatch(g, { dot: true }));
  const exc = globs.filter((g) => g.startsWith('!')).map((g) => new Minimatch(g.slice(1), { dot: true }));
  return tracked.filter((f) => inc.some((m) => m.match(f)) && !exc.some((m) => m.match(f))).sort();
}
