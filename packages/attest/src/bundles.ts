/**
 * Where attestations come from, turned into candidate bundles: local files
 * (a Sigstore bundle v0.1–v0.3, JSON lines of them, an npm attestations
 * response, a GitHub attestations API response, a bare DSSE envelope as
 * cosign writes it), the GitHub attestations API and an npm registry.
 * A source that cannot be read is a candidate with a problem, so it shows up
 * in the verdict with its reason; nothing here throws on bad content.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { isRecord } from '@maestro/core';

/** Largest bundle (or bundle file) read: real bundles are 5–15 KB; actions/attest caps SBOM predicates at 16 MB. */
export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

export interface Candidate {
  /** Where it came from, for the report: `bundles/x.json`, `x.jsonl:3`, `GitHub API acme/shop #2`. */
  origin: string;
  bundle?: Record<string, unknown>;
  /** Why this source gave no bundle (unreadable, too large, not JSON, not a bundle). */
  problem?: string;
}

const BUNDLE_MEDIA = 'application/vnd.dev.sigstore.bundle';

/** A DSSE envelope (cosign `attest --key` writes these) as a bundle v0.3 with a public-key hint and no log entries. */
export function envelopeBundle(env: Record<string, unknown>): Record<string, unknown> {
  const sigs = Array.isArray(env['signatures']) ? (env['signatures'] as Array<Record<string, unknown>>) : [];
  const hint = typeof sigs[0]?.['keyid'] === 'string' ? (sigs[0]['keyid'] as string) : '';
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
    dsseEnvelope: { payloadType: env['payloadType'], payload: env['payload'], signatures: sigs.map((s) => ({ sig: s['sig'], keyid: typeof s['keyid'] === 'string' ? s['keyid'] : '' })) },
  };
}

export interface ApiEntry {
  bundle?: unknown;
  bundle_url?: string | null;
}

/**
 * Bundles in one parsed JSON value. `bundleUrls` collects GitHub API entries
 * whose bundle is not inline (newer API versions send `bundle: null` and a
 * `bundle_url`).
 */
export function candidatesIn(value: unknown, origin: string, bundleUrls?: Array<{ origin: string; url: string }>): Candidate[] {
  if (!isRecord(value)) return [{ origin, problem: 'not a JSON object' }];
  const media = value['mediaType'];
  if (typeof media === 'string' && media.startsWith(BUNDLE_MEDIA)) return [{ origin, bundle: value }];
  if (typeof value['payloadType'] === 'string' && typeof value['payload'] === 'string' && Array.isArray(value['signatures'])) return [{ origin, bundle: envelopeBundle(value) }];
  if (Array.isArray(value['attestations'])) {
    const out: Candidate[] = [];
    (value['attestations'] as unknown[]).forEach((a, i) => {
      const where = `${origin} #${i + 1}`;
      const entry = (isRecord(a) ? a : {}) as ApiEntry;
      if (isRecord(entry.bundle)) out.push(...candidatesIn(entry.bundle, where));
      else if (typeof entry.bundle_url === 'string' && entry.bundle_url && bundleUrls) bundleUrls.push({ origin: where, url: entry.bundle_url });
      else out.push({ origin: where, problem: 'the entry has neither a bundle nor a bundle_url' });
    });
    if (!out.length && !bundleUrls?.length) return [{ origin, problem: 'an empty list of attestations' }];
    return out;
  }
  return [{ origin, problem: `not a Sigstore bundle${typeof media === 'string' ? ` (mediaType ${JSON.stringify(media.slice(0, 100))})` : ''}, DSSE envelope or attestations response` }];
}

/** Parse JSON or JSON lines text into candidates; a bad line is a problem of that line only. */
export function candidatesFromText(text: string, origin: string, bundleUrls?: Array<{ origin: string; url: string }>): Candidate[] {
  const trimmed = text.trim();
  if (!trimmed) return [{ origin, problem: 'the file is empty' }];
  try {
    return candidatesIn(JSON.parse(trimmed), origin, bundleUrls);
  } catch {
    // Not one JSON document: JSON lines (gh attestation download writes .jsonl).
  }
  const lines = text.split('\n');
  // JSON lines only when the first line is a document by itself (a pretty-printed, truncated file is not).
  const first = lines.find((l) => l.trim()) ?? '';
  let firstIsDoc = false;
  try {
    JSON.parse(first);
    firstIsDoc = true;
  } catch {
    firstIsDoc = false;
  }
  if (!firstIsDoc) return [{ origin, problem: 'not valid JSON (truncated or not a bundle)' }];
  const out: Candidate[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(...candidatesIn(JSON.parse(line), `${origin}:${i + 1}`, bundleUrls));
    } catch {
      out.push({ origin: `${origin}:${i + 1}`, problem: 'not valid JSON (truncated or not a bundle)' });
    }
  });
  return out;
}

/** Read a bundle file with the size cap checked before reading. */
export function candidatesFromFile(file: string, display: string, maxBytes = MAX_BUNDLE_BYTES): Candidate[] {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return [{ origin: display, problem: 'not a regular file' }];
    size = st.size;
  } catch {
    return [{ origin: display, problem: 'cannot be read (missing?)' }];
  }
  if (size > maxBytes) return [{ origin: display, problem: `${(size / 1048576).toFixed(1)} MiB, above the ${(maxBytes / 1048576).toFixed(0)} MiB limit for a bundle file` }];
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n <= 0) break;
      off += n;
    }
    return candidatesFromText(buf.subarray(0, off).toString('utf8'), display);
  } finally {
    closeSync(fd);
  }
}
