/**
 * The attestation policy (`.maestro/attest-policy.yml`): for each subject
 * pattern, the predicate types it must have (e.g. provenance AND sbom) and
 * exactly whose signature counts. Fail-closed: every identity field must be
 * stated (`any` is a value you write, never a default), a subject no rule
 * matches fails, and an unknown predicate name is an error.
 */
import { minimatch } from 'minimatch';
import { z } from 'zod';
import { ConfigError, locate, parseYaml, validateConfig } from '@maestro/core';
import { type CertClaims, sourceRef, sourceRepository } from './claims.js';
import { resolvePredicate } from './predicates.js';

export const DEFAULT_POLICY_PATH = '.maestro/attest-policy.yml';
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

const any = z.literal('any');
const githubIdentity = z.strictObject({
  issuer: z.string().min(1),
  repository: z.union([any, z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'repository is owner/name')]),
  'signer-workflow': z.union([any, z.string().regex(/^[\w.-]+\/[\w.-]+\/.+\.ya?ml(@.+)?$/, 'signer-workflow is owner/repo/.github/workflows/<file>.yml, optionally @<ref>')]),
  ref: z.string().min(1),
  'signer-digest': z.union([any, z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'signer-digest is a commit SHA')]),
  runner: z.enum(['github-hosted', 'any']),
});
const sanIdentity = z.strictObject({
  issuer: z.string().min(1),
  san: z.string().min(1).optional(),
  'san-regex': z.string().min(1).optional(),
});
const keyIdentity = z.strictObject({ key: z.string().min(1) });

const rule = z.strictObject({
  match: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  require: z.array(z.string().min(1)).min(1),
  identity: z.union([githubIdentity, keyIdentity, sanIdentity]),
  sbom: z
    .strictObject({
      /** The SBOM's root package must carry the subject's digest (checksum or purl). Default true. */
      bound: z.boolean().optional(),
      /** Most components without a purl accepted (default: no limit). */
      'max-without-purl': z.number().int().min(0).optional(),
      /** Most components without a licence accepted (default: no limit). */
      'max-without-licence': z.number().int().min(0).optional(),
    })
    .optional(),
});

export const policySchema = z.strictObject({
  version: z.literal(1),
  mode: z.enum(['observe', 'warn', 'enforce']).optional(),
  subjects: z.array(rule).min(1),
});

export type Identity = { kind: 'github'; issuer: string; repository: string; signerWorkflow: string; ref: string; signerDigest: string; runner: 'github-hosted' | 'any' } | { kind: 'san'; issuer: string; san?: string; sanRegex?: RegExp } | { kind: 'key'; key: string };

export interface PolicyRule {
  match: string[];
  /** Each entry is the policy's name (`provenance`) and the predicate types that satisfy it. */
  require: Array<{ name: string; types: readonly string[] }>;
  identity: Identity;
  sbom: { bound: boolean; maxWithoutPurl?: number; maxWithoutLicence?: number };
  line?: number;
}

export interface AttestPolicy {
  file: string;
  mode?: 'observe' | 'warn' | 'enforce';
  rules: PolicyRule[];
}

const FIX = `state every identity field; \`any\` accepts anything and must be written out. Example:
  identity: { issuer: github, repository: acme/shop, signer-workflow: acme/shop/.github/workflows/release.yml, ref: "refs/tags/v*", signer-digest: any, runner: github-hosted }`;

const ISSUERS: Record<string, string> = { github: GITHUB_ISSUER };

export function parsePolicy(source: string, file: string): AttestPolicy {
  const data = parseYaml(source, file);
  // A GitHub identity with a missing field would otherwise fall through to the looser `san` form: say which field.
  const rules = (data as { subjects?: unknown })?.subjects;
  if (Array.isArray(rules)) {
    rules.forEach((r, i) => {
      const id = (r as { identity?: Record<string, unknown> } | null)?.identity;
      if (!id || typeof id !== 'object') {
        const pos = locate(source, ['subjects', i]);
        throw new ConfigError(`subjects[${i}] has no identity: whose signature counts must be stated`, { file, ...(pos ? { line: pos.line } : {}), fix: FIX });
      }
      if ('key' in id || 'san' in id || 'san-regex' in id) return;
      const missing = Object.keys(githubIdentity.shape).filter((k) => !(k in id));
      if (missing.length) {
        const pos = locate(source, ['subjects', i, 'identity']);
        throw new ConfigError(`subjects[${i}].identity leaves ${missing.join(', ')} unset; an unset field is an error, not a wildcard`, { file, ...(pos ? { line: pos.line } : {}), fix: FIX });
      }
    });
  }
  const p = validateConfig(policySchema, data, source, file, FIX);
  return {
    file,
    ...(p.mode ? { mode: p.mode } : {}),
    rules: p.subjects.map((r, i) => {
      const pos = locate(source, ['subjects', i]);
      const require = r.require.map((name, j) => {
        const types = resolvePredicate(name);
        if (!types) {
          const at = locate(source, ['subjects', i, 'require', j]);
          throw new ConfigError(`unknown predicate ${JSON.stringify(name)}`, { file, ...(at ? { line: at.line } : {}), fix: 'use provenance, sbom, spdx, cyclonedx, npm-publish, policy-decision, slsa-v1, slsa-v0.2, or a predicate type URI' });
        }
        return { name, types };
      });
      const id = r.identity;
      let identity: Identity;
      if ('key' in id) identity = { kind: 'key', key: id.key };
      else if ('repository' in id) identity = { kind: 'github', issuer: ISSUERS[id.issuer] ?? id.issuer, repository: id.repository, signerWorkflow: id['signer-workflow'], ref: id.ref, signerDigest: id['signer-digest'], runner: id.runner };
      else {
        if (!id.san === !id['san-regex']) {
          const at = locate(source, ['subjects', i, 'identity']);
          throw new ConfigError(`subjects[${i}].identity needs exactly one of san and san-regex`, { file, ...(at ? { line: at.line } : {}), fix: FIX });
        }
        let re: RegExp | undefined;
        if (id['san-regex']) {
          try {
            re = new RegExp(`^(?:${id['san-regex']})$`);
          } catch {
            throw new ConfigError(`subjects[${i}].identity.san-regex is not a regular expression`, { file, fix: 'fix the pattern (it must match the whole SAN)' });
          }
        }
        identity = { kind: 'san', issuer: ISSUERS[id.issuer] ?? id.issuer, ...(id.san ? { san: id.san } : {}), ...(re ? { sanRegex: re } : {}) };
      }
      return {
        match: Array.isArray(r.match) ? r.match : [r.match],
        require,
        identity,
        sbom: { bound: r.sbom?.bound ?? true, ...(r.sbom?.['max-without-purl'] !== undefined ? { maxWithoutPurl: r.sbom['max-without-purl'] } : {}), ...(r.sbom?.['max-without-licence'] !== undefined ? { maxWithoutLicence: r.sbom['max-without-licence'] } : {}) },
        ...(pos ? { line: pos.line } : {}),
      };
    }),
  };
}

/** The first rule whose pattern matches the subject's name. */
export function ruleFor(policy: AttestPolicy, subjectName: string): PolicyRule | undefined {
  return policy.rules.find((r) => r.match.some((m) => minimatch(subjectName, m, { dot: true, nocomment: true })));
}

const gh = (u: string | undefined) => u?.replace(/^https:\/\/github\.com\//, '');

/** `owner/repo/.github/workflows/x.yml@ref` → parts; the ref is all that follows the file's `@` (refs may contain `@`). */
export function splitWorkflow(s: string): { repo: string; file: string; ref?: string } | undefined {
  const m = /^([^/]+\/[^/]+)\/(.+?\.ya?ml)(?:@(.*))?$/.exec(s);
  if (!m) return undefined;
  return { repo: m[1]!, file: m[2]!, ...(m[3] !== undefined ? { ref: m[3] } : {}) };
}

/** Why a keyless signer does not satisfy the identity (empty when it does). */
export function identityProblems(id: Identity, c: CertClaims): string[] {
  if (id.kind === 'key') return ['signed with a certificate, but the policy expects the key ' + id.key];
  const out: string[] = [];
  if (c.issuer !== id.issuer) out.push(`the token issuer is ${c.issuer ?? 'missing'}, the policy expects ${id.issuer}`);
  if (id.kind === 'san') {
    if (id.san !== undefined && c.san !== id.san) out.push(`the signer is ${c.san ?? 'missing'}, the policy expects ${id.san}`);
    if (id.sanRegex && !id.sanRegex.test(c.san ?? '')) out.push(`the signer ${c.san ?? 'missing'} does not match ${id.sanRegex.source}`);
    return out;
  }
  const repo = sourceRepository(c);
  if (id.repository !== 'any' && repo?.toLowerCase() !== id.repository.toLowerCase()) out.push(`built from ${repo ?? 'an unknown repository'}, the policy expects ${id.repository}`);
  if (id.signerWorkflow !== 'any') {
    const san = gh(c.san) ?? '';
    const want = splitWorkflow(id.signerWorkflow);
    const got = splitWorkflow(san);
    // owner/repo compare without case (GitHub's names), the file path and the ref exactly (git's); the ref is
    // everything after the workflow file's `@`, so `v2@evil` is not `v2`.
    const samePath = !!got && !!want && got.repo.toLowerCase() === want.repo.toLowerCase() && got.file === want.file;
    if (!samePath) out.push(`signed by the workflow ${san || 'missing'}, the policy expects ${id.signerWorkflow}`);
    else if (want!.ref !== undefined && got!.ref !== want!.ref) out.push(`signed by ${got!.repo}/${got!.file} at ${got!.ref ?? '?'}, the policy pins ${want!.ref} (the signer's ref is the one in its SAN: the triggering ref, or the uses: ref of a reusable workflow)`);
  }
  if (id.ref !== 'any') {
    const ref = sourceRef(c);
    if (!ref) out.push('the certificate names no source ref');
    else if (!minimatch(ref, id.ref, { nocomment: true })) out.push(`built from ${ref}, the policy expects ${id.ref}`);
  }
  if (id.signerDigest !== 'any') {
    const d = c.buildSignerDigest ?? c.v1?.sha;
    if (d?.toLowerCase() !== id.signerDigest.toLowerCase()) out.push(`the signing workflow is at commit ${d ?? 'unknown'}, the policy expects ${id.signerDigest}`);
  }
  if (id.runner === 'github-hosted' && c.runnerEnvironment !== 'github-hosted') {
    out.push(c.runnerEnvironment ? `built on a ${c.runnerEnvironment} runner, the policy expects github-hosted` : 'the certificate does not say which runner built it (certificates before mid-2023 have no runner claim); set runner: any to accept');
  }
  return out;
}
