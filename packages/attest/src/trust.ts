/**
 * Trust material for offline verification: the pinned Sigstore public-good
 * root and npm registry keys (roots.generated.ts), roots a user supplies
 * (`gh attestation trusted-root` output, JSON or JSONL, e.g. GitHub's own
 * root for private-repository attestations), and public keys for key-based
 * (cosign-style) attestations. Never TUF, never the network.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, Verifier, type TrustMaterial, type VerifierOptions } from '@sigstore/verify';
import { ConfigError } from '@maestro/core';
import { NPM_REGISTRY_KEYS, PUBLIC_GOOD_TRUSTED_ROOT } from './roots.generated.js';

export interface NamedKey {
  /** How the report names the signer (`npm registry`, the key file). */
  name: string;
  key: KeyObject;
  /** `SHA256:<base64>` of the DER SubjectPublicKeyInfo (what cosign and npm put in hints). */
  id: string;
  validFor?: { start: Date; end?: Date };
  /** npm's registry key: it signs publish attestations, nothing else. */
  npm?: boolean;
}

export interface TrustContext {
  /** `public-good`, `github`, or the file a root came from. */
  name: string;
  verifier: Verifier;
  /** No transparency log: GitHub's private instance (Fulcio + TSA only). */
  tsaOnly: boolean;
  /** Common names of its certificate authorities, to pick the root a leaf chains to. */
  caNames: string[];
}

export interface Trust {
  roots: TrustContext[];
  keys: NamedKey[];
  /** Key-signed bundles: verifier without tlog/timestamp requirements (only with allow-no-tlog). */
  keyVerifier: (tlog: boolean) => Verifier;
}

export function keyId(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

/** npm keys used for attestations (each key is listed twice, for signatures and for attestations, with different validity). */
export function npmKeys(doc: { keys: ReadonlyArray<{ keyId: string; keyUsage: string; publicKey: { rawBytes: string; validFor?: { start?: string; end?: string } } }> } = NPM_REGISTRY_KEYS): NamedKey[] {
  return doc.keys
    .filter((k) => k.keyUsage === 'npm:attestations')
    .map((k) => {
      const key = createPublicKey({ key: Buffer.from(k.publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' });
      const v = k.publicKey.validFor;
      return { name: 'npm registry', key, id: k.keyId, npm: true, ...(v?.start ? { validFor: { start: new Date(v.start), ...(v.end ? { end: new Date(v.end) } : {}) } } : {}) };
    });
}

function caNamesOf(root: TrustedRoot): string[] {
  return root.certificateAuthorities.map((ca) => ca.uri || ca.subject?.commonName || '').filter(Boolean);
}

/**
 * The key a bundle's hint names. cosign writes `keyid: ""` (and other tools ids of their own), so a hint
 * that names no trusted key means the one user key when there is exactly one; never an npm registry key.
 */
export function findKey(keys: readonly NamedKey[], hint: string): NamedKey | undefined {
  const own = keys.filter((k) => !k.npm);
  return keys.find((k) => k.id === hint) ?? (own.length === 1 ? own[0] : undefined);
}

function keyFinder(keys: readonly NamedKey[]) {
  return (hint: string) => {
    const found = findKey(keys, hint);
    if (!found) {
      const e = new Error(`key not found: ${hint || '(no key id in the bundle)'}`) as Error & { code: string };
      e.code = 'PUBLIC_KEY_ERROR';
      throw e;
    }
    return {
      publicKey: found.key,
      validFor: (date: Date) => !found.validFor || (date >= found.validFor.start && (!found.validFor.end || date <= found.validFor.end)),
    };
  };
}

/** Thresholds: the public-good instance has Rekor and CT logs; GitHub's private instance only a TSA. */
function thresholds(root: TrustedRoot): VerifierOptions {
  return root.tlogs.length ? { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 } : { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 1 };
}

function context(name: string, root: TrustedRoot, material: TrustMaterial): TrustContext {
  return { name, verifier: new Verifier(material, thresholds(root)), tsaOnly: root.tlogs.length === 0, caNames: caNamesOf(root) };
}

/**
 * Parse a user's trusted root: one JSON document or JSONL (what
 * `gh attestation trusted-root` prints: public-good and GitHub's root).
 */
export function parseTrustedRoots(text: string, file: string): Array<{ name: string; root: TrustedRoot }> {
  const docs: unknown[] = [];
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('{') && !trimmed.includes('\n{')) docs.push(JSON.parse(trimmed));
    else for (const [i, line] of trimmed.split('\n').entries()) if (line.trim()) {
      try {
        docs.push(JSON.parse(line));
      } catch {
        throw new ConfigError(`line ${i + 1} is not JSON`, { file, line: i + 1, fix: 'pass the output of `gh attestation trusted-root` (JSON lines) or one trusted_root.json' });
      }
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError('not JSON', { file, fix: 'pass the output of `gh attestation trusted-root` (JSON lines) or one trusted_root.json' });
  }
  return docs.map((d, i) => {
    const m = (d as { mediaType?: unknown })?.mediaType;
    if (typeof m !== 'string' || !m.startsWith('application/vnd.dev.sigstore.trustedroot')) {
      throw new ConfigError(`document ${i + 1} is not a Sigstore trusted root (mediaType ${JSON.stringify(m ?? null)})`, { file, ...(docs.length > 1 ? { line: i + 1 } : {}), fix: 'use `gh attestation trusted-root` output or a trusted_root.json from a Sigstore TUF repository' });
    }
    let root: TrustedRoot;
    try {
      root = TrustedRoot.fromJSON(d);
    } catch (e) {
      throw new ConfigError(`document ${i + 1} is not a valid trusted root: ${(e as Error).message}`, { file, fix: 'use `gh attestation trusted-root` output' });
    }
    const names = caNamesOf(root).join(' ');
    const name = /githubapp\.com/.test(names) ? 'github' : /sigstore\.dev/.test(names) ? 'public-good' : `${file}#${i + 1}`;
    return { name, root };
  });
}

/** A PEM public key (cosign.pub) for key-based attestations. */
export function parsePublicKey(pem: string, file: string): NamedKey {
  try {
    const key = createPublicKey(pem);
    return { name: file, key, id: keyId(key) };
  } catch {
    throw new ConfigError('not a PEM public key', { file, fix: 'pass the public key the attestations were signed with (e.g. cosign.pub: -----BEGIN PUBLIC KEY-----)' });
  }
}

export interface TrustOptions {
  /** Roots from the `trusted-root` input; they replace the pinned public-good root. */
  roots?: Array<{ name: string; root: TrustedRoot }>;
  keys?: NamedKey[];
}

export function loadTrust(o: TrustOptions = {}): Trust {
  const keys = [...npmKeys(), ...(o.keys ?? [])];
  const finder = keyFinder(keys) as never;
  const roots = (o.roots?.length ? o.roots : [{ name: 'public-good', root: TrustedRoot.fromJSON(PUBLIC_GOOD_TRUSTED_ROOT) }]).map((r) => ({ ...r, material: toTrustMaterial(r.root, finder) }));
  const contexts = roots.map((r) => context(r.name, r.root, r.material));
  // Key-signed bundles check their tlog entries against the logs of the first root that has any.
  const material = roots.find((r) => r.root.tlogs.length)?.material ?? toTrustMaterial(TrustedRoot.fromJSON(PUBLIC_GOOD_TRUSTED_ROOT), finder);
  const withTlog = new Verifier(material, { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 1 });
  const noTlog = new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  return { roots: contexts, keys, keyVerifier: (tlog) => (tlog ? withTlog : noTlog) };
}

