import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_POLICY_PATH, attest, renderSummary, type ApiPage, type CollectOptions } from '@maestro/attest';
import { ConfigError, annotate, booleanInput, getGitHubClient, httpStatus, integerInput, listInput, log, parseInputs, readFileAt, readInputFile, runAction, runnerEvent, runnerTempPath, setOutputs, writeEvidence, writeSummary, type GitHubClient } from '@maestro/core';

export const ACTION = 'attest-verify';

export const inputSchema = z.object({
  subjects: listInput({ lines: true }),
  bundles: listInput({ lines: true }).default([]),
  policy: z.string().default(DEFAULT_POLICY_PATH),
  'github-api': booleanInput().default(true),
  repository: z.union([z.literal(''), z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'repository must be owner/name')]).default(''),
  'npm-registry': z.union([z.literal(''), z.url({ protocol: /^https?$/ })]).default(''),
  'trusted-root': z.string().default(''),
  'public-key': z.string().default(''),
  'allow-no-tlog': booleanInput().default(false),
  mode: z.union([z.literal(''), z.enum(['observe', 'warn', 'enforce'])]).default(''),
  'max-bundle-mb': integerInput({ min: 1, max: 256 }).default(16),
  token: z.string().default(''),
});

/** Annotations the runner shows per level and step. */
const ANNOTATIONS = 10;

/** The policy: from the base commit on pull requests (the change under review does not loosen its own gate). */
async function readPolicy(cwd: string, file: string): Promise<{ source: string; file: string; where: string }> {
  const t = runnerEvent();
  const ev = t.event as { pull_request?: { base?: { sha?: string } }; merge_group?: { base_sha?: string } };
  // Pull requests and merge-queue groups carry the change under review: the policy is the base's.
  const base = t.eventName === 'merge_group' ? ev.merge_group?.base_sha : t.eventName.startsWith('pull_request') ? ev.pull_request?.base?.sha : undefined;
  if (base) {
    const source = await readFileAt(base, file, { cwd });
    if (source === undefined) throw new ConfigError(`the attestation policy is not readable at the base commit ${base.slice(0, 12)}`, { file, fix: 'commit the policy to the base branch first, and check out with fetch-depth: 2 or more so the base commit is present' });
    return { source, file, where: `${file} (base ${base.slice(0, 7)})` };
  }
  return { source: readInputFile(cwd, file, { what: 'attestation policy', input: 'policy', fix: `create ${file} (see the attest-verify README for the format)` }), file, where: file };
}

/** The attestations API of a repository; the endpoint pages by cursor (Link rel="next"). */
export function githubSource(gh: GitHubClient, repository: string): NonNullable<CollectOptions['github']> {
  const [owner, repo] = repository.split('/') as [string, string];
  return {
    repository,
    page: async (digest, next): Promise<ApiPage> => {
      try {
        const res = next ? await gh.request(`GET ${next}`) : await gh.request('GET /repos/{owner}/{repo}/attestations/{subject_digest}', { owner, repo, subject_digest: digest, per_page: 100 });
        const link = /<([^>]+)>;\s*rel="next"/.exec(String(res.headers.link ?? ''))?.[1];
        return { status: res.status, data: res.data, ...(link ? { next: link } : {}) };
      } catch (e) {
        if (httpStatus(e) === 404) return { status: 404, data: undefined };
        throw e;
      }
    },
  };
}

export function run(): Promise<void> {
  return runAction(ACTION, async () => {
    const inputs = parseInputs(inputSchema);
    const cwd = process.env['GITHUB_WORKSPACE'] ?? process.cwd();
    const policy = await readPolicy(cwd, inputs.policy);
    const repository = inputs.repository || process.env['GITHUB_REPOSITORY'] || '';
    const useApi = inputs['github-api'] && !!inputs.token && !!repository;
    if (inputs['github-api'] && !useApi && !inputs.bundles.length && !inputs['npm-registry']) log.warning(`${ACTION}: no token or repository for the GitHub attestations API and no bundles given: nothing can verify`);
    // Deadline of one download; MAESTRO_ATTEST_TIMEOUT_MS shortens it (tests of a bundle_url that never ends).
    const envTimeout = Number(process.env['MAESTRO_ATTEST_TIMEOUT_MS']);
    const { report, verdicts } = await attest({
      cwd,
      policy,
      subjects: inputs.subjects,
      bundles: inputs.bundles,
      ...(inputs['public-key'] ? { publicKey: inputs['public-key'] } : {}),
      ...(inputs['trusted-root'] ? { trustedRoot: inputs['trusted-root'] } : {}),
      allowNoTlog: inputs['allow-no-tlog'],
      ...(inputs.mode ? { mode: inputs.mode } : {}),
      maxBytes: inputs['max-bundle-mb'] * 1024 * 1024,
      timeoutMs: envTimeout > 0 ? Math.min(envTimeout, 120_000) : 30_000,
      ...(useApi ? { github: githubSource(await getGitHubClient(inputs.token, { log: { warn: log.warning } }), repository) } : {}),
      ...(inputs['npm-registry'] ? { npmRegistry: inputs['npm-registry'] } : {}),
    });

    const outDir = runnerTempPath('maestro-attest', cwd);
    mkdirSync(outDir, { recursive: true });
    const reportPath = path.join(outDir, 'report.json');
    writeFileSync(reportPath, JSON.stringify(report, null, 2) + '\n');
    // The verified SBOMs as attested, for policy-gate's licence rules.
    const sboms: string[] = [];
    verdicts.forEach((v, i) =>
      v.accepted.forEach((a, j) => {
        if (a.document === undefined) return;
        const p = path.join(outDir, `sbom-${i + 1}-${j + 1}.json`);
        writeFileSync(p, JSON.stringify(a.document, null, 2) + '\n');
        sboms.push(p);
      }),
    );
    writeSummary(renderSummary(report));

    if (report.mode !== 'observe') {
      const level = report.mode === 'enforce' ? 'error' : 'warning';
      for (const v of verdicts.filter((x) => !x.ok).slice(0, ANNOTATIONS)) annotate(level, { title: `${ACTION}: ${v.subject}`, message: v.failures.join(' | ') });
    }
    const blocks = report.mode === 'enforce' && report.failed > 0;
    const evidencePath = writeEvidence(ACTION, {
      mode: report.mode,
      verified: report.verified,
      failed: report.failed,
      blocks,
      policy: report.policy,
      subjects: verdicts.map((v) => ({ subject: v.subject, ok: v.ok, failures: v.failures, accepted: v.accepted.map((a) => ({ require: a.require, signer: a.signer, ...(a.ref ? { ref: a.ref } : {}), ...(a.commit ? { commit: a.commit } : {}) })) })),
    });
    setOutputs({ verified: report.verified, failed: report.failed, 'report-path': reportPath, 'evidence-path': evidencePath, sboms: sboms.join('\n'), licences: report.licences });
    if (blocks) {
      process.exitCode = 1;
      log.info(`${ACTION}: ${report.failed} of ${verdicts.length} subject(s) lack a valid attestation required by ${report.policy}: ${verdicts.filter((v) => !v.ok).map((v) => v.subject).slice(0, 5).join(', ')}`);
    }
  });
}
