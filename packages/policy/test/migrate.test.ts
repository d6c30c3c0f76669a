import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ACTIONS, ACTORS, evaluateLicences, evaluateModelBudget, evaluatePaths, explainPath, loadPolicy, type Action, type Policy } from '../src/index.js';
import { migrateSeedPolicy, regexToIds } from '../src/migrate.js';

/** The plan's policy file, verbatim (policy/examples/seed-rules.yaml is the plan's text). */
const PLAN = readFileSync('policy/examples/seed-rules.yaml', 'utf8');

describe("the plan's policy format, read as written", () => {
  test('the file from the plan loads as is: deny wins with its reason, `write` covers every change, allow never grants past a deny, the rest is allowed', () => {
    const p = loadPolicy(PLAN, 'policy/rules.yaml');
    expect(p.format).toBe('plan');
    expect(p.precedence).toBe('deny-wins');
    const d = evaluatePaths(p, [
      { path: 'infra/main.tf', action: 'write' },
      { path: 'infra/new.tf', action: 'create' },
      { path: 'infra/old.tf', action: 'delete' },
      { path: 'server/app.ts', action: 'write' },
      { path: 'README.md', action: 'write' },
    ], 'human');
    expect(d.map((x) => [x.rule, x.subject, x.mode, x.reason])).toEqual([
      ['deny-infra', 'infra/main.tf', 'enforce', 'Infra changes require human review.'],
      ['deny-infra', 'infra/new.tf', 'enforce', 'Infra changes require human review.'],
      ['deny-infra', 'infra/old.tf', 'enforce', 'Infra changes require human review.'],
    ]);
    // Every actor (the plan has none): agents and bots are judged the same way.
    expect(evaluatePaths(p, [{ path: 'infra/x', action: 'write' }], 'agent')).toHaveLength(1);
    // The models caps are the native models section (agent-step's budget).
    expect(p.models).toMatchObject({ 'max-usd-per-pr': 3, 'max-prompt-tokens': 60000 });
    expect(evaluateModelBudget(p, { usd: 3.5, promptTokens: 10 })[0]!.detail).toBe('spent $3.50 of $3.00 per pull request');
  });

  test('deny wins over a more specific allow (first matching deny gives the reason); most-specific is the native default', () => {
    const src = "allow:\n  - path: 'infra/docs/**'\n    actions: ['write']\ndeny:\n  - path: '**/*.tf'\n    reason: 'Terraform is reviewed'\n  - path: 'infra/**'\n    reason: 'Infra is frozen'\n";
    const p = loadPolicy(src);
    expect(evaluatePaths(p, [{ path: 'infra/docs/readme.tf', action: 'write' }], 'human').map((x) => x.reason)).toEqual(['Terraform is reviewed']);
    expect(evaluatePaths(p, [{ path: 'infra/docs/readme.md', action: 'write' }], 'human').map((x) => x.reason)).toEqual(['Infra is frozen']);
    expect(explainPath(p, 'infra/docs/readme.md').find((r) => r.action === 'write' && r.actor === 'human')).toMatchObject({ effect: 'deny', rule: 'deny-infra' });
  });

  test('deps.deny /.*GPL.*/i is applied per licence id and OR alternative; a package whose licence cannot be found is not waved through', () => {
    const p = loadPolicy(PLAN);
    const denied = (license: string | null) => evaluateLicences(p, [{ name: 'x', version: '1', license }]).length > 0;
    expect(denied('GPL-3.0-only')).toBe(true);
    expect(denied('MIT AND GPL-2.0-only')).toBe(true);
    expect(denied('LGPL-2.1-or-later')).toBe(true);
    expect(denied('MIT OR GPL-3.0-or-later')).toBe(false);
    expect(denied('MIT')).toBe(false);
    // No licence found at all (pnpm lockfile, nothing installed): not waved through.
    expect(denied(null)).toBe(true);
    expect(evaluateLicences(p, [{ name: 'x', version: '1', license: null, licenseSource: 'none' }])[0]!.detail).toMatch(/no licence found, so it cannot be judged; no licence found: install dependencies/);
    // Not SPDX, so judged as text by the regex, as the plan's file means it.
    expect(denied('GPLv3')).toBe(true);
    expect(denied('SEE LICENSE IN LICENSE.md')).toBe(false);
    expect(evaluateLicences(p, [{ name: 'ffmpeg-static', version: '5.2.0', license: 'GPL-3.0-or-later' }])[0]).toMatchObject({ rule: 'deps-deny-gpl', reason: 'GPL-licensed deps violate distribution policy.', mode: 'enforce' });
  });

  test('a deny without a reason is refused at its line; unknown keys are located; a native file is untouched', () => {
    expect(() => loadPolicy("deny:\n  - path: 'secrets/**'\n", 'p.yaml')).toThrow(/a deny entry needs a `reason`/);
    try {
      loadPolicy("deny:\n  - path: 'a/**'\n    reason: 'because'\n    actors: [agent]\n", 'p.yaml');
    } catch (e) {
      expect((e as { line?: number }).line).toBe(4);
    }
    expect(loadPolicy('version: 1\npaths: []\n').format).toBeUndefined();
  });
});

describe('maestro policy migrate', () => {
  test('writes the native format that makes the same decisions as the plan\'s file, on a corpus of changes, actors and licences', () => {
    const direct = loadPolicy(PLAN);
    const { yaml, notes } = migrateSeedPolicy(PLAN, 'policy/rules.yaml');
    const migrated = loadPolicy(yaml);
    expect(migrated.format).toBeUndefined();
    expect(yaml.startsWith("# Migrated from the plan's format")).toBe(true);
    expect(notes.join('\n')).toMatch(/\/GPL\/ catches LGPL and AGPL too/);
    const paths = ['infra/main.tf', 'infra/a/.env', 'infra', 'server/app.ts', 'server/infra/x.tf', 'README.md', '.github/workflows/ci.yml', 'infra/deep/er/x.yaml', 'INFRA/x.tf'];
    const judge = (p: Policy) => {
      const out: string[] = [];
      for (const actor of ACTORS) for (const action of ACTIONS as readonly Action[]) for (const d of evaluatePaths(p, paths.map((path) => ({ path, action })), actor)) out.push(`${actor} ${action} ${d.subject} ${d.rule} ${d.mode} ${d.reason}`);
      return out;
    };
    expect(judge(migrated)).toEqual(judge(direct));
    expect(judge(direct).length).toBeGreaterThan(0);
    const licences = ['GPL-3.0-only', 'MIT', 'MIT OR GPL-2.0-or-later', 'MIT AND LGPL-3.0-only', 'AGPL-3.0-or-later', 'Apache-2.0 WITH LLVM-exception', 'UNLICENSED', 'SEE LICENSE IN LICENSE.md', 'GPLv3', null];
    const lic = (p: Policy) => licences.map((l) => evaluateLicences(p, [{ name: 'x', version: '1', license: l }]).map((d) => `${d.rule} ${d.mode} ${d.reason}`));
    expect(lic(migrated)).toEqual(lic(direct));
    expect(migrated.models).toEqual(direct.models);
  });

  test('regexToIds compresses whole families and lists partial matches exactly', () => {
    expect(regexToIds(/^GPL-2\.0/).patterns).toEqual(['GPL-2.0', 'GPL-2.0-only', 'GPL-2.0-or-later', 'GPL-2.0-with-GCC-exception', 'GPL-2.0-with-autoconf-exception', 'GPL-2.0-with-bison-exception', 'GPL-2.0-with-classpath-exception', 'GPL-2.0-with-font-exception']);
    expect(regexToIds(/^MIT$/).patterns).toEqual(['MIT']);
    expect(regexToIds(/nothing-like-this/).patterns).toEqual([]);
  });

  test('a versioned policy is not migrated; a file in neither format says what the plan\'s format is', () => {
    expect(() => migrateSeedPolicy('version: 1\n')).toThrow(/already has a `version`/);
    expect(() => migrateSeedPolicy('rules:\n  - deny: ["a"]\n')).toThrow(/not the plan's policy format/);
  });
});
