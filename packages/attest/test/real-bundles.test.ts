import { describe, expect, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { candidatesFromFile, candidatesFromText, checkSbom, identityProblems, loadTrust, parsePolicy, parsePublicKey, judge, resolveSubjects, treeDigest, verifyCandidate, type Subject } from '../src/index.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const fx = (f: string) => path.resolve('packages/attest/test/fixtures', f);
const trust = loadTrust();
const hexToSri = (hex: string) => `sha512-${Buffer.from(hex, 'hex').toString('base64')}`;

const REAL: Record<string, { file: string; subject: Subject; san: string }> = {
  'sigstore@2.3.1': {
    file: 'sigstore-2.3.1.npm-attestations.json',
    subject: { name: 'pkg:npm/sigstore@2.3.1', kind: 'npm', npm: { name: 'sigstore', version: '2.3.1' }, digests: { sha512: 'f06fbf5c353cc0db093904b9cac0d53b412d83dff6b80e6047d9786708a38e5c3105cad4e913dfc22dbe8c999b3fe029d47969fe75406843b8163db6fd22f681' } },
    san: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
  },
  'sigstore@1.0.0': {
    file: 'sigstore-1.0.0.npm-attestations.json',
    subject: { name: 'pkg:npm/sigstore@1.0.0', kind: 'npm', npm: { name: 'sigstore', version: '1.0.0' }, digests: { sha512: '7bea9f6e7ff37f5fab0b36bf061200fff03099fd2fd696b91d04bc5e4f225eb9fd6e0cadcad54ba980f43fb352a99e8810b4e0abeb5c0ef2cf9108cd1f258b36' } },
    san: 'https://github.com/sigstore/sigstore-js/.github/workflows/publish.yml@refs/tags/v1.0.0',
  },
  'sigstore@2.1.0': {
    file: 'sigstore-2.1.0.slsa-v1.sigstore.json',
    subject: { name: 'pkg:npm/sigstore@2.1.0', kind: 'npm', npm: { name: 'sigstore', version: '2.1.0' }, digests: { sha512: '90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f' } },
    san: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
  },
  reusable: {
    file: 'reusable-workflow.slsa-v1.sigstore.json',
    subject: { name: 'github_provenance_demo-0.0.0-py3-none-any.whl', kind: 'digest', digests: { sha256: '49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25' } },
    san: 'https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d',
  },
  bcr: {
    file: 'bcr-module-bazel.slsa-v1.sigstore.jsonl',
    subject: { name: 'MODULE.bazel', kind: 'digest', digests: { sha256: '06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b' } },
    san: 'https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1',
  },
  cosign: {
    file: 'cosign-keyless-attestation.sigstore.json',
    subject: { name: 'image', kind: 'digest', digests: { sha256: '732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4' } },
    san: 'cody@soyland.com',
  },
};

describe('real public bundles verify offline against the pinned public-good root', () => {
  for (const [name, c] of Object.entries(REAL)) {
    test(name, () => {
      const results = candidatesFromFile(fx(c.file), c.file).map((cand) => verifyCandidate(cand, c.subject, trust));
      expect(results.length).toBeGreaterThan(0);
      for (const r of results) expect({ origin: r.origin, ok: r.ok, code: r.code }).toEqual({ origin: r.origin, ok: true, code: undefined });
      const keyless = results.find((r) => r.signer?.kind === 'keyless');
      expect(keyless?.signer?.kind === 'keyless' && keyless.signer.claims.san).toBe(c.san);
    });
  }

  test('the npm publish attestation is signed by the npm registry key', () => {
    const c = REAL['sigstore@2.3.1']!;
    const r = candidatesFromFile(fx(c.file), c.file).map((cand) => verifyCandidate(cand, c.subject, trust));
    expect(r.map((x) => [x.predicateType, x.signer?.kind, x.signer?.kind === 'key' && x.signer.npm])).toEqual([
      ['https://github.com/npm/attestation/tree/main/specs/publish/v0.1', 'key', true],
      ['https://slsa.dev/provenance/v1', 'keyless', false],
    ]);
  });

  test('v1-only certificates (2023) expose their repository and ref claims', () => {
    const c = REAL['sigstore@1.0.0']!;
    const r = candidatesFromFile(fx(c.file), c.file).map((cand) => verifyCandidate(cand, c.subject, trust)).find((x) => x.signer?.kind === 'keyless')!;
    expect(r.signer?.kind === 'keyless' && r.signer.claims.v1).toMatchObject({ repository: 'sigstore/sigstore-js', ref: 'refs/tags/v1.0.0' });
  });
});

describe('tampering and wrong inputs fail with the exact reason', () => {
  const c = REAL['sigstore@2.1.0']!;
  const original = JSON.parse(readFileSync(fx(c.file), 'utf8'));
  const run = (b: unknown, subject = c.subject) => verifyCandidate(candidatesFromText(JSON.stringify(b), 'x.json')[0]!, subject, trust);

  test('a flipped payload bit', () => {
    const b = structuredClone(original);
    const payload = Buffer.from(b.dsseEnvelope.payload, 'base64');
    const i = payload.indexOf('refs/heads/main');
    payload.writeUInt8(payload[i + 5]! ^ 0x01, i + 5); // refs/heads/main → refs/ieads/main: still JSON
    b.dsseEnvelope.payload = payload.toString('base64');
    const r = run(b);
    expect([r.ok, r.code]).toEqual([false, 'TLOG_BODY_ERROR']);
    expect(r.reason).toMatch(/altered after signing/);
  });

  test('a flipped signature bit', () => {
    const b = structuredClone(original);
    const sig = Buffer.from(b.dsseEnvelope.signatures[0].sig, 'base64');
    sig.writeUInt8(sig[sig.length - 3]! ^ 0x01, sig.length - 3);
    b.dsseEnvelope.signatures[0].sig = sig.toString('base64');
    const r = run(b);
    expect(r.ok).toBe(false);
    expect(['TLOG_BODY_ERROR', 'SIGNATURE_ERROR']).toContain(r.code);
  });

  test('the wrong artifact: a valid signature over another subject is refused by our own check', () => {
    const other: Subject = { ...c.subject, digests: { sha512: 'ab'.repeat(64) } };
    const r = run(original, other);
    expect([r.ok, r.code, r.forSubject]).toEqual([false, 'SUBJECT_MISMATCH', false]);
    expect(r.reason).toContain('pkg:npm/sigstore@2.1.0');
  });

  test('truncated JSON and garbage are unusable sources, never exceptions', () => {
    const text = readFileSync(fx(c.file), 'utf8');
    expect(candidatesFromText(text.slice(0, text.length / 2), 'half.json')).toEqual([{ origin: 'half.json', problem: 'not valid JSON (truncated or not a bundle)' }]);
    expect(candidatesFromText('\u0000\u0001garbage', 'g.json')[0]!.problem).toMatch(/not valid JSON/);
    expect(candidatesFromText('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}', 'm.json').map((x) => verifyCandidate(x, c.subject, trust).code)).toEqual(['BUNDLE_INVALID']);
  });

  test('an empty trusted root: the chain does not verify', () => {
    const empty = loadTrust({ roots: [{ name: 'empty', root: { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] } as never }] });
    const r = verifyCandidate(candidatesFromText(JSON.stringify(original), 'x')[0]!, c.subject, empty);
    expect([r.ok, r.code]).toEqual([false, 'CERTIFICATE_ERROR']);
  });
});

describe('key-based DSSE (cosign style)', () => {
  const demo = JSON.parse(readFileSync(fx('keybased-demo.synthetic.json'), 'utf8'));
  const subject: Subject = { name: 'image', kind: 'digest', digests: { sha256: (JSON.parse(Buffer.from(demo.dsseEnvelope.payload, 'base64').toString()).subject[0].digest.sha256) } };
  const withKey = loadTrust({ keys: [parsePublicKey(demo.publicKeyPem, 'cosign.pub')] });

  test('without a log entry it is refused unless allow-no-tlog is stated', () => {
    const cand = candidatesFromText(JSON.stringify(demo.dsseEnvelope), 'env.json')[0]!;
    expect(verifyCandidate(cand, subject, withKey).code).toBe('NO_TLOG');
    const r = verifyCandidate(cand, subject, withKey, { allowNoTlog: true });
    expect([r.ok, r.signer?.kind]).toEqual([true, 'key']);
  });

  test('the wrong key fails', () => {
    const otherPem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const other = loadTrust({ keys: [parsePublicKey(otherPem, 'other.pub')] });
    const r = verifyCandidate(candidatesFromText(JSON.stringify(demo.sigstoreBundle), 'b.json')[0]!, subject, other, { allowNoTlog: true });
    expect(r.ok).toBe(false);
    expect(['SIGNATURE_ERROR', 'PUBLIC_KEY_ERROR']).toContain(r.code);
  });
});


describe('policy: identity and requirements', () => {
  const c = REAL['sigstore@2.3.1']!;
  const cands = candidatesFromFile(fx(c.file), c.file);
  const policy = (identity: string, require = '[provenance, npm-publish]') =>
    parsePolicy(`version: 1\nsubjects:\n  - match: "pkg:npm/sigstore@*"\n    require: ${require}\n    identity: ${identity}\n`, '.maestro/attest-policy.yml');
  const exact = '{ issuer: github, repository: sigstore/sigstore-js, signer-workflow: sigstore/sigstore-js/.github/workflows/release.yml, ref: refs/heads/main, signer-digest: any, runner: github-hosted }';

  test('the exact identity passes with provenance and the npm publish attestation', () => {
    const v = judge(c.subject, cands, trust, policy(exact));
    expect(v.failures).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.accepted.map((a) => [a.require, a.signer])).toEqual([
      ['provenance', 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main (public-good)'],
      ['npm-publish', 'the npm registry'],
    ]);
    expect(v.accepted[0]).toMatchObject({ repository: 'sigstore/sigstore-js', ref: 'refs/heads/main' });
  });

  test('a wrong ref, repository or workflow is named in the failure', () => {
    const v = judge(c.subject, cands, trust, policy(exact.replace('ref: refs/heads/main', 'ref: "refs/tags/v*"').replace('repository: sigstore/sigstore-js', 'repository: evil/fork')));
    expect(v.ok).toBe(false);
    expect(v.failures[0]).toContain('built from sigstore/sigstore-js, the policy expects evil/fork');
    expect(v.failures[0]).toContain('built from refs/heads/main, the policy expects refs/tags/v*');
  });

  test('a missing SBOM attestation fails the subject', () => {
    const v = judge(c.subject, cands, trust, policy(exact, '[provenance, sbom]'));
    expect(v.ok).toBe(false);
    expect(v.failures).toEqual([expect.stringMatching(/^sbom: no sbom attestation of pkg:npm\/sigstore@2\.3\.1 \(bundles looked at: 2 of it with other predicate types/)]);
  });

  test('an unset identity field is an error with the fix, not a wildcard', () => {
    expect(() => policy('{ issuer: github, repository: sigstore/sigstore-js }')).toThrow(/leaves signer-workflow, ref, signer-digest, runner unset/);
  });

  test('a subject no rule matches fails', () => {
    const v = judge({ ...c.subject, name: 'pkg:npm/other@1.0.0' }, cands, trust, policy(exact));
    expect(v.failures[0]).toMatch(/no rule in .maestro\/attest-policy.yml matches pkg:npm\/other@1.0.0/);
  });

  test('SRI integrity turns into the sha512 hex the attestation names', () => {
    expect(hexToSri(c.subject.digests['sha512']!)).toMatch(/^sha512-8G\+/);
  });
});

describe('fail-open cases found in review', () => {
  const claims = (san: string) => ({ san, issuer: 'https://token.actions.githubusercontent.com', sourceRepositoryURI: 'https://github.com/acme/app', sourceRepositoryRef: 'refs/heads/main', runnerEnvironment: 'github-hosted' });
  const id = (signerWorkflow: string) => parsePolicy(`version: 1\nsubjects:\n  - match: "**"\n    require: [provenance]\n    identity: { issuer: github, repository: acme/app, signer-workflow: "${signerWorkflow}", ref: any, signer-digest: any, runner: github-hosted }\n`, 'p.yml').rules[0]!.identity;

  test('a pinned signer ref is the whole ref: refs/tags/v2@evil is not refs/tags/v2', () => {
    expect(identityProblems(id('acme/build/.github/workflows/attest.yml@refs/tags/v2'), claims('https://github.com/acme/build/.github/workflows/attest.yml@refs/tags/v2'))).toEqual([]);
    expect(identityProblems(id('acme/build/.github/workflows/attest.yml@refs/tags/v2'), claims('https://github.com/acme/build/.github/workflows/attest.yml@refs/tags/v2@evil'))[0]).toMatch(/at refs\/tags\/v2@evil, the policy pins refs\/tags\/v2/);
  });

  test('owner/repo compare without case, the workflow file path with it', () => {
    expect(identityProblems(id('acme/build/.github/workflows/release.yml'), claims('https://github.com/ACME/Build/.github/workflows/release.yml@refs/heads/main'))).toEqual([]);
    expect(identityProblems(id('acme/build/.github/workflows/release.yml'), claims('https://github.com/acme/build/.github/workflows/Release.yml@refs/heads/main'))[0]).toMatch(/signed by the workflow/);
  });

  test("the npm registry's publish attestation counts only for the package it names", () => {
    const c = REAL['sigstore@2.3.1']!;
    const cands = candidatesFromFile(fx(c.file), c.file);
    const policy = parsePolicy('version: 1\nsubjects:\n  - match: "pkg:npm/*"\n    require: [npm-publish]\n    identity: { issuer: github, repository: any, signer-workflow: any, ref: any, signer-digest: any, runner: any }\n', 'p.yml');
    expect(judge(c.subject, cands, trust, policy).ok).toBe(true);
    const impostor: Subject = { ...c.subject, name: 'pkg:npm/left-pad@1.3.0', npm: { name: 'left-pad', version: '1.3.0' } };
    const v = judge(impostor, cands, trust, policy);
    expect(v.ok).toBe(false);
    expect(v.failures[0]).toContain('the npm registry published these bytes as sigstore@2.3.1, not pkg:npm/left-pad@1.3.0');
  });

  test('an SBOM whose root names the package but carries another digest is a mismatch, not bound', () => {
    const subject: Subject = { name: 'pkg:npm/@acme/x@1.0.0', kind: 'npm', npm: { name: '@acme/x', version: '1.0.0' }, digests: { sha512: 'a'.repeat(128) } };
    const sbom = { bomFormat: 'CycloneDX', specVersion: '1.6', serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79', metadata: { component: { type: 'library', name: '@acme/x', purl: 'pkg:npm/%40acme/x@1.0.0', hashes: [{ alg: 'SHA-512', content: 'b'.repeat(128) }] } }, components: [] };
    expect(checkSbom(sbom, subject).binding).toBe('mismatch');
    expect(checkSbom({ ...sbom, metadata: { component: { type: 'library', name: '@acme/x', purl: 'pkg:npm/%40acme/x@1.0.0' } } }, subject).binding).toBe('bound');
  });

  test('tree digests refuse file names that could forge manifest lines; a directory named as a file subject is an error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tree-'));
    writeFileSync(path.join(dir, `a\n${'0'.repeat(64)}  b`), 'x');
    expect(() => treeDigest(dir)).toThrow(/contains a line break or a backslash/);
    const ws = mkdtempSync(path.join(tmpdir(), 'ws-'));
    mkdirSync(path.join(ws, 'app.tgz'));
    await expect(resolveSubjects(['app.tgz'], { cwd: ws, resolve: (f) => path.join(ws, f) })).rejects.toThrow(/app\.tgz is a directory, not an artifact/);
  });
});
