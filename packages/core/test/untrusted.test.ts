import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../src/errors.js';
import { outputPathInWorkspace, readInputFile } from '../src/files.js';
import { cell, mdCode, mdText, table } from '../src/markdown.js';
import { neutralizeCommands } from '../src/runner.js';

const tmp: string[] = [];
const dir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'untrusted-'));
  tmp.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

describe('log text cannot issue workflow commands', () => {
  test('CR, CRLF and leading white space (NEL included) before :: are neutralised; ordinary text is unchanged', () => {
    expect(neutralizeCommands('3 files changed')).toBe('3 files changed');
    const out = neutralizeCommands('path a\r::add-mask::x\n  ::error::y\n\u0085::warning::z\r\nok :: fine');
    const lines = out.split('\n');
    expect(lines).toEqual(['path a', '\u200b::add-mask::x', '\u200b  ::error::y', '\u200b\u0085::warning::z', 'ok :: fine']);
    // What the runner would do with each line: trim .NET white space, then look for "::".
    for (const l of lines) expect(/^[\s\u0085]*::/.test(l)).toBe(false);
    // The legacy form runs anywhere in a line.
    expect(neutralizeCommands('src/##[add-mask]x changed')).toBe('src/##\u200b[add-mask]x changed');
  });
});

describe('markdown escaping by context', () => {
  const hostile = 'src/x\r| <img src=x onerror=alert(1)> @octocat #12 [link](http://e) `code` ![i](x)\u2028</details>';
  test('mdText: no line break of any kind, no HTML, no mentions, no references, no links', () => {
    const t = mdText(hostile);
    expect(t).not.toMatch(/[\r\n\u2028]/);
    expect(t).not.toMatch(/<img|<\/details>/);
    expect(t).toContain('@\u2060octocat');
    expect(t).toContain('#\u206012');
    expect(t).toContain('\\[link\\]');
    expect(t).toContain('\\|');
    expect(t).toContain('\\!');
    // Bare URLs and www. names would be autolinked.
    expect(mdText('see https://evil.example and www.evil.example')).toBe('see https\u2060://evil.example and www\u2060.evil.example');
  });
  test('mdCode: backticks cannot close the span, a pipe cannot split a table cell, CR cannot end the row', () => {
    expect(mdCode('a`b')).toBe('`` a`b ``');
    expect(mdCode('``x')).toBe('``` ``x ```');
    expect(mdCode('a|b\rc')).toBe('`a\u2223b c`');
  });
  test('table cells: CR alone becomes <br>, pipes are escaped once', () => {
    expect(cell('a\rb|c')).toBe('a<br>b\\|c');
    expect(cell(mdText('a|b'))).toBe('a\\|b');
    expect(table(['x'], [['1\r| 2']]).split('\n')).toHaveLength(3);
  });
});

describe('files an input names', () => {
  const o = { what: 'timings file', input: 'timings', fix: 'write it in an earlier step' };
  test('a symlink out of the workspace is not read, and no message quotes content', () => {
    const ws = dir();
    const outside = dir();
    writeFileSync(path.join(outside, 'secret.txt'), 'ghp_SECRETSECRETSECRET');
    symlinkSync(path.join(outside, 'secret.txt'), path.join(ws, 'timings.json'));
    let e: unknown;
    try {
      readInputFile(ws, 'timings.json', { ...o, roots: [] });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).format()).toMatch(/timings file 'timings\.json' resolves outside the workspace \(a symlink\?\); it is not read/);
    expect((e as ConfigError).format()).not.toContain('ghp_');
    // A link that stays inside the workspace is fine.
    writeFileSync(path.join(ws, 'real.json'), '{}');
    symlinkSync(path.join(ws, 'real.json'), path.join(ws, 'inside.json'));
    expect(readInputFile(ws, 'inside.json', { ...o, roots: [] })).toBe('{}');
  });
  test('an absolute path outside the workspace is the workflow\'s own location (a download folder); inside the workspace the checkout rule holds', () => {
    const ws = dir();
    const downloads = dir();
    writeFileSync(path.join(downloads, 'report.json'), '{"ok":true}');
    expect(readInputFile(ws, path.join(downloads, 'report.json'), { ...o, roots: [] })).toBe('{"ok":true}');
    const outside = dir();
    writeFileSync(path.join(outside, 'key'), 'PRIVATE');
    symlinkSync(path.join(outside, 'key'), path.join(ws, 'link.json'));
    expect(() => readInputFile(ws, path.join(ws, 'link.json'), { ...o, roots: [] })).toThrow(/resolves outside the workspace/);
  });

  test('missing, a directory, too large: one ConfigError line each', () => {
    const ws = dir();
    mkdirSync(path.join(ws, 'reports'));
    writeFileSync(path.join(ws, 'big.json'), 'x'.repeat(2000));
    const msg = (f: string, max?: number) => {
      try {
        readInputFile(ws, f, { ...o, roots: [], ...(max ? { maxBytes: max } : {}) });
      } catch (e) {
        return (e as ConfigError).format();
      }
      return 'no error';
    };
    expect(msg('nope.json')).toMatch(/^input 'timings': timings file 'nope\.json' does not exist Fix:/);
    expect(msg('reports')).toMatch(/'reports' is a directory, not a file/);
    expect(msg('big.json', 1000)).toMatch(/is 2000 bytes, over the 1000-byte limit/);
  });
  test('an output path stays inside the workspace', () => {
    const ws = dir();
    expect(outputPathInWorkspace(ws, 'policy/risk-model.json', 'model')).toBe(path.join(ws, 'policy/risk-model.json'));
    expect(() => outputPathInWorkspace(ws, '../x.json', 'model')).toThrow(/outside the workspace/);
    expect(() => outputPathInWorkspace(ws, '/etc/x.json', 'model')).toThrow(/outside the workspace/);
    const outside = dir();
    symlinkSync(outside, path.join(ws, 'linked'));
    expect(() => outputPathInWorkspace(ws, 'linked/x.json', 'model')).toThrow(/outside the workspace/);
    // A dangling link in the checkout is not written through.
    mkdirSync(path.join(ws, 'policy'));
    symlinkSync('/tmp/nowhere-at-all/.npmrc', path.join(ws, 'policy/risk-model.json'));
    expect(() => outputPathInWorkspace(ws, 'policy/risk-model.json', 'model')).toThrow(/is a symlink; the action does not write through it/);
    // A name that merely starts with two dots is inside.
    expect(outputPathInWorkspace(ws, '..cache/x.json', 'model')).toBe(path.join(ws, '..cache/x.json'));
  });
});

describe('XML reports', () => {
  test('an external entity (XXE) is a ConfigError at the file, never read, never an internal error', async () => {
    const { parseXml } = await import('../src/xml.js');
    const xxe = '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><testsuite><testcase name="&xxe;"/></testsuite>';
    expect(() => parseXml(xxe, 'junit.xml', 'JUnit', 'fix it')).toThrow(ConfigError);
    expect(() => parseXml(xxe, 'junit.xml', 'JUnit', 'fix it')).toThrow(/declares an external entity/);
    // Cobertura's own DOCTYPE (no entities) is fine.
    expect(parseXml('<?xml version="1.0"?><!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd"><coverage/>', 'c.xml', 'Cobertura', 'x')).toHaveProperty('coverage');
  });
});
