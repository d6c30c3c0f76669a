/**
 * The response cache: a re-run of the same step on the same inputs gets the stored answer instead
 * of a new call. The key is the normalized prompt (line endings, trailing spaces), the model, the
 * prompt version and the repository revision of the inputs; entries expire after a TTL. Each entry
 * carries what its key was made from, and an entry whose material does not match is a false hit:
 * counted, not used.
 *
 * Stores: a directory (what the action keeps in the Actions cache — no server), memory, or Redis when
 * `cache-url: redis://…` is given. A store that fails (Redis down) is dropped for the rest of the
 * run with one warning: the steps still run, nothing is lost, only the saving is.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProviderResult } from './call.js';

export interface CacheStore {
  readonly name: string;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  close?(): Promise<void>;
}

export interface KeyParts {
  model: string;
  /** e.g. critic@v1: a changed prompt template is a new key. */
  promptVersion: string;
  /** The commit (or tree) the prompt's inputs were read at. */
  revision: string;
  system: readonly string[];
  prompt: string;
}

/** Line endings and trailing whitespace do not change the answer; anything else does. */
export function normalizePrompt(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
}

export function keyMaterial(p: KeyParts): string {
  return JSON.stringify(['maestro-response-v1', p.model, p.promptVersion, p.revision, p.system.map(normalizePrompt), normalizePrompt(p.prompt)]);
}

export function responseKey(p: KeyParts): string {
  return `maestro:resp:${createHash('sha256').update(keyMaterial(p)).digest('hex')}`;
}

interface Stored {
  material: string;
  storedAt: number;
  result: ProviderResult;
}

export interface CacheStats {
  hits: number;
  misses: number;
  falseHits: number;
  errors: number;
}

export class ResponseCache {
  readonly stats: CacheStats = { hits: 0, misses: 0, falseHits: 0, errors: 0 };
  private store: CacheStore | undefined;
  constructor(
    store: CacheStore | undefined,
    private readonly o: { ttlSeconds?: number; now: () => number; warn?: (line: string) => void },
  ) {
    this.store = store;
  }

  private failed(e: unknown, doing: string): void {
    this.stats.errors++;
    this.o.warn?.(`response cache (${this.store?.name}) ${doing} failed: ${(e as Error)?.message ?? e}; running without it for the rest of this run`);
    const s = this.store;
    this.store = undefined;
    void s?.close?.().catch(() => {});
  }

  async get(parts: KeyParts): Promise<ProviderResult | undefined> {
    if (!this.store) return undefined;
    let raw: string | undefined;
    try {
      raw = await this.store.get(responseKey(parts));
    } catch (e) {
      this.failed(e, 'read');
      return undefined;
    }
    if (raw === undefined) {
      this.stats.misses++;
      return undefined;
    }
    let entry: Stored | undefined;
    try {
      entry = JSON.parse(raw) as Stored;
    } catch {
      entry = undefined;
    }
    const ttl = (this.o.ttlSeconds ?? 7 * 86400) * 1000;
    if (!entry || entry.material !== keyMaterial(parts) || !entry.result) {
      this.stats.falseHits++;
      return undefined;
    }
    if (this.o.now() - entry.storedAt > ttl) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    return entry.result;
  }

  async set(parts: KeyParts, result: ProviderResult): Promise<void> {
    if (!this.store) return;
    const entry: Stored = { material: keyMaterial(parts), storedAt: this.o.now(), result };
    try {
      await this.store.set(responseKey(parts), JSON.stringify(entry), this.o.ttlSeconds ?? 7 * 86400);
    } catch (e) {
      this.failed(e, 'write');
    }
  }

  async close(): Promise<void> {
    await this.store?.close?.().catch(() => {});
  }
}

export class MemoryStore implements CacheStore {
  readonly name = 'memory';
  readonly data = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.data.get(key);
  }
  async set(key: string, value: string): Promise<void> {
    this.data.set(key, value);
  }
}

/** One file per key under a directory: the action restores and saves the directory through the Actions cache. */
export class DirectoryStore implements CacheStore {
  readonly name = 'directory';
  constructor(private readonly dir: string) {}
  private file(key: string): string {
    return path.join(this.dir, `${key.replace(/[^a-z0-9]/gi, '_')}.json`);
  }
  async get(key: string): Promise<string | undefined> {
    try {
      return readFileSync(this.file(key), 'utf8');
    } catch {
      return undefined;
    }
  }
  async set(key: string, value: string): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const f = this.file(key);
    writeFileSync(`${f}.${process.pid}.tmp`, value);
    renameSync(`${f}.${process.pid}.tmp`, f);
  }
}

/** Redis (node-redis): entries with a TTL; a connection that cannot be made within `connectMs` is an error, not a wait. */
export async function redisStore(url: string, connectMs = 2_000): Promise<CacheStore> {
  const { createClient } = await import('redis');
  const client = createClient({ url, socket: { connectTimeout: connectMs, reconnectStrategy: false } });
  // Errors surface through the commands; the client's own event would otherwise crash the process.
  client.on('error', () => {});
  await client.connect();
  return {
    name: 'redis',
    async get(key) {
      const v = await client.get(key);
      return v ?? undefined;
    },
    async set(key, value, ttl) {
      await client.set(key, value, { expiration: { type: 'EX', value: Math.max(1, Math.floor(ttl)) } });
    },
    async close() {
      await client.quit().catch(() => client.destroy());
    },
  };
}

/** The store a `cache-url` names: redis://… (or rediss://), else a directory path. Redis that cannot be reached: undefined, with the reason. */
export async function openStore(cacheUrl: string, warn: (line: string) => void): Promise<CacheStore | undefined> {
  if (/^rediss?:\/\//.test(cacheUrl)) {
    try {
      return await redisStore(cacheUrl);
    } catch (e) {
      warn(`response cache: Redis at ${cacheUrl.replace(/\/\/[^@/]*@/, '//***@')} cannot be reached (${(e as Error)?.message ?? e}); running without a response cache`);
      return undefined;
    }
  }
  return new DirectoryStore(cacheUrl);
}

