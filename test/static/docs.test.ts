import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { readFileSync } from 'node:fs';
// @ts-expect-error -- plain ESM script without types
import { renderApi, updateReadme } from '../../scripts/gen-docs.mjs';

describe('README API tables generated from action.yml', () => {
  test('every action README is up to date (CI fails on drift)', () => {
    const out = execFileSync(process.execPath, [path.resolve('scripts/gen-docs.mjs'), '--check'], { encoding: 'utf8' });
    expect(out).toContain('up to date');
  });

  test('drift is detected and the block is replaced in place, leaving the rest of the README alone', () => {
    const meta = { name: 'x', description: 'd', inputs: { 'max-shards': { description: 'How | many', required: true } }, outputs: { matrix: { description: 'JSON' } } };
    const fresh = updateReadme('# x\n\nintro\n', meta);
    expect(fresh).toContain('| `max-shards` | yes |  | How \\| many |');
    expect(updateReadme(fresh, meta)).toBe(fresh);
    const changed = { ...meta, inputs: { ...meta.inputs, mode: { description: 'm', default: 'warn' } } };
    const next = updateReadme(`${fresh}\n## Later section\n`, changed);
    expect(next).not.toBe(fresh);
    expect(next).toContain('| `mode` | no | `warn` | m |');
    expect(next.startsWith('# x\n\nintro\n')).toBe(true);
    expect(next.endsWith('## Later section\n')).toBe(true);
    expect(renderApi({ name: 'n', description: 'd' })).toContain('_none_');
    // A README written with its own `## API` heading (and no block yet) keeps exactly one heading.
    expect(updateReadme('# x\n\nintro\n\n## API\n', meta).match(/^## API$/gm)).toHaveLength(1);
    for (const dir of ['affected', 'allocate-shards', 'health-comment', 'policy-gate', 'risk-score']) {
      expect(readFileSync(path.resolve('actions', dir, 'README.md'), 'utf8').match(/^## API$/gm)).toHaveLength(1);
    }
  });
});
