/** `maestro policy check` (a local change against the base's policy), `explain <path>` and `migrate <seed-file>`. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '@maestro/core/errors';
import { readSarif } from '@maestro/core/sarif';
import { checkChange, evaluateFindings, explainPath, loadPolicy, loadPolicyAt, readGrype, readSbom, type Actor } from '@maestro/policy';
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
      sarif: { type: 'string', multiple: true, default: [] },
      grype: { type: 'string', multiple: true, default: [] },
      sbom: { type: 'string' },
      write: { type: 'string' },
      json: { type: 'boolean', default: false },
      cwd: { type: 'string' },
    },
    strict: true,
  });
  const cwd = values.cwd ?? ctx.cwd;
  const actor = values.actor as Actor;
  if (!['human', 'bot', 'agent'].includes(actor)) throw new ConfigError(`--actor must be human, bot or agent, got '${values.actor}'`, { file: 'maestro policy', fix: 'pass --actor agent, for example' });
  const read = (f: string) => readFileSync(path.resolve(cwd, f), 'utf8');
  if (sub === 'migrate') {
    const file = positionals[0] ?? values.policy!;
    const { migrateSeedPolicy } = await import('@maestro/policy/migrate');
    const { yaml, notes } = migrateSeedPolicy(read(file), file);
    if (values.write) {
      const out = path.resolve(cwd, values.write);
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, yaml);
      ctx.stdout([`wrote ${values.write}`, ...notes.map((n) => `  - ${n}`)].join('\n'));
    } else ctx.stdout(yaml);
    return 0;
  }
  if (sub === 'explain') {
    const file = positionals[0];
    if (!file) throw new ConfigError('explain needs a path', { file: 'maestro policy explain', fix: 'maestro policy explain infra/main.tf' });
    const policy = loadPolicy(read(values.policy!), values.policy);
    const rows = explainPath(policy, file);
    if (values.json) ctx.stdout(JSON.stringify(rows, null, 2));
    else ctx.stdout([`${file}:`, ...rows.map((r) => `  ${r.actor.padEnd(5)} ${r.action.padEnd(6)} ${r.effect}${r.rule ? ` by ${r.rule} (${r.glob}): ${r.reason}` : ''}`)].join('\n'));
    return 0;
  }
  if (sub !== 'check') throw new ConfigError(`unknown subcommand '${sub ?? ''}'`, { file: 'maestro policy', fix: 'use `maestro policy check`, `maestro policy explain <path>` or `maestro policy migrate <file>`' });
  const head = values.head!;
  const base = values.base ?? (await defaultBase(cwd, head, 'maestro policy')).base;
  // As in the action: the rules come from the base, not from the change.
  const policy = await loadPolicyAt(cwd, base, values.policy!);
  if (policy.format === 'plan') ctx.stderr(`note: ${values.policy} is in the plan's format, read as written (deny wins); \`maestro policy migrate ${values.policy}\` writes the native format`);
  const sbom = values.sbom ? readSbom(read(values.sbom), values.sbom) : undefined;
  const report = await checkChange({ cwd, base, head, policy, actor, ...(sbom ? { sbom } : {}) });
  const findings = [...values.sarif!.flatMap((f) => readSarif(read(f), f)), ...values.grype!.flatMap((f) => readGrype(read(f), f))];
  const decisions = [...report.decisions, ...evaluateFindings(policy, findings, report.changes.map((c) => c.path), report.dependencies.map((d) => `${d.name}@${d.version}`))];
  const block = decisions.some((d) => d.mode === 'enforce');
  const outcome = block ? 'block' : decisions.some((d) => d.mode === 'warn') ? 'warn' : 'pass';
  if (values.json) ctx.stdout(JSON.stringify({ outcome, base, changedFiles: report.changes.length, dependencies: report.dependencies, violations: decisions }, null, 2));
  else {
    const lines = decisions.map((d) => `${d.mode.padEnd(7)} ${d.rule}: ${d.subject} — ${d.reason} (${d.detail})`);
    lines.push(`${outcome}: ${report.changes.length} changed file(s)${report.dependencies.length ? `, ${report.dependencies.length} added package(s)` : ''}, ${decisions.length} violation(s)`);
    ctx.stdout(lines.join('\n'));
  }
  return block ? 1 : 0;
}
