import { describe, expect, test } from '@jest/globals';
import { ConfigError } from '@maestro/core';
import { evaluateLicences, evaluatePaths, explainPath, loadPolicy } from '../src/index.js';

const POLICY = `version: 1
mode: warn
paths:
  - id: infra-frozen
    reason: Infrastructure changes go through the platform team
    effect: deny
    paths: ["infra/**"]
    mode: enforce
  - id: infra-docs-open
    reason: Docs next to infra are free to edit
    effect: allow
    paths: ["infra/**/*.md"]
  - id: agents-no-workflows
    reason: Agents may not edit CI workflows
    effect: deny
    paths: [".github/workflows/**"]
    actors: [agent]
licenses:
  - id: no-strong-copyleft
    reason: Strong copyleft is incompatible with our distribution
    deny: [strong-copyleft]
    mode: enforce
`;

describe('policy DSL', () => {
  const policy = loadPolicy(POLICY);

  test('most specific rule wins; deny beats allow at equal specificity; dotfiles match; actors and modes', () => {
    const d = evaluatePaths(policy, [
      { path: 'infra/main.tf', action: 'write' },
      { path: 'infra/README.md', action: 'write' },
      { path: 'infra/.terraform.lock.hcl', action: 'write' },
      { path: 'src/app.ts', action: 'write' },
      { path: '.github/workflows/ci.yml', action: 'write' },
    ], 'human');
    expect(d.map((x) => [x.rule, x.subject, x.mode])).toEqual([
      ['infra-frozen', 'infra/main.tf', 'enforce'],
      ['infra-frozen', 'infra/.terraform.lock.hcl', 'enforce'],
    ]);
    expect(d[0]!.reason).toBe('Infrastructure changes go through the platform team');
    expect(evaluatePaths(policy, [{ path: '.github/workflows/ci.yml', action: 'write' }], 'agent')).toEqual([
      { rule: 'agents-no-workflows', reason: 'Agents may not edit CI workflows', mode: 'warn', subject: '.github/workflows/ci.yml', detail: 'agent may not write .github/workflows/ci.yml (matched .github/workflows/**)', file: '.github/workflows/ci.yml' },
    ]);
  });

  test('a rename out of a protected directory is judged on its old path too', () => {
    const d = evaluatePaths(policy, [{ path: 'legacy/main.tf', oldPath: 'infra/main.tf', action: 'rename' }], 'human');
    expect(d.map((x) => [x.rule, x.subject, x.detail])).toEqual([['infra-frozen', 'infra/main.tf', 'human may not rename infra/main.tf (matched infra/**)']]);
  });

  test('licence rules: every block carries its rule id and reason', () => {
    const d = evaluateLicences(policy, [
      { name: 'left-pad', version: '1.3.0', license: 'WTFPL' },
      { name: 'dual', version: '2.0.0', license: 'MIT OR GPL-3.0-or-later' },
      { name: 'gpl-lib', version: '1.0.0', license: 'GPL-3.0-only' },
      { name: 'closed', version: '0.1.0', license: 'UNLICENSED' },
      { name: 'weird', version: '0.0.1', license: 'Apache 2' },
    ]);
    expect(d.map((x) => [x.subject, x.rule, x.mode, x.detail])).toEqual([
      ['gpl-lib@1.0.0', 'no-strong-copyleft', 'enforce', 'every alternative includes a denied licence (GPL-3.0-only)'],
      ['closed@0.1.0', 'no-strong-copyleft', 'enforce', 'UNLICENSED means proprietary, not "The Unlicense"'],
      ['weird@0.0.1', 'no-strong-copyleft', 'enforce', "licence 'Apache 2' is not a valid SPDX expression"],
    ]);
  });

  test('security thresholds count findings in the changed files only; model budgets cap spend', async () => {
    const { evaluateFindings, evaluateModelBudget } = await import('../src/index.js');
    const p = loadPolicy(`version: 1\nsecurity:\n  - id: no-high\n    reason: High findings must be fixed before merge\n    max-severity: high\n    mode: enforce\nmodels:\n  max-usd-per-pr: 3.0\n  max-prompt-tokens: 60000\n`);
    const findings = [
      { tool: 'CodeQL', rule: 'js/sql-injection', severity: 'high' as const, file: 'src/db.ts', line: 12, message: 'query built from user input' },
      { tool: 'Semgrep', rule: 'eval', severity: 'critical' as const, file: 'src/old.ts', message: 'eval' },
      { tool: 'Semgrep', rule: 'style', severity: 'low' as const, file: 'src/db.ts', message: 'nit' },
    ];
    expect(evaluateFindings(p, findings, ['src/db.ts'])).toEqual([
      { rule: 'no-high', reason: 'High findings must be fixed before merge', mode: 'enforce', subject: 'src/db.ts:12', detail: 'CodeQL js/sql-injection (high): query built from user input', file: 'src/db.ts', line: 12 },
    ]);
    expect(evaluateModelBudget(p, { usd: 3.4, promptTokens: 1000 }).map((d) => d.detail)).toEqual(['spent $3.40 of $3.00 per pull request']);
    expect(evaluateModelBudget(p, { usd: 1, promptTokens: 70000 })[0]!.rule).toBe('model-budget');
  });

  test('explain shows the winning rule per action and actor', () => {
    const rows = explainPath(policy, 'infra/README.md');
    expect(rows.find((r) => r.action === 'write' && r.actor === 'human')).toMatchObject({ effect: 'allow', rule: 'infra-docs-open', glob: 'infra/**/*.md' });
    expect(rows.find((r) => r.action === 'read' && r.actor === 'human')).toEqual({ action: 'read', actor: 'human', effect: 'default-allow' });
  });

  test('malformed policies fail closed with the exact location; unknown keys and missing reasons are rejected', () => {
    const at = (src: string) => {
      try {
        loadPolicy(src);
        return undefined;
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return [(e as ConfigError).line, (e as ConfigError).message];
      }
    };
    expect(at('version: 1\npaths:\n  - id: x\n    reason: because\n    effect: deny\n    paths: ["a/**"]\n    mdoe: enforce\n')).toEqual([7, expect.stringMatching(/mdoe/)]);
    expect(at('version: 1\npaths:\n  - id: x\n    reason: ""\n    effect: deny\n    paths: ["a/**"]\n')![1]).toMatch(/say why/);
    expect(at('version: 1\npaths: [\n')![0]).toBeGreaterThanOrEqual(2);
    expect(at('version: 1\npaths:\n  - {id: a, reason: one, effect: deny, paths: [x]}\n  - {id: a, reason: two, effect: deny, paths: [y]}\n')![1]).toMatch(/rule id 'a' is used twice/);
  });
});

describe('overrides', () => {
  const HEAD = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
  test('parsed from a comment, applied only with write access, for the head commit and before expiry, every one audited', async () => {
    const { parseOverride, applyOverrides } = await import('../src/index.js');
    const meta = (by: string, id: number) => ({ by, at: '2026-11-20T10:00:00Z', commentId: id });
    const ok = parseOverride('LGTM\n/maestro override infra-frozen sha: 1a2b3c4 reason: hotfix for outage INC-42 expires: 2026-12-01', meta('lead', 1))!;
    expect(ok).toEqual({ rule: 'infra-frozen', sha: '1a2b3c4', reason: 'hotfix for outage INC-42', expires: '2026-12-01T23:59:59.000Z', by: 'lead', at: '2026-11-20T10:00:00Z', commentId: 1 });
    const defaulted = parseOverride('/maestro override no-high sha: 1a2b3c4d5e6f reason: false positive', meta('lead', 2))!;
    expect(defaulted.expires).toBe('2026-11-27T10:00:00.000Z');
    expect(parseOverride('/maestro override', meta('x', 3))).toBeUndefined();
    const refused = parseOverride('/maestro override infra-frozen sha: 1a2b3c4 reason: I want to', meta('drive-by', 4))!;
    const decisions = [{ rule: 'infra-frozen', reason: 'Infra goes through the platform team', mode: 'enforce' as const, subject: 'infra/a.tf', detail: 'human may not write infra/a.tf' }];
    const perms = new Map([['lead', true], ['drive-by', false], ['author', true]]);
    const ctx = { head: HEAD, author: 'author' };
    const r = applyOverrides(decisions, [refused, ok, defaulted], perms, new Date('2026-11-28T00:00:00Z'), ctx);
    expect(r.decisions[0]).toMatchObject({ mode: 'observe', detail: 'human may not write infra/a.tf — overridden by @lead: hotfix for outage INC-42' });
    expect(r.audit.map((a) => [a.rule, a.by, a.status])).toEqual([['infra-frozen', 'drive-by', 'refused'], ['infra-frozen', 'lead', 'applied'], ['no-high', 'lead', 'expired']]);
    const later = applyOverrides(decisions, [ok], perms, new Date('2026-12-02T00:00:00Z'), ctx);
    expect(later.decisions[0]!.mode).toBe('enforce');
    expect(later.audit[0]!.status).toBe('expired');
  });

  test('bound to the head: another commit, no sha, the author on their own PR (unless allowed), a label older than the push', async () => {
    const { parseOverride, applyOverrides } = await import('../src/index.js');
    const at = '2026-11-20T10:00:00Z';
    const decisions = [{ rule: 'infra-frozen', reason: 'r', mode: 'enforce' as const, subject: 'infra/a.tf', detail: 'd' }];
    const perms = new Map([['lead', true], ['author', true]]);
    const now = new Date('2026-11-21T00:00:00Z');
    const notes = (reqs: Parameters<typeof applyOverrides>[1], ctx: Parameters<typeof applyOverrides>[4]) => applyOverrides(decisions, reqs, perms, now, ctx).audit.map((a) => `${a.status}: ${a.note}`);
    const oldCommit = parseOverride('/maestro override infra-frozen sha: 9999999 reason: was fine', { by: 'lead', at, commentId: 1 })!;
    expect(notes([oldCommit], { head: HEAD })).toEqual(['refused: given for commit 9999999, not the head 1a2b3c4d5e6f; a new push needs a new override']);
    const unbound = parseOverride('/maestro override infra-frozen reason: fine', { by: 'lead', at, commentId: 2 })!;
    expect(notes([unbound], { head: HEAD })[0]).toMatch(/^refused: not bound to a commit: name the head, e\.g\. `\/maestro override infra-frozen sha: 1a2b3c4d5e6f reason: <why>`/);
    const self = parseOverride('/maestro override infra-frozen sha: 1a2b3c4 reason: trust me', { by: 'author', at, commentId: 3 })!;
    expect(notes([self], { head: HEAD, author: 'Author' })[0]).toMatch(/^refused: author is the pull request's author/);
    expect(notes([self], { head: HEAD, author: 'author', allowSelf: true })[0]).toMatch(/^applied/);
    const label = { ...parseOverride('/maestro override infra-frozen reason: label', { by: 'lead', at: '2026-11-20T10:00:00Z', commentId: 4 })!, via: 'label' as const };
    expect(notes([label], { head: HEAD, headPushedAt: '2026-11-20T11:00:00Z' })[0]).toMatch(/^refused: the label was added before the head 1a2b3c4d5e6f was pushed/);
    expect(notes([label], { head: HEAD, headPushedAt: '2026-11-20T09:00:00Z' })[0]).toMatch(/^applied: until .* for 1a2b3c4d5e6f$/);
    expect(notes([label], { head: HEAD, headPushedUnknown: 'no checks: read' })[0]).toMatch(/^refused: cannot tell whether the label came after the head was pushed \(no checks: read\)/);
  });
});
