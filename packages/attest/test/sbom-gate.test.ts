import { describe, expect, test } from '@jest/globals';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { candidatesIn, checkSbom, judge, loadTrust, parsePolicy, parsePublicKey, type Subject } from '../src/index.js';

// Key-signed DSSE envelopes made here with node:crypto, as cosign `attest --key` makes them
// (PAE over the decoded payload, SHA-256, DER ECDSA, keyid ""): real signatures, verified by @sigstore/verify.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const trust = loadTrust({ keys: [parsePublicKey(pem, 'keys/cosign.pub')] });
const keyIds = new Map([['keys/cosign.pub', parsePublicKey(pem, 'keys/cosign.pub').id]]);

function envelope(statement: unknown): Record<string, unknown> {
  const type = 'application/vnd.in-toto+json';
  const body = Buffer.from(JSON.stringify(statement));
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
  return { payloadType: type, payload: body.toString('base64'), signatures: [{ keyid: '', sig: sign('sha256', pae, privateKey).toString('base64') }] };
}

const artifact = Buffer.from('container image manifest bytes');
const digest = createHash('sha256').update(artifact).digest('hex');
const subject: Subject = { name: 'ghcr.io/acme/shop', kind: 'digest', digests: { sha256: digest } };
const statement = (predicateType: string, predicate: unknown, v = 'https://in-toto.io/Statement/v1') => ({ _type: v, subject: [{ name: 'ghcr.io/acme/shop', digest: { sha256: digest } }], predicateType, predicate });

const spdx = (rootDigest = digest) => ({
  spdxVersion: 'SPDX-2.3',
  dataLicense: 'CC0-1.0',
  SPDXID: 'SPDXRef-DOCUMENT',
  name: 'ghcr.io/acme/shop',
  documentNamespace: 'https://anchore.com/syft/image/shop-5b0c',
  creationInfo: { created: '2026-11-30T10:00:00Z', creators: ['Tool: syft-1.18.0'] },
  packages: [
    { SPDXID: 'SPDXRef-root', name: 'ghcr.io/acme/shop', downloadLocation: 'NOASSERTION', checksums: [{ algorithm: 'SHA256', checksumValue: rootDigest }], externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: `pkg:oci/shop@sha256%3A${rootDigest}` }] },
    { SPDXID: 'SPDXRef-a', name: 'left-pad', downloadLocation: 'NOASSERTION', licenseConcluded: 'MIT', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:npm/left-pad@1.3.0' }] },
    { SPDXID: 'SPDXRef-b', name: 'mystery', downloadLocation: 'NOASSERTION', licenseConcluded: 'NOASSERTION' },
  ],
  relationships: [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-root' },
    { spdxElementId: 'SPDXRef-root', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-a' },
  ],
});

const cdx = (serial = 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79') => ({
  bomFormat: 'CycloneDX',
  specVersion: '1.6',
  serialNumber: serial,
  version: 1,
  metadata: { component: { type: 'container', name: 'ghcr.io/acme/shop', version: `sha256:${digest}`, 'bom-ref': 'root' } },
  components: [{ type: 'library', name: 'zod', purl: 'pkg:npm/zod@4.6.7', 'bom-ref': 'zod', licenses: [{ license: { id: 'MIT' } }] }],
  dependencies: [{ ref: 'root', dependsOn: ['zod'] }],
});

const policy = (extra = '') => parsePolicy(`version: 1\nsubjects:\n  - match: "ghcr.io/acme/*"\n    require: [sbom]\n    identity: { key: keys/cosign.pub }\n${extra}`, 'attest-policy.yml');
const gate = (stmt: unknown, p = policy(), allowNoTlog = true) => judge(subject, candidatesIn(envelope(stmt), 'sbom.intoto.json'), trust, p, { allowNoTlog, keyIds });

describe('SBOM attestations through the whole gate', () => {
  test('an SPDX 2.3 SBOM (actions/attest predicate type) bound to the image passes, with counts and licences', () => {
    const v = gate(statement('https://spdx.dev/Document/v2.3', spdx()));
    expect(v.failures).toEqual([]);
    expect(v.accepted[0]!.sbom).toMatchObject({ format: 'SPDX-2.3', components: 2, withoutPurl: 1, withoutLicence: 1, licences: ['MIT'], binding: 'bound' });
  });

  test('cosign legacy form: Statement v0.1, unversioned type, the SBOM as a JSON string', () => {
    const v = gate(statement('https://spdx.dev/Document', JSON.stringify(spdx()), 'https://in-toto.io/Statement/v0.1'));
    expect(v.ok).toBe(true);
  });

  test('an SBOM of another artifact is refused even though the attestation names our digest', () => {
    const v = gate(statement('https://spdx.dev/Document/v2.3', spdx('0'.repeat(64))));
    expect(v.ok).toBe(false);
    expect(v.failures[0]).toMatch(/SBOM of another artifact: the root package's digest is sha256:0000000000000000…/);
  });

  test('spec rules the JSON schema does not enforce', () => {
    const doc = { ...spdx(), SPDXID: 'DOC', documentNamespace: undefined, relationships: [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-nowhere' }] };
    const r = checkSbom(doc, subject);
    expect(r.errors).toEqual(expect.arrayContaining([
      'the document SPDXID is "DOC", the spec requires SPDXRef-DOCUMENT',
      'documentNamespace is missing (the spec requires exactly one)',
      'relationships[0] refers to an unknown element (SPDXRef-DOCUMENT → SPDXRef-nowhere)',
    ]));
    expect(gate(statement('https://spdx.dev/Document/v2.3', doc)).failures[0]).toMatch(/not a valid SBOM \(SPDX-2\.3\)/);
  });

  test('CycloneDX 1.6: bound by the root version digest; an upper-case serial and a dangling dependency are errors', () => {
    expect(gate(statement('https://cyclonedx.org/bom', cdx())).accepted[0]!.sbom).toMatchObject({ format: 'CycloneDX-1.6', components: 1, withoutPurl: 0, licences: ['MIT'], binding: 'bound' });
    const bad = { ...cdx('urn:uuid:3E671687-395B-41F5-A30F-A58921A69B79'), dependencies: [{ ref: 'root', dependsOn: ['ghost'] }] };
    expect(checkSbom(bad, subject).errors).toEqual(['serialNumber "urn:uuid:3E671687-395B-41F5-A30F-A58921A69B79" is not a lower-case urn:uuid', 'dependencies[0] refers to an unknown bom-ref "ghost"']);
  });

  test('an SBOM whose root carries no digest is unbound: refused unless the policy says bound: false', () => {
    const doc = cdx();
    (doc.metadata.component as { version: string }).version = '1.0.0';
    expect(gate(statement('https://cyclonedx.org/bom', doc)).failures[0]).toMatch(/the SBOM is not bound to the subject/);
    expect(gate(statement('https://cyclonedx.org/bom', doc), policy('    sbom: { bound: false }\n')).ok).toBe(true);
  });

  test('policy limits on components without purl', () => {
    expect(gate(statement('https://spdx.dev/Document/v2.3', spdx()), policy('    sbom: { max-without-purl: 0 }\n')).failures[0]).toMatch(/1 components have no purl \(the policy allows 0\)/);
  });

  test('a key-signed attestation without a log entry needs allow-no-tlog; a keyless identity rule refuses a key signature', () => {
    expect(gate(statement('https://spdx.dev/Document/v2.3', spdx()), policy(), false).failures[0]).toMatch(/not recorded in a transparency log; set `allow-no-tlog: true`/);
    const keyless = parsePolicy('version: 1\nsubjects:\n  - match: "ghcr.io/acme/*"\n    require: [sbom]\n    identity: { issuer: github, repository: acme/shop, signer-workflow: any, ref: any, signer-digest: any, runner: any }\n', 'p.yml');
    expect(gate(statement('https://spdx.dev/Document/v2.3', spdx()), keyless).failures[0]).toMatch(/signed with keys\/cosign.pub .*but the policy expects a keyless signature/);
  });
});
