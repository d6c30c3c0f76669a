/**
 * Gather candidate bundles for each subject from every configured source:
 * bundle files (shared by all subjects), the GitHub attestations API (by
 * digest) and an npm registry's attestations endpoint. A source that fails
 * becomes a note on the subject (its verdict still needs a valid bundle), and
 * every download is capped in size and time.
 */
import { httpStatus } from '@maestro/core';
import { MAX_BUNDLE_BYTES, candidatesFromText, candidatesIn, type Candidate } from './bundles.js';
import { bundleText, readCapped } from './fetch.js';
import type { Subject } from './subjects.js';

export interface ApiPage {
  status: number;
  /** Parsed body: `{attestations: [...]}`. */
  data: unknown;
  /** URL of the next page (the endpoint pages by cursor, from the Link header). */
  next?: string;
}

export interface CollectOptions {
  /** Bundle files already read: the same candidates are tried against every subject. */
  files: readonly Candidate[];
  /** Lists the repository's attestations of a digest (`sha256:<hex>`): the first page, or the page at a `next` URL; a 404 resolves with status 404. */
  github?: { repository: string; page: (digest: string, next?: string) => Promise<ApiPage> };
  /** Base URL of an npm registry whose `/-/npm/v1/attestations/<name>@<version>` is asked for npm subjects. */
  npmRegistry?: string;
  maxBytes?: number;
  /** Deadline of one download (ms). */
  timeoutMs?: number;
  /** Pages of the API read at most per digest. */
  maxPages?: number;
}

export interface Collected {
  candidates: Candidate[];
  notes: string[];
}

function describeError(e: unknown): string {
  const status = httpStatus(e);
  const msg = String((e as Error)?.message ?? e).split('\n')[0]!.slice(0, 200);
  if (status === 401 || status === 403) return `HTTP ${status}: the token cannot read attestations (it needs \`attestations: read\`; private and internal repositories need GitHub Enterprise Cloud)`;
  return status ? `HTTP ${status}: ${msg}` : msg;
}

async function fromGitHub(subject: Subject, gh: NonNullable<CollectOptions['github']>, o: Required<Pick<CollectOptions, 'maxBytes' | 'timeoutMs' | 'maxPages'>>): Promise<Collected> {
  const out: Collected = { candidates: [], notes: [] };
  const digests = Object.entries(subject.digests).filter(([alg]) => alg === 'sha256' || alg === 'sha512');
  for (const [alg, hex] of digests) {
    const digest = `${alg}:${hex}`;
    const urls: Array<{ origin: string; url: string }> = [];
    let next: string | undefined;
    for (let page = 1; page <= o.maxPages; page++) {
      let res: ApiPage;
      try {
        res = await gh.page(digest, next);
      } catch (e) {
        out.notes.push(`GitHub attestations API (${gh.repository}): ${describeError(e)}`);
        break;
      }
      if (res.status === 404) break;
      out.candidates.push(...candidatesIn(res.data, `GitHub API ${gh.repository} ${alg} p${page}`, urls));
      next = res.next;
      if (!next) break;
      if (page === o.maxPages) out.notes.push(`GitHub attestations API: more than ${o.maxPages} pages for ${digest}; the rest were not read`);
    }
    for (const u of urls) {
      // bundle_url points at blob storage with its own signature: our token is never sent there.
      const r = await readCapped(u.url, { maxBytes: o.maxBytes, timeoutMs: o.timeoutMs });
      if (!r.ok) out.candidates.push({ origin: `${u.origin} bundle_url`, problem: r.reason });
      else if (r.status !== 200) out.candidates.push({ origin: `${u.origin} bundle_url`, problem: `HTTP ${r.status} downloading the bundle` });
      else {
        const text = bundleText(r.body, o.maxBytes);
        out.candidates.push(...(text === undefined ? [{ origin: `${u.origin} bundle_url`, problem: 'neither JSON nor snappy-compressed JSON' }] : candidatesFromText(text, `${u.origin} bundle_url`)));
      }
    }
  }
  return out;
}

/** The attestations endpoint of a registry for a package (scoped names keep their @ and encode the slash). */
export function npmAttestationsUrl(registry: string, name: string, version: string): string {
  return `${registry.replace(/\/+$/, '')}/-/npm/v1/attestations/${name.replace('/', '%2f')}@${encodeURIComponent(version)}`;
}

async function fromNpm(subject: Subject, registry: string, o: Required<Pick<CollectOptions, 'maxBytes' | 'timeoutMs'>>): Promise<Collected> {
  const { name, version } = subject.npm!;
  const url = npmAttestationsUrl(registry, name, version);
  const r = await readCapped(url, { maxBytes: o.maxBytes, timeoutMs: o.timeoutMs, headers: { accept: 'application/json' } });
  if (!r.ok) return { candidates: [], notes: [`npm registry ${registry}: ${r.reason}`] };
  // A registry (or mirror) without the endpoint is its own state, not an invalid attestation.
  if (r.status === 404) return { candidates: [], notes: [`npm registry ${registry} serves no attestations for ${name}@${version} (404: not published with provenance, or a mirror that does not proxy the attestations endpoint)`] };
  if (r.status !== 200) return { candidates: [], notes: [`npm registry ${registry}: HTTP ${r.status} for the attestations of ${name}@${version}`] };
  return { candidates: candidatesFromText(r.body.toString('utf8'), `npm ${name}@${version}`), notes: [] };
}

export async function collect(subjects: readonly Subject[], o: CollectOptions): Promise<Map<Subject, Collected>> {
  const caps = { maxBytes: o.maxBytes ?? MAX_BUNDLE_BYTES, timeoutMs: o.timeoutMs ?? 30_000, maxPages: o.maxPages ?? 10 };
  const out = new Map<Subject, Collected>();
  for (const s of subjects) {
    const c: Collected = { candidates: [...o.files], notes: [] };
    if (o.github) {
      const g = await fromGitHub(s, o.github, caps);
      c.candidates.push(...g.candidates);
      c.notes.push(...g.notes);
    }
    if (o.npmRegistry && s.npm) {
      const n = await fromNpm(s, o.npmRegistry, caps);
      c.candidates.push(...n.candidates);
      c.notes.push(...n.notes);
    }
    out.set(s, c);
  }
  return out;
}
