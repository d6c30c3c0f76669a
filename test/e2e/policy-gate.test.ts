import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
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
    expect(r.summary).toContain('**block** — 2 violation(s) of policy/rules.yaml (from the base commit');
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
    expect(json(r, 'decision').violations).toEqual([{ rule: 'no-high', reason: 'High findings must be fixed before merge', mode: 'enforce', subject: 'src/db.ts:1', detail: 'CodeQL js/sql-injection (high): query built from user input' }]);
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
      await say('driveby', '/maestro override infra-frozen reason: looks fine to me');
      await say('lead', '/maestro override infra-frozen reason: outage hotfix INC-42 expires: 2099-01-01');
      const r = await runAction({ actionDir, workspace: fx.checkoutLike(p.merge, { depth: 1 }), event: pullRequestEvent({ repo: REPO, number: 6, ...p }), token, apiUrl: gh.url });
      assertContract(r);
      expect(r.conclusion).toBe('success');
      expect(r.outputs['outcome']).toBe('pass');
      expect(json(r, 'audit').map((a: { by: string; status: string; reason: string }) => [a.by, a.status, a.reason])).toEqual([
        ['driveby', 'refused', 'looks fine to me'],
        ['lead', 'applied', 'outage hotfix INC-42'],
      ]);
      expect(json(r, 'decision').violations[0]).toMatchObject({ rule: 'infra-frozen', mode: 'observe' });
      expect(r.summary).toContain('Overrides: `infra-frozen` by @driveby: refused');
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
});
