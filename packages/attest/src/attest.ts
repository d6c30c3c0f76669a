/**
 * The whole verification, as the action and `maestro attest verify` run it:
 * policy → trust (pinned roots, the policy's keys) → subjects with our own
 * digests → candidate bundles from every source → one verdict per subject.
 */
import { ConfigError, readInputFile, resolveInputFile } from '@maestro/core';
import { MAX_BUNDLE_BYTES, candidatesFromFile, type Candidate } from './bundles.js';
import { collect, type CollectOptions } from './collect.js';
import { judge, type Verdict } from './gate.js';
import { parsePolicy } from './policy.js';
import { buildReport, type AttestReport } from './report.js';
import { globFiles, resolveSubjects } from './subjects.js';
import { loadTrust, parsePublicKey, parseTrustedRoots, type NamedKey } from './trust.js';

export interface AttestOptions {
  cwd: string;
  /** The policy's text and its path (as named by the user), and how the report names where it came from. */
  policy: { source: string; file: string; where?: string };
  subjects: readonly string[];
  /** Bundle files or globs. */
  bundles?: readonly string[];
  /** A PEM key file trusted in addition to the keys the policy names. */
  publicKey?: string;
  trustedRoot?: string;
  allowNoTlog?: boolean;
  mode?: AttestReport['mode'];
  maxBytes?: number;
  timeoutMs?: number;
  github?: CollectOptions['github'];
  npmRegistry?: string;
  /** Directories besides the workspace that named files may live in (the CLI allows any path you type). */
  roots?: readonly string[];
}

export interface AttestResult {
  report: AttestReport;
  verdicts: Verdict[];
}

export async function attest(o: AttestOptions): Promise<AttestResult> {
  if (!o.subjects.some((s) => s.trim())) throw new ConfigError('no subjects to verify', { file: "input 'subjects'", fix: 'list the artifacts (files, pkg:npm/…, oci://…@sha256:…, tree:<dir>) one per line' });
  const maxBytes = o.maxBytes ?? MAX_BUNDLE_BYTES;
  const roots = o.roots ? { roots: o.roots } : {};
  const policy = parsePolicy(o.policy.source, o.policy.file);
  const mode = o.mode ?? policy.mode ?? 'enforce';

  const keys: NamedKey[] = [];
  const keyIds = new Map<string, string>();
  const keyFiles = new Set([...(o.publicKey ? [o.publicKey] : []), ...policy.rules.flatMap((r) => (r.identity.kind === 'key' ? [r.identity.key] : []))]);
  for (const f of keyFiles) {
    const k = parsePublicKey(readInputFile(o.cwd, f, { what: 'public key', input: f === o.publicKey ? 'public-key' : 'policy', fix: 'commit the public key (PEM) the attestations are signed with', maxBytes: 64 * 1024, ...roots }), f);
    keys.push(k);
    keyIds.set(f, k.id);
  }
  const trustedRoots = o.trustedRoot ? parseTrustedRoots(readInputFile(o.cwd, o.trustedRoot, { what: 'trusted root', input: 'trusted-root', fix: 'pass a trusted_root.json or `gh attestation trusted-root` output', maxBytes: 4 * 1024 * 1024, ...roots }), o.trustedRoot) : undefined;
  const trust = loadTrust({ ...(trustedRoots ? { roots: trustedRoots } : {}), keys });

  const subjects = await resolveSubjects(o.subjects, { cwd: o.cwd, resolve: (f) => resolveInputFile(o.cwd, f, { what: 'artifact', input: 'subjects', fix: 'build the artifact before this step', maxBytes: Number.MAX_SAFE_INTEGER, ...roots }) });

  if (!subjects.length) throw new ConfigError('no subject resolved: nothing would be verified', { file: "input 'subjects'", fix: 'check the paths and globs; a gate with nothing to check does not pass' });

  const files: Candidate[] = [];
  for (const pattern of o.bundles ?? []) {
    const names = /[*?[{]/.test(pattern) ? globFiles(o.cwd, pattern) : [pattern];
    if (!names.length) files.push({ origin: pattern, problem: 'the pattern matches no file' });
    for (const f of names) {
      let abs: string;
      try {
        abs = resolveInputFile(o.cwd, f, { what: 'attestation bundle', input: 'bundles', fix: 'download the bundles before this step', maxBytes, ...roots });
      } catch (e) {
        // Missing, or a link out of the workspace: a problem of this source, shown in the verdict.
        files.push({ origin: f, problem: e instanceof ConfigError ? e.message : 'cannot be read' });
        continue;
      }
      files.push(...candidatesFromFile(abs, f, maxBytes));
    }
  }

  const collected = await collect(subjects, { files, ...(o.github ? { github: o.github } : {}), ...(o.npmRegistry ? { npmRegistry: o.npmRegistry } : {}), maxBytes, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
  const verdicts = subjects.map((s) => {
    const c = collected.get(s)!;
    return judge(s, c.candidates, trust, policy, { allowNoTlog: o.allowNoTlog ?? false, keyIds, sourceNotes: c.notes });
  });
  return { report: buildReport(verdicts, mode, o.policy.where ?? o.policy.file), verdicts };
}
