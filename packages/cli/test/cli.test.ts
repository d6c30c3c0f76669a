import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitFixture } from '@maestro/harness';

const bin = path.resolve('packages/cli/dist/index.js');
const maestro = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

describe('maestro CLI (the built bundle)', () => {
  test('--help lists every subcommand with the action it mirrors', () => {
    const r = maestro('--help');
    expect(r.status).toBe(0);
    for (const c of ['affected', 'shards', 'risk', 'policy', 'attest', 'agent', 'health']) expect(r.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    expect(maestro().stdout).toBe(r.stdout);
  });

  test('per-command help, version, unknown command', () => {
    const h = maestro('risk', '--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toContain("Same logic as the 'risk-score' action.");
    expect(maestro('help', 'shards').stdout).toContain('Usage: maestro shards');
    expect(maestro('-v').stdout.trim()).toBe('0.1.0');
    const u = maestro('deploy');
    expect(u.status).toBe(2);
    expect(u.stderr).toContain("maestro: unknown command 'deploy'");
  });

  test('a capability that has not landed says so and exits 2, without a stack trace', () => {
    const r = maestro('agent');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("maestro agent: not available in this version yet (it lands with the 'agent-step' action).");
  });

  test('attest verify: a real npm package verifies offline against a policy; a wrong identity exits 1 with the reason', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'maestro-attest-cli-'));
    const fixture = path.resolve('packages/attest/test/fixtures/sigstore-2.3.1.npm-attestations.json');
    const policy = (repo: string) => `version: 1\nsubjects:\n  - match: "pkg:npm/*"\n    require: [provenance, npm-publish]\n    identity: { issuer: github, repository: ${repo}, signer-workflow: sigstore/sigstore-js/.github/workflows/release.yml, ref: refs/heads/main, signer-digest: any, runner: github-hosted }\n`;
    writeFileSync(path.join(dir, 'ok.yml'), policy('sigstore/sigstore-js'));
    writeFileSync(path.join(dir, 'bad.yml'), policy('evil/fork'));
    const integrity = `sha512-${Buffer.from('f06fbf5c353cc0db093904b9cac0d53b412d83dff6b80e6047d9786708a38e5c3105cad4e913dfc22dbe8c999b3fe029d47969fe75406843b8163db6fd22f681', 'hex').toString('base64')}`;
    const ok = maestro('attest', 'verify', `pkg:npm/sigstore@2.3.1 ${integrity}`, '--bundle', fixture, '--policy', 'ok.yml', '--cwd', dir);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('**1 verified, 0 failed**');
    const bad = maestro('attest', 'verify', `pkg:npm/sigstore@2.3.1 ${integrity}`, '--bundle', fixture, '--policy', 'bad.yml', '--cwd', dir, '--json');
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).subjects[0].failures[0]).toContain('built from sigstore/sigstore-js, the policy expects evil/fork');
    const none = maestro('attest', 'verify', '--policy', 'ok.yml', '--cwd', dir);
    expect([none.status, none.stderr.trim()]).toEqual([1, expect.stringContaining('no subject given')]);
  });

  test('attest digest and sbom: the tree digest is the documented sha256sum manifest; a key-signed SBOM of a bundle passes the SBOM gate, bound to it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'maestro-sbom-'));
    const dist = path.resolve('actions/risk-score/dist');
    const d = maestro('attest', 'digest', `tree:${dist}`, '--cwd', path.resolve('.'));
    expect(d.status).toBe(0);
    const manifest = spawnSync('bash', ['-c', `cd ${dist} && find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum`], { encoding: 'utf8' }).stdout.split(' ')[0];
    expect(d.stdout.trim()).toBe(`sha256:${manifest}  tree:${dist}`);
    const sb = maestro('attest', 'sbom', 'actions/risk-score/dist', '--name', 'maestro/risk-score', '--version', '1.0.0', '--importer', 'actions/risk-score', '--out', path.join(dir, 'sbom.json'), '--cwd', path.resolve('.'));
    expect(sb.status).toBe(0);
    const sbom = JSON.parse(readFileSync(path.join(dir, 'sbom.json'), 'utf8'));
    expect(sbom.components.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['zod', 'minimatch', '@actions/core']));
    // Signed cosign-style with a key, then verified by the same gate users run.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(path.join(dir, 'release.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const body = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'maestro/risk-score', digest: { sha256: manifest } }], predicateType: 'https://cyclonedx.org/bom', predicate: sbom }));
    const type = 'application/vnd.in-toto+json';
    const sig = sign('sha256', Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${body.length} `), body]), privateKey).toString('base64');
    writeFileSync(path.join(dir, 'sbom.intoto.json'), JSON.stringify({ payloadType: type, payload: body.toString('base64'), signatures: [{ keyid: '', sig }] }));
    writeFileSync(path.join(dir, 'policy.yml'), 'version: 1\nsubjects:\n  - match: "tree:**"\n    require: [sbom]\n    identity: { key: release.pub }\n    sbom: { max-without-purl: 0 }\n');
    cpSync(dist, path.join(dir, 'dist'), { recursive: true });
    const v = maestro('attest', 'verify', 'tree:dist', '--bundle', 'sbom.intoto.json', '--policy', 'policy.yml', '--allow-no-tlog', '--cwd', dir, '--json');
    expect(v.stderr).toBe('');
    const report = JSON.parse(v.stdout);
    expect(report.subjects[0].accepted[0].sbom).toMatchObject({ format: 'CycloneDX-1.6', binding: 'bound', withoutPurl: 0, errors: [] });
    expect(report.licences).toContain('MIT');
    expect(v.status).toBe(0);
  });

  test('shards: a plan from a real timing file, one shard’s list, and clean errors', () => {
    const fixture = path.resolve('packages/shards/test/fixtures/identity-idp-rspec.json');
    const t = maestro('shards', '--timings', fixture, '--count', '8');
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/^1122 files, 6919\.4 s → 8 shard\(s\); longest 86\d\.\d s, lower bound 864\.9 s, skew 0\.\d %; coverage 100\.0 %/);
    const plan = JSON.parse(maestro('shards', '--timings', fixture, '--count', '8', '--json').stdout);
    const one = maestro('shards', '--timings', fixture, '--count', '8', '--shard', '3').stdout.trim().split('\n');
    expect(one).toEqual(plan.shards[2].items);
    const bad = maestro('shards', '--timings', fixture, '--count', 'lots');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--count must be a positive integer or auto/);
  });

  test('risk: probability, level and plain-word factors of a local change; a bigger change scores higher; bad flags', () => {
    const fx = GitFixture.create();
    try {
      fx.commit('base', { 'src/a.ts': 'export const a = 1;\n', 'docs/readme.md': '# a\n' });
      fx.branch('small');
      fx.commit('docs typo', { 'docs/readme.md': '# A\n' });
      fx.checkout('main');
      fx.branch('big');
      const files: Record<string, string> = {};
      for (let i = 0; i < 30; i++) files[`pkg${i % 6}/src/f${i}.ts`] = Array.from({ length: 120 }, (_, j) => `export const v${j} = ${j};`).join('\n') + '\n';
      fx.commit('rewrite everything', files);
      const small = JSON.parse(maestro('risk', '--cwd', fx.work, '--base', 'main', '--head', 'small', '--json').stdout);
      const big = JSON.parse(maestro('risk', '--cwd', fx.work, '--base', 'main', '--head', 'big', '--json').stdout);
      expect(big.score).toBeGreaterThan(small.score);
      expect(big.level).toBe('high');
      expect(big.factors[0].text).toMatch(/^raises risk: /);
      expect(big.signals).toMatchObject({ nf: 30, la: 3600, ns: 6 });
      const text = maestro('risk', '--cwd', fx.work, '--base', 'main', '--head', 'big').stdout;
      expect(text).toMatch(/^risk \d+\.\d % — high \(warn at 60 %, enforce at 75 %\)\n  raises risk: /);
      // The seed's weighted sum, for comparison: 3600 lines (capped 0.1) + 30 files (capped 0.08) + complexity unchanged (0.06).
      const seed = JSON.parse(maestro('risk', '--cwd', fx.work, '--base', 'main', '--head', 'big', '--model', 'seed', '--json').stdout);
      expect(seed).toMatchObject({ score: 0.24, model: { calibrated: false } });
      expect(maestro('risk', '--cwd', fx.work, '--base', 'main', '--head', 'big', '--model', 'seed').stdout).toMatch(/^seed score 0\.240 \(a weighted sum, not a probability\) — low/);
      const bad = maestro('risk', '--cwd', fx.work, '--base', 'main', '--warn', '2');
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/--warn must be a probability between 0 and 1/);
    } finally {
      fx.dispose();
    }
  });

  test('risk calibrate: labels the local history, writes a model the scorer accepts', () => {
    const fx = GitFixture.create();
    try {
      fx.commit('calc', { 'src/calc.ts': 'export const round = (x) => Math.floor(x);\n' });
      fx.commit('fix: round half up', { 'src/calc.ts': 'export const round = (x) => Math.round(x);\n' });
      const out = maestro('risk', 'calibrate', '--cwd', fx.work, '--maturity-days', '0', '--out', 'policy/risk-model.json');
      expect(out.status).toBe(0);
      expect(out.stdout).toContain('2 commits read; 2 matured in the window; 1 defect-inducing (labels: 0 trailer, 0 revert, 1 SZZ)');
      expect(out.stdout).toContain('cold-start: ');
      const scored = JSON.parse(maestro('risk', '--cwd', fx.work, '--base', 'HEAD~1', '--model', path.join(fx.work, 'policy/risk-model.json'), '--json').stdout);
      expect(scored.model.baseRate).toBeCloseTo(0.5, 5);
      // Without --model, the CLI uses policy/risk-model.json as the action does (#23 bug 6): the workspace copy
      // while it is untracked, the base commit's once committed.
      expect(JSON.parse(maestro('risk', '--cwd', fx.work, '--base', 'HEAD~1', '--json').stdout).model.source).toBe('policy/risk-model.json');
      fx.commit('commit the model', { 'policy/risk-model.json': readFileSync(path.join(fx.work, 'policy/risk-model.json'), 'utf8') });
      fx.commit('change', { 'src/calc.ts': 'export const round = (x) => Math.round(x) + 0;\n' });
      const committed = JSON.parse(maestro('risk', '--cwd', fx.work, '--base', 'HEAD~1', '--json').stdout);
      expect(committed.model).toMatchObject({ source: 'policy/risk-model.json', baseRate: expect.closeTo(0.5, 5) });
      expect(maestro('risk', 'calibrate', '--cwd', fx.work, '--maturity-days', 'soon').stderr).toMatch(/--maturity-days must be a whole number/);
    } finally {
      fx.dispose();
    }
  });

  test('policy: check a local change against the base’s rules (exit 1 on enforce), explain a path', () => {
    const fx = GitFixture.create();
    try {
      fx.commit('base', { 'policy/rules.yaml': 'version: 1\npaths:\n  - id: infra-frozen\n    reason: Infra goes through the platform team\n    effect: deny\n    paths: ["infra/**"]\n    mode: enforce\n', 'infra/a.tf': 'a\n' });
      fx.branch('change');
      fx.commit('touch infra', { 'infra/a.tf': 'b\n' });
      const c = maestro('policy', 'check', '--cwd', fx.work, '--base', 'main');
      expect(c.status).toBe(1);
      expect(c.stdout).toBe('enforce infra-frozen: infra/a.tf — Infra goes through the platform team (human may not write infra/a.tf (matched infra/**))\nblock: 1 changed file(s), 1 violation(s)\n');
      const e = maestro('policy', 'explain', 'infra/a.tf', '--cwd', fx.work);
      expect(e.stdout).toContain('  human write  deny by infra-frozen (infra/**): Infra goes through the platform team');
      expect(e.stdout).toContain('  human read   default-allow');
      expect(maestro('policy', 'frobnicate', '--cwd', fx.work).stderr).toMatch(/unknown subcommand 'frobnicate'/);
    } finally {
      fx.dispose();
    }
  });

  test("policy: the plan's policy file as written and migrated make the same decisions on a lockfile bump", () => {
    const fx = GitFixture.create();
    const locks = path.resolve('packages/policy/test/fixtures/lockfiles');
    try {
      const plan = readFileSync('policy/examples/seed-rules.yaml', 'utf8');
      fx.commit('plan policy', { 'policy/rules.yaml': plan, 'package-lock.json': readFileSync(path.join(locks, 'package-lock.base.json'), 'utf8') });
      fx.branch('deps');
      fx.commit('add deps', { 'package-lock.json': readFileSync(path.join(locks, 'package-lock.head.json'), 'utf8'), 'infra/main.tf': 'x\n', 'server/app.ts': 'y\n' });
      const direct = maestro('policy', 'check', '--cwd', fx.work, '--base', 'main', '--json');
      expect(direct.status).toBe(1);
      expect(direct.stderr).toMatch(/policy\/rules\.yaml is in the plan's format, read as written \(deny wins\)/);
      const a = JSON.parse(direct.stdout);
      expect(a.dependencies).toHaveLength(22);
      // parse-cache-control has no licence in the lockfile and nothing is installed: it cannot be judged, so it is not waved through.
      expect(a.violations.map((v: { rule: string; subject: string }) => `${v.rule} ${v.subject}`).sort()).toEqual(['deny-infra infra/main.tf', 'deps-deny-gpl @ffmpeg-installer/linux-x64@4.1.0', 'deps-deny-gpl ffmpeg-static@5.2.0', 'deps-deny-gpl parse-cache-control@1.0.1']);
      const m = maestro('policy', 'migrate', 'policy/rules.yaml', '--cwd', fx.work, '--write', 'migrated.yaml');
      expect(m.status).toBe(0);
      expect(m.stdout).toMatch(/^wrote migrated.yaml\n {2}- \/\.\*GPL\.\*\/i is applied to each licence id/);
      const migrated = readFileSync(path.join(fx.work, 'migrated.yaml'), 'utf8');
      // The same change, on a base whose policy is the migrated file.
      fx.git(['checkout', '-q', 'main']);
      fx.branch('main2');
      fx.commit('native policy', { 'policy/rules.yaml': migrated });
      fx.branch('deps2');
      fx.commit('add deps', { 'package-lock.json': readFileSync(path.join(locks, 'package-lock.head.json'), 'utf8'), 'infra/main.tf': 'x\n', 'server/app.ts': 'y\n' });
      const again = maestro('policy', 'check', '--cwd', fx.work, '--base', 'main2', '--head', 'deps2', '--json');
      expect(again.status).toBe(1);
      expect(again.stderr).not.toMatch(/plan's format/);
      const b = JSON.parse(again.stdout);
      const key = (v: { rule: string; subject: string; mode: string; reason: string }) => `${v.rule} ${v.subject} ${v.mode} ${v.reason}`;
      expect(b.violations.map(key).sort()).toEqual(a.violations.map(key).sort());
    } finally {
      fx.dispose();
    }
  });

  test('health: renders the summary from evidence files and exits 1 when a gate blocks; refuses a bad bundle', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'maestro-ev-'));
    try {
      const sha = 'a'.repeat(40);
      const env = (action: string, data: unknown) => JSON.stringify({ schema: 'maestro.evidence/1', action, sha, run: { id: 1, attempt: 1, number: 1 }, createdAt: '2026-11-25T00:00:00Z', data });
      writeFileSync(path.join(dir, 'policy-gate.json'), env('policy-gate', { outcome: 'block', policy: 'policy/rules.yaml', actor: 'human', violations: [{ rule: 'infra-frozen', reason: 'Infra goes through the platform team', mode: 'enforce', subject: 'infra/a.tf', detail: 'human may not write infra/a.tf' }], overrides: [] }));
      writeFileSync(path.join(dir, 'junk.json'), '{');
      const r = maestro('health', '--evidence', dir);
      expect(r.status).toBe(1);
      expect(r.stdout).toContain('## Maestro health: ❌ blocked');
      expect(r.stdout).toMatch(/\| ➖ \| Risk \| no risk-score evidence \|/);
      expect(r.stdout).toMatch(/1 evidence file\(s\) ignored: .*junk\.json \(not JSON/);
      writeFileSync(path.join(dir, 'bad-bundle.json'), '{"schema":"maestro.health/1"}');
      const bad = maestro('health', '--bundle', path.join(dir, 'bad-bundle.json'));
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/the health bundle is invalid at repo/);
      expect(bad.stderr).not.toMatch(/internal error/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('affected: the same analysis as the action on a local repository, text and JSON; bad flags exit 2', () => {
    const fx = GitFixture.create();
    try {
      fx.commit('base', {
        'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
        'packages/a/package.json': JSON.stringify({ name: 'a', scripts: { build: 'x' } }),
        'packages/b/package.json': JSON.stringify({ name: 'b', dependencies: { a: 'workspace:*' }, scripts: { build: 'x', test: 'y' } }),
        'packages/a/src/x.ts': 'export const x = 1;\n',
      });
      fx.branch('feature');
      fx.commit('edit', { 'packages/a/src/x.ts': 'export const x = 2;\n' });
      const t = maestro('affected', '--cwd', fx.work);
      expect(t.status).toBe(0);
      expect(t.stdout).toMatch(/^base [0-9a-f]{12} \(default-branch-merge-base\) → head [0-9a-f]{12}; 1 changed file\(s\)\n  note: merge-base of HEAD with main\n/);
      expect(t.stdout).toContain('  b: depends on a (b → a): packages/a/src/x.ts changed');
      expect(t.stdout).toContain('3 task(s): a:build b:build b:test');
      const j = maestro('affected', '--cwd', fx.work, '--base', 'main', '--json', '--targets', 'build');
      const report = JSON.parse(j.stdout);
      expect(report.projects).toEqual(['a', 'b']);
      expect(report.tasks.map((x: { project: string; target: string }) => `${x.project}:${x.target}`)).toEqual(['a:build', 'b:build']);
      expect(report.base).toBe(fx.head('main'));
      expect(report.keys.map((k: { project: string; target: string; key: string }) => [k.project, k.target, /^maestro-build-[ab]-[0-9a-f]{40}$/.test(k.key)])).toEqual([['a', 'build', true], ['b', 'build', true]]);
      // --no-keys: the same projects and tasks (like `turbo ls --affected`), without the lockfile parse and key hashing.
      const lean = JSON.parse(maestro('affected', '--cwd', fx.work, '--base', 'main', '--json', '--targets', 'build', '--no-keys').stdout);
      expect(lean.projects).toEqual(report.projects);
      expect(lean.tasks.map((x: { project: string; target: string; key?: string }) => [x.project, x.target, x.key])).toEqual([['a', 'build', undefined], ['b', 'build', undefined]]);
      expect(lean.keys).toEqual([]);
      // Every selected task gets its key, and only selected tasks are hashed.
      const all = JSON.parse(maestro('affected', '--cwd', fx.work, '--base', 'main', '--json', '--include-dependencies').stdout);
      expect(all.tasks.map((x: { project: string; target: string; key?: string }) => [`${x.project}:${x.target}`, /^maestro-/.test(x.key ?? '')])).toEqual([['a:build', true], ['b:build', true], ['b:test', true]]);
      expect(all.keys).toHaveLength(3);
      const bad = maestro('affected', '--frobnicate');
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain("Unknown option '--frobnicate'");
    } finally {
      fx.dispose();
    }
  });
});
