import { expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';

test('the README demo (./dev up) runs the PR pipeline end to end with 0 spec violations', () => {
  const out = execFileSync(process.execPath, ['scripts/demo.mjs'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  expect(out).toContain('PR #1 comments: 1 (sticky: unchanged on run 2)');
  expect(out).toMatch(/cache entries: demo-cache-v1 \[refs\/pull\/1\/merge, \d+ B\]; run 2 cache-hit=true/);
  expect(out).toContain('OpenAPI violations: 0');
  expect(out).toMatch(/demo passed in [\d.]+ s/);
});
