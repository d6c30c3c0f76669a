import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { GitFixture } from '@maestro/harness';
import { ConfigError, diffFiles, ensureCommit, hasCommit, isAncestor, isShallow, mergeBase, parseNameStatus, touchedPaths } from '../src/index.js';

let fx: GitFixture;
let base: string;
let head: string;

beforeAll(() => {
  fx = GitFixture.create();
  fx.commit('c1', { 'infra/main.tf': 'a\n', 'docs/ü ber.md': 'x\n', 'src/old-name.ts': 'export const long = "' + 'x'.repeat(200) + '";\n', 'gone.txt': 'bye\n' });
  for (let i = 0; i < 5; i++) fx.commit(`main ${i}`, { [`m${i}.txt`]: `${i}\n` });
  base = fx.head();
  fx.push('main');
  fx.branch('feature');
  fx.commit('rename + delete + unicode', { 'src/new-name.ts': { renameFrom: 'src/old-name.ts' }, 'gone.txt': null, 'docs/ü ber.md': 'y\n', 'новый.txt': 'new\n' });
  head = fx.head();
  fx.push('feature');
});

afterAll(() => fx.dispose());

describe('diffFiles', () => {
  test('renames (both paths), deletions and unicode paths arrive verbatim', async () => {
    const changes = await diffFiles(base, head, { cwd: fx.work });
    expect(changes).toEqual(
      expect.arrayContaining([
        { status: 'renamed', path: 'src/new-name.ts', oldPath: 'src/old-name.ts', similarity: 100 },
        { status: 'deleted', path: 'gone.txt' },
        { status: 'modified', path: 'docs/ü ber.md' },
        { status: 'added', path: 'новый.txt' },
      ]),
    );
    expect(changes).toHaveLength(4);
    expect(touchedPaths(changes).sort()).toEqual(['docs/ü ber.md', 'gone.txt', 'src/new-name.ts', 'src/old-name.ts', 'новый.txt'].sort());
  });

  test('without rename detection a rename is a delete plus an add', async () => {
    const changes = await diffFiles(base, head, { cwd: fx.work, renames: false });
    expect(changes.filter((c) => c.path.startsWith('src/')).map((c) => c.status).sort()).toEqual(['added', 'deleted']);
  });

  test('parseNameStatus rejects unknown status letters', () => {
    expect(() => parseNameStatus('X\0a\0')).toThrow(/unexpected git status/);
  });
});

describe('shallow clones', () => {
  test('ensureCommit fetches just a missing base commit; mergeBase deepens until found', async () => {
    const ws = fx.checkoutLike(head, { depth: 1 });
    expect(await isShallow({ cwd: ws })).toBe(true);
    expect(await hasCommit(base, { cwd: ws })).toBe(false);
    expect(await ensureCommit(base, { cwd: ws })).toBe('fetched');
    expect(await hasCommit(base, { cwd: ws })).toBe(true);
    expect(await ensureCommit(base, { cwd: ws })).toBe('present');
    expect(await mergeBase(base, head, { cwd: ws })).toBe(base);
    expect(await isAncestor(base, head, { cwd: ws })).toBe(true);
    expect(await isAncestor(head, base, { cwd: ws })).toBe(false);
    const changes = await diffFiles(base, head, { cwd: ws });
    expect(changes).toHaveLength(4);
  });

  test('a commit that does not exist on the remote is a ConfigError with a fix, not a git crash', async () => {
    const ws = fx.checkoutLike(head, { depth: 1 });
    const err = await ensureCommit('0123456789abcdef0123456789abcdef01234567', { cwd: ws }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).format()).toMatch(/^git checkout: commit 0123456789ab.* is not in this clone and could not be fetched from 'origin': .*not our ref.* Fix: use actions\/checkout with `fetch-depth: 0`/);
  });
});

describe('unquoteGitPath', () => {
  test('C-quoted paths: escapes and octal UTF-8 bytes; plain paths unchanged', async () => {
    const { unquoteGitPath } = await import('../src/index.js');
    expect(unquoteGitPath('"b/src/we\\"ird\\\\name\\t.ts"')).toBe('b/src/we"ird\\name\t.ts');
    expect(unquoteGitPath('"b/\\303\\274ber.ts"')).toBe('b/über.ts');
    expect(unquoteGitPath('b/plain path.ts')).toBe('b/plain path.ts');
  });
});

describe('walkUnifiedDiff', () => {
  test('old-side line numbers and paths; a removed line "-- a/x" is content, not a header', async () => {
    const { walkUnifiedDiff } = await import('../src/git.js');
    const diff = ['diff --git a/src/x.ts b/src/x.ts', '--- a/src/x.ts', '+++ b/src/x.ts', '@@ -3,2 +3,1 @@', '--- a/other.ts', '-const b = 2;', '+const c = 3;', ''].join('\n');
    const seen: string[] = [];
    walkUnifiedDiff(diff, (file, kind, line, old) => seen.push(`${kind} ${file} ${line} ${old.path}:${old.line}`));
    expect(seen).toEqual(['- src/x.ts 0 src/x.ts:3', '- src/x.ts 0 src/x.ts:4', '+ src/x.ts 3 src/x.ts:5']);
  });
});

