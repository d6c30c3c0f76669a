import { beforeAll, describe, expect, test } from '@jest/globals';
import { Minimatch } from 'minimatch';
import { compileGlob, DEFAULT_TEST_INPUTS, expandBraces, loadGlobEngine, needsGlobEngine, PRODUCTION_INPUTS } from '../src/index.js';
import { DEFAULT_TEST_GLOBS } from '../src/imports.js';

const PATHS = [
  'a', 'a.md', '.hidden', 'src/index.ts', 'src/.env', 'src/a/b/c.test.ts', 'test/index.test.ts', 'docs/x.ts', 'a/docs/x.md',
  'README.md', 'LICENSE', 'LICENSE.txt', 'CHANGELOG.md', 'packages/a', 'packages/a/b', 'packages/.x', 'x/packages/a', '__tests__/a.js',
  'deep/a/__mocks__/m.ts', 'src/x.spec.tsx', 'src/x.stories.mdx', 'tools/gen.mjs', 'tools', 'dist/index.js', 'a/dist/index.js', 'ümlaut/ñ.ts', 'sp ace/f.ts',
];
const PATTERNS = [
  ...new Set([...DEFAULT_TEST_INPUTS, ...PRODUCTION_INPUTS, ...DEFAULT_TEST_GLOBS].map((p) => p.replace(/^!/, ''))),
  'packages/*', 'packages/**', 'tools/**', 'src/*.{ts,mjs}', '{src,test}/**', 'src/[ab]*.ts', 'src/{a,{b,c}}/*', '!(dist)/**', '*.md', '**', '*', 'src/**/*.ts', 'a?', 'dist/**', '**/dist/**', 'x/**/a', 'ümlaut/*.ts', 'sp ace/*',
];

beforeAll(() => loadGlobEngine(PATTERNS));

describe('compileGlob agrees with minimatch {dot: true}', () => {
  test('braces are expanded without minimatch; classes, extglobs and nested braces need it', () => {
    expect(expandBraces('a/{b,c}/*.{ts,js}')).toEqual(['a/b/*.ts', 'a/b/*.js', 'a/c/*.ts', 'a/c/*.js']);
    expect(['**/*.{test,spec}.ts', 'packages/*', 'src/[ab].ts', '!(dist)/**', 'a/{b,{c,d}}'].map(needsGlobEngine)).toEqual([false, false, true, true, true]);
  });

  test.each(PATTERNS)('%s', (pattern) => {
    const mm = new Minimatch(pattern, { dot: true });
    const g = compileGlob(pattern);
    for (const p of PATHS) expect([p, g.test(p)]).toEqual([p, mm.match(p)]);
  });
});
