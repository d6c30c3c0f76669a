/**
 * A loopback fake of the GitHub Actions cache service v2 so the unmodified
 * `@actions/cache` saves and restores against it: twirp JSON RPCs under
 * `/twirp/github.actions.results.api.v1.CacheService/*` plus Azure-style blob
 * upload (single PUT, `comp=block`, `comp=blocklist`) and a plain GET
 * download. Scopes come from the runtime token's `ac` claim, as on GitHub: a
 * run reads its own ref's entries and those of the refs it may read, and
 * writes only to its own (the first scope with write permission).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './http.js';

export interface CacheScope {
  Scope: string;
  /** Bit set: 1 = read, 2 = write. */
  Permission: number;
}

export interface CacheEntry {
  id: number;
  key: string;
  version: string;
  scope: string;
  size: number;
  data: Buffer;
  finalized: boolean;
  createdAt: number;
}

export interface CacheRequest {
  rpc: string;
  body: Record<string, unknown>;
  ok: boolean;
}

const PREFIX = '/twirp/github.actions.results.api.v1.CacheService/';

/** An unsigned JWT carrying the `ac` claim the cache service reads. */
export function runtimeToken(scopes: CacheScope[]): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ac: JSON.stringify(scopes), exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
}

/** The scopes GitHub grants a run on `ref` whose base/default branch is `baseRef`. */
export function scopesFor(ref: string, baseRef = 'refs/heads/main'): CacheScope[] {
  const scopes: CacheScope[] = [{ Scope: ref, Permission: 3 }];
  if (baseRef !== ref) scopes.push({ Scope: baseRef, Permission: 1 });
  return scopes;
}

export class FakeCacheService {
  readonly entries: CacheEntry[] = [];
  readonly requests: CacheRequest[] = [];
  /** `read-only`: every create is denied; `down`: every RPC answers 503. */
  mode: 'normal' | 'read-only' | 'down' = 'normal';
  private server!: Server;
  private nextId = 1;
  private clock = 0;
  private readonly blocks = new Map<number, Map<string, Buffer>>();
  url = '';

  static async start(): Promise<FakeCacheService> {
    const fake = new FakeCacheService();
    fake.server = createServer((req, res) => {
      fake.handle(req, res).catch((e: Error) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'internal', msg: e.message }));
      });
    });
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/`;
    return fake;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }

  /** Environment a node action needs to use this service (v2). */
  env(scopes: CacheScope[]): Record<string, string> {
    return {
      ACTIONS_RESULTS_URL: this.url,
      ACTIONS_CACHE_SERVICE_V2: 'True',
      ACTIONS_RUNTIME_TOKEN: runtimeToken(scopes),
      ACTIONS_CACHE_URL: this.url, // v1 URL is also set by the runner; unused in v2
    };
  }

  private scopes(req: IncomingMessage): CacheScope[] | undefined {
    const auth = /^Bearer\s+(.+)$/i.exec(String(req.headers['authorization'] ?? ''))?.[1];
    if (!auth) return undefined;
    try {
      const payload = JSON.parse(Buffer.from(auth.split('.')[1] ?? '', 'base64url').toString('utf8')) as { ac?: string };
      return JSON.parse(payload.ac ?? '[]') as CacheScope[];
    } catch {
      return undefined;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const body = await readBody(req);
    if (url.pathname.startsWith(PREFIX)) return this.rpc(url.pathname.slice(PREFIX.length), req, body, res);
    const up = /^\/upload\/(\d+)$/.exec(url.pathname);
    if (up && req.method === 'PUT') return this.upload(Number(up[1]), url, req, body, res);
    const down = /^\/download\/(\d+)$/.exec(url.pathname);
    if (down && (req.method === 'GET' || req.method === 'HEAD')) {
      const entry = this.entries.find((e) => e.id === Number(down[1]) && e.finalized);
      if (!entry) return send(res, 404, '');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(entry.size) });
      res.end(req.method === 'HEAD' ? undefined : entry.data);
      return;
    }
    send(res, 404, '');
  }

  private rpc(name: string, req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    if (this.mode === 'down') return twirpError(res, 503, 'unavailable', 'cache service is down');
    const scopes = this.scopes(req);
    if (!scopes) return twirpError(res, 401, 'unauthenticated', 'missing or malformed runtime token');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return twirpError(res, 400, 'malformed', 'body is not JSON');
    }
    const key = String(body['key'] ?? '');
    const version = String(body['version'] ?? '');
    const record = (ok: boolean) => this.requests.push({ rpc: name, body, ok });
    if (name === 'CreateCacheEntry') {
      const writeScope = scopes.find((s) => (s.Permission & 2) !== 0)?.Scope;
      if (this.mode === 'read-only' || !writeScope) {
        record(false);
        return twirpError(res, 403, 'permission_denied', 'cache write denied: the runtime token has no write scope');
      }
      if (!key || key.length > 512 || key.includes(',') || !version) {
        record(false);
        return twirpError(res, 400, 'invalid_argument', 'invalid key or version');
      }
      if (this.entries.some((e) => e.key === key && e.version === version && e.scope === writeScope)) {
        record(false);
        return json(res, { ok: false, signed_upload_url: '', message: 'cache entry already exists' });
      }
      const entry: CacheEntry = { id: this.nextId++, key, version, scope: writeScope, size: 0, data: Buffer.alloc(0), finalized: false, createdAt: ++this.clock };
      this.entries.push(entry);
      record(true);
      return json(res, { ok: true, signed_upload_url: `${this.url}upload/${entry.id}?sig=fake-signature-${entry.id}` });
    }
    if (name === 'FinalizeCacheEntryUpload') {
      const writeScope = scopes.find((s) => (s.Permission & 2) !== 0)?.Scope;
      const entry = this.entries.find((e) => e.key === key && e.version === version && e.scope === writeScope && !e.finalized);
      if (!entry) {
        record(false);
        return json(res, { ok: false, entry_id: '0', message: 'no reserved entry' });
      }
      if (Number(body['size_bytes']) !== entry.size) {
        record(false);
        return twirpError(res, 400, 'invalid_argument', `size_bytes ${String(body['size_bytes'])} does not match the uploaded ${entry.size}`);
      }
      entry.finalized = true;
      record(true);
      return json(res, { ok: true, entry_id: String(entry.id) });
    }
    if (name === 'GetCacheEntryDownloadURL') {
      const readable = scopes.filter((s) => (s.Permission & 1) !== 0).map((s) => s.Scope);
      const restoreKeys = Array.isArray(body['restore_keys']) ? (body['restore_keys'] as string[]) : [];
      const match = this.lookup(readable, version, key, restoreKeys);
      record(!!match);
      if (!match) return json(res, { ok: false, signed_download_url: '', matched_key: '' });
      return json(res, { ok: true, signed_download_url: `${this.url}download/${match.id}?sig=fake-signature-${match.id}`, matched_key: match.key });
    }
    record(false);
    return twirpError(res, 404, 'bad_route', `no such method ${name}`);
  }

  /** GitHub's order: exact key in each scope (own ref first), then each restore key as a prefix, newest first. */
  private lookup(scopes: string[], version: string, key: string, restoreKeys: string[]): CacheEntry | undefined {
    const candidates = (pred: (e: CacheEntry) => boolean) => {
      for (const scope of scopes) {
        const hit = this.entries.filter((e) => e.finalized && e.version === version && e.scope === scope && pred(e)).sort((a, b) => b.createdAt - a.createdAt)[0];
        if (hit) return hit;
      }
      return undefined;
    };
    const exact = candidates((e) => e.key === key);
    if (exact) return exact;
    for (const prefix of restoreKeys) {
      const hit = candidates((e) => e.key.startsWith(prefix));
      if (hit) return hit;
    }
    return undefined;
  }

  private upload(id: number, url: URL, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const entry = this.entries.find((e) => e.id === id && !e.finalized);
    if (!entry) return send(res, 404, '');
    const headers = { 'x-ms-request-id': `fake-${id}`, 'x-ms-version': '2024-11-04', etag: `"0x${id}"`, 'last-modified': new Date(0).toUTCString() };
    const comp = url.searchParams.get('comp');
    if (comp === 'block') {
      const blockId = url.searchParams.get('blockid') ?? '';
      const blocks = this.blocks.get(id) ?? new Map<string, Buffer>();
      blocks.set(blockId, body);
      this.blocks.set(id, blocks);
      res.writeHead(201, headers);
      res.end();
      return;
    }
    if (comp === 'blocklist') {
      const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Committed|Uncommitted)>([^<]+)<\//g)].map((m) => m[1]!);
      const blocks = this.blocks.get(id) ?? new Map<string, Buffer>();
      const parts = ids.map((b) => blocks.get(b));
      if (parts.some((p) => !p)) return send(res, 400, 'InvalidBlockList');
      entry.data = Buffer.concat(parts as Buffer[]);
      entry.size = entry.data.length;
      this.blocks.delete(id);
      res.writeHead(201, headers);
      res.end();
      return;
    }
    if (String(req.headers['x-ms-blob-type'] ?? '').toLowerCase() !== 'blockblob') return send(res, 400, 'MissingRequiredHeader x-ms-blob-type');
    entry.data = body;
    entry.size = body.length;
    res.writeHead(201, headers);
    res.end();
  }
}

function json(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function twirpError(res: ServerResponse, status: number, code: string, msg: string): void {
  const text = JSON.stringify({ code, msg });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(text);
}
