import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { evaluateLicences, evaluateModelBudget, evaluatePaths, loadPolicy } from '../src/index.js';
import { migrateSeedPolicy, regexToIds } from '../src/migrate.js';

const SEED = readFileSync('policy/examples/seed-rules.yaml', 'utf8');

describe('migrating the seed example', () => {
  test('policy-gate refuses the seed format and names the command that migrates it', () => {
    expect(() => loadPolicy(SEED, 'policy/rules.yaml')).toThrow(/seed example format/);
    try {
      loadPolicy(SEED, 'policy/rules.yaml');
    } catch (e) {
      expect((e as { fix?: string }).fix).toMatch(/maestro policy migrate policy\/rules.yaml/);
    }
  });

  test('the migrated policy loads, starts in observe mode, and keeps the path rules, reasons and budgets', () => {
    const { yaml, notes } = migrateSeedPolicy(SEED, 'policy/examples/seed-rules.yaml');
    const p = loadPolicy(yaml);
    expect(p.mode).toBe('observe');
    expect(p.paths.map((r) => [r.id, r.effect, r.paths])).toEqual([
      ['infra-needs-review', 'deny', ['infra/**', '.github/workflows/**']],
      ['agents-stay-in-src', 'deny', ['**']],
      ['agents-src-ok', 'allow', ['src/**', 'test/**']],
    ]);
    expect(p.models).toMatchObject({ 'max-usd-per-pr': 3, 'max-prompt-tokens': 60000 });
    expect(evaluateModelBudget(p, { usd: 3.5, promptTokens: 10 })[0]!.detail).toBe('spent $3.50 of $3.00 per pull request');
    // Precedence carries over: the more specific allow wins for agents in src/, the catch-all deny elsewhere.
    expect(evaluatePaths(p, [{ path: 'src/a.ts', action: 'write' }, { path: 'README.md', action: 'write' }], 'agent').map((d) => d.subject)).toEqual(['README.md']);
    expect(evaluatePaths(p, [{ path: '.github/workflows/ci.yml', action: 'write' }], 'human').map((d) => d.rule)).toEqual(['infra-needs-review']);
    expect(notes.join('\n')).toMatch(/starts in `mode: observe`/);
    expect(yaml.startsWith('# Migrated from the seed format')).toBe(true);
  });

  test('the GPL regex becomes SPDX id patterns judged per alternative, and the note says it caught LGPL and AGPL too', () => {
    const { yaml, notes } = migrateSeedPolicy(SEED);
    const p = loadPolicy(yaml);
    expect(p.licenses[0]!.deny).toEqual(expect.arrayContaining(['AGPL-*', 'GPL-*', 'LGPL-*']));
    expect(p.licenses[0]!.reason).toBe('Copyleft licences are not allowed in the product');
    const verdict = (license: string) => evaluateLicences(p, [{ name: 'x', version: '1', license }]).length === 0;
    // The seed regex over the whole string denied all of these; per clause only the last two are denied.
    expect(verdict('MIT OR GPL-3.0-or-later')).toBe(true);
    expect(verdict('(BSD-3-Clause OR GPL-2.0)')).toBe(true);
    expect(verdict('MIT AND GPL-2.0-only')).toBe(false);
    expect(verdict('LGPL-2.1-or-later')).toBe(false);
    expect(verdict('MIT')).toBe(true);
    expect(notes.join('\n')).toMatch(/caught \d+ families; drop any you did not mean \(LGPL and AGPL are matched by \/GPL\/ too\)/);
  });

  test('regexToIds compresses whole families and lists partial matches exactly', () => {
    expect(regexToIds(/^GPL-2\.0/).patterns).toEqual(['GPL-2.0', 'GPL-2.0-only', 'GPL-2.0-or-later', 'GPL-2.0-with-GCC-exception', 'GPL-2.0-with-autoconf-exception', 'GPL-2.0-with-bison-exception', 'GPL-2.0-with-classpath-exception', 'GPL-2.0-with-font-exception']);
    expect(regexToIds(/^MIT$/).patterns).toEqual(['MIT']);
    expect(regexToIds(/nothing-like-this/).patterns).toEqual([]);
  });

  test('missing reasons are filled with a placeholder and listed; a versioned policy is not migrated; bad seed keys are located', () => {
    const { notes } = migrateSeedPolicy('rules:\n  - deny: ["secrets/**"]\n');
    expect(notes[0]).toMatch(/rule deny-secrets had no reason; write one/);
    expect(() => migrateSeedPolicy('version: 1\n')).toThrow(/already has a `version`/);
    expect(() => migrateSeedPolicy('rules:\n  - deny: ["a"]\n    acts: [write]\n')).toThrow(/acts/);
  });
});
