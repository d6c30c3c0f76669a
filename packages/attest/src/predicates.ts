/**
 * Predicate types and what the predicate says, checked against what the
 * certificate proves. A predicate is written by the workflow (actions/attest
 * takes any predicate); only certificate claims come from GitHub's OIDC token.
 * So a provenance predicate that names another repository, ref, commit or run
 * than its certificate is refused.
 */
import type { CertClaims } from './claims.js';
import { sourceCommit, sourceRef, sourceRepository } from './claims.js';

export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';
export const SPDX = 'https://spdx.dev/Document';
export const CYCLONEDX = 'https://cyclonedx.org/bom';
export const NPM_PUBLISH = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';
/** GitHub's current provenance buildType (from 2024): builder.id is the signing workflow, i.e. the certificate SAN. */
export const GITHUB_BUILD_TYPE_V2 = 'https://actions.github.io/buildtypes/workflow/v1';
export const POLICY_DECISION = 'https://maestro.dev/policy-decision/v1';

/** Short names a policy may use; each stands for the predicate types it lists. */
export const PREDICATE_NAMES: Record<string, readonly string[]> = {
  provenance: [SLSA_V1, SLSA_V02],
  'slsa-v1': [SLSA_V1],
  'slsa-v0.2': [SLSA_V02],
  sbom: [SPDX, CYCLONEDX],
  spdx: [SPDX],
  cyclonedx: [CYCLONEDX],
  'npm-publish': [NPM_PUBLISH],
  'policy-decision': [POLICY_DECISION],
  vuln: ['https://cosign.sigstore.dev/attestation/vuln/v1'],
  openvex: ['https://openvex.dev/ns'],
  custom: ['https://cosign.sigstore.dev/attestation/v1'],
};

/**
 * The canonical form of a predicate type: versioned SPDX and CycloneDX types
 * (`https://spdx.dev/Document/v2.3`, what actions/attest writes) are the same
 * kind as cosign's unversioned ones (`https://spdx.dev/Document`).
 */
export function canonicalType(t: string): string {
  const s = t.replace(/\/+$/, '');
  if (/^https:\/\/spdx\.dev\/Document(\/v?[\d.]+)?$/.test(s)) return SPDX;
  if (/^https:\/\/cyclonedx\.org\/(bom|schema)(\/v?[\d.]+)?$/.test(s)) return CYCLONEDX;
  if (/^https:\/\/openvex\.dev\/ns(\/v?[\d.]+)?$/.test(s)) return 'https://openvex.dev/ns';
  return s;
}

/** Resolve a policy's `require:` entry to canonical types; undefined when it is neither a known name nor a URI. */
export function resolvePredicate(name: string): readonly string[] | undefined {
  if (PREDICATE_NAMES[name]) return PREDICATE_NAMES[name];
  if (/^https?:\/\/\S+$/.test(name)) return [canonicalType(name)];
  return undefined;
}

export function isSbomType(t: string): boolean {
  const c = canonicalType(t);
  return c === SPDX || c === CYCLONEDX;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const strip = (u: string) => u.replace(/^git\+/, '').replace(/^https:\/\/github\.com\//, '').replace(/\.git$/, '');

export interface Mismatch {
  field: string;
  predicate: string;
  certificate: string;
}

/**
 * What a GitHub provenance predicate claims about its build, in both generations
 * of GitHub's buildType and the npm CLI's SLSA v0.2 predicate.
 */
export function provenanceClaims(predicateType: string, predicate: unknown): { repository?: string; ref?: string; path?: string; commit?: string; invocation?: string; builder?: string; runner?: string; buildType?: string } {
  const p = obj(predicate);
  if (canonicalType(predicateType) === SLSA_V1) {
    const bd = obj(p['buildDefinition']);
    const wf = obj(obj(bd['externalParameters'])['workflow']);
    const deps = Array.isArray(bd['resolvedDependencies']) ? (bd['resolvedDependencies'] as unknown[]) : [];
    const commit = deps.map((d) => str(obj(obj(d)['digest'])['gitCommit'])).find(Boolean);
    const rd = obj(p['runDetails']);
    const gh = obj(obj(bd['internalParameters'])['github']);
    const out: ReturnType<typeof provenanceClaims> = {};
    const repo = str(wf['repository']);
    if (repo) out.repository = strip(repo);
    if (str(wf['ref'])) out.ref = str(wf['ref'])!;
    if (str(wf['path'])) out.path = str(wf['path'])!;
    if (commit) out.commit = commit;
    const inv = str(obj(rd['metadata'])['invocationId']);
    if (inv) out.invocation = inv;
    const builder = str(obj(rd['builder'])['id']);
    if (builder) out.builder = builder;
    if (str(gh['runner_environment'])) out.runner = str(gh['runner_environment'])!;
    if (str(bd['buildType'])) out.buildType = str(bd['buildType'])!;
    return out;
  }
  if (canonicalType(predicateType) === SLSA_V02) {
    const inv = obj(p['invocation']);
    const cs = obj(inv['configSource']);
    const uri = str(cs['uri']);
    const out: ReturnType<typeof provenanceClaims> = {};
    if (uri) {
      const [repo, ref] = uri.split('@');
      if (repo) out.repository = strip(repo);
      if (ref) out.ref = ref;
    }
    const sha1 = str(obj(cs['digest'])['sha1']);
    if (sha1) out.commit = sha1;
    if (str(cs['entryPoint'])) out.path = str(cs['entryPoint'])!;
    if (str(p['buildType'])) out.buildType = str(p['buildType'])!;
    const builder = str(obj(p['builder'])['id']);
    if (builder) out.builder = builder;
    return out;
  }
  return {};
}

/** Where a provenance predicate and its certificate disagree (both sides present only). */
export function provenanceMismatches(predicateType: string, predicate: unknown, c: CertClaims): Mismatch[] {
  const p = provenanceClaims(predicateType, predicate);
  const out: Mismatch[] = [];
  const cmp = (field: string, a: string | undefined, b: string | undefined, eq = (x: string, y: string) => x === y) => {
    if (a !== undefined && b !== undefined && !eq(a, b)) out.push({ field, predicate: a, certificate: b });
  };
  const lower = (x: string, y: string) => x.toLowerCase() === y.toLowerCase();
  cmp('repository', p.repository, sourceRepository(c), lower);
  cmp('ref', p.ref, sourceRef(c));
  cmp('commit', p.commit, sourceCommit(c), lower);
  if (p.repository && p.path && p.ref && c.buildConfigURI) cmp('workflow', `https://github.com/${p.repository}/${p.path}@${p.ref}`, c.buildConfigURI, lower);
  // The run: the certificate's invocation URI has no attempt suffix.
  if (p.invocation && c.runInvocationURI) cmp('run', p.invocation.replace(/\/attempts\/\d+$/, ''), c.runInvocationURI.replace(/\/attempts\/\d+$/, ''));
  // New-format provenance names its builder by the signing workflow (== SAN); the old one by the runner kind.
  if (p.builder && c.san && p.buildType === GITHUB_BUILD_TYPE_V2) cmp('builder', p.builder, c.san);
  if (p.runner && c.runnerEnvironment) cmp('runner', p.runner, c.runnerEnvironment);
  return out;
}
