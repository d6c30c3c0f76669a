/**
 * A CycloneDX 1.6 SBOM of what one of our bundles ships: the production
 * dependency closure of its workspace package, read from pnpm-lock.yaml v9
 * (importers → links to other workspace packages → snapshots), bound to the
 * bundle by the `tree:` digest of its dist/ (what attest-verify computes for
 * `tree:<dir>` subjects). Deterministic: no timestamp, a serial derived from
 * the digest, components sorted.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';

interface Lock {
  importers?: Record<string, { dependencies?: Record<string, { version: string }> }>;
  packages?: Record<string, { resolution?: { integrity?: string } }>;
  snapshots?: Record<string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }>;
}

export interface SbomComponent {
  name: string;
  version: string;
  integrity?: string;
  licence?: string;
}

/** Production dependencies of a workspace importer (e.g. `actions/risk-score`), transitively; workspace packages are followed, not listed. */
export function lockClosure(lock: Lock, importer: string): SbomComponent[] {
  const out = new Map<string, SbomComponent>();
  const seenImporters = new Set<string>();
  const visitSnapshot = (key: string) => {
    if (out.has(key)) return;
    // `name@version(peer…)`: the version ends at the first '(' after the last '@' that is not the scope's.
    const at = key.indexOf('@', 1);
    const name = key.slice(0, at);
    const version = key.slice(at + 1).replace(/\(.*$/, '');
    const base = `${name}@${version}`;
    const integrity = lock.packages?.[base]?.resolution?.integrity;
    out.set(key, { name, version, ...(integrity ? { integrity } : {}) });
    const snap = lock.snapshots?.[key];
    for (const [n, v] of Object.entries({ ...(snap?.dependencies ?? {}), ...(snap?.optionalDependencies ?? {}) })) visitSnapshot(`${n}@${v}`);
  };
  const visitImporter = (imp: string) => {
    if (seenImporters.has(imp)) return;
    seenImporters.add(imp);
    for (const [n, d] of Object.entries(lock.importers?.[imp]?.dependencies ?? {})) {
      if (d.version.startsWith('link:')) visitImporter(path.posix.normalize(path.posix.join(imp, d.version.slice(5))));
      else visitSnapshot(`${n}@${d.version}`);
    }
  };
  if (!lock.importers?.[importer]) throw new Error(`pnpm-lock.yaml has no importer ${importer}`);
  visitImporter(importer);
  // One entry per name@version (peer variants collapse).
  const unique = new Map<string, SbomComponent>();
  for (const c of out.values()) unique.set(`${c.name}@${c.version}`, c);
  return [...unique.values()].sort((a, b) => (a.name === b.name ? a.version.localeCompare(b.version) : a.name < b.name ? -1 : 1));
}

const purl = (name: string, version: string) => `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;

/** A lower-case RFC 4122 UUID (version 5 layout) derived from `seed`: the same input, the same serial. */
export function serialFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex').slice(0, 32).split('');
  h[12] = '5';
  h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `urn:uuid:${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

export function cyclonedx(o: { name: string; version: string; treeDigest: string; components: readonly SbomComponent[]; tool?: string }): Record<string, unknown> {
  const rootRef = `${o.name}@${o.version}`;
  const components = o.components.map((c) => ({
    type: 'library',
    'bom-ref': purl(c.name, c.version),
    name: c.name,
    version: c.version,
    purl: purl(c.name, c.version),
    ...(c.integrity ? { hashes: [{ alg: c.integrity.startsWith('sha512-') ? 'SHA-512' : 'SHA-256', content: Buffer.from(c.integrity.replace(/^sha\d+-/, ''), 'base64').toString('hex') }] } : {}),
    ...(c.licence ? { licenses: [/[ ()]/.test(c.licence) ? { expression: c.licence } : { license: { id: c.licence } }] } : {}),
  }));
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: serialFrom(`${rootRef}:${o.treeDigest}`),
    version: 1,
    metadata: {
      tools: { components: [{ type: 'application', name: o.tool ?? 'maestro attest sbom' }] },
      component: { type: 'application', 'bom-ref': rootRef, name: o.name, version: o.version, hashes: [{ alg: 'SHA-256', content: o.treeDigest }] },
    },
    components,
    dependencies: [{ ref: rootRef, dependsOn: components.map((c) => c['bom-ref']) }],
  };
}
