/**
 * Which two commits to compare, by event, with evidence. Never guesses
 * `main~1`: when no base can be proven the answer is "no base" with the
 * reason, and the caller treats everything as affected.
 *
 * - pull_request(_target): HEAD is GitHub's merge commit → its first parent
 *   ("what lands"); a head checkout → merge-base with the PR base SHA.
 * - push: `before` when it is an ancestor of the head; else (force push) the
 *   last successful run's SHA that is an ancestor; a new branch → merge-base
 *   with the default branch.
 * - merge_group: the event's `base_sha`.
 * - schedule / workflow_dispatch / others: the `base` input, else the last
 *   successful run on the branch.
 * In a shallow clone only the missing commits are fetched.
 */
import { ensureCommit, git, GitError, hasCommit, isAncestor, isShallow, mergeBase, revParse, type GitOptions } from '@maestro/core/git';

export const ZERO_SHA = /^0{40}$|^0{64}$/;

export type BaseSource = 'input' | 'merge-commit-parent' | 'pr-merge-base' | 'push-before' | 'last-successful-run' | 'default-branch-merge-base' | 'merge-group-base';

export interface BaseContext extends GitOptions {
  eventName: string;
  event: Record<string, unknown>;
  /** GITHUB_SHA (the checked-out commit on most events). */
  sha: string;
  /** GITHUB_REF. */
  ref: string;
  /** Explicit base/head (inputs); override the event. */
  base?: string;
  head?: string;
  remote?: string;
  /** Commits of recent successful runs on a branch, newest first (from the Actions API). */
  lastSuccessful?: (branch: string) => AsyncIterable<string>;
  /** Upper bound of candidate runs to try. */
  maxCandidates?: number;
  log?: (msg: string) => void;
}

export interface BaseResolution {
  head: string;
  /** Undefined when no base could be established. */
  base?: string;
  source?: BaseSource;
  /** Why there is no base (everything is affected), or notes on how it was found. */
  reason?: string;
  /** Commits fetched into a shallow clone. */
  fetched: string[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** Parent SHAs read from the commit object (works in a shallow clone, where `HEAD^1` does not). */
export async function parentsOf(sha: string, opts: GitOptions): Promise<string[]> {
  const raw = await git(['cat-file', 'commit', sha], opts);
  const parents: string[] = [];
  for (const line of raw.split('\n')) {
    if (line === '') break;
    if (line.startsWith('parent ')) parents.push(line.slice(7).trim());
  }
  return parents;
}

async function tryEnsure(sha: string, ctx: BaseContext, fetched: string[]): Promise<boolean> {
  try {
    const r = await ensureCommit(sha, { ...ctx, ...(ctx.remote ? { remote: ctx.remote } : {}) });
    if (r === 'fetched') fetched.push(sha);
    return true;
  } catch {
    return false;
  }
}

/** True if `a` is an ancestor of `b`, deepening a shallow clone as needed. */
async function provenAncestor(a: string, b: string, ctx: BaseContext): Promise<boolean> {
  if (await isAncestor(a, b, ctx)) return true;
  if (!(await isShallow(ctx))) return false;
  try {
    const mb = await mergeBase(a, b, { ...ctx, maxDeepen: 3200 });
    return mb === (await revParse(a, ctx));
  } catch {
    return false;
  }
}

export async function resolveBase(ctx: BaseContext): Promise<BaseResolution> {
  const fetched: string[] = [];
  const say = ctx.log ?? (() => undefined);
  const headRev = ctx.head ?? (ctx.sha || 'HEAD');
  // Fast path (one process): both commits already here, as with an explicit base in a full clone.
  if (ctx.base && !ZERO_SHA.test(ctx.base) && !ctx.base.startsWith('-') && !headRev.startsWith('-')) {
    try {
      const [head, base] = (await git(['rev-parse', `${headRev}^{commit}`, `${ctx.base}^{commit}`], ctx)).trim().split('\n');
      if (head && base) return { head, base, source: 'input', fetched };
    } catch {
      /* missing locally: the general path below fetches */
    }
  }
  if (!(await tryEnsure(headRev, ctx, fetched)) && !(await hasCommit(headRev, ctx))) {
    return { head: headRev, reason: `the head commit ${headRev} is not in this clone and could not be fetched`, fetched };
  }
  const head = await revParse(headRev, ctx);
  const none = (reason: string): BaseResolution => ({ head, reason, fetched });
  const found = (base: string, source: BaseSource, reason?: string): BaseResolution => ({ head, base, source, fetched, ...(reason ? { reason } : {}) });

  if (ctx.base) {
    if (ZERO_SHA.test(ctx.base)) return none(`the base input is the zero SHA`);
    if (!(await tryEnsure(ctx.base, ctx, fetched))) return none(`the base input ${ctx.base} is not in this clone and could not be fetched`);
    return found(await revParse(ctx.base, ctx), 'input');
  }

  const ev = ctx.event;
  const lastGreen = async (branch: string | undefined, why: string): Promise<BaseResolution> => {
    if (!branch) return none(`${why}; no branch to look up a successful run for`);
    if (!ctx.lastSuccessful) return none(`${why}; looking up the last successful run needs a token`);
    let tried = 0;
    const max = ctx.maxCandidates ?? 30;
    try {
      for await (const sha of ctx.lastSuccessful(branch)) {
        if (tried++ >= max) break;
        if (sha === head) continue;
        if (!(await tryEnsure(sha, ctx, fetched))) {
          say(`skipping run commit ${sha.slice(0, 12)}: not fetchable`);
          continue;
        }
        if (await provenAncestor(sha, head, ctx)) return found(sha, 'last-successful-run', `${why}; using the last successful run on ${branch}`);
        say(`skipping run commit ${sha.slice(0, 12)}: not an ancestor of ${head.slice(0, 12)}`);
      }
    } catch (e) {
      return none(`${why}; the runs API failed: ${(e as Error).message}`);
    }
    return none(`${why}; no successful run on ${branch} is an ancestor of ${head.slice(0, 12)} (checked ${tried})`);
  };

  switch (ctx.eventName) {
    case 'pull_request':
    case 'pull_request_target':
    case 'pull_request_review':
    case 'pull_request_review_comment': {
      const pr = obj(ev['pull_request']);
      const prBase = str(obj(pr['base'])['sha']);
      const prHead = str(obj(pr['head'])['sha']);
      const parents = await parentsOf(head, ctx);
      if (parents.length === 2 && (!prHead || parents[1] === prHead)) {
        // GitHub's test merge commit: the first parent is the base branch tip it was made on.
        if (await tryEnsure(parents[0]!, ctx, fetched)) return found(parents[0]!, 'merge-commit-parent');
        return none(`the merge commit's first parent ${parents[0]} could not be fetched`);
      }
      if (!prBase) return none('the pull_request payload has no base SHA');
      if (!(await tryEnsure(prBase, ctx, fetched))) return none(`the PR base ${prBase} could not be fetched`);
      try {
        return found(await mergeBase(prBase, head, { ...ctx, maxDeepen: 3200 }), 'pr-merge-base');
      } catch (e) {
        return none(`no merge base between the PR base ${prBase.slice(0, 12)} and ${head.slice(0, 12)}: ${(e as Error).message}`);
      }
    }
    case 'merge_group': {
      const baseSha = str(obj(ev['merge_group'])['base_sha']);
      if (!baseSha) return none('the merge_group payload has no base_sha');
      if (!(await tryEnsure(baseSha, ctx, fetched))) return none(`the merge group base ${baseSha} could not be fetched`);
      return found(baseSha, 'merge-group-base');
    }
    case 'push': {
      const before = str(ev['before']);
      const branch = ctx.ref.startsWith('refs/heads/') ? ctx.ref.slice(11) : undefined;
      const defaultBranch = str(obj(ev['repository'])['default_branch']);
      if (!before || ZERO_SHA.test(before)) {
        if (!defaultBranch || branch === defaultBranch) return none(`a new branch was pushed (before is the zero SHA) and there is no other branch to compare with`);
        const remote = ctx.remote ?? 'origin';
        try {
          await git(['fetch', '--no-tags', '--depth=1', remote, `+refs/heads/${defaultBranch}:refs/remotes/${remote}/${defaultBranch}`], ctx);
          const tip = await revParse(`refs/remotes/${remote}/${defaultBranch}`, ctx);
          return found(await mergeBase(tip, head, { ...ctx, maxDeepen: 3200 }), 'default-branch-merge-base', `new branch: compared with its fork point from ${defaultBranch}`);
        } catch (e) {
          return none(`new branch and no merge base with ${defaultBranch}: ${e instanceof GitError ? e.message : (e as Error).message}`);
        }
      }
      if ((await tryEnsure(before, ctx, fetched)) && (await provenAncestor(before, head, ctx))) return found(before, 'push-before');
      return lastGreen(branch, `the previous tip ${before.slice(0, 12)} is not an ancestor of ${head.slice(0, 12)} (force push?)`);
    }
    default: {
      const branch = ctx.ref.startsWith('refs/heads/') ? ctx.ref.slice(11) : undefined;
      return lastGreen(branch, `${ctx.eventName || 'this event'} has no base commit`);
    }
  }
}
