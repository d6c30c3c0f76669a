/** `maestro affected`: the affected action's analysis on a local repository. */
import { parseArgs } from 'node:util';
import { analyze, formatReport } from '@maestro/affected';
import { ConfigError } from '@maestro/core/errors';
import { git } from '@maestro/core/git';
import type { CommandContext } from '../main.js';

const CANDIDATES = ['origin/HEAD', 'origin/main', 'origin/master', 'main', 'master'];

async function defaultBase(cwd: string, head: string): Promise<{ base: string; note: string }> {
  for (const ref of CANDIDATES) {
    try {
      const base = (await git(['merge-base', ref, head], { cwd })).trim();
      if (base) return { base, note: `merge-base of ${head} with ${ref}` };
    } catch {
      /* try the next one */
    }
  }
  throw new ConfigError('no default branch found to compare with', { file: 'maestro affected', fix: 'pass --base <rev> (a branch, tag or SHA)' });
}

export async function affectedCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args: ctx.args,
    options: {
      base: { type: 'string' },
      head: { type: 'string', default: 'HEAD' },
      json: { type: 'boolean', default: false },
      targets: { type: 'string' },
      tests: { type: 'boolean', default: false },
      'include-dependencies': { type: 'boolean', default: false },
      cwd: { type: 'string' },
    },
    strict: true,
  });
  const cwd = values.cwd ?? ctx.cwd;
  const head = values.head!;
  const { base, note } = values.base ? { base: values.base, note: '' } : await defaultBase(cwd, head);
  const { report } = await analyze({
    cwd,
    eventName: 'local',
    event: {},
    sha: head,
    ref: '',
    base,
    head,
    targets: values.targets ? values.targets.split(',').map((s) => s.trim()).filter(Boolean) : [],
    includeDependencies: values['include-dependencies']!,
    testSelection: values.tests ? 'files' : 'off',
    keyEnv: process.env,
  });
  if (values.json) ctx.stdout(JSON.stringify(report, null, 2));
  else ctx.stdout((note ? `(${note})\n` : '') + formatReport(report));
  return 0;
}
