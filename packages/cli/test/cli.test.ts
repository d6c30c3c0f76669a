import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
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
    const r = maestro('risk');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("maestro risk: not available in this version yet (it lands with the 'risk-score' action).");
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
      expect(t.stdout).toContain('(merge-base of HEAD with main)');
      expect(t.stdout).toContain('  b: depends on a (b → a): packages/a/src/x.ts changed');
      expect(t.stdout).toContain('3 task(s): a:build b:build b:test');
      const j = maestro('affected', '--cwd', fx.work, '--base', 'main', '--json', '--targets', 'build');
      const report = JSON.parse(j.stdout);
      expect(report.projects).toEqual(['a', 'b']);
      expect(report.tasks.map((x: { project: string; target: string }) => `${x.project}:${x.target}`)).toEqual(['a:build', 'b:build']);
      expect(report.base).toBe(fx.head('main'));
      const bad = maestro('affected', '--frobnicate');
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain("Unknown option '--frobnicate'");
    } finally {
      fx.dispose();
    }
  });
});
