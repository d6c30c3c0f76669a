/** `maestro attest verify`: what attest-verify does, on your machine, offline by default. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_POLICY_PATH, attest, renderSummary } from '@maestro/attest';
import { ConfigError } from '@maestro/core/errors';
import type { CommandContext } from '../main.js';

export async function attestCommand(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.args;
  if (sub !== 'verify') throw new ConfigError(`unknown subcommand '${sub ?? ''}'`, { file: 'maestro attest', fix: 'use `maestro attest verify <subject>… --bundle <file> [--policy .maestro/attest-policy.yml]`' });
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      bundle: { type: 'string', multiple: true, default: [] },
      policy: { type: 'string', default: DEFAULT_POLICY_PATH },
      'trusted-root': { type: 'string' },
      'public-key': { type: 'string' },
      'allow-no-tlog': { type: 'boolean', default: false },
      'npm-registry': { type: 'string' },
      'max-bundle-mb': { type: 'string', default: '16' },
      json: { type: 'boolean', default: false },
      cwd: { type: 'string' },
    },
    strict: true,
  });
  const cwd = path.resolve(values.cwd ?? ctx.cwd);
  if (!positionals.length) throw new ConfigError('no subject given', { file: 'maestro attest verify', fix: 'name what to verify: a file, `pkg:npm/<name>@<version> sha512-…`, `<name>@sha256:<hex>` or `tree:<dir>`' });
  const policyFile = values.policy!;
  let source: string;
  try {
    source = readFileSync(path.resolve(cwd, policyFile), 'utf8');
  } catch {
    throw new ConfigError('cannot read the attestation policy', { file: policyFile, fix: 'pass --policy <file> (format: actions/attest-verify/README.md)' });
  }
  const mb = Number(values['max-bundle-mb']);
  if (!Number.isInteger(mb) || mb < 1 || mb > 256) throw new ConfigError('--max-bundle-mb must be an integer from 1 to 256', { file: 'maestro attest verify' });
  const { report } = await attest({
    cwd,
    policy: { source, file: policyFile },
    subjects: positionals,
    bundles: values.bundle!,
    ...(values['public-key'] ? { publicKey: values['public-key'] } : {}),
    ...(values['trusted-root'] ? { trustedRoot: values['trusted-root'] } : {}),
    allowNoTlog: values['allow-no-tlog']!,
    ...(values['npm-registry'] ? { npmRegistry: values['npm-registry'] } : {}),
    maxBytes: mb * 1024 * 1024,
    // On the command line the files you name are yours: any path is allowed.
    roots: ['/'],
  });
  ctx.stdout(values.json ? JSON.stringify(report, null, 2) : renderSummary(report).trimEnd());
  return report.failed && report.mode === 'enforce' ? 1 : 0;
}
