/**
 * Subjects × attestations × policy → one verdict per subject. A subject
 * passes when, for every predicate its rule requires, at least one bundle is
 * an attestation of it (our digest), verifies offline, is signed by the
 * identity the rule states, and (for an SBOM) is a valid SBOM of it.
 * Everything else is a failure with its reason; nothing is skipped silently.
 */
import type { Candidate } from './bundles.js';
import { sourceCommit, sourceRef, sourceRepository } from './claims.js';
import { identityProblems, ruleFor, type AttestPolicy, type PolicyRule } from './policy.js';
import { NPM_PUBLISH, isSbomType } from './predicates.js';
import { checkSbom, type SbomReport } from './sbom.js';
import type { Subject } from './subjects.js';
import type { Trust } from './trust.js';
import { verifyCandidate, type AttestationResult, type VerifyOptions } from './verify.js';

export interface Accepted {
  require: string;
  origin: string;
  predicateType: string;
  /** Who signed, in words: the workflow (keyless), the key, or the npm registry. */
  signer: string;
  repository?: string;
  ref?: string;
  commit?: string;
  signedAt?: string;
  sbom?: SbomReport;
  /** The SBOM document itself (not in the report JSON): for policy-gate's licence rules. */
  document?: unknown;
}

export interface Verdict {
  subject: string;
  kind: Subject['kind'];
  digest: string;
  ok: boolean;
  /** Where the rule is (policy file:line), when one matched. */
  rule?: string;
  accepted: Accepted[];
  failures: string[];
  notes: string[];
  /** Every bundle looked at for this subject, with its own outcome. */
  attestations: Array<Pick<AttestationResult, 'origin' | 'ok' | 'predicateType' | 'code' | 'reason' | 'signedAt'> & { refused?: string }>;
}

export interface GateOptions extends VerifyOptions {
  /** Key files of the policy's key identities → their key ids. */
  keyIds?: ReadonlyMap<string, string>;
  /** Problems with the sources of this subject (a registry without attestations, an API error). */
  sourceNotes?: readonly string[];
}

function signerWords(r: AttestationResult): string {
  const s = r.signer!;
  if (s.kind === 'key') return s.npm ? 'the npm registry' : `key ${s.key}`;
  return `${s.claims.san ?? '?'} (${s.root})`;
}

/** Why an attestation that verified does not count for this rule; undefined when it does. */
function refusal(r: AttestationResult, rule: PolicyRule, subject: Subject, o: GateOptions): { why?: string; sbom?: SbomReport } {
  const s = r.signer!;
  if (s.kind === 'key' && s.npm) {
    if (r.kind !== NPM_PUBLISH || subject.kind !== 'npm') return { why: 'signed by the npm registry key, which only vouches for npm publish attestations' };
    // The registry vouches that these bytes were published as the package it names: that must be this one.
    const pred = (r.predicate ?? {}) as { name?: unknown; version?: unknown };
    const named = (r.subjectNames ?? []).some((n) => decodeURIComponent(n) === subject.name);
    if (!named || pred.name !== subject.npm?.name || pred.version !== subject.npm?.version) return { why: `the npm registry published these bytes as ${String(pred.name)}@${String(pred.version)}, not ${subject.name}` };
    return {};
  }
  if (s.kind === 'key') {
    if (rule.identity.kind !== 'key') return { why: `signed with ${s.key}, but the policy expects a keyless signature from ${rule.identity.kind === 'github' ? rule.identity.signerWorkflow : rule.identity.issuer}` };
    const want = o.keyIds?.get(rule.identity.key);
    if (!want || !s.key.includes(want)) return { why: `signed with ${s.key}, the policy expects the key in ${rule.identity.key}` };
  } else {
    const problems = identityProblems(rule.identity, s.claims);
    if (problems.length) return { why: problems.join('; ') };
  }
  if (r.kind && isSbomType(r.kind)) {
    const sbom = checkSbom(r.predicate, subject);
    if (sbom.errors.length) return { why: `not a valid SBOM (${sbom.format}): ${sbom.errors.slice(0, 3).join('; ')}${sbom.errors.length > 3 ? ` and ${sbom.errors.length - 3} more` : ''}`, sbom };
    if (sbom.binding === 'mismatch') return { why: `SBOM of another artifact: ${sbom.bindingDetail}`, sbom };
    if (sbom.binding === 'unbound' && rule.sbom.bound) return { why: `the SBOM is not bound to the subject: ${sbom.bindingDetail} (set sbom.bound: false in the policy to accept it)`, sbom };
    if (rule.sbom.maxWithoutPurl !== undefined && sbom.withoutPurl > rule.sbom.maxWithoutPurl) return { why: `${sbom.withoutPurl} components have no purl (the policy allows ${rule.sbom.maxWithoutPurl})`, sbom };
    if (rule.sbom.maxWithoutLicence !== undefined && sbom.withoutLicence > rule.sbom.maxWithoutLicence) return { why: `${sbom.withoutLicence} components have no licence (the policy allows ${rule.sbom.maxWithoutLicence})`, sbom };
    return { sbom };
  }
  return {};
}

const primaryDigest = (s: Subject) => (s.digests['sha256'] ? `sha256:${s.digests['sha256']}` : Object.entries(s.digests).map(([a, h]) => `${a}:${h}`)[0] ?? '');

export function judge(subject: Subject, candidates: readonly Candidate[], trust: Trust, policy: AttestPolicy, o: GateOptions = {}): Verdict {
  const rule = ruleFor(policy, subject.name);
  const v: Verdict = { subject: subject.name, kind: subject.kind, digest: primaryDigest(subject), ok: false, accepted: [], failures: [], notes: [...(o.sourceNotes ?? [])], attestations: [] };
  const results = candidates.map((c) => verifyCandidate(c, subject, trust, o));
  const mine = results.filter((r) => r.forSubject);
  const other = results.filter((r) => r.code === 'SUBJECT_MISMATCH').length;
  const unreadable = results.filter((r) => !r.forSubject && r.code !== 'SUBJECT_MISMATCH');
  if (!rule) {
    v.failures.push(`no rule in ${policy.file} matches ${subject.name}: every subject needs one (add a subjects entry whose match covers it)`);
    for (const r of mine) v.attestations.push({ origin: r.origin, ok: r.ok, ...(r.predicateType ? { predicateType: r.predicateType } : {}), ...(r.code ? { code: r.code } : {}), ...(r.reason ? { reason: r.reason } : {}) });
    return v;
  }
  v.rule = rule.line ? `${policy.file}:${rule.line}` : policy.file;
  const counted = new Map<AttestationResult, { why?: string; sbom?: SbomReport }>();
  for (const r of mine) {
    const ref = r.ok ? refusal(r, rule, subject, o) : {};
    counted.set(r, ref);
    v.attestations.push({ origin: r.origin, ok: r.ok && !ref.why, ...(r.predicateType ? { predicateType: r.predicateType } : {}), ...(r.code ? { code: r.code } : {}), ...(r.reason ? { reason: r.reason } : {}), ...(r.signedAt ? { signedAt: r.signedAt } : {}), ...(ref.why ? { refused: ref.why } : {}) });
  }
  for (const req of rule.require) {
    const ofKind = mine.filter((r) => r.kind && req.types.includes(r.kind));
    const good = ofKind.find((r) => r.ok && !counted.get(r)!.why);
    if (good) {
      const s = good.signer!;
      const claims = s.kind === 'keyless' ? s.claims : undefined;
      const repository = claims && sourceRepository(claims);
      const ref = claims && sourceRef(claims);
      const commit = claims && sourceCommit(claims);
      const sbom = counted.get(good)!.sbom;
      v.accepted.push({ require: req.name, origin: good.origin, predicateType: good.predicateType!, signer: signerWords(good), ...(repository ? { repository } : {}), ...(ref ? { ref } : {}), ...(commit ? { commit } : {}), ...(good.signedAt ? { signedAt: good.signedAt } : {}), ...(sbom ? { sbom, document: typeof good.predicate === 'string' ? JSON.parse(good.predicate) : good.predicate } : {}) });
      continue;
    }
    if (ofKind.length) {
      const reasons = ofKind.map((r) => `${r.origin}: ${r.ok ? counted.get(r)!.why : r.reason}`);
      v.failures.push(`${req.name}: no attestation counts — ${reasons.join('; ')}`);
    } else {
      const seen = [
        mine.length ? `${mine.length} of it with other predicate types (${[...new Set(mine.map((r) => r.predicateType))].join(', ')})` : '',
        other ? `${other} of other artifacts` : '',
        unreadable.length ? `${unreadable.length} unusable (${unreadable.slice(0, 3).map((r) => `${r.origin}: ${r.reason}`).join('; ')})` : '',
      ].filter(Boolean);
      v.failures.push(`${req.name}: no ${req.name} attestation of ${subject.name}${seen.length ? ` (bundles looked at: ${seen.join(', ')})` : ' (no bundles found)'}`);
    }
  }
  v.ok = v.failures.length === 0;
  if (v.ok && unreadable.length) v.notes.push(`${unreadable.length} bundle source(s) could not be used: ${unreadable.slice(0, 3).map((r) => `${r.origin}: ${r.reason}`).join('; ')}`);
  return v;
}
