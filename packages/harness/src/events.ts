/**
 * Event payload fixtures: real webhook examples from
 * `@octokit/webhooks-examples`, with repository and SHAs rewritten to match a
 * git fixture, plus hand-built `schedule` and `pull_request_target`.
 */
import { createRequire } from 'node:module';
import type { EventScenario } from './runner-sim.js';

const require = createRequire(import.meta.url);

interface WebhookExamples {
  name: string;
  examples: Array<Record<string, unknown> & { action?: string }>;
}

let examples: WebhookExamples[] | undefined;

/** A deep copy of the first example of `event` (with `action` when given). */
export function webhookExample(event: string, action?: string): Record<string, any> {
  examples ??= require('@octokit/webhooks-examples') as WebhookExamples[];
  const group = examples.find((e) => e.name === event);
  const ex = group?.examples.find((x) => action === undefined || x.action === action);
  if (!ex) throw new Error(`no webhook example for ${event}${action ? `.${action}` : ''}`);
  return structuredClone(ex) as Record<string, any>;
}

export interface RepoRef {
  owner: string;
  name: string;
  defaultBranch?: string;
}

function rewriteRepo(payload: Record<string, any>, repo: RepoRef): void {
  const full = `${repo.owner}/${repo.name}`;
  const r = payload['repository'];
  if (r) {
    r.name = repo.name;
    r.full_name = full;
    r.owner.login = repo.owner;
    r.default_branch = repo.defaultBranch ?? 'main';
    r.private = false;
  }
}

export function pullRequestEvent(o: { repo: RepoRef; number: number; base: string; head: string; merge: string; baseRef?: string; headRef?: string; action?: 'opened' | 'synchronize'; fork?: { owner: string }; author?: string; labels?: Array<{ name: string; description?: string }> }): EventScenario {
  const p = webhookExample('pull_request', o.action ?? 'synchronize');
  rewriteRepo(p, o.repo);
  const pr = p['pull_request'];
  p['number'] = o.number;
  pr.number = o.number;
  pr.merge_commit_sha = o.merge;
  pr.head.sha = o.head;
  pr.head.ref = o.headRef ?? 'feature';
  pr.base.sha = o.base;
  pr.base.ref = o.baseRef ?? o.repo.defaultBranch ?? 'main';
  pr.base.repo = structuredClone(p['repository']);
  pr.head.repo = structuredClone(p['repository']);
  if (o.fork) {
    pr.head.repo.full_name = `${o.fork.owner}/${o.repo.name}`;
    pr.head.repo.owner.login = o.fork.owner;
    pr.head.repo.fork = true;
    pr.head.label = `${o.fork.owner}:${pr.head.ref}`;
  }
  if (o.labels) {
    const ex = pr.labels?.[0] ?? { id: 1, node_id: 'LA_1', url: '', color: 'ededed', default: false };
    pr.labels = o.labels.map((l, i) => ({ ...ex, id: 7100 + i, node_id: `LA_${7100 + i}`, name: l.name, description: l.description ?? null }));
  }
  if (o.author) {
    pr.user.login = o.author;
    p['sender'].login = o.author;
  }
  if ('after' in p) p['after'] = o.head;
  return { name: 'pull_request', payload: p };
}

export function pushEvent(o: { repo: RepoRef; before: string; after: string; ref?: string; forced?: boolean }): EventScenario {
  const p = webhookExample('push');
  rewriteRepo(p, o.repo);
  p['ref'] = o.ref ?? `refs/heads/${o.repo.defaultBranch ?? 'main'}`;
  p['before'] = o.before;
  p['after'] = o.after;
  p['forced'] = !!o.forced;
  p['created'] = /^0+$/.test(o.before);
  return { name: 'push', payload: p };
}

export function mergeGroupEvent(o: { repo: RepoRef; baseSha: string; headSha: string; prNumber: number; baseRef?: string }): EventScenario {
  const p = webhookExample('merge_group', 'checks_requested');
  rewriteRepo(p, o.repo);
  const base = o.baseRef ?? o.repo.defaultBranch ?? 'main';
  p['merge_group'].base_sha = o.baseSha;
  p['merge_group'].head_sha = o.headSha;
  p['merge_group'].base_ref = `refs/heads/${base}`;
  p['merge_group'].head_ref = `refs/heads/gh-readonly-queue/${base}/pr-${o.prNumber}-${o.baseSha}`;
  p['merge_group'].head_commit.id = o.headSha;
  return { name: 'merge_group', payload: p };
}

export function workflowRunEvent(o: { repo: RepoRef; headSha: string; headBranch: string; defaultBranchSha: string; conclusion?: string; prNumbers?: number[]; headOwner?: string; runId?: number }): EventScenario {
  const p = webhookExample('workflow_run', 'completed');
  rewriteRepo(p, o.repo);
  const run = p['workflow_run'];
  if (o.runId) run.id = o.runId;
  if (run.head_repository) {
    const owner = o.headOwner ?? o.repo.owner;
    run.head_repository.owner.login = owner;
    run.head_repository.full_name = `${owner}/${o.repo.name}`;
    run.head_repository.name = o.repo.name;
  }
  run.head_sha = o.headSha;
  run.head_branch = o.headBranch;
  run.conclusion = o.conclusion ?? 'success';
  run.event = 'pull_request';
  run.pull_requests = (o.prNumbers ?? []).map((n) => ({ number: n, id: n, url: '', head: { ref: o.headBranch, sha: o.headSha, repo: { id: 1, name: o.repo.name, url: '' } }, base: { ref: o.repo.defaultBranch ?? 'main', sha: o.defaultBranchSha, repo: { id: 1, name: o.repo.name, url: '' } } }));
  return { name: 'workflow_run', payload: p, sha: o.defaultBranchSha };
}

export function workflowDispatchEvent(o: { repo: RepoRef; sha: string; ref?: string; inputs?: Record<string, string> }): EventScenario {
  const p = webhookExample('workflow_dispatch');
  rewriteRepo(p, o.repo);
  p['ref'] = o.ref ?? `refs/heads/${o.repo.defaultBranch ?? 'main'}`;
  p['inputs'] = o.inputs ?? {};
  return { name: 'workflow_dispatch', payload: p, sha: o.sha };
}

/** `schedule` has no webhook example: GitHub's payload is `{schedule: cron}` plus repository. */
export function scheduleEvent(o: { repo: RepoRef; sha: string; cron?: string }): EventScenario {
  const p = webhookExample('push');
  rewriteRepo(p, o.repo);
  return { name: 'schedule', payload: { schedule: o.cron ?? '0 3 * * *', repository: p['repository'], sender: p['sender'] }, sha: o.sha };
}

/** `pull_request_target`: the pull_request payload, run on the base branch. */
export function pullRequestTargetEvent(o: Parameters<typeof pullRequestEvent>[0]): EventScenario {
  const e = pullRequestEvent(o);
  return { name: 'pull_request_target', payload: e.payload, sha: o.base };
}
