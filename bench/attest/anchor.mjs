// The anchor: @sigstore/verify used directly, as the research note's offline recipe does (and as a
// hand-written verifier would): parse, verify signature and chain. No subject, predicate, identity
// or SBOM checks, no policy, no report. It is the floor under attest-verify's cost.
//   node anchor.mjs <trusted_root.json> <npm-keys.json> <bundle-or-response.json>…
import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../packages/attest/package.json', import.meta.url));
const { bundleFromJSON } = require('@sigstore/bundle');
const { toSignedEntity, toTrustMaterial, Verifier } = require('@sigstore/verify');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

const [rootFile, keysFile, ...files] = process.argv.slice(2);
const keys = JSON.parse(readFileSync(keysFile, 'utf8')).keys.filter((k) => k.keyUsage === 'npm:attestations');
const finder = (hint) => {
  const k = keys.find((x) => x.keyId === hint);
  if (!k) throw Object.assign(new Error(`key not found: ${hint}`), { code: 'PUBLIC_KEY_ERROR' });
  return { publicKey: createPublicKey({ key: Buffer.from(k.publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' }), validFor: () => true };
};
const material = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(rootFile, 'utf8'))), finder);
const verifier = new Verifier(material, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
const keyVerifier = new Verifier(material, { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 1 });
let ok = 0;
let bad = 0;
for (const f of files) {
  const text = readFileSync(f, 'utf8').trim();
  const docs = text.startsWith('{') && !text.includes('\n{') ? [JSON.parse(text)] : text.split('\n').map((l) => JSON.parse(l));
  for (const d of docs) {
    for (const b of d.attestations ? d.attestations.map((a) => a.bundle) : [d]) {
      try {
        const bundle = bundleFromJSON(b);
        const v = bundle.verificationMaterial.content.$case === 'publicKey' ? keyVerifier : verifier;
        v.verify(toSignedEntity(bundle));
        ok++;
      } catch {
        bad++;
      }
    }
  }
}
console.log(JSON.stringify({ ok, bad }));
