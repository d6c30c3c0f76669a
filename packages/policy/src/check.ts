/** Shared by the action and `maestro policy check`: rules from the base commit, path decisions for base..head. */
import { ConfigError } from '@maestro/core/errors';
import { diffFiles, git, type FileChange } from '@maestro/core/git';
import { evaluatePaths, loadPolicy, type Action, type Actor, type Decision, type Policy } from './dsl.js';

const STATUS_ACTION: Record<FileChange['status'], Action> = { added: 'create', modified: 'write', deleted: 'delete', renamed: 'rename', copied: 'create', 'type-changed': 'write' };

/** The policy as committed at `base` — never the version in the change under review. */
export async function loadPolicyAt(cwd: string, base: string, file: string): Promise<Policy> {
  const source = await git(['show', `${base}:${file}`], { cwd }).catch(() => undefined);
  if (source === undefined) throw new ConfigError(`the policy file is not in the base commit ${base.slice(0, 12)}`, { file, fix: 'commit policy/rules.yaml to the base branch first (see actions/policy-gate/README.md)' });
  return loadPolicy(source, file);
}

export async function checkPaths(opts: { cwd: string; base: string; head: string; policy: Policy; actor: Actor }): Promise<{ changes: FileChange[]; decisions: Decision[] }> {
  const changes = await diffFiles(opts.base, opts.head, { cwd: opts.cwd });
  const decisions = evaluatePaths(opts.policy, changes.map((c) => ({ path: c.path, action: STATUS_ACTION[c.status], ...(c.oldPath ? { oldPath: c.oldPath } : {}) })), opts.actor);
  return { changes, decisions };
}
