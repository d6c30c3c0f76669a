/**
 * A stateful fake of the GitHub REST API on 127.0.0.1.
 *
 * Every request is routed and validated against GitHub's OpenAPI description
 * (`@octokit/openapi`) and every response our handlers produce is validated
 * too; any mismatch is recorded as a violation (and a bad request answers 422
 * like GitHub). Operations without a handler answer 501 and are recorded, so a
 * test that touches an unexpected endpoint fails. Faults (403 read-only token,
 * 404, 422, 429, secondary rate limits, 5xx) are injected per scenario.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import snappy from 'snappyjs';
import { readBody } from './http.js';
import { loadGitHubSpec, operationById, specExample, type Backend, type JsonObject } from './openapi.js';

export interface Violation {
  kind: 'request' | 'response' | 'unimplemented' | 'unknown-route' | 'handler-error';
  operationId?: string;
  method: string;
  path: string;
  detail: string;
}

export interface RecordedRequest {
  operationId: string | undefined;
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  token: string | undefined;
  status: number;
}

export interface TokenInfo {
  login: string;
  /** `installation` is a GITHUB_TOKEN-like app token (cannot call GET /user); `user` a PAT. */
  kind: 'installation' | 'user';
  /** `read` answers 403 "Resource not accessible by integration" to every write (fork PRs). */
  permission: 'read' | 'write';
  /**
   * A GITHUB_TOKEN made from a job's `permissions:` block: each scope `read`, `write` or absent (none).
   * Requests outside the token's scopes get GitHub's 403. Absent: no scope check (a PAT, or a test token).
   */
  scopes?: Partial<Record<PermissionScope, 'read' | 'write'>>;
}

export type PermissionScope = 'actions' | 'attestations' | 'checks' | 'contents' | 'deployments' | 'id-token' | 'issues' | 'packages' | 'pages' | 'pull-requests' | 'security-events' | 'statuses';

/**
 * The permission scope(s) an operation needs, from its operationId: any of them at the right level
 * grants it (an issue comment on a pull request is allowed with `issues` or `pull-requests`).
 * `metadata`-only reads (collaborator permission, the repository itself) need no scope.
 */
export function scopesOf(operationId: string): PermissionScope[] {
  const [group, op = ''] = operationId.split('/') as [string, string?];
  if (group === 'issues') return ['issues', 'pull-requests'];
  if (group === 'pulls') return ['pull-requests'];
  if (group === 'checks') return ['checks'];
  if (group === 'actions') return ['actions'];
  if (group === 'git') return ['contents'];
  if (group === 'repos') {
    if (/attestation/.test(op)) return ['attestations'];
    if (/status/.test(op)) return ['statuses'];
    if (/^(get|get-collaborator-permission-level|list-collaborators)$/.test(op)) return [];
    return ['contents'];
  }
  return [];
}

export interface Fault {
  /** operationId (e.g. `issues/create-comment`) or a RegExp over it; omitted = any. */
  operation?: string | RegExp;
  method?: string;
  status: number;
  /** How many matching requests fail (default 1). */
  times?: number;
  headers?: Record<string, string>;
  message?: string;
}

interface Ctx {
  operationId: string;
  method: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: JsonObject;
  /** The parsed body as sent (some operations accept a bare array). */
  rawBody: unknown;
  token: TokenInfo;
  url: URL;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (ctx: Ctx) => Reply;

export interface PullSeed {
  number: number;
  title?: string;
  body?: string;
  headSha: string;
  headRef?: string;
  baseSha: string;
  baseRef?: string;
  state?: 'open' | 'closed';
  author?: string;
  /** Owner of the head branch's repository (a fork's owner); default: the base repository's. */
  headOwner?: string;
  /** Files as the PR files API reports them. */
  files?: Array<{ filename: string; status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged'; additions?: number; deletions?: number; previous_filename?: string; patch?: string }>;
}

interface RepoState {
  owner: string;
  name: string;
  id: number;
  pulls: Map<number, PullSeed>;
  comments: JsonObject[];
  checkRuns: JsonObject[];
  statuses: JsonObject[];
  workflowRuns: JsonObject[];
  contents: Map<string, string>;
  attestations: Map<string, Array<{ bundle: unknown; blob: AttestationBlob }>>;
  compares: Map<string, { files: NonNullable<PullSeed['files']>; commits: string[]; mergeBase: string; status: string }>;
  permissions: Map<string, 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none'>;
  /** Requested reviewers per pull request (users and team slugs). */
  reviewRequests: Map<number, { users: string[]; teams: string[] }>;
  labels: Map<number, string[]>;
  /** Issue events (labeled/unlabeled), each with `_issue`. */
  issueEvents: JsonObject[];
  /** Check suites per commit: GitHub creates one per app when the commit is pushed (server time). */
  checkSuites: JsonObject[];
}

const FILES_API_LIMIT = 3000;

export type AttestationBlob = 'inline' | 'snappy' | 'hang' | 'huge';
const WRITE_METHODS = new Set(['post', 'patch', 'put', 'delete']);

export class FakeGitHub {
  readonly violations: Violation[] = [];
  readonly requests: RecordedRequest[] = [];
  private readonly repos = new Map<string, RepoState>();
  private readonly tokens = new Map<string, TokenInfo>();
  private readonly faults: Array<Fault & { remaining: number }> = [];
  private readonly handlers: Record<string, Handler>;
  private nextId = 1000;
  private clock = Date.parse('2026-01-01T00:00:00Z');
  private server!: Server;
  url = '';

  private constructor(
    private readonly backend: Backend,
    /** GHES serves the API under `/api/v3`. */
    private readonly pathPrefix: string,
  ) {
    this.handlers = this.makeHandlers();
  }

  static async start(opts: { pathPrefix?: string } = {}): Promise<FakeGitHub> {
    const { backend } = await loadGitHubSpec();
    const fake = new FakeGitHub(backend, (opts.pathPrefix ?? '').replace(/\/+$/, ''));
    fake.server = createServer((req, res) => {
      fake.handle(req, res).catch((e: Error) => {
        fake.violations.push({ kind: 'handler-error', method: req.method ?? '', path: req.url ?? '', detail: e.stack ?? e.message });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'fake-github handler crashed', documentation_url: 'https://docs.github.com/rest' }));
      });
    });
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}${fake.pathPrefix}`;
    return fake;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }

  // ---------------------------------------------------------------- setup

  addToken(token: string, info: Partial<TokenInfo> = {}): string {
    this.tokens.set(token, { login: info.login ?? 'github-actions[bot]', kind: info.kind ?? 'installation', permission: info.permission ?? 'write', ...(info.scopes ? { scopes: info.scopes } : {}) });
    return token;
  }

  addRepo(fullName: string): RepoState {
    const [owner, name] = fullName.split('/') as [string, string];
    const repo: RepoState = {
      owner,
      name,
      id: this.nextId++,
      pulls: new Map(),
      comments: [],
      checkRuns: [],
      statuses: [],
      workflowRuns: [],
      contents: new Map(),
      attestations: new Map(),
      reviewRequests: new Map(),
      labels: new Map(),
      issueEvents: [],
      checkSuites: [],
      compares: new Map(),
      permissions: new Map(),
    };
    this.repos.set(fullName.toLowerCase(), repo);
    return repo;
  }

  repo(fullName: string): RepoState {
    const r = this.repos.get(fullName.toLowerCase());
    if (!r) throw new Error(`fake-github: repo ${fullName} was not added`);
    return r;
  }

  addPull(fullName: string, pull: PullSeed): void {
    const repo = this.repo(fullName);
    repo.pulls.set(pull.number, pull);
    this.pushed(repo, pull.headSha, pull.headRef ?? 'feature');
  }

  /** A new push to a pull request's branch: its head moves, and the commit gets its check suite now. */
  pushPull(fullName: string, number: number, headSha: string): void {
    const repo = this.repo(fullName);
    const p = repo.pulls.get(number);
    if (!p) throw new Error(`no pull request #${number}`);
    p.headSha = headSha;
    this.pushed(repo, headSha, p.headRef ?? 'feature');
  }

  private pushed(repo: RepoState, sha: string, branch: string): void {
    if (repo.checkSuites.some((c) => c['head_sha'] === sha)) return;
    const ex = ((specExample(this.backend, 'checks/list-suites-for-ref', 200) as JsonObject)['check_suites'] as JsonObject[])[0]!;
    const id = this.nextId++;
    const at = this.now();
    repo.checkSuites.push({ ...ex, id, node_id: `CS_${id}`, head_sha: sha, head_branch: branch, status: 'queued', conclusion: null, created_at: at, updated_at: at, pull_requests: [] });
  }

  setCompare(fullName: string, base: string, head: string, value: { files: NonNullable<PullSeed['files']>; commits?: string[]; mergeBase?: string; status?: string }): void {
    this.repo(fullName).compares.set(`${base}...${head}`, { files: value.files, commits: value.commits ?? [head], mergeBase: value.mergeBase ?? base, status: value.status ?? 'ahead' });
  }

  addWorkflowRun(fullName: string, run: { id?: number; headSha: string; headBranch: string; event?: string; status?: string; conclusion?: string | null; workflowId?: number; path?: string; createdAt?: string }): number {
    const repo = this.repo(fullName);
    const ex = (specExample(this.backend, 'actions/list-workflow-runs-for-repo', 200) as JsonObject)['workflow_runs'] as JsonObject[];
    const id = run.id ?? this.nextId++;
    const created = run.createdAt ?? this.now();
    repo.workflowRuns.push({
      ...ex[0]!,
      id,
      run_number: repo.workflowRuns.length + 1,
      head_sha: run.headSha,
      head_branch: run.headBranch,
      event: run.event ?? 'push',
      status: run.status ?? 'completed',
      conclusion: run.conclusion === undefined ? 'success' : run.conclusion,
      workflow_id: run.workflowId ?? 1,
      path: run.path ?? '.github/workflows/ci.yml',
      created_at: created,
      updated_at: created,
      run_started_at: created,
    });
    return id;
  }

  /** File content served by the contents API; with `ref`, only for that ref (other refs fall back to the ref-less entry). */
  setContent(fullName: string, path: string, content: string, ref?: string): void {
    const p = path.replace(/^\/+/, '');
    this.repo(fullName).contents.set(ref ? `${ref}:${p}` : p, content);
  }

  /** Set the fake's clock (timestamps it writes advance one second per write from there). */
  setClock(iso: string): void {
    this.clock = Date.parse(iso);
  }

  /** A label added to (or removed from) a pull request by `actor`, as the issue events API reports it. */
  labelPull(fullName: string, number: number, label: string, actor: string, opts: { remove?: boolean } = {}): void {
    const repo = this.repo(fullName);
    const cur = repo.labels.get(number) ?? [];
    repo.labels.set(number, opts.remove ? cur.filter((l) => l !== label) : [...new Set([...cur, label])]);
    this.recordLabelEvent(repo, number, label, actor, opts.remove ? 'unlabeled' : 'labeled');
  }

  private recordLabelEvent(repo: RepoState, number: number, label: string, actor: string, event: 'labeled' | 'unlabeled'): void {
    const id = this.nextId++;
    const ex = this.ex('issues/list-events', 200);
    repo.issueEvents.push({ ...ex, id, node_id: `LE_${id}`, url: `${this.url}/repos/${repo.owner}/${repo.name}/issues/events/${id}`, actor: this.user(actor), event, commit_id: null, commit_url: null, created_at: this.now(), performed_via_github_app: null, label: { name: label, color: 'ededed' }, _issue: number });
  }

  setPermission(fullName: string, login: string, permission: RepoState['permissions'] extends Map<string, infer P> ? P : never): void {
    this.repo(fullName).permissions.set(login, permission);
  }

  /**
   * An attestation of `subjectDigest` (`sha256:<hex>`). `blob` says how the API serves it: inline (older API
   * versions), or `bundle: null` with a `bundle_url` on blob storage that answers raw-snappy-compressed JSON
   * (what GitHub does today), never finishes (`hang`), or sends more than any cap (`huge`).
   */
  addAttestation(fullName: string, subjectDigest: string, bundle: unknown, blob: AttestationBlob = 'inline'): void {
    const repo = this.repo(fullName);
    const list = repo.attestations.get(subjectDigest) ?? [];
    list.push({ bundle, blob });
    repo.attestations.set(subjectDigest, list);
  }

  private blobUrl(): string {
    return `${this.url.slice(0, this.url.length - this.pathPrefix.length)}/_blobs`;
  }

  /** Resolves a branch name to its commit for pulls created through the API (tests pass the git fixture's). */
  refResolver?: (ref: string) => string | undefined;

  /** Blob storage behind `bundle_url` (another host in reality: no token, its own signed URL). */
  private readonly blobs = new Map<string, { bundle: unknown; blob: AttestationBlob }>();
  /** Requests to blob storage (path and whether an Authorization header came with them). */
  readonly blobRequests: Array<{ path: string; authorization: boolean }> = [];

  private serveBlob(req: IncomingMessage, res: ServerResponse, id: string): void {
    this.blobRequests.push({ path: req.url ?? '', authorization: !!req.headers['authorization'] });
    const b = this.blobs.get(id);
    if (!b) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<Error><Code>BlobNotFound</Code></Error>');
      return;
    }
    if (b.blob === 'hang') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.from([0x80]));
      return; // never ends; the connection is closed by stop()
    }
    if (b.blob === 'huge') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(1 << 20, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < 200 && res.write(chunk)) sent++;
        if (sent >= 200) res.end();
        else res.once('drain', pump);
      };
      res.on('error', () => undefined);
      pump();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(Buffer.from(snappy.compress(Buffer.from(JSON.stringify(b.bundle)))));
  }

  /** Make matching requests fail (consumed in order of registration). */
  fault(f: Fault): void {
    this.faults.push({ ...f, remaining: f.times ?? 1 });
  }

  /** Drop every pending fault; returns how many failures were still due (so a test can leave none behind). */
  clearFaults(): number {
    const due = this.faults.reduce((a, f) => a + Math.max(0, f.remaining), 0);
    this.faults.length = 0;
    return due;
  }

  /** A primary (429) or secondary (403) rate limit with `retry-after`. */
  rateLimit(operation: string | RegExp, opts: { secondary?: boolean; retryAfter?: number; times?: number } = {}): void {
    this.fault({
      operation,
      status: opts.secondary ? 403 : 429,
      times: opts.times ?? 1,
      headers: opts.secondary
        ? { 'retry-after': String(opts.retryAfter ?? 1) }
        : { 'retry-after': String(opts.retryAfter ?? 1), 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + (opts.retryAfter ?? 1)) },
      message: opts.secondary ? 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' : 'API rate limit exceeded',
    });
  }

  /** Throw if any request or response broke the spec, or hit an unimplemented operation. */
  assertNoViolations(): void {
    if (this.violations.length) {
      throw new Error(`fake-github recorded ${this.violations.length} violation(s):\n${this.violations.map((v) => `- [${v.kind}] ${v.method.toUpperCase()} ${v.path} ${v.operationId ?? ''}: ${v.detail}`).join('\n')}`);
    }
  }

  /** Reviewers requested on a pull request so far. */
  reviewRequests(fullName: string, pull: number): { users: string[]; teams: string[] } {
    return this.repo(fullName).reviewRequests.get(pull) ?? { users: [], teams: [] };
  }

  labels(fullName: string, issue: number): string[] {
    return this.repo(fullName).labels.get(issue) ?? [];
  }

  comments(fullName: string, issue?: number): JsonObject[] {
    return this.repo(fullName).comments.filter((c) => issue === undefined || c['_issue'] === issue).map(publicView);
  }

  checkRuns(fullName: string): JsonObject[] {
    return this.repo(fullName).checkRuns.map(publicView);
  }

  statuses(fullName: string): JsonObject[] {
    return this.repo(fullName).statuses.map(publicView);
  }

  // ---------------------------------------------------------------- request pipeline

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = (req.method ?? 'GET').toLowerCase();
    const blob = /^\/_blobs\/([\w.-]+)$/.exec(url.pathname);
    if (blob && method === 'get') return this.serveBlob(req, res, blob[1]!);
    const raw = await readBody(req);
    let body: unknown;
    if (raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return this.send(res, undefined, method, url, { status: 400, body: { message: 'Problems parsing JSON', documentation_url: 'https://docs.github.com/rest' } }, undefined, undefined);
      }
    }
    const query = Object.fromEntries(url.searchParams.entries());
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
    if (this.pathPrefix && !url.pathname.startsWith(`${this.pathPrefix}/`)) {
      this.violations.push({ kind: 'unknown-route', method, path: url.pathname, detail: `outside the API root ${this.pathPrefix}` });
      return this.send(res, undefined, method, url, { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } }, body, undefined);
    }
    const apiPath = url.pathname.slice(this.pathPrefix.length);
    if (apiPath === '/graphql' && method === 'post') return this.graphql(res, url, body, /^(?:token|bearer)\s+(.+)$/i.exec(headers['authorization'] ?? '')?.[1]);
    const request = { method, path: apiPath, query, headers, body };
    const operation = this.backend.router.matchOperation(request as never);
    const token = /^(?:token|bearer)\s+(.+)$/i.exec(headers['authorization'] ?? '')?.[1];
    if (!operation) {
      this.violations.push({ kind: 'unknown-route', method, path: apiPath, detail: 'no such path in the OpenAPI description' });
      return this.send(res, undefined, method, url, { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } }, body, token);
    }
    const operationId = operation.operationId!;
    const validation = this.backend.validator.validateRequest(request as never, operation);
    if (!validation.valid) {
      const detail = (validation.errors ?? []).map((e: { instancePath?: string; message?: string }) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      this.violations.push({ kind: 'request', operationId, method, path: url.pathname, detail });
      return this.send(res, operationId, method, url, { status: 422, body: { message: `Invalid request: ${detail}`, documentation_url: 'https://docs.github.com/rest', status: '422' } }, body, token);
    }
    const tokenInfo = token ? this.tokens.get(token) : undefined;
    if (!tokenInfo) {
      return this.send(res, operationId, method, url, { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } }, body, token);
    }
    const fault = this.takeFault(operationId, method);
    if (fault) {
      return this.send(res, operationId, method, url, { status: fault.status, headers: fault.headers ?? {}, body: { message: fault.message ?? defaultMessage(fault.status), documentation_url: 'https://docs.github.com/rest', status: String(fault.status) } }, body, token);
    }
    if (tokenInfo.permission === 'read' && WRITE_METHODS.has(method)) {
      return this.send(res, operationId, method, url, { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest', status: '403' } }, body, token);
    }
    if (tokenInfo.scopes) {
      const need = scopesOf(operationId);
      const level = WRITE_METHODS.has(method) ? 'write' : 'read';
      const granted = need.some((sc) => tokenInfo.scopes![sc] === 'write' || (level === 'read' && tokenInfo.scopes![sc] === 'read'));
      if (need.length && !granted) {
        return this.send(res, operationId, method, url, { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest', status: '403' } }, body, token);
      }
    }
    const handler = this.handlers[operationId];
    if (!handler) {
      this.violations.push({ kind: 'unimplemented', operationId, method, path: url.pathname, detail: 'the fake has no handler for this operation' });
      return this.send(res, operationId, method, url, { status: 501, body: { message: `fake-github does not implement ${operationId}`, documentation_url: 'https://docs.github.com/rest' } }, body, token);
    }
    const parsed = this.backend.router.parseRequest(request as never, operation);
    const params = Object.fromEntries(Object.entries((parsed.params ?? {}) as Record<string, unknown>).map(([k, v]) => [k, decodeURIComponent(String(v))]));
    const reply = handler({ operationId, method, params, query, body: (body && !Array.isArray(body) ? body : {}) as JsonObject, rawBody: body, token: tokenInfo, url });
    return this.send(res, operationId, method, url, reply, body, token);
  }

  /**
   * The GraphQL endpoint, for the one mutation Maestro uses: `minimizeComment`
   * (hide a superseded comment as OUTDATED). Anything else is recorded as a
   * violation. Errors come back as GitHub does: HTTP 200 with `errors`.
   */
  private graphql(res: ServerResponse, url: URL, body: unknown, token: string | undefined): void {
    const info = token ? this.tokens.get(token) : undefined;
    const b = (body ?? {}) as { query?: string; variables?: Record<string, unknown> };
    const reply = (payload: unknown, status = 200) => {
      this.requests.push({ operationId: 'graphql', method: 'post', path: url.pathname, query: {}, body, token, status });
      const text = JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    };
    if (!info) return reply({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/graphql' }, 401);
    const q = (b.query ?? '').replace(/\s+/g, ' ');
    const m = /mutation\s*(?:\w+\s*)?\(\s*\$(\w+)\s*:\s*ID!\s*(?:,\s*\$(\w+)\s*:\s*ReportedContentClassifiers!\s*)?\)\s*\{\s*minimizeComment\s*\(\s*input\s*:\s*\{\s*subjectId\s*:\s*\$(\w+)\s*,\s*classifier\s*:\s*(\$\w+|[A-Z_]+)\s*\}\s*\)\s*\{\s*minimizedComment\s*\{\s*isMinimized(?:\s+minimizedReason)?\s*\}\s*\}\s*\}/.exec(q);
    if (!m || m[1] !== m[3]) {
      this.violations.push({ kind: 'unimplemented', operationId: 'graphql', method: 'post', path: url.pathname, detail: `the fake implements only the minimizeComment mutation; got: ${q.slice(0, 200)}` });
      return reply({ errors: [{ message: 'fake-github: unsupported GraphQL operation' }] });
    }
    const id = b.variables?.[m[1]!];
    const classifier = m[4]!.startsWith('$') ? b.variables?.[m[4]!.slice(1)] : m[4];
    if (typeof id !== 'string' || !['SPAM', 'ABUSE', 'OFF_TOPIC', 'OUTDATED', 'DUPLICATE', 'RESOLVED'].includes(String(classifier))) {
      this.violations.push({ kind: 'request', operationId: 'graphql', method: 'post', path: url.pathname, detail: `minimizeComment needs an ID and a ReportedContentClassifiers value; got ${JSON.stringify(b.variables)}` });
      return reply({ errors: [{ message: 'Variable $id of type ID! was provided invalid value' }] });
    }
    if (info.permission === 'read') return reply({ data: { minimizeComment: null }, errors: [{ type: 'FORBIDDEN', path: ['minimizeComment'], message: 'Resource not accessible by integration' }] });
    for (const repo of this.repos.values()) {
      const c = repo.comments.find((x) => x['node_id'] === id);
      if (c) {
        c['_minimized'] = classifier;
        return reply({ data: { minimizeComment: { minimizedComment: { isMinimized: true, minimizedReason: String(classifier).toLowerCase() } } } });
      }
    }
    return reply({ data: { minimizeComment: null }, errors: [{ type: 'NOT_FOUND', path: ['minimizeComment'], message: `Could not resolve to a node with the global id of '${id}'` }] });
  }

  /** Comments hidden through GraphQL, with their classifier. */
  minimized(fullName: string, issue: number): Array<{ id: number; classifier: string }> {
    return this.repo(fullName).comments.filter((c) => c['_issue'] === issue && c['_minimized']).map((c) => ({ id: Number(c['id']), classifier: String(c['_minimized']) }));
  }

  private takeFault(operationId: string, method: string): Fault | undefined {
    for (const f of this.faults) {
      if (f.remaining <= 0) continue;
      if (f.method && f.method.toLowerCase() !== method) continue;
      if (f.operation !== undefined && !(typeof f.operation === 'string' ? f.operation === operationId : f.operation.test(operationId))) continue;
      f.remaining--;
      return f;
    }
    return undefined;
  }

  private send(res: ServerResponse, operationId: string | undefined, method: string, url: URL, reply: Reply, body: unknown, token: string | undefined): void {
    if (operationId && reply.body !== undefined) {
      const op = operationById(this.backend, operationId)!;
      const declared = op.responses?.[String(reply.status)] as { content?: Record<string, unknown> } | undefined;
      if (declared?.content?.['application/json']) {
        const v = this.backend.validator.validateResponse(reply.body, op, reply.status);
        if (!v.valid) {
          this.violations.push({ kind: 'response', operationId, method, path: url.pathname, detail: (v.errors ?? []).slice(0, 5).map((e: { instancePath?: string; message?: string }) => `${e.instancePath || '/'} ${e.message}`).join('; ') });
        }
      } else if (reply.status < 300 && reply.status !== 204 && !declared) {
        this.violations.push({ kind: 'response', operationId, method, path: url.pathname, detail: `status ${reply.status} is not declared for this operation` });
      }
    }
    this.requests.push({ operationId, method, path: url.pathname, query: Object.fromEntries(url.searchParams.entries()), body, token, status: reply.status });
    const headers: Record<string, string> = { 'x-github-request-id': `FAKE:${this.requests.length}`, 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600), 'x-ratelimit-resource': 'core', ...reply.headers };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(stripPrivate(reply.body));
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  }

  // ---------------------------------------------------------------- builders (spec examples + overrides)

  private ex(operationId: string, status: number): JsonObject {
    const e = specExample(this.backend, operationId, status);
    return (Array.isArray(e) ? e[0] : e) as JsonObject;
  }

  private user(login: string): JsonObject {
    const base = this.ex('issues/create-comment', 201)['user'] as JsonObject;
    const id = hashId(login);
    return { ...base, login, id, node_id: `U_${id}`, type: login.endsWith('[bot]') ? 'Bot' : 'User', url: `${this.url}/users/${encodeURIComponent(login)}`, html_url: `https://github.com/${encodeURIComponent(login)}` };
  }

  private page<T>(ctx: Ctx, items: T[], wrap?: (slice: T[]) => unknown): Reply {
    const perPage = Math.min(Math.max(Number(ctx.query['per_page'] ?? 30) || 30, 1), 100);
    const page = Math.max(Number(ctx.query['page'] ?? 1) || 1, 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const links: string[] = [];
    const link = (p: number, rel: string) => {
      const u = new URL(ctx.url.toString());
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('page', String(p));
      links.push(`<${u.toString()}>; rel="${rel}"`);
    };
    if (page < last) {
      link(page + 1, 'next');
      link(last, 'last');
    }
    if (page > 1) {
      link(1, 'first');
      link(page - 1, 'prev');
    }
    return { status: 200, body: wrap ? wrap(slice) : slice, headers: links.length ? { link: links.join(', ') } : {} };
  }

  private findRepo(ctx: Ctx): RepoState | Reply {
    const repo = this.repos.get(`${ctx.params['owner']}/${ctx.params['repo']}`.toLowerCase());
    return repo ?? notFound();
  }

  private makeHandlers(): Record<string, Handler> {
    const withRepo = (fn: (ctx: Ctx, repo: RepoState) => Reply): Handler => (ctx) => {
      const r = this.findRepo(ctx);
      return 'status' in r ? r : fn(ctx, r);
    };
    const comment = (repo: RepoState, issue: number, body: string, login: string): JsonObject => {
      const id = this.nextId++;
      const at = this.now();
      return {
        ...this.ex('issues/create-comment', 201),
        id,
        node_id: `IC_${id}`,
        url: `${this.url}/repos/${repo.owner}/${repo.name}/issues/comments/${id}`,
        html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${issue}#issuecomment-${id}`,
        issue_url: `${this.url}/repos/${repo.owner}/${repo.name}/issues/${issue}`,
        body,
        user: this.user(login),
        created_at: at,
        updated_at: at,
        author_association: login.endsWith('[bot]') ? 'NONE' : 'MEMBER',
        _issue: issue,
      };
    };
    const findComment = (repo: RepoState, id: number) => repo.comments.find((c) => c['id'] === id);

    return {
      'users/get-authenticated': (ctx) => {
        if (ctx.token.kind === 'installation') return forbidden();
        return { status: 200, body: { ...this.ex('users/get-authenticated', 200), ...this.user(ctx.token.login) } };
      },
      'issues/list-comments': withRepo((ctx, repo) => this.page(ctx, repo.comments.filter((c) => c['_issue'] === Number(ctx.params['issue_number'])))),
      'issues/create-comment': withRepo((ctx, repo) => {
        const issue = Number(ctx.params['issue_number']);
        if (!repo.pulls.has(issue)) return notFound();
        if (String(ctx.body['body']).length > 65536) return unprocessable('Body is too long (maximum is 65536 characters)');
        const c = comment(repo, issue, String(ctx.body['body']), ctx.token.login);
        repo.comments.push(c);
        return { status: 201, body: c };
      }),
      'issues/get-comment': withRepo((ctx, repo) => {
        const c = findComment(repo, Number(ctx.params['comment_id']));
        return c ? { status: 200, body: c } : notFound();
      }),
      'issues/update-comment': withRepo((ctx, repo) => {
        const c = findComment(repo, Number(ctx.params['comment_id']));
        if (!c) return notFound();
        if ((c['user'] as JsonObject)['login'] !== ctx.token.login) return forbidden();
        if (String(ctx.body['body']).length > 65536) return unprocessable('Body is too long (maximum is 65536 characters)');
        c['body'] = String(ctx.body['body']);
        c['updated_at'] = this.now();
        return { status: 200, body: c };
      }),
      'issues/delete-comment': withRepo((ctx, repo) => {
        const i = repo.comments.findIndex((c) => c['id'] === Number(ctx.params['comment_id']));
        if (i < 0) return notFound();
        repo.comments.splice(i, 1);
        return { status: 204 };
      }),
      'pulls/list': withRepo((ctx, repo) => {
        const state = ctx.query['state'] ?? 'open';
        const head = ctx.query['head'];
        const list = [...repo.pulls.values()]
          .filter((p) => state === 'all' || (p.state ?? 'open') === state)
          .filter((p) => !head || `${p.headOwner ?? repo.owner}:${p.headRef ?? 'feature'}` === head)
          .sort((a, b) => b.number - a.number)
          .map((p) => this.pull(repo, p));
        return this.page(ctx, list);
      }),
      'pulls/get': withRepo((ctx, repo) => {
        const p = repo.pulls.get(Number(ctx.params['pull_number']));
        return p ? { status: 200, body: this.pull(repo, p) } : notFound();
      }),
      'pulls/create': withRepo((ctx, repo) => {
        const head = String(ctx.body['head'] ?? '');
        const baseRef = String(ctx.body['base'] ?? 'main');
        const headSha = this.refResolver?.(head);
        const baseSha = this.refResolver?.(baseRef);
        if (!headSha || !baseSha) return unprocessable(`Validation Failed: ${!headSha ? `head ${head}` : `base ${baseRef}`} does not exist`);
        if ([...repo.pulls.values()].some((p) => p.headRef === head && p.state !== 'closed')) return unprocessable(`A pull request already exists for ${repo.owner}:${head}.`);
        const number = Math.max(0, ...repo.pulls.keys()) + 1;
        const p: PullSeed = { number, title: String(ctx.body['title'] ?? ''), body: String(ctx.body['body'] ?? ''), headSha, headRef: head, baseSha, baseRef, author: ctx.token.login };
        repo.pulls.set(number, p);
        this.pushed(repo, headSha, head);
        return { status: 201, body: this.pull(repo, p) };
      }),
      'pulls/request-reviewers': withRepo((ctx, repo) => {
        const n = Number(ctx.params['pull_number']);
        const p = repo.pulls.get(n);
        if (!p) return notFound();
        const users = (ctx.body['reviewers'] as string[] | undefined) ?? [];
        const teams = (ctx.body['team_reviewers'] as string[] | undefined) ?? [];
        if (users.includes(p.author ?? 'octocat')) return unprocessable('Review cannot be requested from pull request author.');
        const cur = repo.reviewRequests.get(n) ?? { users: [], teams: [] };
        const next = { users: [...new Set([...cur.users, ...users])], teams: [...new Set([...cur.teams, ...teams])] };
        repo.reviewRequests.set(n, next);
        const body = this.pull(repo, p);
        const exUser = (this.ex('pulls/get', 200)['requested_reviewers'] as JsonObject[] | undefined)?.[0] ?? {};
        const exTeam = (this.ex('pulls/get', 200)['requested_teams'] as JsonObject[] | undefined)?.[0];
        return {
          status: 201,
          body: {
            ...body,
            requested_reviewers: next.users.map((u) => ({ ...exUser, ...this.user(u) })),
            requested_teams: next.teams.map((t, i) => ({ ...(exTeam ?? {}), id: 9000 + i, node_id: `T_${i}`, slug: t, name: t, description: null, privacy: 'closed', notification_setting: 'notifications_enabled', permission: 'pull', url: `${this.url}/teams/${9000 + i}`, html_url: `https://github.com/orgs/${repo.owner}/teams/${t}`, members_url: `${this.url}/teams/${9000 + i}/members{/member}`, repositories_url: `${this.url}/teams/${9000 + i}/repos`, parent: null, type: 'organization', organization_id: 1 })),
          },
        };
      }),
      'issues/add-labels': withRepo((ctx, repo) => {
        const n = Number(ctx.params['issue_number']);
        if (!repo.pulls.has(n)) return notFound();
        const raw = Array.isArray(ctx.rawBody) ? ctx.rawBody : (ctx.body['labels'] as unknown[] | undefined) ?? [];
        const names = raw.map((l) => (typeof l === 'string' ? l : String((l as JsonObject)['name'] ?? '')));
        const next = [...new Set([...(repo.labels.get(n) ?? []), ...names])];
        for (const name of names) if (!(repo.labels.get(n) ?? []).includes(name)) this.recordLabelEvent(repo, n, name, ctx.token.login, 'labeled');
        repo.labels.set(n, next);
        const ex = (this.ex('issues/add-labels', 200) as unknown as JsonObject[])[0] ?? {};
        return { status: 200, body: next.map((name, i) => ({ color: 'ededed', default: false, description: null, ...ex, id: 7000 + i, name, node_id: `LA_${i}`, url: `${this.url}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(name)}` })) };
      }),
      'pulls/list-files': withRepo((ctx, repo) => {
        const p = repo.pulls.get(Number(ctx.params['pull_number']));
        if (!p) return notFound();
        // GitHub lists at most 3000 files for a pull request.
        return this.page(ctx, (p.files ?? []).slice(0, FILES_API_LIMIT).map((f) => this.diffEntry(f)));
      }),
      'repos/compare-commits': withRepo((ctx, repo) => {
        // openapi-backend mis-splits `{basehead}` values containing '...'; read the segment from the URL.
        const key = decodeURIComponent(ctx.url.pathname.split('/compare/')[1] ?? '');
        const cmp = repo.compares.get(key);
        if (!cmp) return notFound();
        const ex = this.ex('repos/compare-commits', 200);
        const commitEx = ex['base_commit'] as JsonObject;
        const commit = (sha: string) => ({ ...commitEx, sha, node_id: `C_${sha}`, url: `${this.url}/repos/${repo.owner}/${repo.name}/commits/${sha}` });
        const files = cmp.files.map((f) => this.diffEntry(f));
        return {
          status: 200,
          body: { ...ex, status: cmp.status, ahead_by: cmp.commits.length, behind_by: 0, total_commits: cmp.commits.length, base_commit: commit(key.split('...')[0]!), merge_base_commit: commit(cmp.mergeBase), commits: cmp.commits.map(commit), files },
        };
      }),
      'issues/list-events': withRepo((ctx, repo) => this.page(ctx, repo.issueEvents.filter((e) => e['_issue'] === Number(ctx.params['issue_number'])))),
      'repos/get-content': withRepo((ctx, repo) => {
        const path = (ctx.params['path'] ?? '').replace(/^\/+/, '');
        const text = (ctx.query['ref'] ? repo.contents.get(`${ctx.query['ref']}:${path}`) : undefined) ?? repo.contents.get(path);
        if (text === undefined) return notFound();
        const ex = this.ex('repos/get-content', 200);
        const sha = hashHex(text);
        return { status: 200, body: { ...ex, type: 'file', encoding: 'base64', size: Buffer.byteLength(text), name: path.split('/').pop(), path, content: Buffer.from(text).toString('base64'), sha } };
      }),
      'repos/create-commit-status': withRepo((ctx, repo) => {
        const id = this.nextId++;
        const at = this.now();
        const s = { ...this.ex('repos/create-commit-status', 201), id, node_id: `SC_${id}`, state: ctx.body['state'], description: ctx.body['description'] ?? null, target_url: ctx.body['target_url'] ?? null, context: ctx.body['context'] ?? 'default', created_at: at, updated_at: at, creator: this.user(ctx.token.login), _sha: ctx.params['sha'] };
        repo.statuses.push(s);
        return { status: 201, body: s };
      }),
      'repos/list-commit-statuses-for-ref': withRepo((ctx, repo) => this.page(ctx, repo.statuses.filter((s) => s['_sha'] === ctx.params['ref']).reverse())),
      'checks/create': withRepo((ctx, repo) => {
        const bad = checkOutputProblem(ctx.body);
        if (bad) return unprocessable(bad);
        const id = this.nextId++;
        const run = this.checkRun(repo, id, ctx.body);
        repo.checkRuns.push(run);
        return { status: 201, body: run };
      }),
      'checks/update': withRepo((ctx, repo) => {
        const bad = checkOutputProblem(ctx.body);
        if (bad) return unprocessable(bad);
        const i = repo.checkRuns.findIndex((r) => r['id'] === Number(ctx.params['check_run_id']));
        if (i < 0) return notFound();
        const merged = { ...repo.checkRuns[i]!, ...ctx.body } as JsonObject;
        repo.checkRuns[i] = this.checkRun(repo, Number(ctx.params['check_run_id']), merged, repo.checkRuns[i]);
        return { status: 200, body: repo.checkRuns[i] };
      }),
      'checks/get': withRepo((ctx, repo) => {
        const r = repo.checkRuns.find((x) => x['id'] === Number(ctx.params['check_run_id']));
        return r ? { status: 200, body: r } : notFound();
      }),
      'checks/list-suites-for-ref': withRepo((ctx, repo) => {
        const suites = repo.checkSuites.filter((c) => c['head_sha'] === ctx.params['ref']);
        return this.page(ctx, suites, (slice) => ({ total_count: suites.length, check_suites: slice }));
      }),
      'checks/list-for-ref': withRepo((ctx, repo) => {
        let runs = repo.checkRuns.filter((r) => r['head_sha'] === ctx.params['ref'] && (!ctx.query['check_name'] || r['name'] === ctx.query['check_name'])).sort((a, b) => Number(b['id']) - Number(a['id']));
        // `filter` defaults to latest: the most recent check run of each name.
        if ((ctx.query['filter'] ?? 'latest') === 'latest') runs = runs.filter((r, i) => runs.findIndex((x) => x['name'] === r['name']) === i);
        return this.page(ctx, runs, (slice) => ({ total_count: runs.length, check_runs: slice }));
      }),
      'actions/list-workflow-runs-for-repo': withRepo((ctx, repo) => {
        const runs = this.filterRuns(repo.workflowRuns, ctx);
        return this.page(ctx, runs, (slice) => ({ total_count: runs.length, workflow_runs: slice }));
      }),
      'actions/list-workflow-runs': withRepo((ctx, repo) => {
        const wf = ctx.params['workflow_id'] ?? '';
        const runs = this.filterRuns(repo.workflowRuns, ctx).filter((r) => String(r['workflow_id']) === wf || String(r['path']).endsWith(`/${wf}`));
        return this.page(ctx, runs, (slice) => ({ total_count: runs.length, workflow_runs: slice }));
      }),
      'repos/get-collaborator-permission-level': withRepo((ctx, repo) => {
        const login = ctx.params['username'] ?? '';
        const permission = repo.permissions.get(login);
        if (!permission) return notFound();
        const ex = this.ex('repos/get-collaborator-permission-level', 200);
        const roleName = permission;
        return { status: 200, body: { ...ex, permission: permission === 'maintain' ? 'write' : permission === 'triage' ? 'read' : permission, role_name: roleName, user: { ...(ex['user'] as JsonObject), ...this.user(login), role_name: roleName } } };
      }),
      'repos/list-attestations': withRepo((ctx, repo) => {
        const digest = ctx.params['subject_digest'] ?? '';
        const list = repo.attestations.get(digest) ?? [];
        if (!list.length) return notFound();
        const entries = list.map((a, i) => {
          const id = `${repo.id}-${digest.replace(':', '-')}-${i}`;
          this.blobs.set(id, a);
          // GitHub now sends `bundle: null` with a bundle_url; the published OpenAPI description does not allow
          // null there yet, so the fake leaves the key out (clients must handle both).
          return { ...(a.blob === 'inline' ? { bundle: a.bundle } : {}), repository_id: repo.id, bundle_url: `${this.blobUrl()}/${id}?sig=fake`, initiator: 'user' };
        });
        // Cursor pagination (`after`), as this endpoint has: no `page` parameter.
        const perPage = Math.min(Math.max(Number(ctx.query['per_page'] ?? 30) || 30, 1), 100);
        const start = ctx.query['after'] ? Number(Buffer.from(ctx.query['after'], 'base64url').toString()) : 0;
        const slice = entries.slice(start, start + perPage);
        const headers: Record<string, string> = {};
        if (start + perPage < entries.length) {
          const u = new URL(ctx.url.toString());
          u.searchParams.set('per_page', String(perPage));
          u.searchParams.set('after', Buffer.from(String(start + perPage)).toString('base64url'));
          headers['link'] = `<${u.toString()}>; rel="next"`;
        }
        return { status: 200, headers, body: { attestations: slice } };
      }),
    };
  }

  private filterRuns(runs: JsonObject[], ctx: Ctx): JsonObject[] {
    const q = ctx.query;
    return runs
      .filter((r) => (!q['branch'] || r['head_branch'] === q['branch']) && (!q['event'] || r['event'] === q['event']) && (!q['head_sha'] || r['head_sha'] === q['head_sha']))
      .filter((r) => !q['status'] || r['status'] === q['status'] || r['conclusion'] === q['status'])
      .slice()
      .sort((a, b) => String(b['created_at']).localeCompare(String(a['created_at'])));
  }

  /** The head repository as GitHub reports it: the fork's `owner/name` for a fork's pull request. */
  private headRepo(repo: RepoState, head: JsonObject, owner: string): JsonObject {
    const ex = (head['repo'] as JsonObject | null) ?? {};
    const exOwner = (ex['owner'] as JsonObject | undefined) ?? {};
    const fork = owner !== repo.owner;
    return { ...ex, id: fork ? hashId(`${owner}/${repo.name}`) : repo.id, name: repo.name, full_name: `${owner}/${repo.name}`, fork, owner: { ...exOwner, login: owner } };
  }

  private pull(repo: RepoState, p: PullSeed): JsonObject {
    const ex = this.ex('pulls/get', 200);
    const base = ex['base'] as JsonObject;
    const head = ex['head'] as JsonObject;
    const repoUrl = `${this.url}/repos/${repo.owner}/${repo.name}`;
    return {
      ...ex,
      number: p.number,
      id: hashId(`${repo.owner}/${repo.name}#${p.number}`),
      url: `${repoUrl}/pulls/${p.number}`,
      html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${p.number}`,
      state: p.state ?? 'open',
      title: p.title ?? `PR ${p.number}`,
      ...(p.body !== undefined ? { body: p.body } : {}),
      user: this.user(p.author ?? 'octocat'),
      requested_teams: [],
      changed_files: (p.files ?? []).length,
      head: { ...head, sha: p.headSha, ref: p.headRef ?? 'feature', label: `${p.headOwner ?? repo.owner}:${p.headRef ?? 'feature'}`, repo: this.headRepo(repo, head, p.headOwner ?? repo.owner) },
      base: { ...base, sha: p.baseSha, ref: p.baseRef ?? 'main', label: `${repo.owner}:${p.baseRef ?? 'main'}` },
    };
  }

  private diffEntry(f: NonNullable<PullSeed['files']>[number]): JsonObject {
    const ex = this.ex('pulls/list-files', 200);
    const additions = f.additions ?? 1;
    const deletions = f.deletions ?? 0;
    const entry: JsonObject = { ...ex, sha: hashHex(f.filename), filename: f.filename, status: f.status, additions, deletions, changes: additions + deletions, patch: f.patch ?? '@@ -0,0 +1 @@\n+x' };
    if (f.previous_filename) entry['previous_filename'] = f.previous_filename;
    else delete entry['previous_filename'];
    return entry;
  }

  private checkRun(repo: RepoState, id: number, input: JsonObject, prev?: JsonObject): JsonObject {
    const ex = this.ex('checks/create', 201);
    const status = String(input['status'] ?? (input['conclusion'] ? 'completed' : 'queued'));
    const at = this.now();
    const output = (input['output'] ?? {}) as JsonObject;
    return {
      ...ex,
      id,
      node_id: `CR_${id}`,
      head_sha: input['head_sha'] ?? prev?.['head_sha'],
      external_id: input['external_id'] ?? '',
      url: `${this.url}/repos/${repo.owner}/${repo.name}/check-runs/${id}`,
      html_url: `https://github.com/${repo.owner}/${repo.name}/runs/${id}`,
      details_url: input['details_url'] ?? null,
      name: input['name'],
      status,
      conclusion: status === 'completed' ? (input['conclusion'] ?? 'neutral') : null,
      started_at: input['started_at'] ?? prev?.['started_at'] ?? at,
      completed_at: status === 'completed' ? (input['completed_at'] ?? at) : null,
      // Annotations accumulate across updates, as on GitHub.
      output: { ...(ex['output'] as JsonObject), title: output['title'] ?? null, summary: output['summary'] ?? null, text: output['text'] ?? null, annotations_count: (prev ? Number((prev['output'] as JsonObject | undefined)?.['annotations_count'] ?? 0) : 0) + (Array.isArray(output['annotations']) ? output['annotations'].length : 0) },
      pull_requests: [],
    };
  }
}

function notFound(): Reply {
  return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' } };
}

function forbidden(): Reply {
  return { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest', status: '403' } };
}

function unprocessable(message: string): Reply {
  return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message }], documentation_url: 'https://docs.github.com/rest', status: '422' } };
}

function defaultMessage(status: number): string {
  return { 403: 'Forbidden', 404: 'Not Found', 422: 'Validation Failed', 429: 'API rate limit exceeded', 500: 'Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' }[status] ?? `HTTP ${status}`;
}

/** Fields prefixed `_` are the fake's bookkeeping, never sent. */
function stripPrivate(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripPrivate);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('_')).map(([k, x]) => [k, stripPrivate(x)]));
  return v;
}

/** GitHub's limits on a check run's output, which the OpenAPI schema does not carry: bytes, not characters; 50 annotations per request. */
function checkOutputProblem(body: JsonObject): string | undefined {
  const out = body['output'] as JsonObject | undefined;
  if (!out) return undefined;
  for (const k of ['summary', 'text'] as const) {
    if (typeof out[k] === 'string' && Buffer.byteLength(out[k] as string) > 65535) return `Invalid request.\n\n${k} exceeds a maximum bytesize of 65535`;
  }
  if (Array.isArray(out['annotations']) && out['annotations'].length > 50) return 'Invalid request.\n\nOnly 50 annotations are allowed per request';
  return undefined;
}

function publicView(o: JsonObject): JsonObject {
  return stripPrivate(o) as JsonObject;
}

function hashId(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) % 1_000_000_000;
}

function hashHex(s: string): string {
  let out = '';
  for (let i = 0; out.length < 40; i++) out += hashId(`${i}:${s}`).toString(16).padStart(8, '0');
  return out.slice(0, 40);
}
