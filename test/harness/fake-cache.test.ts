import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { FakeCacheService, runtimeToken, scopesFor } from '@maestro/harness';

let cache: FakeCacheService;
beforeAll(async () => {
  cache = await FakeCacheService.start();
});
afterAll(() => cache.stop());

const rpc = (name: string, body: unknown, token: string) =>
  fetch(`${cache.url}twirp/github.actions.results.api.v1.CacheService/${name}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });

describe('fake cache service v2', () => {
  test('block upload + blocklist commit, then download through a restore-key prefix', async () => {
    const token = runtimeToken(scopesFor('refs/heads/main'));
    const created = (await (await rpc('CreateCacheEntry', { key: 'deps-abc', version: 'v1' }, token)).json()) as { ok: boolean; signed_upload_url: string };
    expect(created.ok).toBe(true);
    const put = (q: string, body: string, headers: Record<string, string> = {}) => fetch(`${created.signed_upload_url}&${q}`, { method: 'PUT', body, headers });
    expect((await put('comp=block&blockid=QQ%3D%3D', 'hello ')).status).toBe(201);
    expect((await put('comp=block&blockid=Qg%3D%3D', 'world')).status).toBe(201);
    expect((await put('comp=blocklist', '<?xml version="1.0"?><BlockList><Latest>QQ==</Latest><Latest>Qg==</Latest></BlockList>')).status).toBe(201);
    const fin = (await (await rpc('FinalizeCacheEntryUpload', { key: 'deps-abc', version: 'v1', size_bytes: '11' }, token)).json()) as { ok: boolean };
    expect(fin.ok).toBe(true);
    const hit = (await (await rpc('GetCacheEntryDownloadURL', { key: 'deps-zzz', restore_keys: ['deps-'], version: 'v1' }, token)).json()) as { ok: boolean; signed_download_url: string; matched_key: string };
    expect([hit.ok, hit.matched_key]).toEqual([true, 'deps-abc']);
    expect(await (await fetch(hit.signed_download_url)).text()).toBe('hello world');
    const otherVersion = (await (await rpc('GetCacheEntryDownloadURL', { key: 'deps-abc', restore_keys: [], version: 'v2' }, token)).json()) as { ok: boolean };
    expect(otherVersion.ok).toBe(false);
  });

  test('a PR run reads the base branch entry but writes only to its own ref; read-only tokens are denied', async () => {
    const pr = runtimeToken(scopesFor('refs/pull/3/merge', 'refs/heads/main'));
    const hit = (await (await rpc('GetCacheEntryDownloadURL', { key: 'deps-abc', restore_keys: [], version: 'v1' }, pr)).json()) as { ok: boolean };
    expect(hit.ok).toBe(true);
    const readOnly = runtimeToken([{ Scope: 'refs/heads/main', Permission: 1 }]);
    const denied = await rpc('CreateCacheEntry', { key: 'k', version: 'v1' }, readOnly);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { msg: string }).msg).toMatch(/^cache write denied:/);
    expect((await rpc('CreateCacheEntry', { key: 'k', version: 'v1' }, 'garbage')).status).toBe(401);
  });
});
