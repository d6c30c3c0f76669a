/**
 * One bundle, one subject: the signature and its trust chain through
 * @sigstore/verify (offline, pinned roots), then what sigstore-js leaves to
 * the caller: the DSSE payload is an in-toto Statement, one of its subjects
 * has the digest we computed, and its provenance agrees with the certificate.
 * Every failure is a result with a code and a reason in plain words.
 */
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { toSignedEntity, type Signer } from '@sigstore/verify';
import type { Candidate } from './bundles.js';
import { claimsOf, type CertClaims } from './claims.js';
import { canonicalType, provenanceMismatches, type Mismatch } from './predicates.js';
import type { Subject } from './subjects.js';
import { findKey, type Trust } from './trust.js';

export const STATEMENT_TYPES = ['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1'];
export const INTOTO_PAYLOAD = 'application/vnd.in-toto+json';

export interface Statement {
  _type: string;
  subject: Array<{ name?: string; digest: Record<string, string> }>;
  predicateType: string;
  predicate: unknown;
}

export type SignerInfo =
  | { kind: 'keyless'; root: string; claims: CertClaims }
  | { kind: 'key'; key: string; npm: boolean };

export interface AttestationResult {
  origin: string;
  /** The bundle names this subject's digest (so it is an attestation *of* it). */
  forSubject: boolean;
  ok: boolean;
  predicateType?: string;
  /** Canonical kind: versioned SPDX/CycloneDX types folded to their base URI. */
  kind?: string;
  /** Names of the statement's subjects (an npm publish attestation names the package). */
  subjectNames?: string[];
  predicate?: unknown;
  signer?: SignerInfo;
  /** When the signature was made, per the log or the timestamp authority (never the wall clock). */
  signedAt?: string;
  code?: string;
  reason?: string;
  mismatches?: Mismatch[];
}

export interface VerifyOptions {
  /** Accept key-signed bundles without a transparency-log entry (cosign `--tlog-upload=false`). */
  allowNoTlog?: boolean;
}

function fail(origin: string, code: string, reason: string, extra: Partial<AttestationResult> = {}): AttestationResult {
  return { origin, forSubject: false, ok: false, code, reason, ...extra };
}

/** Decode the in-toto Statement of a DSSE bundle, without trusting it yet. */
export function readStatement(bundle: Bundle): { statement?: Statement; problem?: string } {
  if (bundle.content.$case !== 'dsseEnvelope') return { problem: 'a message signature, not an attestation (no DSSE envelope)' };
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== INTOTO_PAYLOAD) return { problem: `payload type ${JSON.stringify(env.payloadType.slice(0, 80))}, not ${INTOTO_PAYLOAD}` };
  let s: unknown;
  try {
    s = JSON.parse(Buffer.from(env.payload).toString('utf8'));
  } catch {
    return { problem: 'the DSSE payload is not JSON' };
  }
  const st = s as Partial<Statement> | null;
  if (!st || typeof st !== 'object' || !STATEMENT_TYPES.includes(String(st._type))) return { problem: `not an in-toto Statement (_type ${JSON.stringify(String((st as { _type?: unknown })?._type ?? null).slice(0, 80))})` };
  if (!Array.isArray(st.subject) || !st.subject.length || st.subject.some((x) => !x || typeof x !== 'object' || !x.digest || typeof x.digest !== 'object')) return { problem: 'the Statement has no valid subject list' };
  if (typeof st.predicateType !== 'string') return { problem: 'the Statement has no predicateType' };
  return { statement: st as Statement };
}

/** The subject entry of a Statement whose digest equals one we computed (any algorithm both sides have). */
export function matchSubject(st: Statement, subject: Subject): boolean {
  return st.subject.some((s) => Object.entries(s.digest).some(([alg, hex]) => typeof hex === 'string' && subject.digests[alg.toLowerCase()] === hex.toLowerCase()));
}

function errorCode(e: unknown): { code: string; message: string } {
  const err = e as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof err?.code === 'string' ? err.code : String(err?.name ?? 'ERROR');
  const message = String(err?.message ?? e).split('\n')[0]!.slice(0, 300);
  return { code, message };
}

/** Plain words for sigstore-js error codes. */
function explain(code: string, message: string): string {
  const m = message.replace(/^[A-Z_]+:\s*/, '');
  switch (code) {
    case 'TLOG_BODY_ERROR':
      return `the bundle was altered after signing (${m})`;
    case 'SIGNATURE_ERROR':
      return `the signature does not verify (${m})`;
    case 'CERTIFICATE_ERROR':
      return `the certificate does not chain to a trusted root (${m})`;
    case 'PUBLIC_KEY_ERROR':
      return `the signing key is not trusted here (${m})`;
    case 'TIMESTAMP_ERROR':
      return `no trusted timestamp for the signature (${m})`;
    case 'TLOG_INCLUSION_PROOF_ERROR':
    case 'TLOG_INCLUSION_PROMISE_ERROR':
    case 'TLOG_MISSING_INCLUSION_ERROR':
      return `the transparency-log entry does not verify (${m})`;
    default:
      return m;
  }
}

function signedAt(bundle: Bundle): string | undefined {
  const t = bundle.verificationMaterial.tlogEntries.map((e) => Number(e.integratedTime)).find((n) => Number.isFinite(n) && n > 0);
  return t ? new Date(t * 1000).toISOString() : undefined;
}

function leafIssuerName(bundle: Bundle): string {
  const vm = bundle.verificationMaterial.content;
  return vm.$case === 'certificate' || vm.$case === 'x509CertificateChain' ? 'certificate' : 'key';
}

/** Bundle files are tried against every subject: each is parsed and decoded once. */
const parsedBundles = new WeakMap<object, { bundle: Bundle; statement?: Statement; problem?: string } | { invalid: string }>();
function parse(json: Record<string, unknown>): { bundle: Bundle; statement?: Statement; problem?: string } | { invalid: string } {
  let p = parsedBundles.get(json);
  if (!p) {
    try {
      const bundle = bundleFromJSON(json);
      p = { bundle, ...readStatement(bundle) };
    } catch (e) {
      p = { invalid: errorCode(e).message };
    }
    parsedBundles.set(json, p);
  }
  return p;
}

/** Verify one candidate bundle as an attestation of `subject`. */
export function verifyCandidate(c: Candidate, subject: Subject, trust: Trust, o: VerifyOptions = {}): AttestationResult {
  if (!c.bundle) return fail(c.origin, 'UNREADABLE', c.problem ?? 'no bundle');
  const parsed = parse(c.bundle);
  if ('invalid' in parsed) return fail(c.origin, 'BUNDLE_INVALID', `not a valid Sigstore bundle: ${parsed.invalid}`);
  const { bundle, statement, problem } = parsed;
  if (!statement) return fail(c.origin, 'NOT_AN_ATTESTATION', problem!);
  const base: Partial<AttestationResult> = { predicateType: statement.predicateType, kind: canonicalType(statement.predicateType), subjectNames: statement.subject.map((x) => String(x.name ?? '')) };
  if (!matchSubject(statement, subject)) {
    const named = statement.subject.slice(0, 3).map((s) => `${s.name ?? '?'} (${Object.entries(s.digest).map(([a, h]) => `${a}:${String(h).slice(0, 12)}…`).join(', ')})`);
    return fail(c.origin, 'SUBJECT_MISMATCH', `an attestation of another artifact: ${named.join('; ')}${statement.subject.length > 3 ? ` and ${statement.subject.length - 3} more` : ''}`, base);
  }
  const at = signedAt(bundle);
  const withSubject = { ...base, forSubject: true, ...(at ? { signedAt: at } : {}) };
  const entity = toSignedEntity(bundle);
  let signer: SignerInfo;
  if (leafIssuerName(bundle) === 'certificate') {
    let verified: { root: string; s: Signer } | undefined;
    const errors: Array<{ root: string; code: string; message: string }> = [];
    for (const r of trust.roots) {
      try {
        verified = { root: r.name, s: r.verifier.verify(entity) };
        break;
      } catch (e) {
        errors.push({ root: r.name, ...errorCode(e) });
      }
    }
    if (!verified) {
      // The most telling error: one that got past the certificate chain (the right root), else the first.
      const e = errors.find((x) => x.code !== 'CERTIFICATE_ERROR') ?? errors[0]!;
      return { ...fail(c.origin, e.code, explain(e.code, e.message)), ...withSubject, ok: false };
    }
    signer = { kind: 'keyless', root: verified.root, claims: claimsOf(verified.s.identity as never) };
  } else {
    const hasTlog = bundle.verificationMaterial.tlogEntries.length > 0;
    if (!hasTlog && !o.allowNoTlog) return { ...fail(c.origin, 'NO_TLOG', 'signed with a key and not recorded in a transparency log; set `allow-no-tlog: true` to accept key-signed attestations without a log entry'), ...withSubject, ok: false };
    const hint = bundle.verificationMaterial.content.$case === 'publicKey' ? bundle.verificationMaterial.content.publicKey.hint : '';
    try {
      trust.keyVerifier(hasTlog).verify(entity);
    } catch (e) {
      const err = errorCode(e);
      return { ...fail(c.origin, err.code, explain(err.code, err.message)), ...withSubject, ok: false };
    }
    const key = findKey(trust.keys, hint);
    signer = { kind: 'key', key: key ? `${key.name} (${key.id})` : hint, npm: !!key?.npm };
  }
  if (signer.kind === 'keyless') {
    const mismatches = provenanceMismatches(statement.predicateType, statement.predicate, signer.claims);
    if (mismatches.length) {
      return {
        ...withSubject,
        origin: c.origin,
        ok: false,
        signer,
        mismatches,
        code: 'PREDICATE_CERT_MISMATCH',
        reason: `the provenance disagrees with its certificate: ${mismatches.map((m) => `${m.field} is ${m.predicate} in the predicate but ${m.certificate} in the certificate`).join('; ')}`,
      };
    }
  }
  return { ...withSubject, origin: c.origin, ok: true, signer, predicate: statement.predicate };
}
