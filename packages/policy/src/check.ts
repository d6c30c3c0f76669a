/**
 * Shared by the action and `maestro policy check`: rules from the base commit,
 * decisions for base..head — paths, dependency and licence rules from the
 * changed lockfiles, and a secret scan of the added lines.
 */
import { Minimatch } from 'minimatch';
import { ConfigError } from '@maestro/core/errors';
import { addedLines, blobSizes, diffBlobs, diffFiles, git, readBlobs, readFileAt, type FileChange } from '@maestro/core/git';
import { evaluateDependencies, evaluateLicences, evaluatePaths, evaluateSecrets, loadPolicy, type Action, type Actor, type Decision, type Finding, type Policy } from './dsl.js';
import { dependencyChanges, lockKind, type DependencyChange } from './deps.js';
import { scanSecrets } from './findings.js';

const STATUS_ACTION: Record<FileChange['status'], Action> = { added: 'create', modified: 'write', deleted: 'delete', renamed: 'rename', copied: 'create', 'type-changed': 'write' };

/** Files up to this size are linted whole; larger ones on their added lines only (line numbers kept). */
const SECRET_WHOLE_FILE_BYTES = 1 << 20;
/** Larger files are not diffed or scanned at all (reported as not scanned). */
export const SECRET_SCAN_MAX_BYTES = 32 << 20;

/** The policy as committed at `base` — never the version in the change under review. */
export async function loadPolicyAt(cwd: string, base: string, file: string): Promise<Policy> {
  const source = await readFileAt(base, file, { cwd });
  if (source === undefined) throw new ConfigError(`the policy file is not in the base commit ${base.slice(0, 12)}`, { file, fix: 'commit policy/rules.yaml to the base branch first (see actions/policy-gate/README.md)' });
  return loadPolicy(source, file);
}

/** Path decisions for a list of changes (from git or the PR files API). */
export function judgeChanges(policy: Policy, changes: readonly FileChange[], actor: Actor): Decision[] {
  return evaluatePaths(policy, changes.map((c) => ({ path: c.path, action: STATUS_ACTION[c.status], ...(c.oldPath ? { oldPath: c.oldPath } : {}) })), actor);
}

/** Packages added by the lockfiles changed between base and head. */
export async function lockfileChanges(opts: { cwd: string; base: string; head: string; changes: readonly FileChange[]; sbom?: ReadonlyMap<string, string | null> }): Promise<DependencyChange[]> {
  const locks = opts.changes.filter((c) => c.status !== 'deleted' && lockKind(c.path));
  if (!locks.length) return [];
  const specs = locks.flatMap((c) => [`${opts.base}:${c.oldPath ?? c.path}`, `${opts.head}:${c.path}`]);
  const blobs = await readBlobs(specs, { cwd: opts.cwd });
  const text = (spec: string) => blobs.get(spec)?.toString('utf8');
  return dependencyChanges(
    locks.map((c) => ({ path: c.path, base: text(`${opts.base}:${c.oldPath ?? c.path}`), head: text(`${opts.head}:${c.path}`) })),
    { cwd: opts.cwd, ...(opts.sbom ? { sbom: opts.sbom } : {}) },
  );
}

export interface SecretScan {
  findings: Finding[];
  /** Files with added lines that were not scanned, and why: every skip is reported, none is silent. */
  notScanned: Array<{ path: string; why: string }>;
}

/**
 * Secrets on the lines the change adds, in files the `secrets` rule does not
 * exclude. Hardened against a hostile pull request:
 * - the diff is taken with `--text --no-textconv --no-ext-diff`, so a
 *   PR-added `.gitattributes` (`*.cfg -diff`, `binary`, a textconv driver)
 *   cannot turn a file into "binary" and hide it, and a NUL byte does not
 *   skip a file;
 * - hunks are read by their line counts, so an added line `++ b/x` is not
 *   taken for a file header;
 * - blobs are named by object id (a path may hold a newline);
 * - a file over 1 MiB is linted on its added lines, and one over 32 MiB is
 *   reported as not scanned.
 */
export async function secretScan(opts: { cwd: string; base: string; head: string; policy: Policy; changes: readonly FileChange[]; maxBytes?: number }): Promise<SecretScan> {
  const max = opts.maxBytes ?? SECRET_SCAN_MAX_BYTES;
  const rule = opts.policy.secrets;
  if (!rule) return { findings: [], notScanned: [] };
  const excluded = rule.exclude.map((g) => new Minimatch(g, { dot: true }));
  const targets = opts.changes.filter((c) => c.status !== 'deleted' && !excluded.some((m) => m.match(c.path))).map((c) => c.path);
  if (!targets.length) return { findings: [], notScanned: [] };
  const g = { cwd: opts.cwd };
  const oids = await diffBlobs(opts.base, opts.head, g);
  const sizes = await blobSizes([...new Set(targets.map((p) => oids.get(p)).filter((o): o is string => !!o && !/^0+$/.test(o)))], g);
  const notScanned: SecretScan['notScanned'] = [];
  const scannable: string[] = [];
  for (const p of targets) {
    const oid = oids.get(p);
    const size = oid ? sizes.get(oid) : undefined;
    if (!oid || /^0+$/.test(oid)) continue; // no content at head (a submodule, or unchanged mode only)
    if (size === undefined) notScanned.push({ path: p, why: 'not a file at the head commit (a submodule or a missing object)' });
    else if (size > max) notScanned.push({ path: p, why: `${size} bytes, over the ${max} byte scan limit` });
    else scannable.push(p);
  }
  if (!scannable.length) return { findings: [], notScanned };
  // Literal pathspecs (no globbing of names with * or [); past a thousand paths, the whole diff is read and filtered.
  const spec = scannable.length <= 1000 ? scannable.map((p) => `:(literal)${p}`) : [];
  const diff = await git(['-c', 'core.quotePath=false', 'diff', '-U0', '--text', '--no-textconv', '--no-ext-diff', '--no-color', '--find-renames', opts.base, opts.head, '--', ...spec], g);
  const added = addedLines(diff);
  // A name that is not valid UTF-8 (decoded with U+FFFD) or holds a line break cannot be matched to its
  // pathspec and diff header with certainty: every line counts as added, so nothing in it goes unscanned.
  const wholeFile = new Set(scannable.filter((p) => /[\r\n\uFFFD]/.test(p)));
  const wanted = scannable.filter((p) => added.get(p)?.size || wholeFile.has(p));
  const blobs = await readBlobs(wanted.map((p) => oids.get(p)!), g);
  const files = wanted.flatMap((p) => {
    const b = blobs.get(oids.get(p)!);
    if (!b) {
      notScanned.push({ path: p, why: 'its blob could not be read' });
      return [];
    }
    // NUL bytes would make secretlint treat nothing specially; keep the text scannable around them.
    const text = b.toString('utf8').replace(/\0/g, ' ');
    const lines = wholeFile.has(p) ? new Set(text.split('\n').map((_, i) => i + 1)) : added.get(p)!;
    if (b.length <= SECRET_WHOLE_FILE_BYTES) return [{ path: p, content: text, added: lines }];
    // Large file: only the added lines, each at its own line number (the rest blank), so positions stay right.
    const sparse = text.split('\n').map((l, i) => (lines.has(i + 1) ? l : '')).join('\n');
    return [{ path: p, content: sparse, added: lines }];
  });
  return { findings: await scanSecrets(files), notScanned };
}

/** A file that could not be scanned is not a pass: a decision of the secrets rule, in its mode, saying why. */
function unscannedDecisions(policy: Policy, notScanned: SecretScan['notScanned']): Decision[] {
  const r = policy.secrets;
  if (!r) return [];
  return notScanned.map((n) => ({ rule: r.id, reason: r.reason, mode: r.mode ?? policy.mode, subject: n.path, detail: `not scanned for secrets (${n.why}); review it by hand, then override with the reason`, file: n.path }));
}

export interface ChangeReport {
  changes: FileChange[];
  dependencies: DependencyChange[];
  secrets: Finding[];
  /** Files the secret scan could not read (each reported, never silently skipped). */
  notScanned: SecretScan['notScanned'];
  decisions: Decision[];
}

/** Everything the policy says about base..head except external findings (SARIF, Grype), which the caller adds. */
export async function checkChange(opts: { cwd: string; base: string; head: string; policy: Policy; actor: Actor; sbom?: ReadonlyMap<string, string | null>; changes?: FileChange[]; maxBytes?: number }): Promise<ChangeReport> {
  const changes = opts.changes ?? (await diffFiles(opts.base, opts.head, { cwd: opts.cwd }));
  const needDeps = opts.policy.licenses.length > 0 || opts.policy.dependencies.length > 0 || opts.policy.security.length > 0;
  const [dependencies, scan] = await Promise.all([needDeps ? lockfileChanges({ ...opts, changes }) : Promise.resolve([]), secretScan({ ...opts, changes })]);
  const decisions = [...judgeChanges(opts.policy, changes, opts.actor), ...evaluateLicences(opts.policy, dependencies), ...evaluateDependencies(opts.policy, dependencies), ...evaluateSecrets(opts.policy, scan.findings), ...unscannedDecisions(opts.policy, scan.notScanned)];
  return { changes, dependencies, secrets: scan.findings, notScanned: scan.notScanned, decisions };
}
