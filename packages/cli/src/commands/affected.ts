/** `maestro affected`: the affected action's analysis on a local repository. */
import { parseArgs } from 'node:util';
import { analyze, formatReport } from '@maestro/affected';
import { defaultBase } from './base.js';
import type { CommandContext } from '../main.js';

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
      // Projects and tasks only, like `turbo ls --affected`: skips the lockfile parse and per-target key hashing.
      'no-keys': { type: 'boolean', default: false },
      cwd: { type: 'string' },
    },
    strict: true,
  });
  const cwd = values.cwd ?? ctx.cwd;
  const head = values.head!;
  const { base, note } = values.base ? { base: values.base, note: '' } : await defaultBase(cwd, head, 'maestro affected');
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
    // The text report does not show keys, so only JSON computes them.
    keys: values.json! && !values['no-keys'],
  });
  // No --base: the base is the fork point from the default branch, not an input.
  if (!values.base) Object.assign(report, { baseSource: 'default-branch-merge-base', baseNote: note });
  if (values.json) ctx.stdout(JSON.stringify(report, null, 2));
  else ctx.stdout(formatReport(report));
  return 0;
}
