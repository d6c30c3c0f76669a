/**
 * Fulcio certificate claims (OIDs 1.3.6.1.4.1.57264.1.*), read from the leaf
 * certificate that sigstore-js has already chained to a trusted CA. v2 claims
 * (.8–.22) are DER UTF8Strings; the 2022–2023 v1 claims (.1–.6) are raw bytes.
 * See https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md.
 */
import type { ObjectIdentifierValuePair } from '@sigstore/protobuf-specs';

export interface CertClaims {
  san?: string;
  issuer?: string;
  /** `https://github.com/<owner>/<repo>/<path>@<ref>` of the workflow that signed (a reusable one when used). */
  buildSignerURI?: string;
  buildSignerDigest?: string;
  runnerEnvironment?: string;
  sourceRepositoryURI?: string;
  sourceRepositoryDigest?: string;
  sourceRepositoryRef?: string;
  /** The caller's workflow: `https://github.com/<owner>/<repo>/<path>@<ref>`. */
  buildConfigURI?: string;
  buildConfigDigest?: string;
  buildTrigger?: string;
  runInvocationURI?: string;
  /** v1 claims, present on 2022–2023 certificates instead of the above. */
  v1?: { trigger?: string; sha?: string; name?: string; repository?: string; ref?: string };
}

const V2: Record<number, keyof CertClaims> = {
  8: 'issuer',
  9: 'buildSignerURI',
  10: 'buildSignerDigest',
  11: 'runnerEnvironment',
  12: 'sourceRepositoryURI',
  13: 'sourceRepositoryDigest',
  14: 'sourceRepositoryRef',
  18: 'buildConfigURI',
  19: 'buildConfigDigest',
  20: 'buildTrigger',
  21: 'runInvocationURI',
};
const V1: Record<number, 'trigger' | 'sha' | 'name' | 'repository' | 'ref'> = { 2: 'trigger', 3: 'sha', 4: 'name', 5: 'repository', 6: 'ref' };

/** Decode a DER UTF8String (tag 0x0c), or the raw text when the value is not one. */
export function derString(value: Uint8Array): string {
  const b = Buffer.from(value);
  if (b[0] === 0x0c && b.length >= 2) {
    let len = b[1]!;
    let off = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = (len << 8) | b[2 + i]!;
      off = 2 + n;
    }
    if (off + len === b.length) return b.subarray(off).toString('utf8');
  }
  return b.toString('utf8');
}

export function claimsOf(identity: { subjectAlternativeName?: string; extensions?: { issuer?: string }; oids?: ObjectIdentifierValuePair[] } | undefined): CertClaims {
  const c: CertClaims = {};
  if (!identity) return c;
  if (identity.subjectAlternativeName) c.san = identity.subjectAlternativeName;
  if (identity.extensions?.issuer) c.issuer = identity.extensions.issuer;
  for (const o of identity.oids ?? []) {
    const id = o.oid?.id ?? [];
    if (id.length !== 9 || id.slice(0, 8).join('.') !== '1.3.6.1.4.1.57264.1') continue;
    const n = id[8]!;
    if (V2[n]) (c as Record<string, string>)[V2[n]] = derString(o.value);
    else if (V1[n]) (c.v1 ??= {})[V1[n]] = Buffer.from(o.value).toString('utf8');
  }
  return c;
}

/** `owner/repo` of the source repository, from whichever claim generation the certificate has. */
export function sourceRepository(c: CertClaims): string | undefined {
  if (c.sourceRepositoryURI) return c.sourceRepositoryURI.replace(/^https:\/\/github\.com\//, '');
  return c.v1?.repository;
}

export function sourceRef(c: CertClaims): string | undefined {
  return c.sourceRepositoryRef ?? c.v1?.ref;
}

export function sourceCommit(c: CertClaims): string | undefined {
  return c.sourceRepositoryDigest ?? c.v1?.sha;
}
