/**
 * SBOM gate for SPDX 2.3 and CycloneDX 1.5/1.6 JSON: the structure each
 * spec's JSON schema requires, the rules the schemas do not enforce but the
 * specs state (SPDX: document SPDXID, data licence, namespace URI, unique ids,
 * relationships to known ids, a DESCRIBES edge; CycloneDX: lower-case
 * urn:uuid serial, unique bom-refs, dependencies to known refs), and the
 * binding of the SBOM to its subject: the described root package carries the
 * attested digest (checksum, or a purl/version with the digest).
 */
import type { Subject } from './subjects.js';

export interface SbomReport {
  format: 'SPDX-2.3' | 'CycloneDX-1.5' | 'CycloneDX-1.6' | 'unknown';
  /** Spec violations: the SBOM is refused. */
  errors: string[];
  /** Worth a look, not a refusal. */
  notes: string[];
  components: number;
  withoutPurl: number;
  withoutLicence: number;
  /** Declared/concluded licence expressions, for policy-gate's SPDX licence rules. */
  licences: string[];
  /** `bound`: the root carries the subject's digest; `mismatch`: it carries another; `unbound`: none to compare. */
  binding: 'bound' | 'mismatch' | 'unbound';
  bindingDetail: string;
}

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const NOASSERT = new Set(['NOASSERTION', 'NONE', '']);

/** Digests a purl or a version string carries: `pkg:oci/x@sha256%3A<hex>`, `sha256:<hex>`. */
function digestsIn(s: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of decodeURIComponent(s).matchAll(/(sha256|sha512):([0-9a-f]{64,128})/gi)) out.push([m[1]!.toLowerCase(), m[2]!.toLowerCase()]);
  return out;
}

const ALG: Record<string, string> = { SHA256: 'sha256', 'SHA-256': 'sha256', SHA512: 'sha512', 'SHA-512': 'sha512', SHA1: 'sha1', 'SHA-1': 'sha1' };

function bind(subject: Subject, digests: Array<[string, string]>, purls: string[]): Pick<SbomReport, 'binding' | 'bindingDetail'> {
  const comparable = digests.filter(([alg]) => subject.digests[alg]);
  if (comparable.some(([alg, hex]) => subject.digests[alg] === hex)) return { binding: 'bound', bindingDetail: 'the root package carries the subject digest' };
  // A digest to compare that differs decides it: a matching name does not outweigh it.
  if (!comparable.length && subject.npm && purls.some((p) => p.replace(/\?.*$/, '').replace(/%40/g, '@') === subject.name)) return { binding: 'bound', bindingDetail: `the root package is ${subject.name}` };
  if (comparable.length) return { binding: 'mismatch', bindingDetail: `the root package's digest is ${comparable[0]![0]}:${comparable[0]![1].slice(0, 16)}…, the subject's ${comparable[0]![0]}:${subject.digests[comparable[0]![0]]!.slice(0, 16)}…: this SBOM describes another artifact` };
  return { binding: 'unbound', bindingDetail: 'the root package has no checksum or purl digest to compare with the subject' };
}

function spdx(doc: Record<string, unknown>, subject: Subject): SbomReport {
  const errors: string[] = [];
  const notes: string[] = [];
  if (doc['spdxVersion'] !== 'SPDX-2.3') errors.push(`spdxVersion is ${JSON.stringify(doc['spdxVersion'])}; this gate reads SPDX-2.3`);
  if (doc['SPDXID'] !== 'SPDXRef-DOCUMENT') errors.push(`the document SPDXID is ${JSON.stringify(doc['SPDXID'])}, the spec requires SPDXRef-DOCUMENT`);
  if (doc['dataLicense'] !== 'CC0-1.0') errors.push(`dataLicense is ${JSON.stringify(doc['dataLicense'])}, the spec requires CC0-1.0`);
  if (!str(doc['name'])) errors.push('the document has no name');
  const ns = str(doc['documentNamespace']);
  if (!ns) errors.push('documentNamespace is missing (the spec requires exactly one)');
  else if (!/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(ns) || ns.includes('#')) errors.push(`documentNamespace ${JSON.stringify(ns.slice(0, 100))} is not an absolute URI without '#'`);
  const ci = obj(doc['creationInfo']);
  if (!ci) errors.push('creationInfo is missing');
  else {
    if (!str(ci['created']) || Number.isNaN(Date.parse(str(ci['created'])!))) errors.push('creationInfo.created is not a date-time');
    if (!arr(ci['creators']).length) errors.push('creationInfo.creators is empty');
  }
  const ids = new Map<string, number>();
  const packages = arr(doc['packages']).map(obj);
  const files = arr(doc['files']).map(obj);
  packages.forEach((p, i) => {
    if (!p) return errors.push(`packages[${i}] is not an object`);
    for (const k of ['SPDXID', 'name', 'downloadLocation']) if (!str(p[k])) errors.push(`packages[${i}] has no ${k}`);
    if (p['filesAnalyzed'] === false && p['packageVerificationCode'] !== undefined) errors.push(`packages[${i}] has a packageVerificationCode with filesAnalyzed false`);
  });
  files.forEach((f, i) => {
    if (!f) return errors.push(`files[${i}] is not an object`);
    if (!str(f['SPDXID']) || !str(f['fileName']) || !arr(f['checksums']).length) errors.push(`files[${i}] needs SPDXID, fileName and checksums`);
  });
  for (const x of [...packages, ...files, ...arr(doc['snippets']).map(obj)]) {
    const id = str(x?.['SPDXID']);
    if (id) ids.set(id, (ids.get(id) ?? 0) + 1);
  }
  ids.set('SPDXRef-DOCUMENT', (ids.get('SPDXRef-DOCUMENT') ?? 0) + 1);
  for (const [id, n] of ids) if (n > 1) errors.push(`SPDXID ${id} is used ${n} times`);
  const known = (id: string | undefined) => !!id && (ids.has(id) || NOASSERT.has(id) || id.startsWith('DocumentRef-'));
  const roots = new Set<string>(arr(doc['documentDescribes']).filter((x): x is string => typeof x === 'string'));
  arr(doc['relationships']).forEach((r, i) => {
    const o = obj(r);
    const a = str(o?.['spdxElementId']);
    const b = str(o?.['relatedSpdxElement']);
    if (!known(a) || !known(b)) errors.push(`relationships[${i}] refers to an unknown element (${a ?? '?'} → ${b ?? '?'})`);
    if (o?.['relationshipType'] === 'DESCRIBES' && a === 'SPDXRef-DOCUMENT' && b) roots.add(b);
    if (o?.['relationshipType'] === 'DESCRIBED_BY' && b === 'SPDXRef-DOCUMENT' && a) roots.add(a);
  });
  if (!roots.size) errors.push('no DESCRIBES relationship: the document does not say what it describes');
  const root = packages.filter((p) => p && roots.has(str(p['SPDXID']) ?? ''));
  const purlsOf = (p: Record<string, unknown> | undefined) => arr(p?.['externalRefs']).map(obj).filter((r) => r?.['referenceType'] === 'purl').map((r) => str(r?.['referenceLocator']) ?? '');
  const rootDigests: Array<[string, string]> = [];
  const rootPurls: string[] = [];
  for (const p of root) {
    for (const c of arr(p!['checksums']).map(obj)) {
      const alg = ALG[str(c?.['algorithm']) ?? ''];
      const v = str(c?.['checksumValue'])?.toLowerCase();
      if (alg && v) rootDigests.push([alg, v]);
    }
    for (const u of purlsOf(p)) {
      rootPurls.push(u);
      rootDigests.push(...digestsIn(u));
    }
    if (str(p!['versionInfo'])) rootDigests.push(...digestsIn(str(p!['versionInfo'])!));
  }
  const components = packages.filter((p) => p && !roots.has(str(p['SPDXID']) ?? ''));
  const licences = new Set<string>();
  let withoutLicence = 0;
  for (const p of components) {
    const l = [str(p!['licenseConcluded']), str(p!['licenseDeclared'])].filter((x): x is string => !!x && !NOASSERT.has(x));
    if (!l.length) withoutLicence++;
    l.forEach((x) => licences.add(x));
  }
  return { format: 'SPDX-2.3', errors, notes, components: components.length, withoutPurl: components.filter((p) => !purlsOf(p).length).length, withoutLicence, licences: [...licences].sort(), ...bind(subject, rootDigests, rootPurls) };
}

function cyclonedx(doc: Record<string, unknown>, subject: Subject): SbomReport {
  const errors: string[] = [];
  const notes: string[] = [];
  const v = doc['specVersion'];
  if (v !== '1.5' && v !== '1.6') errors.push(`specVersion is ${JSON.stringify(v)}; this gate reads CycloneDX 1.5 and 1.6`);
  const serial = doc['serialNumber'];
  if (serial === undefined) notes.push('no serialNumber (actions/attest refuses such SBOMs)');
  else if (typeof serial !== 'string' || !/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(serial)) errors.push(`serialNumber ${JSON.stringify(String(serial).slice(0, 60))} is not a lower-case urn:uuid`);
  if (doc['version'] !== undefined && !(Number.isInteger(doc['version']) && (doc['version'] as number) >= 1)) errors.push('version is not an integer ≥ 1');
  const refs = new Map<string, number>();
  const all: Array<Record<string, unknown>> = [];
  const walk = (list: unknown, where: string) =>
    arr(list).forEach((c, i) => {
      const o = obj(c);
      if (!o) return errors.push(`${where}[${i}] is not an object`);
      if (!str(o['type']) || !str(o['name'])) errors.push(`${where}[${i}] needs type and name`);
      const ref = str(o['bom-ref']);
      if (ref) refs.set(ref, (refs.get(ref) ?? 0) + 1);
      all.push(o);
      walk(o['components'], `${where}[${i}].components`);
    });
  walk(doc['components'], 'components');
  const meta = obj(doc['metadata']);
  const root = obj(meta?.['component']);
  if (root) {
    const ref = str(root['bom-ref']);
    if (ref) refs.set(ref, (refs.get(ref) ?? 0) + 1);
    if (!str(root['type']) || !str(root['name'])) errors.push('metadata.component needs type and name');
  } else notes.push('no metadata.component: the SBOM does not name what it describes');
  for (const [ref, n] of refs) if (n > 1) errors.push(`bom-ref ${ref} is used ${n} times`);
  arr(doc['dependencies']).forEach((d, i) => {
    const o = obj(d);
    for (const r of [o?.['ref'], ...arr(o?.['dependsOn'])]) if (typeof r !== 'string' || !refs.has(r)) errors.push(`dependencies[${i}] refers to an unknown bom-ref ${JSON.stringify(r)}`);
  });
  const rootDigests: Array<[string, string]> = [];
  const rootPurls: string[] = [];
  if (root) {
    for (const h of arr(root['hashes']).map(obj)) {
      const alg = ALG[str(h?.['alg']) ?? ''];
      const c = str(h?.['content'])?.toLowerCase();
      if (alg && c) rootDigests.push([alg, c]);
    }
    const purl = str(root['purl']);
    if (purl) {
      rootPurls.push(purl);
      rootDigests.push(...digestsIn(purl));
    }
    if (str(root['version'])) rootDigests.push(...digestsIn(str(root['version'])!));
  }
  const licences = new Set<string>();
  let withoutLicence = 0;
  for (const c of all) {
    const l = arr(c['licenses'])
      .map(obj)
      .map((x) => str(x?.['expression']) ?? str(obj(x?.['license'])?.['id']) ?? str(obj(x?.['license'])?.['name']))
      .filter((x): x is string => !!x);
    if (!l.length) withoutLicence++;
    l.forEach((x) => licences.add(x));
  }
  return { format: v === '1.5' ? 'CycloneDX-1.5' : 'CycloneDX-1.6', errors, notes, components: all.length, withoutPurl: all.filter((c) => !str(c['purl'])).length, withoutLicence, licences: [...licences].sort(), ...bind(subject, rootDigests, rootPurls) };
}

/** Check an SBOM predicate (an object, or cosign's legacy JSON string). */
export function checkSbom(predicate: unknown, subject: Subject): SbomReport {
  let doc = predicate;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch {
      doc = undefined;
    }
  }
  const o = obj(doc);
  if (o && typeof o['spdxVersion'] === 'string') return spdx(o, subject);
  if (o && o['bomFormat'] === 'CycloneDX') return cyclonedx(o, subject);
  return { format: 'unknown', errors: ['the predicate is neither an SPDX nor a CycloneDX JSON document'], notes: [], components: 0, withoutPurl: 0, withoutLicence: 0, licences: [], binding: 'unbound', bindingDetail: 'not an SBOM' };
}
