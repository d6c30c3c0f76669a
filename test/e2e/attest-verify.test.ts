import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, ftruncateSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { FakeGitHub, GitFixture, assertContract, mergeGroupEvent, pullRequestEvent, pushEvent, runAction, type RunResult } from '@maestro/harness';

const actionDir = path.resolve('actions/attest-verify');
const FIX = path.resolve('packages/attest/test/fixtures');
const REPO = { owner: 'acme', name: 'shop' };
const json = (r: RunResult, name: string) => JSON.parse(r.outputs[name]!);
const report = (r: RunResult) => JSON.parse(readFileSync(r.outputs['report-path']!, 'utf8'));

const SIGSTORE_231 = 'f06fbf5c353cc0db093904b9cac0d53b412d83dff6b80e6047d9786708a38e5c3105cad4e913dfc22dbe8c999b3fe029d47969fe75406843b8163db6fd22f681';
const sri = (hex: string) => `sha512-${Buffer.from(hex, 'hex').toString('base64')}`;
const BAZEL = '06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b';

const POLICY = `version: 1
subjects:
  - match: "pkg:npm/sigstore@*"
    require: [provenance, npm-publish]
    identity:
      issuer: github
      repository: sigstore/sigstore-js
      signer-workflow: sigstore/sigstore-js/.github/workflows/release.yml
      ref: refs/heads/main
      signer-digest: any
      runner: github-hosted
  - match: MODULE.bazel
    require: [provenance]
    identity:
      issuer: github
      repository: any
      signer-workflow: bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1
      ref: any
      signer-digest: any
      runner: github-hosted
`;

let fx: GitFixture;
let head: string;
let gh: FakeGitHub;
let token: string;

beforeAll(async () => {
  expect(existsSync(path.join(actionDir, 'dist/index.js'))).toBe(true);
  fx = GitFixture.create();
  head = fx.commit('base', { '.maestro/attest-policy.yml': POLICY, 'README.md': 'x\n' });
  fx.push('main');
  gh = await FakeGitHub.start();
  gh.addRepo('acme/shop');
  token = gh.addToken('ghs_attest');
});

afterAll(async () => {
  fx?.dispose();
  await gh?.stop();
});

function workspace(extra: Record<string, string> = {}): string {
  const ws = fx.checkoutLike(head, { depth: 1 });
  mkdirSync(path.join(ws, 'att'), { recursive: true });
  for (const f of ['sigstore-2.3.1.npm-attestations.json', 'sigstore-2.1.0.slsa-v1.sigstore.json', 'bcr-module-bazel.slsa-v1.sigstore.jsonl']) copyFileSync(path.join(FIX, f), path.join(ws, 'att', f));
  for (const [f, text] of Object.entries(extra)) {
    mkdirSync(path.dirname(path.join(ws, f)), { recursive: true });
    writeFileSync(path.join(ws, f), text);
  }
  return ws;
}

const push = () => pushEvent({ repo: REPO, before: head, after: head });
const run = (w: Record<string, string>, ws = workspace(), env: Record<string, string> = {}) =>
  runAction({ actionDir, workspace: ws, event: push(), token, apiUrl: gh.url, with: { 'github-api': 'false', ...w }, env });

describe('attest-verify bundle under runner-sim', () => {
  test('a real npm package: provenance and the registry publish attestation verify offline; the summary names signer, ref and commit', async () => {
    const r = await run({ subjects: `pkg:npm/sigstore@2.3.1 ${sri(SIGSTORE_231)}`, bundles: 'att/sigstore-2.3.1.npm-attestations.json' });
    assertContract(r);
    if (r.conclusion !== 'success') console.log(r.log);
    expect(r.conclusion).toBe('success');
    expect([r.outputs['verified'], r.outputs['failed']]).toEqual(['1', '0']);
    const v = report(r).subjects[0];
    expect(v.accepted.map((a: { require: string; signer: string; ref?: string }) => [a.require, a.signer, a.ref])).toEqual([
      ['provenance', 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main (public-good)', 'refs/heads/main'],
      ['npm-publish', 'the npm registry', undefined],
    ]);
    expect(r.summary).toContain('**1 verified, 0 failed**');
    expect(r.summary).toContain('`pkg:npm/sigstore@2.3.1`');
    const ev = JSON.parse(readFileSync(r.outputs['evidence-path']!, 'utf8'));
    expect(ev.data).toMatchObject({ verified: 1, failed: 0, blocks: false });
  });

  test('the digest is ours: a tarball that is not the attested one fails, although the signature is valid', async () => {
    const r = await run({ subjects: 'pkg:npm/sigstore@2.3.1 dist/sigstore-2.3.1.tgz', bundles: 'att/*.json' }, workspace({ 'dist/sigstore-2.3.1.tgz': 'not the real tarball' }));
    expect(r.conclusion).toBe('failure');
    expect(r.outputs['failed']).toBe('1');
    expect(report(r).subjects[0].failures[0]).toMatch(/^provenance: no provenance attestation of pkg:npm\/sigstore@2\.3\.1 \(bundles looked at: .*of other artifacts/);
    expect(r.annotations.some((a) => a.level === 'error' && a.title === 'attest-verify: pkg:npm/sigstore@2.3.1')).toBe(true);
  });

  test('a tampered bundle fails with the reason; warn mode reports without failing', async () => {
    const b = JSON.parse(readFileSync(path.join(FIX, 'sigstore-2.1.0.slsa-v1.sigstore.json'), 'utf8'));
    const payload = Buffer.from(b.dsseEnvelope.payload, 'base64');
    const i = payload.indexOf('refs/heads/main');
    payload.writeUInt8(payload[i + 5]! ^ 1, i + 5);
    b.dsseEnvelope.payload = payload.toString('base64');
    const subjects = `pkg:npm/sigstore@2.1.0 ${sri('90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f')}`;
    const r = await run({ subjects, bundles: 'att/tampered.json', mode: 'warn' }, workspace({ 'att/tampered.json': JSON.stringify(b) }));
    expect(r.conclusion).toBe('success');
    const f = report(r).subjects[0].failures;
    expect(f[0]).toMatch(/^provenance: no attestation counts — att\/tampered.json: the bundle was altered after signing/);
    expect(r.annotations.some((a) => a.level === 'warning' && a.message.includes('altered after signing'))).toBe(true);
  });

  test('GitHub attestations API: inline bundles and snappy bundle_url blobs verify; the token never goes to blob storage', async () => {
    const line = readFileSync(path.join(FIX, 'bcr-module-bazel.slsa-v1.sigstore.jsonl'), 'utf8').trim();
    gh.addAttestation('acme/shop', `sha256:${BAZEL}`, JSON.parse(line), 'snappy');
    const r = await run({ subjects: `MODULE.bazel@sha256:${BAZEL}`, 'github-api': 'true' });
    expect(r.conclusion).toBe('success');
    expect(report(r).subjects[0].accepted[0]).toMatchObject({ require: 'provenance', origin: 'GitHub API acme/shop sha256 p1 #1 bundle_url' });
    expect(gh.blobRequests.length).toBeGreaterThan(0);
    expect(gh.blobRequests.every((b) => !b.authorization)).toBe(true);
    expect(gh.violations).toEqual([]);
  });

  test('a bundle_url that never ends is a verdict with its reason, not a hang', async () => {
    const d = 'aa'.repeat(32);
    gh.addAttestation('acme/shop', `sha256:${d}`, {}, 'hang');
    const r = await run({ subjects: `MODULE.bazel@sha256:${d}`, 'github-api': 'true' }, workspace(), { MAESTRO_ATTEST_TIMEOUT_MS: '1500' });
    expect(r.conclusion).toBe('failure');
    expect(report(r).subjects[0].failures[0]).toContain('bundle_url: no complete answer within 2 s');
  });

  test('a bundle_url answer larger than the cap is cut off at the cap', async () => {
    const d = 'bb'.repeat(32);
    gh.addAttestation('acme/shop', `sha256:${d}`, {}, 'huge');
    const r = await run({ subjects: `MODULE.bazel@sha256:${d}`, 'github-api': 'true', 'max-bundle-mb': '1' });
    expect(r.conclusion).toBe('failure');
    expect(report(r).subjects[0].failures[0]).toContain('bundle_url: the answer exceeded the 1 MiB limit');
  });

  test('a 403 from the attestations API is a note, and the missing provenance fails the gate', async () => {
    gh.fault({ operation: 'repos/list-attestations', status: 403, message: 'Resource not accessible by integration' });
    const r = await run({ subjects: `MODULE.bazel@sha256:${BAZEL}`, 'github-api': 'true' });
    expect(r.conclusion).toBe('failure');
    const v = report(r).subjects[0];
    expect(v.notes[0]).toMatch(/HTTP 403: the token cannot read attestations \(it needs `attestations: read`/);
    expect(v.failures[0]).toMatch(/no bundles found/);
  });

  test('a 100 MB bundle file, a missing one and garbage are reasons in the verdict', async () => {
    const ws = workspace({ 'att/garbage.json': '\u0000{"mediaType": tru' });
    const fd = openSync(path.join(ws, 'att/huge.json'), 'w');
    ftruncateSync(fd, 100 * 1024 * 1024); // sparse: nothing is written
    closeSync(fd);
    const r = await run({ subjects: `pkg:npm/sigstore@2.3.1 ${sri(SIGSTORE_231)}`, bundles: 'att/huge.json\natt/missing.json\natt/garbage.json' }, ws);
    expect(r.conclusion).toBe('failure');
    const f = report(r).subjects[0].failures.join('\n');
    expect(f).toContain('att/huge.json: 100.0 MiB, above the 16 MiB limit for a bundle file');
    expect(f).toContain('att/missing.json');
    expect(f).toContain('att/garbage.json: not valid JSON');
  });

  test('npm registry without the attestations endpoint (a mirror) is its own state', async () => {
    const server: Server = createServer((_q, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found"}');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await run({ subjects: `pkg:npm/sigstore@2.3.1 ${sri(SIGSTORE_231)}`, 'npm-registry': registry });
      expect(r.conclusion).toBe('failure');
      expect(report(r).subjects[0].notes[0]).toContain('serves no attestations for sigstore@2.3.1 (404');
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });

  test('a policy with an unset identity field is a ConfigError with file and line', async () => {
    const ws = workspace({ 'strict.yml': 'version: 1\nsubjects:\n  - match: "*"\n    require: [provenance]\n    identity:\n      issuer: github\n      repository: acme/shop\n' });
    const r = await run({ subjects: `x@sha256:${BAZEL}`, policy: 'strict.yml' }, ws);
    expect(r.conclusion).toBe('failure');
    expect(r.annotations).toContainEqual(expect.objectContaining({ level: 'error', file: 'strict.yml', line: 6, message: expect.stringContaining('leaves signer-workflow, ref, signer-digest, runner unset; an unset field is an error, not a wildcard') }));
  });

  test('on a pull request the policy comes from the base: a PR that loosens it is judged by the old one', async () => {
    fx.checkout('main');
    fx.branch('loosen');
    fx.commit('loosen', { '.maestro/attest-policy.yml': POLICY.replace('require: [provenance]', 'require: [custom]').replace('runner: github-hosted\n  - match', 'runner: any\n  - match') + '  - match: "**"\n    require: [provenance]\n    identity: { issuer: github, repository: any, signer-workflow: any, ref: any, signer-digest: any, runner: any }\n' });
    const p = fx.pullRequest(7, 'main', 'loosen');
    const ws = fx.checkoutLike(p.merge, { depth: 2 });
    const r = await runAction({ actionDir, workspace: ws, event: pullRequestEvent({ repo: REPO, number: 7, ...p }), token, apiUrl: gh.url, with: { 'github-api': 'false', subjects: `other@sha256:${BAZEL}` } });
    expect(r.conclusion).toBe('failure');
    expect(report(r).subjects[0].failures[0]).toMatch(/no rule in .maestro\/attest-policy.yml matches other/);
    expect(report(r).policy).toMatch(/\(base [0-9a-f]{7}\)$/);
  });

  test('in a merge queue the policy also comes from the base: a group whose head loosens it is judged by the old one', async () => {
    fx.checkout('main');
    const base = fx.head('main');
    fx.branch('queue-loosen');
    const loosened = fx.commit('loosen in the queue', { '.maestro/attest-policy.yml': POLICY + '  - match: "**"\n    require: [provenance]\n    identity: { issuer: github, repository: any, signer-workflow: any, ref: any, signer-digest: any, runner: any }\n' });
    fx.push('queue-loosen');
    const ws = fx.checkoutLike(loosened, { depth: 2 });
    const r = await runAction({ actionDir, workspace: ws, event: mergeGroupEvent({ repo: REPO, baseSha: base, headSha: loosened, prNumber: 8 }), token, apiUrl: gh.url, with: { 'github-api': 'false', subjects: `other@sha256:${BAZEL}` } });
    expect(r.conclusion).toBe('failure');
    expect(report(r).subjects[0].failures[0]).toMatch(/no rule in .maestro\/attest-policy.yml matches other/);
    expect(report(r).policy).toBe(`.maestro/attest-policy.yml (base ${base.slice(0, 7)})`);
  });
});

