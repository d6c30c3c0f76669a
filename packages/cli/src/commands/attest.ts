/** `maestro attest verify`: what attest-verify does, on your machine, offline by default. */
import { readFileSync, writeFileSync } from 'node:fs';
import { load } from 'js-yaml';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_POLICY_PATH, attest, cyclonedx, lockClosure, renderSummary, resolveSubjects, treeDigest } from '@maestro/attest';
import { ConfigError } from '@maestro/core/errors';
import type { CommandContext } from '../main.js';

export async function attestCommand(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.args;
  if (sub === 'digest') return digestCommand({ ...ctx, args: rest });
  if (sub === 'sbom') return sbomCommand({ ...ctx, args: rest });
  if (sub !== 'verify') throw new ConfigError(`unknown subcommand '${sub ?? ''}'`, { file: 'maestro attest', fix: 'use `maestro attest verify <subject>… --bundle <file>`, `maestro attest digest <subject>…` or `maestro attest sbom <dist-dir> --name … --version … --importer …`' });
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

/** `maestro attest digest <subject>…`: the digests attest-verify computes (one line each: digest, subject). */
async function digestCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({ args: ctx.args, allowPositionals: true, options: { cwd: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true });
  const cwd = path.resolve(values.cwd ?? ctx.cwd);
  if (!positionals.length) throw new ConfigError('no subject given', { file: 'maestro attest digest', fix: 'name a file, `tree:<dir>` or `pkg:npm/<name>@<version> <file.tgz>`' });
  const subjects = await resolveSubjects(positionals, { cwd, resolve: (f) => path.resolve(cwd, f) });
  ctx.stdout(values.json ? JSON.stringify(subjects, null, 2) : subjects.map((s) => `${Object.entries(s.digests).map(([a, h]) => `${a}:${h}`)[0]}  ${s.name}`).join('\n'));
  return 0;
}

/** `maestro attest sbom <dist-dir>`: a CycloneDX 1.6 SBOM of a bundle from its package's lockfile closure, bound to the dir's tree digest. */
async function sbomCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({ args: ctx.args, allowPositionals: true, options: { name: { type: 'string' }, version: { type: 'string' }, importer: { type: 'string' }, lockfile: { type: 'string', default: 'pnpm-lock.yaml' }, out: { type: 'string' }, cwd: { type: 'string' } }, strict: true });
  const cwd = path.resolve(values.cwd ?? ctx.cwd);
  const dir = positionals[0];
  if (!dir || !values.name || !values.version || !values.importer) throw new ConfigError('missing arguments', { file: 'maestro attest sbom', fix: 'maestro attest sbom actions/<name>/dist --name maestro/<name> --version X.Y.Z --importer actions/<name> [--lockfile pnpm-lock.yaml] [--out sbom.cdx.json]' });
  const lockPath = path.resolve(cwd, values.lockfile!);
  let lock: unknown;
  try {
    lock = load(readFileSync(lockPath, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read the lockfile: ${(e as Error).message.split('\n')[0]}`, { file: values.lockfile!, fix: 'run from the workspace root, or pass --lockfile' });
  }
  const components = lockClosure(lock as never, values.importer).map((c) => {
    // The licence the installed package declares (pnpm's virtual store), when it is installed.
    const pj = path.join(path.dirname(lockPath), 'node_modules/.pnpm', `${c.name.replace('/', '+')}@${c.version}`, 'node_modules', c.name, 'package.json');
    try {
      const licence = (JSON.parse(readFileSync(pj, 'utf8')) as { license?: unknown }).license;
      return typeof licence === 'string' ? { ...c, licence } : c;
    } catch {
      return c;
    }
  });
  const doc = cyclonedx({ name: values.name, version: values.version, treeDigest: treeDigest(path.resolve(cwd, dir)).digest, components });
  const text = JSON.stringify(doc, null, 2) + '\n';
  if (values.out) writeFileSync(path.resolve(cwd, values.out), text);
  else ctx.stdout(text.trimEnd());
  return 0;
}
