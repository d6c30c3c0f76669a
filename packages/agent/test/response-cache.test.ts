import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AnthropicProvider, budgetedCall, DirectoryStore, Ledger, MemoryLedgerLog, MemoryStore, normalizePrompt, openStore, parsePriceTable, ResponseCache, responseKey, type CacheStore, type KeyParts } from '../src/index.js';
import { FakeAnthropic } from './fake-anthropic.js';

const TABLE = parsePriceTable(readFileSync(path.resolve('prompts/prices.json'), 'utf8'));
const PARTS: KeyParts = { model: 'claude-sonnet-5-5', promptVersion: 'critic@v1', revision: '3f2a9c0d1e', system: ['You are the Critic.'], prompt: 'diff --git a/x b/x\n+1\n' };
let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await FakeAnthropic.start();
});
afterAll(async () => {
  await fake?.stop();
});

describe('response cache key', () => {
  test('golden: the key of a fixed step does not drift (a change here invalidates every stored answer: bump maestro-response-v1)', () => {
    expect(responseKey(PARTS)).toBe(GOLDEN);
  });

  test('line endings and trailing spaces do not change the key; the model, the prompt version, the revision and the text do', () => {
    expect(responseKey({ ...PARTS, prompt: 'diff --git a/x b/x  \r\n+1\r\n\r\n' })).toBe(responseKey(PARTS));
    expect(normalizePrompt('a \t\r\nb\n\n')).toBe('a\nb');
    const others = [{ model: 'claude-opus-5-5' }, { promptVersion: 'critic@v2' }, { revision: '3f2a9c0d1f' }, { prompt: 'diff --git a/x b/x\n+2\n' }, { system: ['You are the Tester.'] }];
    expect(new Set(others.map((o) => responseKey({ ...PARTS, ...o }))).size).toBe(others.length);
    for (const o of others) expect(responseKey({ ...PARTS, ...o })).not.toBe(responseKey(PARTS));
  });
});

/** A budgeted Critic step through the SDK against the fake, with the given store and clock. */
function step(store: CacheStore | undefined, now = () => 1_000_000, warnings: string[] = []) {
  const ledger = new Ledger(new MemoryLedgerLog(), TABLE, { maxUsdPerPr: 2.24 }, 'run-1');
  const cache = new ResponseCache(store, { ttlSeconds: 3600, now, warn: (l) => warnings.push(l) });
  const provider = new AnthropicProvider({ apiKey: 'k', baseURL: fake.url });
  const run = () => budgetedCall({ ledger, prices: TABLE, provider, role: 'critic', promptTokens: 5_000, call: { model: PARTS.model, system: [...PARTS.system], prompt: PARTS.prompt, maxOutputTokens: 500 }, sleep: async () => {}, cache: { store: cache, promptVersion: PARTS.promptVersion, revision: PARTS.revision } });
  return { ledger, cache, run, warnings };
}
const answer = () => fake.script({ message: { text: 'one finding', usage: { input_tokens: 5_000, output_tokens: 40 } } });

describe('response cache on a re-run', () => {
  test('memory: the second identical step is answered from the cache — no request, no spend; expired entries are not used', async () => {
    let clock = 1_000_000;
    const s = step(new MemoryStore(), () => clock);
    answer();
    const before = fake.requests.length;
    const first = await s.run();
    const second = await s.run();
    expect(first).toMatchObject({ ok: true, attempts: 1 });
    expect(second).toMatchObject({ ok: true, cached: true, cost: 0, attempts: 0, result: { text: 'one finding' } });
    expect(fake.requests.length - before).toBe(1);
    expect(s.cache.stats).toEqual({ hits: 1, misses: 1, falseHits: 0, errors: 0 });
    clock += 3_601_000;
    answer();
    expect(await s.run()).toMatchObject({ ok: true, attempts: 1 });
    expect(fake.requests.length - before).toBe(2);
  });

  test('a stored entry whose key material does not match is a false hit: counted, not used', async () => {
    const store = new MemoryStore();
    const s = step(store);
    answer();
    await s.run();
    const [key, value] = [...store.data][0]!;
    store.data.set(key, value.replace('critic@v1', 'critic@v0'));
    answer();
    expect(await s.run()).toMatchObject({ ok: true, attempts: 1 });
    expect(s.cache.stats.falseHits).toBe(1);
  });

  test('directory store (what the action keeps in the Actions cache): a later run restores it and hits', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-resp-'));
    try {
      answer();
      await step(new DirectoryStore(dir)).run();
      expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
      const later = step(new DirectoryStore(dir));
      expect(await later.run()).toMatchObject({ cached: true });
      writeFileSync(path.join(dir, readdirSync(dir)[0]!), '{not json');
      answer();
      expect(await step(new DirectoryStore(dir)).run()).toMatchObject({ ok: true, attempts: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Redis store (a real redis-server, started here)', () => {
  let server: ChildProcess | undefined;
  let port = 0;
  const freePort = () => new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const up = async () => {
    for (let i = 0; i < 400; i++) {
      const ok = await new Promise<boolean>((r) => {
        const c = net.connect(port, '127.0.0.1', () => (c.end(), r(true)));
        c.on('error', () => r(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('redis-server did not start');
  };

  beforeAll(async () => {
    if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('redis-server is not installed: ./dev test installs it from Debian’s packages (apt-get install redis-server)');
    port = await freePort();
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await up();
  });
  afterAll(() => {
    server?.kill('SIGKILL');
  });

  test('a re-run hits Redis; entries carry the TTL; Redis going away mid-run costs the saving, never the step', async () => {
    const warnings: string[] = [];
    const store = await openStore(`redis://127.0.0.1:${port}`, (l) => warnings.push(l));
    expect(store?.name).toBe('redis');
    const s = step(store, () => 1_000_000, warnings);
    answer();
    await s.run();
    expect(await s.run()).toMatchObject({ cached: true });
    const { createClient } = await import('redis');
    const probe = createClient({ url: `redis://127.0.0.1:${port}` });
    await probe.connect();
    const ttl = await probe.ttl(responseKey(PARTS));
    await probe.quit();
    expect(ttl).toBeGreaterThan(3000);
    expect(ttl).toBeLessThanOrEqual(3600);
    // Redis dies: the next step reads, fails, warns once, and calls the model instead.
    server!.kill('SIGKILL');
    await new Promise((r) => server!.once('exit', r));
    server = undefined;
    answer();
    const after = await s.run();
    expect(after).toMatchObject({ ok: true, attempts: 1 });
    expect(s.cache.stats.errors).toBe(1);
    expect(warnings.join('\n')).toMatch(/response cache \(redis\) read failed: .*; running without it for the rest of this run/);
    await s.cache.close();
  });

  test('Redis not reachable at the start: a warning, no cache, the step runs', async () => {
    const warnings: string[] = [];
    const closed = await freePort();
    const store = await openStore(`redis://user:secret@127.0.0.1:${closed}`, (l) => warnings.push(l));
    expect(store).toBeUndefined();
    expect(warnings.join('\n')).toMatch(new RegExp(`Redis at redis://\\*\\*\\*@127\\.0\\.0\\.1:${closed} cannot be reached .*; running without a response cache`));
    expect(warnings.join('\n')).not.toContain('secret');
    answer();
    expect(await step(store).run()).toMatchObject({ ok: true, attempts: 1 });
  });
});

// sha256 of the JSON key material, also computed outside Node (python3 hashlib) when it was pinned.
const GOLDEN = 'maestro:resp:1a98c294fcb493478f5a2c3e27b3b475b32e613400754634d7bad439c7f7bb22';
