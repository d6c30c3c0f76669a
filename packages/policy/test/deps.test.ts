import { describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '@maestro/core';
import { addedLines } from '@maestro/core/git';
import { dependencyChanges, diffLockPackages, evaluateDependencies, evaluateFindings, evaluateLicences, licenceOf, loadPolicy, readGrype, readLockPackages, readSbom, scanSecrets, type DependencyChange } from '../src/index.js';

const FX = path.resolve('packages/policy/test/fixtures/lockfiles');
const read = (f: string) => readFileSync(path.join(FX, f), 'utf8');
const installed = JSON.parse(read('installed.json')) as Record<string, { name: string; version: string }>;

/** The added packages, as name@version, that each lockfile format reports for the same change. */
const ADDED = ['@derhuerst/http-basic@8.2.4', '@ffmpeg-installer/linux-x64@4.1.0', 'ffmpeg-static@5.2.0', 'font-awesome@4.7.0', 'node-forge@1.3.1'];

describe('lockfile diffs', () => {
  test.each([
    ['npm', 'package-lock.json', 'package-lock.base.json', 'package-lock.head.json'],
    ['pnpm', 'pnpm-lock.yaml', 'pnpm-lock.base.yaml', 'pnpm-lock.head.yaml'],
    ['yarn', 'yarn.lock', 'yarn.base.lock', 'yarn.head.lock'],
  ] as const)('%s: the same added packages from real lockfiles, none from the base', (kind, name, baseFile, headFile) => {
    const base = readLockPackages(kind, read(baseFile), name);
    const head = readLockPackages(kind, read(headFile), name);
    expect([...base.keys()]).toEqual(['ms@2.1.3']);
    const added = diffLockPackages(base, head);
    const names = added.map((p) => `${p.name}@${p.version}`);
    for (const a of ADDED) expect(names).toContain(a);
    expect(names).not.toContain('ms@2.1.3');
    // Every format agrees on the whole set (23 packages besides ms).
    expect(added).toHaveLength(Object.keys(installed).length - 1);
    expect(added.every((p) => p.new)).toBe(true);
  });

  test('an upgrade is added but not new, with the previous version', () => {
    const base = new Map([['ms@2.1.2', { name: 'ms', version: '2.1.2' }]]);
    const head = new Map([['ms@2.1.3', { name: 'ms', version: '2.1.3' }]]);
    expect(diffLockPackages(base, head)).toEqual([{ name: 'ms', version: '2.1.3', new: false, previous: ['2.1.2'] }]);
  });

  test('workspace packages are not dependencies (npm links, pnpm link:, the fixtures from affected)', () => {
    const npm = readLockPackages('npm', readFileSync('packages/affected/test/fixtures/package-lock.v2.json', 'utf8'), 'package-lock.json');
    expect([...npm.keys()].sort()).toEqual(['debug@4.3.4', 'ms@2.1.2', 'ms@2.1.3']);
    const pnpm = readLockPackages('pnpm', readFileSync('packages/affected/test/fixtures/pnpm-lock.v3.yaml', 'utf8'), 'pnpm-lock.yaml');
    expect([...pnpm.keys()].every((k) => !k.startsWith('@fx/'))).toBe(true);
  });

  test('malformed lockfiles are ConfigErrors naming the file', () => {
    expect(() => readLockPackages('npm', '{"lockfileVersion": 1, "dependencies": {}}', 'package-lock.json')).toThrow(/without a `packages` map \(lockfileVersion 1\)/);
    expect(() => readLockPackages('npm', '{"packages": ', 'package-lock.json')).toThrow(ConfigError);
    expect(() => readLockPackages('pnpm', 'packages: [\n', 'pnpm-lock.yaml')).toThrow(ConfigError);
    expect(() => readLockPackages('yarn', 'a@1:\n  version "1\n   x: [\n', 'yarn.lock')).toThrow(/yarn.lock does not parse/);
  });
});

describe('licences', () => {
  test('package.json forms: SPDX string, legacy object and array (joined with AND), nothing', () => {
    expect(licenceOf({ license: 'MIT' })).toBe('MIT');
    expect(licenceOf({ license: { type: 'ISC', url: 'x' } })).toBe('ISC');
    expect(licenceOf({ licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] })).toBe('MIT AND Apache-2.0');
    expect(licenceOf({ licenses: [{ type: 'BSD' }] })).toBe('BSD');
    expect(licenceOf({ name: 'x' })).toBeNull();
  });

  function installTree(layout: 'pnpm' | 'flat'): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'maestro-lic-'));
    for (const p of Object.values(installed)) {
      const where = layout === 'pnpm' ? path.join(dir, 'node_modules/.pnpm', `${p.name.replace('/', '+')}@${p.version}`, 'node_modules', p.name) : path.join(dir, 'node_modules', p.name);
      mkdirSync(where, { recursive: true });
      writeFileSync(path.join(where, 'package.json'), JSON.stringify(p));
    }
    return dir;
  }

  const POLICY = loadPolicy(`version: 1
licenses:
  - id: no-gpl
    reason: GPL code cannot ship in our closed-source product
    deny: [GPL-*, AGPL-*]
    mode: enforce
dependencies:
  - id: new-deps-reviewed
    reason: New runtime dependencies need a platform review
    except: ["@types/*"]
  - id: no-ffmpeg
    reason: Bundling ffmpeg needs legal sign-off
    packages: ["ffmpeg-static", "@ffmpeg-installer/*"]
    when: added
    mode: enforce
`);

  test.each([
    ['npm', 'package-lock.json', 'package-lock.base.json', 'package-lock.head.json', 'flat'],
    ['pnpm', 'pnpm-lock.yaml', 'pnpm-lock.base.yaml', 'pnpm-lock.head.yaml', 'pnpm'],
    ['yarn', 'yarn.lock', 'yarn.base.lock', 'yarn.head.lock', 'flat'],
  ] as const)('%s: licences from the lockfile or the installed package.json; dual licence passes, GPL-only and non-SPDX do not', (_kind, name, baseFile, headFile, layout) => {
    const cwd = installTree(layout);
    try {
      const deps = dependencyChanges([{ path: name, base: read(baseFile), head: read(headFile) }], { cwd });
      const by = new Map(deps.map((d) => [`${d.name}@${d.version}`, d]));
      expect(by.get('node-forge@1.3.1')!.license).toBe('(BSD-3-Clause OR GPL-2.0)');
      expect(by.get('parse-cache-control@1.0.1')).toMatchObject({ license: 'BSD', licenseSource: 'package.json' });
      const decisions = evaluateLicences(POLICY, deps);
      expect(decisions.map((d) => d.subject).sort()).toEqual(['@ffmpeg-installer/linux-x64@4.1.0', 'ffmpeg-static@5.2.0', 'parse-cache-control@1.0.1']);
      expect(decisions.find((d) => d.subject === 'ffmpeg-static@5.2.0')!.detail).toMatch(/^every alternative includes a denied licence \(GPL-3.0-or-later\); licence GPL-3.0-or-later from the (lockfile|installed package.json) \(/);
      expect(decisions.find((d) => d.subject === '@ffmpeg-installer/linux-x64@4.1.0')!.detail).toMatch(/licence 'GPLv3' is not a valid SPDX expression/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  test('no install and no SBOM: licences are unknown and say how to fix it, never guessed', () => {
    const deps = dependencyChanges([{ path: 'pnpm-lock.yaml', base: read('pnpm-lock.base.yaml'), head: read('pnpm-lock.head.yaml') }], { cwd: tmpdir() });
    expect(deps.every((d) => d.license === null && d.licenseSource === 'none')).toBe(true);
    const d = evaluateLicences(POLICY, deps);
    expect(d).toHaveLength(deps.length);
    expect(d[0]!.detail).toContain('no licence found: install dependencies before this step or pass an SBOM');
  });

  test('SBOMs: SPDX 2.3 and CycloneDX 1.5 JSON (scoped names from `group`), SBOM wins over the lockfile', () => {
    const spdx = readSbom(JSON.stringify({ spdxVersion: 'SPDX-2.3', packages: [{ name: 'node-forge', versionInfo: '1.3.1', licenseConcluded: 'NOASSERTION', licenseDeclared: '(BSD-3-Clause OR GPL-2.0)' }, { name: 'x', versionInfo: '1', licenseConcluded: 'NOASSERTION', licenseDeclared: 'NOASSERTION' }] }), 'sbom.spdx.json');
    expect(spdx.get('node-forge@1.3.1')).toBe('(BSD-3-Clause OR GPL-2.0)');
    expect(spdx.get('x@1')).toBeNull();
    const cdx = readSbom(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ type: 'library', group: '@ffmpeg-installer', name: 'linux-x64', version: '4.1.0', licenses: [{ license: { name: 'GPLv3' } }] }, { type: 'library', name: 'font-awesome', version: '4.7.0', licenses: [{ expression: '(OFL-1.1 AND MIT)' }] }] }), 'bom.cdx.json');
    expect(cdx.get('@ffmpeg-installer/linux-x64@4.1.0')).toBe('GPLv3');
    expect(cdx.get('font-awesome@4.7.0')).toBe('(OFL-1.1 AND MIT)');
    const deps = dependencyChanges([{ path: 'package-lock.json', base: read('package-lock.base.json'), head: read('package-lock.head.json') }], { cwd: tmpdir(), sbom: new Map([['ffmpeg-static@5.2.0', 'MIT']]) });
    expect(deps.find((d) => d.name === 'ffmpeg-static')).toMatchObject({ license: 'MIT', licenseSource: 'sbom' });
    expect(() => readSbom('{"foo": 1}', 'x.json')).toThrow(/neither SPDX 2.x JSON .* nor CycloneDX JSON/);
  });

  test('dependency rules: new packages need review (except @types), ffmpeg blocked on any change, upgrades only for `added`', () => {
    const deps: DependencyChange[] = [
      { name: 'left-pad', version: '1.3.0', new: true, previous: [], lockfile: 'pnpm-lock.yaml', license: 'MIT', licenseSource: 'package.json' },
      { name: '@types/node', version: '22.0.0', new: true, previous: [], lockfile: 'pnpm-lock.yaml', license: 'MIT', licenseSource: 'package.json' },
      { name: 'ffmpeg-static', version: '5.2.1', new: false, previous: ['5.2.0'], lockfile: 'pnpm-lock.yaml', license: 'GPL-3.0-or-later', licenseSource: 'package.json' },
    ];
    expect(evaluateDependencies(POLICY, deps).map((d) => [d.rule, d.subject, d.mode, d.detail])).toEqual([
      ['new-deps-reviewed', 'left-pad@1.3.0', 'warn', 'adds a new dependency in pnpm-lock.yaml'],
      ['no-ffmpeg', 'ffmpeg-static@5.2.1', 'enforce', 'upgrades from 5.2.0 in pnpm-lock.yaml'],
    ]);
  });
});

describe('Grype and secrets', () => {
  test('Grype: matches become package findings; ignored matches are left out; only packages the change adds count by default', () => {
    const findings = readGrype(read('grype.synthetic.json'), 'grype.json');
    expect(findings.map((f) => [f.package, f.severity, f.rule])).toEqual([
      ['node-forge@1.3.1', 'high', 'GHSA-test-0001-aaaa'],
      ['lodash@4.17.20', 'critical', 'GHSA-test-0002-bbbb'],
      ['ms@2.1.3', 'note', 'GHSA-test-0003-cccc'],
    ]);
    const policy = loadPolicy(`version: 1
security:
  - id: no-new-high
    reason: A change may not add a dependency with a high vulnerability
    max-severity: high
    mode: enforce
  - id: zero-criticals
    reason: The product must have 0 critical vulnerabilities
    max-severity: critical
    new-only: false
`);
    const d = evaluateFindings(policy, findings, ['package-lock.json'], ['node-forge@1.3.1']);
    expect(d.map((x) => [x.rule, x.subject, x.detail])).toEqual([
      ['no-new-high', 'node-forge@1.3.1', 'Grype GHSA-test-0001-aaaa (high): node-forge@1.3.1; fixed in 1.3.2'],
      ['zero-criticals', 'lodash@4.17.20', 'Grype GHSA-test-0002-bbbb (critical): lodash@4.17.20; no fix yet'],
    ]);
    expect(() => readGrype('{"runs": []}', 'g.json')).toThrow(/not a Grype JSON report/);
    expect(() => readGrype('{"matches": [{"vulnerability": {}}]}', 'g.json')).toThrow(/match 0 has no vulnerability.id/);
  });

  test('added lines from a unified diff, with new files, deletions-only hunks and several files', () => {
    const diff = ['diff --git a/a.ts b/a.ts', '--- a/a.ts', '+++ b/a.ts', '@@ -2,0 +3,2 @@', '+x', '+y', '@@ -10 +11,0 @@', '-gone', 'diff --git a/n.ts b/n.ts', '--- /dev/null', '+++ b/n.ts', '@@ -0,0 +1 @@', '+new', 'diff --git a/d.ts b/d.ts', '--- a/d.ts', '+++ /dev/null', '@@ -1 +0,0 @@', '-x'].join('\n');
    const m = addedLines(diff);
    expect([...m.get('a.ts')!]).toEqual([3, 4]);
    expect([...m.get('n.ts')!]).toEqual([1]);
    expect(m.has('d.ts')).toBe(false);
  });

  test('secrets: a token on an added line is found and masked; the same token on an untouched line is not reported', async () => {
    // A syntactically valid GitHub token format; not a real credential.
    const token = `ghp_${'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx'}`;
    const content = `const a = 1;\nconst old = "${token}";\nconst gh = "${token}";\n`;
    const found = await scanSecrets([{ path: 'src/config.ts', content, added: new Set([3]) }]);
    expect(found).toEqual([{ tool: 'secretlint', rule: 'github', severity: 'critical', file: 'src/config.ts', line: 3, message: 'a github credential is added on this line (value not shown)' }]);
    expect(JSON.stringify(found)).not.toContain(token.slice(4));
    expect(await scanSecrets([{ path: 'src/config.ts', content, added: new Set([1]) }])).toEqual([]);
  });
});

describe('secrets in a real repository', () => {
  test('unicode and quoted file names, renamed files, deletions and files over the size cap', async () => {
    const { GitFixture } = await import('@maestro/harness');
    const { checkChange, loadPolicy } = await import('../src/index.js');
    const fx = GitFixture.create();
    try {
      const token = ['ghp', 'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx'].join('_');
      const base = fx.commit('base', { 'src/old.ts': 'export const a = 1;\n', 'src/gone.ts': `export const t = "${token}";\n` });
      const head = fx.commit('change', {
        'src/ünïcode config.ts': `export const gh = "${token}";\n`,
        'src/we"ird.ts': `\nexport const gh = "${token}";\n`,
        'src/moved.ts': { renameFrom: 'src/old.ts', content: `export const a = 1;\nexport const k = "${token}";\n` },
        'src/gone.ts': null,
        'fixtures/fake.ts': `export const t = "${token}";\n`,
        // Over 1 MiB: linted on its added lines only (line numbers kept).
        'dist/bundle.js': `${'x'.repeat(1 << 20)}\nconst t = "${token}";\n`,
      });
      const policy = loadPolicy('version: 1\nsecrets:\n  exclude: ["fixtures/**"]\n  mode: enforce\n');
      const r = await checkChange({ cwd: fx.work, base, head, policy, actor: 'human' });
      expect(r.secrets.map((f) => `${f.file}:${f.line}`).sort()).toEqual(['dist/bundle.js:2', 'src/moved.ts:2', 'src/we"ird.ts:2', 'src/ünïcode config.ts:1']);
      expect(r.decisions.every((d) => d.rule === 'no-secrets' && d.mode === 'enforce')).toBe(true);
      expect(r.notScanned).toEqual([]);
      expect(JSON.stringify(r)).not.toContain(token);
    } finally {
      fx.dispose();
    }
  });

  test('a hostile pull request cannot hide a secret: a decoy "+++ b/x" line, a PR-added .gitattributes (-diff, binary), a NUL byte; an over-cap file is reported, not skipped silently', async () => {
    const { GitFixture } = await import('@maestro/harness');
    const { secretScan, loadPolicy } = await import('../src/index.js');
    const fx = GitFixture.create();
    try {
      const token = ['ghp', 'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx'].join('_');
      const base = fx.commit('base', { 'README.md': 'hi\n', 'app/settings.cfg': 'a=1\n' });
      const head = fx.commit('hostile', {
        // The added line "++ b/other" shows as "+++ b/other" in the diff: content, not a header.
        'src/decoy.ts': `const a = 1;\n++ b/other\nconst t = "${token}";\n`,
        '.gitattributes': '*.cfg -diff\n*.dat binary\n',
        'app/settings.cfg': `a=1\ntoken=${token}\n`,
        'data/blob.dat': `header\n\u0000\nkey = "${token}"\n`,
        'big/huge.txt': `${'y'.repeat(3000)}\nconst t = "${token}";\n`,
      });
      const changes = (await import('@maestro/core/git')).diffFiles(base, head, { cwd: fx.work });
      const policy = loadPolicy('version: 1\nsecrets:\n  mode: enforce\n');
      const r = await secretScan({ cwd: fx.work, base, head, policy, changes: await changes, maxBytes: 2048 });
      expect(r.findings.map((f) => `${f.file}:${f.line}`).sort()).toEqual(['app/settings.cfg:2', 'data/blob.dat:3', 'src/decoy.ts:3']);
      expect(r.notScanned).toEqual([{ path: 'big/huge.txt', why: expect.stringMatching(/^3\d{3} bytes, over the 2048 byte scan limit$/) }]);
      expect(JSON.stringify(r)).not.toContain(token);
      // A file that could not be scanned is not a pass: it is a decision of the secrets rule.
      const { checkChange } = await import('../src/index.js');
      const report = await checkChange({ cwd: fx.work, base, head, policy, actor: 'human', maxBytes: 2048 });
      expect(report.decisions.filter((d) => d.subject === 'big/huge.txt').map((d) => [d.rule, d.mode, d.detail])).toEqual([['no-secrets', 'enforce', expect.stringMatching(/^not scanned for secrets \(3\d{3} bytes, over the 2048 byte scan limit\); review it by hand/)]]);
    } finally {
      fx.dispose();
    }
  });

  test('a file whose name is not valid UTF-8 is scanned whole (its name matches no pathspec), not skipped', async () => {
    const { GitFixture } = await import('@maestro/harness');
    const { secretScan, loadPolicy } = await import('../src/index.js');
    const fx = GitFixture.create();
    try {
      const token = ['ghp', 'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx'].join('_');
      const base = fx.commit('base', { 'README.md': 'hi\n' });
      // "sec\xff.env": one byte that is not UTF-8.
      writeFileSync(Buffer.from([...Buffer.from(`${fx.work}/sec`), 0xff, ...Buffer.from('.env')]), `TOKEN=${token}\n`);
      fx.git(['add', '-A']);
      const head = fx.commit('latin-1 name', {});
      const changes = await (await import('@maestro/core/git')).diffFiles(base, head, { cwd: fx.work });
      expect(changes[0]!.path).toContain('\uFFFD');
      const r = await secretScan({ cwd: fx.work, base, head, policy: loadPolicy('version: 1\nsecrets:\n  mode: enforce\n'), changes });
      expect(r.findings.map((f) => `${f.rule} line ${f.line}`)).toEqual([expect.stringMatching(/github.* line 1$/)]);
    } finally {
      fx.dispose();
    }
  });
});

describe("pnpm 12's two-document lockfile", () => {
  test('packages of both documents count (config dependencies are installed too); a bump is one added package', async () => {
    const { readLockPackages, diffLockPackages } = await import('../src/deps.js');
    const dir = path.resolve('packages/affected/test/fixtures/pnpm12');
    const base = readLockPackages('pnpm', readFileSync(path.join(dir, 'pnpm-lock.base.yaml'), 'utf8'), 'pnpm-lock.yaml');
    expect([...base.keys()].sort()).toEqual(['is-even@1.0.0', 'is-number@6.0.0', 'is-odd@3.0.1', 'ms@2.1.3']);
    const head = readLockPackages('pnpm', readFileSync(path.join(dir, 'pnpm-lock.head.yaml'), 'utf8'), 'pnpm-lock.yaml');
    expect(diffLockPackages(base, head).map((p) => `${p.name}@${p.version} new=${p.new}`)).toEqual(['ms@2.1.2 new=false']);
  });
});
