import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

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
    const r = maestro('affected');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("maestro affected: not available in this version yet (it lands with the 'affected' action).");
  });
});
