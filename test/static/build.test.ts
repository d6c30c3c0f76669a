import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitFixture, pushEvent, runAction } from '@maestro/harness';

// @ts-expect-error -- plain ESM script without types
import { actionDirs as listActionDirs, root } from '../../scripts/actions.mjs';

const actionDirs: string[] = listActionDirs();

function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

describe('bundles', () => {
  test('the build is deterministic: two builds give the same bytes, equal to the dist under test', () => {
    const a = mkdtempSync(path.join(tmpdir(), 'build-a-'));
    const b = mkdtempSync(path.join(tmpdir(), 'build-b-'));
    execFileSync(process.execPath, ['scripts/build.mjs', 'hello', '--out', a], { cwd: root });
    execFileSync(process.execPath, ['scripts/build.mjs', 'hello', '--out', b], { cwd: root });
    const ha = hashTree(path.join(a, 'test/actions/hello/dist'));
    const hb = hashTree(path.join(b, 'test/actions/hello/dist'));
    expect(Object.keys(ha).length).toBeGreaterThan(3);
    expect(hb).toEqual(ha);
    expect(hashTree(path.join(root, 'test/actions/hello/dist'))).toEqual(ha);
  });

  test.each(actionDirs.map((d) => [path.relative(root, d), d]))('%s: the main bundle starts under Node 24 and fails cleanly without inputs', async (_n, dir) => {
    const fx = GitFixture.create();
    const sha = fx.commit('init', { 'a.txt': 'a\n' });
    const r = await runAction({ actionDir: dir, event: pushEvent({ repo: { owner: 'o', name: 'r' }, before: '0'.repeat(40), after: sha }), workspace: fx.work, stages: ['main'] });
    fx.dispose();
    // A bundle that cannot start dies with a module/syntax error and no ::error:: line of ours.
    expect(r.log).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find module|SyntaxError|ERR_REQUIRE_ESM/);
    const errors = r.annotations.filter((a) => a.level === 'error').map((a) => a.message);
    if (r.conclusion === 'failure') expect(errors.length).toBe(1);
    expect(r.stages[0]!.exitCode).toBe(r.conclusion === 'success' ? 0 : 1);
    if (process.env['CI'] || existsSync(path.join(root, '.tools/node24'))) expect(r.nodeVersion).toMatch(/^v24\./);
  });
});
