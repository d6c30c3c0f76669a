/**
 * A lazily created GitHub client: `@actions/github` (which builds its context
 * from the environment at import) is only loaded the first time an action
 * actually needs the API. Retries with backoff for 5xx, and waits out primary
 * and secondary rate limits a bounded number of times. `GITHUB_API_URL` is
 * honoured (GHES and the test fake).
 */
import type { getOctokit } from '@actions/github';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface ClientOptions {
  /** Times a rate-limited request is retried after waiting `retry-after` (default 2). */
  rateLimitRetries?: number;
  /** Longest wait we accept for a rate limit, in seconds (default 120); beyond it the request fails. */
  maxRateLimitWaitSeconds?: number;
  /** Retries for 5xx and network errors (default 3). */
  retries?: number;
  log?: { warn: (m: string) => void; debug?: (m: string) => void };
}

const clients = new Map<string, Promise<GitHubClient>>();

export function apiBaseUrl(env: Record<string, string | undefined> = process.env): string {
  return (env['GITHUB_API_URL'] || 'https://api.github.com').replace(/\/+$/, '');
}

export function getGitHubClient(token: string, opts: ClientOptions = {}): Promise<GitHubClient> {
  if (!token) {
    return Promise.reject(new Error('no GitHub token: pass `token: ${{ github.token }}` (the default) or a PAT'));
  }
  const key = `${token}\u0000${JSON.stringify({ ...opts, log: undefined })}`;
  let client = clients.get(key);
  if (!client) {
    client = create(token, opts);
    clients.set(key, client);
  }
  return client;
}

async function create(token: string, opts: ClientOptions): Promise<GitHubClient> {
  const [{ getOctokit }, { retry }, { throttling }] = await Promise.all([
    import('@actions/github'),
    import('@octokit/plugin-retry'),
    import('@octokit/plugin-throttling'),
  ]);
  const limitRetries = opts.rateLimitRetries ?? 2;
  const maxWait = opts.maxRateLimitWaitSeconds ?? 120;
  const warn = opts.log?.warn ?? ((m: string) => process.stderr.write(`${m}\n`));
  const onLimit = (kind: string) => (retryAfter: number, options: { method: string; url: string }, _o: unknown, retryCount: number) => {
    const ok = retryCount < limitRetries && retryAfter <= maxWait;
    warn(`GitHub ${kind} rate limit on ${options.method} ${options.url}: ${ok ? `retrying after ${retryAfter}s` : 'giving up'}`);
    return ok;
  };
  return getOctokit(
    token,
    {
      baseUrl: apiBaseUrl(),
      // Backoff of the n-th retry: n² × base. MAESTRO_API_RETRY_BASE_MS shortens it (tests inject it instead of sleeping 14 s per call).
      retry: { retries: opts.retries ?? 3, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451, 501], retryAfterBaseValue: retryBaseMs() },
      throttle: {
        onRateLimit: onLimit('primary'),
        onSecondaryRateLimit: onLimit('secondary'),
      },
    } as Parameters<typeof getOctokit>[1],
    retry,
    throttling,
  );
}

function retryBaseMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env['MAESTRO_API_RETRY_BASE_MS'];
  const v = raw ? Number(raw) : NaN;
  return Number.isFinite(v) && v >= 0 && v <= 60_000 ? v : 1000;
}

/** A rate limit that outlasted the client's waits: a 429, or a 403 whose message says so (secondary limits). */
export function isRateLimitError(err: unknown): boolean {
  const status = httpStatus(err);
  return status === 429 || (status === 403 && /rate limit/i.test((err as { message?: string } | null)?.message ?? ''));
}

/** A 403 from a read-only token (fork PRs, `permissions:` too narrow). */
export function isReadOnlyTokenError(err: unknown): boolean {
  const e = err as { status?: number; message?: string } | null;
  return !!e && e.status === 403 && /resource not accessible by integration/i.test(e.message ?? '');
}

export function httpStatus(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}
