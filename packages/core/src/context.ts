/** What the runner tells a step about its trigger: event name and payload, commit and ref. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';

export interface RunnerEvent {
  eventName: string;
  /** The webhook payload (GITHUB_EVENT_PATH); empty outside Actions. */
  event: Record<string, unknown>;
  sha: string;
  ref: string;
}

export function runnerEvent(env: Record<string, string | undefined> = process.env): RunnerEvent {
  const p = env['GITHUB_EVENT_PATH'];
  let event: Record<string, unknown> = {};
  if (p && existsSync(p)) {
    try {
      event = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`cannot read the event payload: ${(e as Error).message}`, { file: p, fix: 'run inside GitHub Actions, or pass `base` and `head`' });
    }
  }
  return { eventName: env['GITHUB_EVENT_NAME'] ?? '', event, sha: env['GITHUB_SHA'] ?? '', ref: env['GITHUB_REF'] ?? '' };
}

/** The commit a run is about: the pull request's head (not the merge commit GITHUB_SHA points at), else GITHUB_SHA. */
export function subjectSha(t: RunnerEvent): string {
  const pr = t.event['pull_request'] as { head?: { sha?: string } } | undefined;
  return pr?.head?.sha ?? t.sha;
}

/**
 * `$RUNNER_TEMP/<name>`: where an action keeps files other steps read (reports,
 * plans, evidence). Outside a runner: `<fallbackRoot>/.maestro/<name>`.
 */
export function runnerTempPath(name: string, fallbackRoot: string, env: Record<string, string | undefined> = process.env): string {
  return path.join(env['RUNNER_TEMP'] ?? path.join(fallbackRoot, '.maestro'), name);
}
