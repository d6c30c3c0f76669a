/**
 * Bounded HTTP reads for attestation sources: every download has a byte cap
 * and a deadline, so a `bundle_url` that never ends or a 100 MB answer is a
 * verdict with its reason, never a hang or an out-of-memory. GitHub serves
 * `bundle_url` bodies raw-snappy-compressed; they are decompressed here.
 */
import snappy from 'snappyjs';

export interface ReadOptions {
  maxBytes: number;
  timeoutMs: number;
  headers?: Record<string, string>;
}

export type ReadResult = { ok: true; status: number; body: Buffer } | { ok: false; status?: number; reason: string };

export async function readCapped(url: string, o: ReadOptions): Promise<ReadResult> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), o.timeoutMs);
  try {
    const res = await fetch(url, { headers: o.headers ?? {}, signal: ctl.signal, redirect: 'follow' });
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > o.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, status: res.status, reason: `the answer is ${(declared / 1048576).toFixed(1)} MiB, above the ${(o.maxBytes / 1048576).toFixed(0)} MiB limit` };
    }
    const chunks: Buffer[] = [];
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > o.maxBytes) {
          await reader.cancel().catch(() => undefined);
          return { ok: false, status: res.status, reason: `the answer exceeded the ${(o.maxBytes / 1048576).toFixed(0)} MiB limit` };
        }
        chunks.push(Buffer.from(value));
      }
    }
    return { ok: true, status: res.status, body: Buffer.concat(chunks) };
  } catch (e) {
    if (ctl.signal.aborted) return { ok: false, reason: `no complete answer within ${Math.round(o.timeoutMs / 1000)} s` };
    return { ok: false, reason: `request failed: ${String((e as Error).message ?? e).slice(0, 200)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** Snappy raw-block decompression (GitHub's bundle_url format); undefined when the bytes are not snappy or too large. */
export function unsnappy(body: Buffer, maxBytes: number): Buffer | undefined {
  try {
    return Buffer.from(snappy.uncompress(body, maxBytes));
  } catch {
    return undefined;
  }
}

/** A bundle body: JSON as is, or snappy-compressed JSON. */
export function bundleText(body: Buffer, maxBytes: number): string | undefined {
  const first = body.subarray(0, 64).toString('utf8').trimStart()[0];
  if (first === '{' || first === '[') return body.toString('utf8');
  return unsnappy(body, maxBytes)?.toString('utf8');
}
