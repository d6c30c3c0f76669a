/**
 * Shared by the action and `maestro policy check`: rules from the base commit,
 * decisions for base..head — paths, dependency and licence rules from the
 * changed lockfiles, and a secret scan of the added lines.
 */
import { Minimatch } from 'minimatch';
import { ConfigError } from '@maestro/core/errors';
import { addedLines, diffFiles, git, readBlobs, type FileChange } from '@maestro/core/git';
import { evaluateDependencies, evaluateLicences, evaluatePaths, evaluateSecrets, loadPolicy, type Action, type Actor, type Decision, type Finding, type Policy } from './dsl.js';
import { dependencyChanges, lockKind, type DependencyChange } from './deps.js';
import { scanSecrets } from './findings.js';

const STATUS_ACTION: Record<FileChange['status'], Action> = { added: 'create', modified: 'write', deleted: 'delete', renamed: 'rename', copied: 'create', 'type-changed': 'write' };

/** Files larger than this are not scanned for secrets (generated or vendored blobs). */
const SECRET_SCAN_MAX_BYTES = 1 << 20;

/** The policy as committed at `base` — never the version in the change under review. */
export async function loadPolicyAt(cwd: string, base: string, file: string): Promise<Policy> {
  const source = await git(['show', `${base}:${file}`], { cwd }).catch(() => undefined);
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

/** Secrets on the lines the change adds, in files the `secrets` rule does not exclude. */
export async function secretFindings(opts: { cwd: string; base: string; head: string; policy: Policy; changes: readonly FileChange[] }): Promise<Finding[]> {
  const rule = opts.policy.secrets;
  if (!rule) return [];
  const excluded = rule.exclude.map((g) => new Minimatch(g, { dot: true }));
  const targets = opts.changes.filter((c) => c.status !== 'deleted' && !excluded.some((m) => m.match(c.path))).map((c) => c.path);
  if (!targets.length) return [];
  const diff = await git(['-c', 'core.quotePath=false', 'diff', '-U0', '--no-ext-diff', '--no-color', '--find-renames', opts.base, opts.head, '--', ...targets], { cwd: opts.cwd });
  const added = addedLines(diff);
  const wanted = targets.filter((p) => added.get(p)?.size);
  const blobs = await readBlobs(wanted.map((p) => `${opts.head}:${p}`), { cwd: opts.cwd });
  const files = wanted.flatMap((p) => {
    const b = blobs.get(`${opts.head}:${p}`);
    return b && b.length <= SECRET_SCAN_MAX_BYTES ? [{ path: p, content: b.toString('utf8'), added: added.get(p)! }] : [];
  });
  return scanSecrets(files);
}

export interface ChangeReport {
  changes: FileChange[];
  dependencies: DependencyChange[];
  secrets: Finding[];
  decisions: Decision[];
}

/** Everything the policy says about base..head except external findings (SARIF, Grype), which the caller adds. */
export async function checkChange(opts: { cwd: string; base: string; head: string; policy: Policy; actor: Actor; sbom?: ReadonlyMap<string, string | null>; changes?: FileChange[] }): Promise<ChangeReport> {
  const changes = opts.changes ?? (await diffFiles(opts.base, opts.head, { cwd: opts.cwd }));
  const needDeps = opts.policy.licenses.length > 0 || opts.policy.dependencies.length > 0 || opts.policy.security.length > 0;
  const [dependencies, secrets] = await Promise.all([needDeps ? lockfileChanges({ ...opts, changes }) : Promise.resolve([]), secretFindings({ ...opts, changes })]);
  const decisions = [...judgeChanges(opts.policy, changes, opts.actor), ...evaluateLicences(opts.policy, dependencies), ...evaluateDependencies(opts.policy, dependencies), ...evaluateSecrets(opts.policy, secrets)];
  return { changes, dependencies, secrets, decisions };
}
