/** `maestro policy check` (a local change against the base's policy) and `maestro policy explain <path>`. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '@maestro/core/errors';
import { checkPaths, explainPath, loadPolicy, loadPolicyAt, type Actor } from '@maestro/policy';
import type { CommandContext } from '../main.js';
import { defaultBase } from './base.js';

export async function policyCommand(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      policy: { type: 'string', default: 'policy/rules.yaml' },
      base: { type: 'string' },
      head: { type: 'string', default: 'HEAD' },
      actor: { type: 'string', default: 'human' },
      json: { type: 'boolean', default: false },
      cwd: { type: 'string' },
    },
    strict: true,
  });
  const cwd = values.cwd ?? ctx.cwd;
  const actor = values.actor as Actor;
  if (!['human', 'bot', 'agent'].includes(actor)) throw new ConfigError(`--actor must be human, bot or agent, got '${values.actor}'`, { file: 'maestro policy', fix: 'pass --actor agent, for example' });
  if (sub === 'explain') {
    const file = positionals[0];
    if (!file) throw new ConfigError('explain needs a path', { file: 'maestro policy explain', fix: 'maestro policy explain infra/main.tf' });
    const policy = loadPolicy(readFileSync(`${cwd}/${values.policy}`, 'utf8'), values.policy);
    const rows = explainPath(policy, file);
    if (values.json) ctx.stdout(JSON.stringify(rows, null, 2));
    else ctx.stdout([`${file}:`, ...rows.map((r) => `  ${r.actor.padEnd(5)} ${r.action.padEnd(6)} ${r.effect}${r.rule ? ` by ${r.rule} (${r.glob}): ${r.reason}` : ''}`)].join('\n'));
    return 0;
  }
  if (sub !== 'check') throw new ConfigError(`unknown subcommand '${sub ?? ''}'`, { file: 'maestro policy', fix: 'use `maestro policy check` or `maestro policy explain <path>`' });
  const head = values.head!;
  const base = values.base ?? (await defaultBase(cwd, head, 'maestro policy')).base;
  // As in the action: the rules come from the base, not from the change.
  const policy = await loadPolicyAt(cwd, base, values.policy!);
  const { changes, decisions } = await checkPaths({ cwd, base, head, policy, actor });
  const block = decisions.some((d) => d.mode === 'enforce');
  if (values.json) ctx.stdout(JSON.stringify({ outcome: block ? 'block' : decisions.length ? 'warn' : 'pass', violations: decisions }, null, 2));
  else ctx.stdout(decisions.length ? decisions.map((d) => `${d.mode.padEnd(7)} ${d.rule}: ${d.subject} — ${d.reason} (${d.detail})`).join('\n') : `pass: ${changes.length} changed file(s), no rule violated`);
  return block ? 1 : 0;
}
