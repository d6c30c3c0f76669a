import { expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

test('the README demo (./dev up) runs the PR pipeline end to end: one comment created, updated, then left alone; 0 spec violations', () => {
  const out = execFileSync(process.execPath, ['scripts/demo.mjs'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  expect(out).toContain('PR #1 comments: 1 (health: created on run 1, updated on run 2, unchanged on run 3)');
  expect(out).toContain('## Maestro health: ⚠️ needs attention');
  expect(out).toMatch(/\| ⚠️ \| Policy \| warn: money-math \|/);
  expect(out).toContain('OpenAPI violations: 0');
  expect(out).toMatch(/demo passed in [\d.]+ s/);
  expect(readFileSync('.maestro-demo/summary.md', 'utf8')).toContain('## Maestro health');
});
