/**
 * `maestro`: run Maestro Conductor capabilities on a laptop. Subcommands map
 * one-to-one to the actions; each is registered here with its help text and
 * implemented in the same pure packages the actions use.
 */
import { describeFailure } from '@maestro/core/errors';

export interface CommandContext {
  args: string[];
  cwd: string;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** The action this subcommand mirrors. */
  action: string;
  /** Returns the exit code. Absent while the capability has not landed yet. */
  run?: (ctx: CommandContext) => Promise<number>;
}

export const VERSION = '0.1.0';

export const commands: Command[] = [
  { name: 'affected', action: 'affected', summary: 'affected projects and tasks between two commits, with reasons', usage: 'maestro affected [--base <rev>] [--head <rev>] [--targets build,test] [--include-dependencies] [--tests] [--no-keys] [--json] [--cwd <dir>]', run: (ctx) => import('./commands/affected.js').then((m) => m.affectedCommand(ctx)) },
  { name: 'shards', action: 'allocate-shards', summary: 'time-balanced test shards from historical timings', usage: 'maestro shards [--count <n|auto>] [--timings <file>]… [--tests-glob <glob>]… [--tests-file <f>] [--overhead <s>] [--max-shards <n>] [--granularity file|test] [--shard <i>] [--json]', run: (ctx) => import('./commands/shards.js').then((m) => m.shardsCommand(ctx)) },
  { name: 'risk', action: 'risk-score', summary: 'calibrated defect probability of a local diff, with top factors', usage: 'maestro risk [--base <rev>] [--head <rev>] [--model <file>|seed] [--base-rate <p>] [--warn <p>] [--enforce <p>] [--json] [--cwd <dir>]\n       maestro risk calibrate [--out policy/risk-model.json] [--maturity-days 30] [--window-days 365] [--max-commits 20000] [--cache <file>|--no-cache] [--labels <file>] [--json]', run: (ctx) => import('./commands/risk.js').then((m) => m.riskCommand(ctx)) },
  { name: 'policy', action: 'policy-gate', summary: 'evaluate policy/rules.yaml against a change', usage: 'maestro policy check [--policy policy/rules.yaml] [--base <rev>] [--head <rev>] [--actor human|bot|agent] [--json]\n       maestro policy explain <path> [--policy policy/rules.yaml] [--json]\n       maestro policy migrate <seed-file> [--write policy/rules.yaml]', run: (ctx) => import('./commands/policy.js').then((m) => m.policyCommand(ctx)) },
  { name: 'attest', action: 'attest-verify', summary: 'verify Sigstore/DSSE attestations offline against a policy', usage: 'maestro attest verify <subject>… [--bundle <file>]… [--policy .maestro/attest-policy.yml] [--trusted-root <file>] [--public-key <pem>] [--allow-no-tlog] [--npm-registry <url>] [--json] [--cwd <dir>]\n       maestro attest digest <subject>…   (the digests attest-verify computes)\n       maestro attest sbom <dist-dir> --name maestro/<name> --version X.Y.Z --importer actions/<name> [--out file]\n       subjects: a file, pkg:npm/<name>@<version> sha512-…, <name>@sha256:<hex>, tree:<dir>', run: (ctx) => import('./commands/attest.js').then((m) => m.attestCommand(ctx)) },
  { name: 'agent', action: 'agent-step', summary: 'run a budgeted agent step and print the diff', usage: 'maestro agent <step> [--budget-usd <n>]' },
  { name: 'health', action: 'health-comment', summary: 'render the PR health comment from evidence files', usage: 'maestro health [--evidence <dir>]... [--sha <head>] [--bundle health.json] [--json]', run: (ctx) => import('./commands/health.js').then((m) => m.healthCommand(ctx)) },
];

export function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `maestro ${VERSION} — Maestro Conductor on your machine`,
    '',
    'Usage: maestro <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}${c.run ? '' : ' (not available yet)'}`),
    '',
    'Options:',
    '  -h, --help     show help (also: maestro <command> --help)',
    '  -v, --version  print the version',
  ].join('\n');
}

export async function main(argv: string[], io: Omit<CommandContext, 'args'>): Promise<number> {
  const [first, ...rest] = argv;
  if (!first || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const cmd = topic ? commands.find((c) => c.name === topic) : undefined;
    io.stdout(cmd ? commandHelp(cmd) : helpText());
    return 0;
  }
  if (first === '-v' || first === '--version') {
    io.stdout(VERSION);
    return 0;
  }
  const cmd = commands.find((c) => c.name === first);
  if (!cmd) {
    io.stderr(`maestro: unknown command '${first}'. Run 'maestro --help' for the list.`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(commandHelp(cmd));
    return 0;
  }
  if (!cmd.run) {
    io.stderr(`maestro ${cmd.name}: not available in this version yet (it lands with the '${cmd.action}' action).`);
    return 2;
  }
  try {
    return await cmd.run({ ...io, args: rest });
  } catch (err) {
    if (String((err as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`maestro ${cmd.name}: ${(err as Error).message}\nUsage: ${cmd.usage}`);
      return 2;
    }
    const report = describeFailure(`maestro ${cmd.name}`, err);
    io.stderr(report.message);
    return 1;
  }
}

function commandHelp(cmd: Command): string {
  return [`maestro ${cmd.name} — ${cmd.summary}`, '', `Usage: ${cmd.usage}`, '', `Same logic as the '${cmd.action}' action.`].join('\n');
}
