import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  ConfigError,
  annotate,
  booleanInput,
  getGitHubClient,
  integerInput,
  isReadOnlyTokenError,
  log,
  mask,
  parseInputs,
  runAction,
  setOutputs,
  state,
  table,
  writeSummary,
} from '@maestro/core';

export const ACTION = 'hello';

export const inputSchema = z.object({
  'who-to-greet': z.string(),
  token: z.string().optional(),
  comment: booleanInput().default(false),
  'cache-path': z.string().optional(),
  'cache-key': z.string().default('hello-cache'),
  secret: z.string().optional(),
  'fail-with': z.enum(['none', 'config', 'internal']).default('none'),
  times: integerInput({ min: 1, max: 100000 }).default(1),
});

const MARKER = '<!-- maestro:hello -->';

interface EventPayload {
  pull_request?: { number: number; head: { sha: string } };
  repository?: { name: string; owner: { login: string } };
}

function readEvent(): EventPayload {
  const p = process.env['GITHUB_EVENT_PATH'];
  if (!p) return {};
  return JSON.parse(readFileSync(p, 'utf8')) as EventPayload;
}

export function pre(): Promise<void> {
  return runAction(ACTION, async () => {
    state.save('started', 'pre-ran');
  });
}

export function post(): Promise<void> {
  return runAction(ACTION, async () => {
    log.info(`post: state started=${state.get('started')} greeted=${state.get('greeted')}`);
  });
}

async function stickyComment(token: string, body: string, event: EventPayload): Promise<{ id: string; status: string }> {
  const pr = event.pull_request;
  const repo = event.repository;
  if (!pr || !repo) return { id: '', status: 'skipped' };
  const gh = await getGitHubClient(token, { log: { warn: log.warning } });
  const params = { owner: repo.owner.login, repo: repo.name, issue_number: pr.number };
  try {
    const comments = await gh.paginate(gh.rest.issues.listComments, { ...params, per_page: 100 });
    const { data: me } = await gh.rest.users.getAuthenticated().catch(() => ({ data: { login: 'github-actions[bot]' } }));
    const mine = comments.find((c) => c.body?.includes(MARKER) && c.user?.login === me.login);
    const text = `${MARKER}\n${body}`;
    if (mine) {
      if (mine.body === text) return { id: String(mine.id), status: 'unchanged' };
      const { data } = await gh.rest.issues.updateComment({ ...params, comment_id: mine.id, body: text });
      return { id: String(data.id), status: 'updated' };
    }
    const { data } = await gh.rest.issues.createComment({ ...params, body: text });
    return { id: String(data.id), status: 'created' };
  } catch (e) {
    if (isReadOnlyTokenError(e)) {
      log.warning('hello: the token is read-only here (fork pull request?); the greeting was written to the job summary only.');
      return { id: '', status: 'forbidden' };
    }
    throw e;
  }
}

async function withCache(dir: string, key: string): Promise<boolean> {
  const cache = await import('@actions/cache');
  const hit = await cache.restoreCache([dir], key);
  if (hit === key) return true;
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/greeting.txt`, `saved for ${key}\n`);
  await cache.saveCache([dir], key);
  return false;
}

export function run(): Promise<void> {
  return runAction(ACTION, async () => {
    const inputs = parseInputs(inputSchema);
    if (inputs.secret) {
      mask(inputs.secret);
      log.info(`secret received: ${inputs.secret}`);
    }
    if (inputs['fail-with'] === 'config') {
      throw new ConfigError("'fail-with' asked for a config error", { file: 'hello.yml', line: 3, column: 5, fix: 'set fail-with: none' });
    }
    if (inputs['fail-with'] === 'internal') throw new Error('boom on purpose');

    const event = readEvent();
    const greeting = `Hello, ${inputs['who-to-greet']}!`;
    log.info(greeting);
    annotate('notice', { message: greeting, title: 'hello', file: 'README.md', line: 1 });

    const rows = Array.from({ length: inputs.times }, (_, i) => [i + 1, greeting]);
    writeSummary(`## hello\n\n${table(['#', 'greeting'], rows)}\n`);

    let comment = { id: '', status: 'skipped' };
    if (inputs.comment) comment = await stickyComment(inputs.token ?? '', greeting, event);

    const cacheHit = inputs['cache-path'] ? await withCache(inputs['cache-path'], inputs['cache-key']) : false;
    state.save('greeted', inputs['who-to-greet']);
    setOutputs({
      greeting,
      details: { event: process.env['GITHUB_EVENT_NAME'], sha: process.env['GITHUB_SHA'], pre: state.get('started') },
      'comment-id': comment.id,
      'comment-status': comment.status,
      'cache-hit': cacheHit,
    });
  });
}
