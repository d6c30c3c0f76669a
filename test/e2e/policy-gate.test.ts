import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeGitHub, GitFixture, assertContract, pullRequestEvent, runAction, type RunResult } from '@maestro/harness';

const actionDir = path.resolve('actions/policy-gate');
const REPO = { owner: 'acme', name: 'shop' };
const json = (r: RunResult, name: string) => JSON.parse(r.outputs[name]!);

const POLICY = `version: 1
mode: warn
paths:
  - id: infra-frozen
    reason: Infrastructure changes go through the platform team
    effect: deny
    paths: ["infra/**"]
    mode: enforce
  - id: no-secrets-dir
    reason: The secrets folder is managed by Vault
    effect: deny
    paths: ["secrets/**"]
security:
  - id: no-high
    reason: High findings must be fixed before merge
    max-severity: high
    mode: enforce
`;

let fx: GitFixture;
let base: string;

beforeAll(() => {
  expect(existsSync(path.join(actionDir, 'dist/index.js'))).toBe(true);
  fx = GitFixture.create();
  base = fx.commit('base', { 'policy/rules.yaml': POLICY, 'infra/main.tf': 'a\n', 'secrets/readme.txt': 'x\n', 'src/app.ts': 'export {};\n' });
  fx.push('main');
});

afterAll(() => fx?.dispose());

function pr(n: number, files: Record<string, string | null | { renameFrom: string }>) {
  fx.checkout('main');
  fx.branch(`pr-${n}`);
  fx.commit(`change ${n}`, files);
  return fx.pullRequest(n, 'main', `pr-${n}`);
}

describe('policy-gate bundle under runner-sim', () => {
  test('an allowed change passes', async () => {
    const p = pr(1, { 'src/app.ts': 'export const a = 1;\n' });
    const r = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 1, ...p }) });
    assertContract(r);
    expect(r.conclusion).toBe('success');
    expect(r.outputs['outcome']).toBe('pass');
    expect(json(r, 'decision').violations).toEqual([]);
  });

  test('moving a file out of infra/ is blocked, with the rule, reason and file; warn-mode rules annotate', async () => {
    const p = pr(2, { 'legacy/main.tf': { renameFrom: 'infra/main.tf' }, 'secrets/readme.txt': 'y\n' });
    const r = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 2, ...p }) });
    expect(r.conclusion).toBe('failure');
    expect(r.outputs['outcome']).toBe('block');
    const v = json(r, 'decision').violations;
    expect(v.map((d: { rule: string; subject: string; mode: string }) => [d.rule, d.subject, d.mode])).toEqual([
      ['infra-frozen', 'infra/main.tf', 'enforce'],
      ['no-secrets-dir', 'secrets/readme.txt', 'warn'],
    ]);
    expect(r.annotations).toContainEqual({ level: 'error', title: 'policy infra-frozen', message: 'Infrastructure changes go through the platform team — human may not rename infra/main.tf (matched infra/**)', file: 'infra/main.tf' });
    expect(r.annotations.some((a) => a.level === 'warning' && a.file === 'secrets/readme.txt')).toBe(true);
    expect(r.summary).toContain('**block** — 2 violation(s) of `policy/rules.yaml` (from the base commit');
  });

  test('the policy is read from the base: a PR that deletes the rule is still judged by it', async () => {
    const p = pr(3, { 'policy/rules.yaml': 'version: 1\n', 'infra/main.tf': 'b\n' });
    const r = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 3, ...p }) });
    expect(r.outputs['outcome']).toBe('block');
  });

  test('SARIF findings in the changed files are checked against security rules (CVSS severity)', async () => {
    const p = pr(4, { 'src/db.ts': 'export const q = (s) => "select " + s;\n' });
    const workspace = fx.checkoutLike(p.merge, { depth: 1 });
    mkdirSync(path.join(workspace, 'scan'), { recursive: true });
    writeFileSync(path.join(workspace, 'scan/codeql.sarif'), JSON.stringify({ version: '2.1.0', runs: [{ tool: { driver: { name: 'CodeQL', rules: [{ id: 'js/sql-injection', properties: { 'security-severity': '8.8' } }] } }, results: [{ ruleId: 'js/sql-injection', level: 'error', message: { text: 'query built from user input' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'src/db.ts' }, region: { startLine: 1 } } }] }, { ruleId: 'js/sql-injection', message: { text: 'elsewhere' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'src/other.ts' } } }] }] }] }));
    const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 4, ...p }), with: { sarif: 'scan/codeql.sarif' } });
    expect(r.outputs['outcome']).toBe('block');
    expect(json(r, 'decision').violations).toEqual([{ rule: 'no-high', reason: 'High findings must be fixed before merge', mode: 'enforce', subject: 'src/db.ts:1', detail: 'CodeQL js/sql-injection (high): query built from user input', file: 'src/db.ts', line: 1 }]);
    expect(r.annotations).toContainEqual(expect.objectContaining({ level: 'error', file: 'src/db.ts', line: 1 }));
  });

  test('overrides: a write-access comment turns the block into a recorded override; others are refused; all audited', async () => {
    const gh = await FakeGitHub.start();
    try {
      gh.addRepo('acme/shop');
      const token = gh.addToken('ghs_policy');
      gh.setPermission('acme/shop', 'lead', 'write');
      gh.setPermission('acme/shop', 'driveby', 'read');
      const p = pr(6, { 'infra/main.tf': 'hotfix\n' });
      gh.addPull('acme/shop', { number: 6, headSha: p.head, baseSha: p.base });
      const say = async (login: string, body: string) => {
        gh.addToken(`tok_${login}`, { login, kind: 'user' });
        const res = await fetch(`${gh.url}/repos/acme/shop/issues/6/comments`, { method: 'POST', headers: { authorization: `token tok_${login}`, 'content-type': 'application/json', accept: 'application/vnd.github+json' }, body: JSON.stringify({ body }) });
        expect(res.status).toBe(201);
      };
      await say('driveby', `/maestro override infra-frozen sha: ${p.head.slice(0, 7)} reason: looks fine to me`);
      await say('lead', `/maestro override infra-frozen sha: ${p.head.slice(0, 12)} reason: outage hotfix INC-42 expires: 2099-01-01`);
      const r = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 6, ...p }), token, apiUrl: gh.url });
      assertContract(r);
      expect(r.conclusion).toBe('success');
      expect(r.outputs['outcome']).toBe('pass');
      expect(json(r, 'audit').map((a: { by: string; status: string; reason: string }) => [a.by, a.status, a.reason])).toEqual([
        ['driveby', 'refused', 'looks fine to me'],
        ['lead', 'applied', 'outage hotfix INC-42'],
      ]);
      expect(json(r, 'decision').violations[0]).toMatchObject({ rule: 'infra-frozen', mode: 'observe' });
      expect(r.summary).toContain('Overrides: `infra-frozen` by @\u2060driveby: refused');
      gh.assertNoViolations();
    } finally {
      await gh.stop();
    }
  });

  test('fails closed: a malformed policy at the base names its line; no policy at the base is an error', async () => {
    fx.checkout('main');
    fx.branch('broken-base');
    const brokenBase = fx.commit('typo in policy', { 'policy/rules.yaml': POLICY.replace('    effect: deny\n    paths: ["secrets/**"]', '    efect: deny\n    paths: ["secrets/**"]') });
    fx.branch('pr-5');
    const head = fx.commit('x', { 'src/app.ts': 'export const b = 2;\n' });
    fx.push('broken-base', 'pr-5');
    const r = await runAction({ actionDir, workspace: fx.checkoutLike(head, { depth: 2 }), event: pullRequestEvent({ repo: REPO, number: 5, base: brokenBase, head, merge: head }), with: { base: brokenBase } });
    expect(r.conclusion).toBe('failure');
    const err = r.annotations.find((a) => a.level === 'error')!;
    expect(err.file).toBe('policy/rules.yaml');
    expect(err.line).toBe(11);
    const none = await runAction({ actionDir, workspace: fx.checkoutLike(head, { depth: 2 }), event: pullRequestEvent({ repo: REPO, number: 5, base: brokenBase, head, merge: head }), with: { base: brokenBase, policy: 'policy/missing.yaml' } });
    expect(none.conclusion).toBe('failure');
    expect(none.log).toMatch(/the policy file is not in the base commit/);
    void base;
  });

  describe('dependencies, licences, Grype and secrets', () => {
    const LOCKS = path.resolve('packages/policy/test/fixtures/lockfiles');
    const lock = (f: string) => readFileSync(path.join(LOCKS, f), 'utf8');
    const DEP_POLICY = `version: 1
mode: warn
licenses:
  - id: no-gpl
    reason: GPL code cannot ship in our closed-source product
    deny: [GPL-*, AGPL-*]
    mode: enforce
dependencies:
  - id: new-deps-reviewed
    reason: New runtime dependencies need a platform review
    packages: ["node-forge"]
security:
  - id: no-new-high
    reason: A change may not add a dependency with a known high vulnerability
    max-severity: high
    mode: enforce
secrets:
  reason: Credentials must not be committed; rotate it and use the secret store
  exclude: ["test/fixtures/**"]
  mode: enforce
`;
    // A well-formed GitHub token pattern; not a real credential.
    const TOKEN = ['ghp', 'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx'].join('_');

    test('a lockfile bump is judged per added package: dual licence passes, GPL and non-SPDX block, a secret on an added line blocks, Grype counts only added packages; the secret is never printed', async () => {
      const dx = GitFixture.create();
      try {
        dx.commit('base', { 'policy/rules.yaml': DEP_POLICY, 'package.json': '{"name":"licgen"}\n', 'package-lock.json': lock('package-lock.base.json'), 'src/config.ts': `export const old = 1;\n` });
        dx.push('main');
        dx.branch('deps');
        dx.commit('add deps', { 'package-lock.json': lock('package-lock.head.json'), 'src/config.ts': `export const old = 1;\nexport const gh = "${TOKEN}";\n`, 'test/fixtures/fake.ts': `export const t = "${TOKEN}";\n` });
        const p = dx.pullRequest(1, 'main', 'deps');
        const workspace = dx.checkoutLike(p.merge, { depth: 1 });
        // As after `npm ci`: the one package whose licence npm's lockfile does not record.
        mkdirSync(path.join(workspace, 'node_modules/parse-cache-control'), { recursive: true });
        writeFileSync(path.join(workspace, 'node_modules/parse-cache-control/package.json'), JSON.stringify({ name: 'parse-cache-control', version: '1.0.1', licenses: [{ type: 'BSD', url: 'http://github.com/hapijs/wreck/raw/master/LICENSE' }] }));
        writeFileSync(path.join(workspace, 'grype.json'), lock('grype.synthetic.json'));
        const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 1, ...p }), with: { grype: 'grype.json' } });
        assertContract(r);
        expect(r.conclusion).toBe('failure');
        const v = json(r, 'decision').violations as Array<{ rule: string; subject: string; mode: string; detail: string }>;
        expect(v.map((d) => [d.rule, d.subject, d.mode]).sort()).toEqual(
          [
            ['new-deps-reviewed', 'node-forge@1.3.1', 'warn'],
            ['no-gpl', '@ffmpeg-installer/linux-x64@4.1.0', 'enforce'],
            ['no-gpl', 'ffmpeg-static@5.2.0', 'enforce'],
            ['no-gpl', 'parse-cache-control@1.0.1', 'enforce'],
            ['no-new-high', 'node-forge@1.3.1', 'enforce'],
            ['no-secrets', 'src/config.ts:2', 'enforce'],
          ].sort(),
        );
        expect(v.find((d) => d.subject === 'parse-cache-control@1.0.1')!.detail).toContain("licence 'BSD' is not a valid SPDX expression; licence BSD from the installed package.json");
        expect(json(r, 'decision').dependencies.find((d: { name: string }) => d.name === 'node-forge')).toEqual({ name: 'node-forge', version: '1.3.1', new: true, license: '(BSD-3-Clause OR GPL-2.0)', licenseSource: 'lockfile' });
        expect(r.annotations).toContainEqual(expect.objectContaining({ level: 'error', title: 'policy no-secrets', file: 'src/config.ts', line: 2 }));
        // Package decisions are annotated on the lockfile that adds the package.
        expect(r.annotations.find((a) => a.title === 'policy no-gpl')!.file).toBe('package-lock.json');
        const everything = [r.log, r.summary, ...Object.values(r.outputs), readFileSync(r.outputs['decision-path']!, 'utf8')].join('\n');
        expect(everything).not.toContain(TOKEN);
        expect(r.summary).toContain('added lines scanned for secrets');
      } finally {
        dx.dispose();
      }
    });
  });

  test('a label `maestro-override:<rule>` from a write-access user overrides with the label description as reason; the same label from a triager is refused', async () => {
    const gh = await FakeGitHub.start();
    try {
      gh.addRepo('acme/shop');
      const token = gh.addToken('ghs_labels', { permission: 'read' });
      gh.setPermission('acme/shop', 'lead', 'admin');
      gh.setPermission('acme/shop', 'triager', 'triage');
      // Overrides expire `override-days` after the label, counted from now.
      gh.setClock(new Date().toISOString());
      const p = pr(7, { 'infra/main.tf': 'label hotfix\n', 'secrets/readme.txt': 'z\n' });
      gh.addPull('acme/shop', { number: 7, headSha: p.head, baseSha: p.base });
      gh.labelPull('acme/shop', 7, 'maestro-override:infra-frozen', 'lead');
      gh.labelPull('acme/shop', 7, 'maestro-override:no-secrets-dir', 'triager');
      // Added, removed and added again: still on.
      gh.labelPull('acme/shop', 7, 'maestro-override:infra-frozen', 'lead', { remove: true });
      gh.labelPull('acme/shop', 7, 'maestro-override:infra-frozen', 'lead');
      const labels = [
        { name: 'maestro-override:infra-frozen', description: 'Approved emergency infra change (platform on-call)' },
        { name: 'maestro-override:no-secrets-dir', description: 'nope' },
      ];
      const r = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 7, ...p, labels }), token, apiUrl: gh.url });
      assertContract(r);
      expect(r.outputs['outcome']).toBe('warn');
      const audit = json(r, 'audit') as Array<{ rule: string; by: string; status: string; reason: string; via: string; expires: string }>;
      expect(audit.map((a) => [a.rule, a.by, a.status, a.via, a.reason])).toEqual([
        ['infra-frozen', 'lead', 'applied', 'label', 'Approved emergency infra change (platform on-call)'],
        ['no-secrets-dir', 'triager', 'refused', 'label', 'nope'],
      ]);
      expect(Date.parse(audit[0]!.expires) - Date.now()).toBeGreaterThan(6.9 * 86400_000);
      gh.assertNoViolations();
    } finally {
      await gh.stop();
    }
  });

  test("a fork's read-only token cannot read comments (403): a clear warning, the gate still decides", async () => {
    const gh = await FakeGitHub.start();
    try {
      gh.addRepo('acme/shop');
      const token = gh.addToken('ghs_fork', { permission: 'read' });
      gh.fault({ operation: 'issues/list-comments', status: 403, message: 'Resource not accessible by integration' });
      const p = pr(8, { 'infra/main.tf': 'fork change\n' });
      gh.addPull('acme/shop', { number: 8, headSha: p.head, baseSha: p.base });
      const r = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 8, ...p, fork: { owner: 'outsider' } }), token, apiUrl: gh.url });
      assertContract(r);
      expect(r.outputs['outcome']).toBe('block');
      expect(r.annotations).toContainEqual(expect.objectContaining({ level: 'warning', message: expect.stringMatching(/overrides unavailable, so the block stands: the token cannot read the pull request's comments and labels \(HTTP 403\)/) }));
      expect(r.log).not.toMatch(/at .*\.js:\d+/);
    } finally {
      await gh.stop();
    }
  });

  describe('changes from the PR files API (no checkout)', () => {
    async function apiScenario(files: number, opts: { checkout?: boolean } = {}) {
      const gh = await FakeGitHub.start();
      gh.addRepo('acme/shop');
      const token = gh.addToken('ghs_api', { permission: 'read' });
      const list = Array.from({ length: files }, (_, i) => ({ filename: i === 0 ? 'infra/main.tf' : `src/gen/f${i}.ts`, status: 'modified' as const }));
      list.push({ filename: 'legacy/old.tf', status: 'renamed' as const, previous_filename: 'infra/old.tf' } as never);
      gh.addPull('acme/shop', { number: 9, headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40), files: list });
      gh.setContent('acme/shop', 'policy/rules.yaml', POLICY, 'b'.repeat(40));
      gh.setContent('acme/shop', 'policy/rules.yaml', 'version: 1\n'); // the head's version must not be used
      const workspace = mkdtempSync(path.join(tmpdir(), 'no-checkout-'));
      const event = pullRequestEvent({ repo: REPO, number: 9, base: 'b'.repeat(40), head: 'a'.repeat(40), merge: 'c'.repeat(40) });
      const r = await runAction({ actionDir, workspace, event, token, apiUrl: gh.url, with: { overrides: 'false' } });
      return { gh, r };
    }

    test('without a checkout the change and the base policy come from the API; renames are judged on the old path', async () => {
      const { gh, r } = await apiScenario(3);
      try {
        assertContract(r);
        expect(r.outputs['outcome']).toBe('block');
        expect(json(r, 'decision').violations.map((d: { subject: string }) => d.subject)).toEqual(['infra/main.tf', 'infra/old.tf']);
        expect(gh.requests.find((q) => q.operationId === 'repos/get-content')!.query['ref']).toBe('b'.repeat(40));
        gh.assertNoViolations();
      } finally {
        await gh.stop();
      }
    });

    test('at 3000 files the API cannot list the whole change: fails closed, saying to check out', async () => {
      const { gh, r } = await apiScenario(3000);
      try {
        expect(r.conclusion).toBe('failure');
        expect(r.log).toMatch(/the pull request changes 3001 files and the files API lists at most 3000; judging part of a change is not judging it/);
        expect(r.log).toMatch(/check out the repository/);
        expect(gh.requests.some((q) => q.operationId === 'pulls/list-files')).toBe(false);
      } finally {
        await gh.stop();
      }
    });

    test('with a checkout a 3500-file change is read from git, all of it; 3000 violations stay within every output limit', async () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 3000; i++) files[`infra/gen/m${i}.tf`] = `# ${i}\n`;
      for (let i = 0; i < 500; i++) files[`src/gen/f${i}.ts`] = `export const v${i} = ${i};\n`;
      const p = pr(10, files);
      const r = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 10, ...p }), with: { overrides: 'false' } });
      assertContract(r);
      expect(r.conclusion).toBe('failure');
      const shown = json(r, 'decision');
      expect(shown.changedFiles).toBe(3500);
      // The output stays under 512 KiB and says where the rest is; the file has every violation.
      expect(Buffer.byteLength(r.outputs['decision']!)).toBeLessThan(512 * 1024);
      expect(shown.truncated.violations + shown.violations.length).toBe(3000);
      const full = JSON.parse(readFileSync(r.outputs['decision-path']!, 'utf8'));
      expect(full.violations).toHaveLength(3000);
      expect(new Set(full.violations.map((v: { subject: string }) => v.subject)).size).toBe(3000);
      // 10 error annotations (what the runner shows per step), then one notice counting the rest.
      expect(r.annotations.filter((a) => a.level === 'error')).toHaveLength(10);
      expect(r.annotations).toContainEqual(expect.objectContaining({ level: 'notice', message: expect.stringMatching(/^2990 more violation\(s\)/) }));
      expect(r.summary).toContain('…and 2800 more in the `decision` output.');
    });
  });

  describe('overrides and licences fail closed (security review #13)', () => {
    const FAST_RETRY = { MAESTRO_API_RETRY_BASE_MS: '5' };
    const sayAs = (gh: FakeGitHub, n: number) => async (login: string, body: string) => {
      gh.addToken(`tok_${login}_${n}`, { login, kind: 'user' });
      const res = await fetch(`${gh.url}/repos/acme/shop/issues/${n}/comments`, { method: 'POST', headers: { authorization: `token tok_${login}_${n}`, 'content-type': 'application/json', accept: 'application/vnd.github+json' }, body: JSON.stringify({ body }) });
      expect(res.status).toBe(201);
    };

    test('any failure reading overrides (422, 401, 5xx after retries) keeps the block with the reason; decision and evidence are still written', async () => {
      const gh = await FakeGitHub.start();
      try {
        gh.addRepo('acme/shop');
        const token = gh.addToken('ghs_ov_fail');
        const p = pr(40, { 'infra/main.tf': 'change\n' });
        gh.addPull('acme/shop', { number: 40, headSha: p.head, baseSha: p.base });
        for (const [status, message] of [[422, 'Validation Failed'], [401, 'Bad credentials'], [500, 'Server Error']] as const) {
          gh.fault({ operation: 'issues/list-comments', status, message, times: status === 500 ? 4 : 1 });
          const r = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 40, ...p }), token, apiUrl: gh.url, env: FAST_RETRY });
          assertContract(r);
          expect(r.conclusion).toBe('failure');
          expect(r.outputs['outcome']).toBe('block');
          expect(r.log).not.toMatch(/internal error/);
          expect(existsSync(r.outputs['evidence-path']!)).toBe(true);
          expect(json(r, 'decision').overridesUnavailable).toMatch(new RegExp(`HTTP ${status}`));
          expect(r.summary).toContain('**Overrides unavailable, so every block stands:**');
          expect(gh.clearFaults()).toBe(0);
        }
        // An exhausted secondary rate limit is said as such, not as "read-only token".
        gh.rateLimit('issues/list-comments', { secondary: true, retryAfter: 1, times: 5 });
        const limited = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 40, ...p }), token, apiUrl: gh.url, env: FAST_RETRY });
        expect(limited.outputs['outcome']).toBe('block');
        expect(json(limited, 'decision').overridesUnavailable).toMatch(/rate-limited reading the pull request's comments and labels after the client's retries \(HTTP 403\)/);
        gh.clearFaults();
      } finally {
        await gh.stop();
      }
    });

    test('an override is bound to the head: the author cannot override their own PR; after a new push the old override no longer applies; a label counts only if added after the push', async () => {
      const gh = await FakeGitHub.start();
      try {
        gh.addRepo('acme/shop');
        // Events at about the time the gate runs, so the default 7-day expiry does not end them.
        gh.setClock(new Date().toISOString());
        const token = gh.addToken('ghs_ov_bind');
        gh.setPermission('acme/shop', 'lead', 'write');
        gh.setPermission('acme/shop', 'mallory', 'write');
        const first = pr(41, { 'infra/main.tf': 'benign\n' });
        gh.addPull('acme/shop', { number: 41, headSha: first.head, baseSha: first.base, author: 'mallory', headRef: 'pr-41' });
        const say = sayAs(gh, 41);
        const run = (p: typeof first) => runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 41, ...p, author: 'mallory', headRef: 'pr-41' }), token, apiUrl: gh.url });
        await say('mallory', `/maestro override infra-frozen sha: ${first.head.slice(0, 7)} reason: my own change is fine`);
        const self = await run(first);
        assertContract(self);
        expect(self.outputs['outcome']).toBe('block');
        expect(json(self, 'audit')[0]).toMatchObject({ by: 'mallory', status: 'refused', note: expect.stringMatching(/is the pull request's author/) });
        expect(self.summary).toContain(`/maestro override <rule-id> sha: ${first.head.slice(0, 12)} reason: <why>`);

        await say('lead', `/maestro override infra-frozen sha: ${first.head.slice(0, 7)} reason: reviewed the benign change`);
        const ok = await run(first);
        assertContract(ok);
        expect(ok.outputs['outcome']).toBe('pass');

        // A new push: same rule, new content; the override was for the old commit.
        fx.checkout('pr-41');
        fx.commit('sneaky', { 'infra/main.tf': 'malicious\n' });
        const second = fx.pullRequest(41, 'main', 'pr-41');
        gh.pushPull('acme/shop', 41, second.head);
        const after = await run(second);
        assertContract(after);
        expect(after.outputs['outcome']).toBe('block');
        expect(json(after, 'audit').map((a: { by: string; status: string; note: string }) => [a.by, a.status])).toEqual([['mallory', 'refused'], ['lead', 'refused']]);
        expect(json(after, 'audit')[1].note).toMatch(/given for commit [0-9a-f]{7}, not the head [0-9a-f]{12}; a new push needs a new override/);

        // A label added before the push does not count; re-added after it, it does.
        gh.labelPull('acme/shop', 41, 'maestro-override:infra-frozen', 'lead');
        fx.checkout('pr-41');
        fx.commit('again', { 'infra/main.tf': 'malicious 2\n' });
        const third = fx.pullRequest(41, 'main', 'pr-41');
        gh.pushPull('acme/shop', 41, third.head);
        const labelOld = await run(third);
        expect(labelOld.outputs['outcome']).toBe('block');
        expect(json(labelOld, 'audit').find((a: { via: string }) => a.via === 'label')).toMatchObject({ status: 'refused', note: expect.stringMatching(/the label was added before the head/) });
        gh.labelPull('acme/shop', 41, 'maestro-override:infra-frozen', 'lead', { remove: true });
        gh.labelPull('acme/shop', 41, 'maestro-override:infra-frozen', 'lead');
        const labelNew = await run(third);
        expect(labelNew.outputs['outcome']).toBe('pass');
        // A commit first pushed to another branch (its check suite there is older than the label) does not
        // inherit the label when it lands on the PR: only suites of the PR's branch count.
        fx.checkout('pr-41');
        const sideHead = fx.commit('prepared elsewhere', { 'infra/main.tf': 'malicious 3\n' });
        gh.addPull('acme/shop', { number: 991, headSha: sideHead, baseSha: first.base, headRef: 'side-branch', state: 'closed' });
        gh.labelPull('acme/shop', 41, 'maestro-override:infra-frozen', 'lead', { remove: true });
        gh.labelPull('acme/shop', 41, 'maestro-override:infra-frozen', 'lead');
        const fourth = fx.pullRequest(41, 'main', 'pr-41');
        gh.pushPull('acme/shop', 41, fourth.head);
        const carried = await run(fourth);
        expect(carried.outputs['outcome']).toBe('block');
        expect(json(carried, 'audit').find((a: { via: string }) => a.via === 'label')).toMatchObject({ status: 'refused', note: expect.stringMatching(/cannot tell whether the label came after the head was pushed|the label was added before the head/) });
        gh.assertNoViolations();
      } finally {
        await gh.stop();
      }
    });

    test('a lockfile that claims MIT for a GPL-3.0 package: the installed package decides, and the lie is flagged', async () => {
      const dx = GitFixture.create();
      try {
        const policy = 'version: 1\nlicenses:\n  - id: no-gpl\n    reason: GPL code cannot ship in our product\n    deny: [GPL-*]\n    mode: enforce\n';
        const lockfile = (extra: Record<string, unknown>) => JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages: { '': { name: 'app', dependencies: Object.fromEntries(Object.keys(extra).map((k) => [k.replace('node_modules/', ''), '*'])) }, ...extra } }, null, 2);
        dx.commit('base', { 'policy/rules.yaml': policy, 'package.json': '{"name":"app"}\n', 'package-lock.json': lockfile({}) });
        dx.push('main');
        dx.branch('dep');
        dx.commit('add dep', { 'package-lock.json': lockfile({ 'node_modules/gpl-thing': { version: '1.0.0', license: 'MIT', resolved: 'https://registry.npmjs.org/gpl-thing/-/gpl-thing-1.0.0.tgz', integrity: 'sha512-AAAA' } }) });
        const p = dx.pullRequest(42, 'main', 'dep');
        const workspace = dx.checkoutLike(p.merge, { depth: 1 });
        mkdirSync(path.join(workspace, 'node_modules/gpl-thing'), { recursive: true });
        writeFileSync(path.join(workspace, 'node_modules/gpl-thing/package.json'), JSON.stringify({ name: 'gpl-thing', version: '1.0.0', license: 'GPL-3.0-only' }));
        const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 42, ...p }) });
        assertContract(r);
        expect(r.outputs['outcome']).toBe('block');
        const v = json(r, 'decision').violations as Array<{ subject: string; detail: string }>;
        expect(v.map((d) => d.detail)).toEqual(expect.arrayContaining([expect.stringMatching(/the lockfile says MIT, but the installed package says GPL-3\.0-only; judged by the installed one/), expect.stringMatching(/GPL-3\.0-only/)]));
        expect(json(r, 'decision').dependencies[0]).toMatchObject({ name: 'gpl-thing', license: 'GPL-3.0-only', licenseSource: 'package.json' });
      } finally {
        dx.dispose();
      }
    });

    test('a missing or directory SBOM input is one clear ConfigError line, not ENOENT/EISDIR', async () => {
      const p = pr(43, { 'src/app.ts': 'export const c = 3;\n' });
      const workspace = fx.checkoutLike(p.merge, { depth: 1 });
      mkdirSync(path.join(workspace, 'sbom-dir'));
      for (const [sbom, msg] of [['nope.json', /SBOM 'nope\.json' does not exist/], ['sbom-dir', /SBOM 'sbom-dir' is a directory, not a file/]] as const) {
        const r = await runAction({ actionDir, workspace, event: pullRequestEvent({ repo: REPO, number: 43, ...p }), with: { sbom, overrides: 'false' } });
        expect(r.conclusion).toBe('failure');
        expect(r.log).toMatch(msg);
        expect(r.log).not.toMatch(/ENOENT|EISDIR|internal error/);
      }
    });

    test('hostile text in the summary: a backtick and a CR in a denied path, HTML in a refused override; a broken lockfile holding a token is reported by position only', async () => {
      const gh = await FakeGitHub.start();
      try {
        gh.addRepo('acme/shop');
        const token = gh.addToken('ghs_ov_text');
        gh.setPermission('acme/shop', 'drive-by', 'read');
        const tick = 'infra/a`b<img src=x onerror=alert(1)>.tf';
        const cr = 'infra/c\r| injected | row | <b>x</b> |.tf';
        const p = pr(44, { [tick]: 'x\n', [cr]: 'y\n' });
        gh.addPull('acme/shop', { number: 44, headSha: p.head, baseSha: p.base });
        await sayAs(gh, 44)('drive-by', `/maestro override infra-frozen sha: ${p.head.slice(0, 7)} reason: <img src=x onerror=alert(1)> [click](http://evil.example) @everyone`);
        const r = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 44, ...p }), token, apiUrl: gh.url });
        assertContract(r);
        expect(r.outputs['outcome']).toBe('block');
        // What GitHub would render live: outside code spans, and with escaped brackets removed.
        const live = r.summary.replace(/\\[\\`*_[\]~!|]/g, '').replace(/(`+)[\s\S]*?[^`]\1(?!`)/g, '');
        expect(live).not.toMatch(/<img|<b>/);
        expect(live).not.toMatch(/\]\(http/);
        expect(live).toContain('&lt;img src=x');
        expect(r.summary).toContain('@\u2060everyone');
        // The table keeps one row per violation: the CR did not start a new row.
        const rows = r.summary.split('\n').filter((l) => l.startsWith('| `infra-frozen`'));
        expect(rows).toHaveLength(2);
        expect(r.summary).not.toMatch(/^\| injected/m);
      } finally {
        await gh.stop();
      }
      const dx = GitFixture.create();
      try {
        const policy = 'version: 1\nlicenses:\n  - id: no-gpl\n    reason: GPL code cannot ship in our product\n    deny: [GPL-*]\n    mode: enforce\n';
        dx.commit('base', { 'policy/rules.yaml': policy, 'package.json': '{"name":"app"}\n', 'package-lock.json': '{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app"}}}\n' });
        dx.push('main');
        dx.branch('broken');
        const secret = ['ghp', 'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx'].join('_');
        dx.commit('broken lock', { 'package-lock.json': `{"name":"app","lockfileVersion":3,\n "token": ${secret},\n"packages":{}}\n` });
        const q = dx.pullRequest(45, 'main', 'broken');
        const r = await runAction({ actionDir, workspace: dx.checkoutLike(q.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 45, ...q }), with: { overrides: 'false' } });
        expect(r.conclusion).toBe('failure');
        expect(r.log).toMatch(/package-lock\.json:2:11: invalid JSON: unexpected character/);
        expect([r.log, r.summary, ...r.annotations.map((a) => a.message)].join('\n')).not.toContain(secret);
      } finally {
        dx.dispose();
      }
    });
  });

  test("the product plan's policy file, verbatim: infra/ blocks with its reason, server/ passes, a GPL dependency blocks; a notice points to migrate", async () => {
    const dx = GitFixture.create();
    try {
      const plan = readFileSync('policy/examples/seed-rules.yaml', 'utf8');
      const lock = (deps: Record<string, { version: string; license: string }>) => JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages: { '': { name: 'app', dependencies: Object.fromEntries(Object.keys(deps).map((d) => [d, '*'])) }, ...Object.fromEntries(Object.entries(deps).map(([n, v]) => [`node_modules/${n}`, { ...v, resolved: `https://registry.npmjs.org/${n}/-/${n}-${v.version}.tgz`, integrity: 'sha512-AAAA' }])) } }, null, 2);
      dx.commit('base', { 'policy/rules.yaml': plan, 'package.json': '{"name":"app"}\n', 'package-lock.json': lock({ lodash: { version: '4.17.21', license: 'MIT' } }), 'server/app.ts': 'a\n', 'infra/main.tf': 'a\n' });
      dx.push('main');
      dx.branch('change');
      dx.commit('touch infra, server and add a GPL dependency', {
        'infra/main.tf': 'b\n',
        'infra/new.tf': 'c\n',
        'server/app.ts': 'b\n',
        'package-lock.json': lock({ lodash: { version: '4.17.21', license: 'MIT' }, 'ffmpeg-static': { version: '5.2.0', license: 'GPL-3.0-or-later' }, 'node-forge': { version: '1.3.1', license: '(BSD-3-Clause OR GPL-2.0)' } }),
      });
      const p = dx.pullRequest(46, 'main', 'change');
      const r = await runAction({ actionDir, workspace: dx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 46, ...p }), with: { overrides: 'false' } });
      assertContract(r);
      expect(r.conclusion).toBe('failure');
      const v = json(r, 'decision').violations as Array<{ rule: string; subject: string; mode: string; reason: string }>;
      expect(v.map((d) => [d.rule, d.subject, d.mode, d.reason])).toEqual([
        ['deny-infra', 'infra/main.tf', 'enforce', 'Infra changes require human review.'],
        ['deny-infra', 'infra/new.tf', 'enforce', 'Infra changes require human review.'],
        ['deps-deny-gpl', 'ffmpeg-static@5.2.0', 'enforce', 'GPL-licensed deps violate distribution policy.'],
      ]);
      expect(r.annotations).toContainEqual(expect.objectContaining({ level: 'notice', message: expect.stringMatching(/policy\/rules\.yaml is in the product plan's format .* `maestro policy migrate policy\/rules\.yaml` writes the native format/) }));
      expect(r.log).toMatch(/policy: \/\.\*GPL\.\*\/i is applied to each licence id/);
    } finally {
      dx.dispose();
    }
  });
});

