import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, loadConfigFile, locate } from '../src/index.js';

const schema = z.object({
  version: z.literal(1),
  rules: z.array(z.object({ id: z.string(), mode: z.enum(['observe', 'warn', 'enforce']), paths: z.array(z.string()).min(1) }).strict()),
});

function write(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
  const f = path.join(dir, 'rules.yaml');
  writeFileSync(f, text);
  return f;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfigFile', () => {
  test('valid file parses', () => {
    const f = write('version: 1\nrules:\n  - id: a\n    mode: warn\n    paths: ["infra/**"]\n');
    expect(loadConfigFile(schema, f)).toEqual({ version: 1, rules: [{ id: 'a', mode: 'warn', paths: ['infra/**'] }] });
  });

  test('a wrong value is reported at its own line and column', () => {
    const f = write('version: 1\nrules:\n  - id: a\n    mode: warn\n    paths: ["x"]\n  - id: b\n    mode: strict\n    paths: ["y"]\n');
    const e = errorOf(() => loadConfigFile(schema, f, { displayPath: 'policy/rules.yaml' }));
    expect(e.file).toBe('policy/rules.yaml');
    expect(e.line).toBe(7);
    expect(e.column).toBe(11);
    expect(e.format()).toMatch(/^policy\/rules\.yaml:7:11: rules\[1\]\.mode: .*Fix: /);
  });

  test('a missing key is reported at its parent; an unknown key at its own line', () => {
    const f = write('version: 1\nrules:\n  - id: a\n    mode: warn\n');
    const e = errorOf(() => loadConfigFile(schema, f));
    expect(e.line).toBe(3);
    const g = write('version: 1\nrules:\n  - id: a\n    mode: warn\n    paths: [x]\n    pathz: [y]\n');
    expect(errorOf(() => loadConfigFile(schema, g)).message).toContain('pathz');
  });

  test('YAML syntax errors carry the position js-yaml reports', () => {
    const f = write('version: 1\nrules:\n  - id: a\n   mode: warn\n');
    const e = errorOf(() => loadConfigFile(schema, f, { displayPath: 'rules.yaml' }));
    expect(e.message).toMatch(/^invalid YAML: /);
    expect(e.line).toBe(4);
    expect(e.format()).toMatch(/^rules\.yaml:4:\d+: invalid YAML/);
  });

  test('a missing file is a ConfigError naming the path', () => {
    const e = errorOf(() => loadConfigFile(schema, '/nonexistent/rules.yaml', { displayPath: 'policy/rules.yaml' }));
    expect(e.format()).toBe('policy/rules.yaml: cannot read config file: ENOENT Fix: check the path (it is relative to the repository root)');
  });

  test('locate handles flow collections, unicode keys and nested sequences', () => {
    const src = 'a: {b: [1, {ü: 2}]}\nc:\n  - - x\n    - y\n';
    expect(locate(src, ['a', 'b', 1, 'ü'])).toEqual({ line: 1, column: 16 });
    expect(locate(src, ['c', 0, 1])).toEqual({ line: 4, column: 7 });
  });
});
