/** The base a local command compares with when none is given: the fork point from the default branch. */
import { ConfigError } from '@maestro/core/errors';
import { git } from '@maestro/core/git';

const CANDIDATES = ['origin/HEAD', 'origin/main', 'origin/master', 'main', 'master'];

export async function defaultBase(cwd: string, head: string, command: string): Promise<{ base: string; note: string }> {
  for (const ref of CANDIDATES) {
    try {
      const base = (await git(['merge-base', ref, head], { cwd })).trim();
      if (base) return { base, note: `merge-base of ${head} with ${ref}` };
    } catch {
      /* try the next one */
    }
  }
  throw new ConfigError('no default branch found to compare with', { file: command, fix: 'pass --base <rev> (a branch, tag or SHA)' });
}
