/** Test files among the tracked files of a checkout, by globs (`!` excludes; always `{dot: true}`). */
import { execFileSync } from 'node:child_process';
import { Minimatch } from 'minimatch';
import { ConfigError } from '@maestro/core/errors';

function trackedFiles(cwd: string): string[] {
  try {
    return execFileSync('git', ['-c', 'core.quotePath=false', 'ls-files', '-z'], { cwd, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] }).split('\0').filter(Boolean);
  } catch (e) {
    const why = String((e as { stderr?: unknown }).stderr ?? (e as Error).message).trim().split('\n')[0];
    throw new ConfigError(`test globs are matched against the checkout's tracked files, and git could not list them (${why})`, { file: cwd, fix: 'run after actions/checkout, in the repository directory', cause: e });
  }
}

export function discoverTests(cwd: string, globs: readonly string[]): string[] {
  const tracked = trackedFiles(cwd);
  const inc = globs.filter((g) => !g.startsWith('!')).map((g) => new Minimatch(g, { dot: true }));
  const exc = globs.filter((g) => g.startsWith('!')).map((g) => new Minimatch(g.slice(1), { dot: true }));
  return tracked.filter((f) => inc.some((m) => m.match(f)) && !exc.some((m) => m.match(f))).sort();
}
