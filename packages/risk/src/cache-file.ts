/**
 * The history cache on disk: gzipped JSON, written to a temporary name and renamed (a crash never
 * leaves half a cache), read back only if it is this version's (anything else starts afresh, said so).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { emptyHistoryCache, historyCacheFrom, type HistoryCache } from './history.js';

export function loadHistoryCache(file: string): { cache: HistoryCache; note: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return { cache: emptyHistoryCache(), note: 'no history cache yet: every commit is read' };
  }
  try {
    const { cache, valid } = historyCacheFrom(JSON.parse(gunzipSync(bytes).toString('utf8')));
    if (!valid) return { cache, note: `the history cache ${path.basename(file)} is from another version: started afresh` };
    return { cache, note: `history cache: ${Object.keys(cache.commits).length} commits, ${Object.keys(cache.szz).length} traced fixes` };
  } catch {
    return { cache: emptyHistoryCache(), note: `the history cache ${path.basename(file)} is not readable (not gzipped JSON): started afresh` };
  }
}

export function saveHistoryCache(file: string, cache: HistoryCache): number {
  mkdirSync(path.dirname(file), { recursive: true });
  const bytes = gzipSync(JSON.stringify(cache));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
  return bytes.length;
}
