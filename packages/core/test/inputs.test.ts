import { describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import { ConfigError, booleanInput, inputEnvName, integerInput, jsonInput, listInput, parseInputs } from '../src/index.js';

describe('inputEnvName', () => {
  test('upper-cases, turns spaces into _ and keeps hyphens, like the runner', () => {
    expect(inputEnvName('max-shards')).toBe('INPUT_MAX-SHARDS');
    expect(inputEnvName('my input')).toBe('INPUT_MY_INPUT');
    expect(inputEnvName('token')).toBe('INPUT_TOKEN');
  });
});

describe('parseInputs', () => {
  const schema = z.object({
    'max-shards': integerInput({ min: 1, max: 256 }).default(4),
    enforce: booleanInput().default(false),
    paths: listInput().default([]),
    mode: z.enum(['observe', 'warn', 'enforce']).default('warn'),
    extra: jsonInput(z.record(z.string(), z.number())).optional(),
    token: z.string(),
  });

  test('reads trimmed values by action.yml names and applies defaults to empty ones', () => {
    const v = parseInputs(schema, { 'INPUT_MAX-SHARDS': ' 8 ', INPUT_ENFORCE: 'True', INPUT_PATHS: 'a/**\n# comment\n b ,c\n\n', INPUT_MODE: '', INPUT_TOKEN: 't', INPUT_EXTRA: '{"a":1}' });
    expect(v).toEqual({ 'max-shards': 8, enforce: true, paths: ['a/**', 'b', 'c'], mode: 'warn', token: 't', extra: { a: 1 } });
  });

  test('reports every bad input in one ConfigError', () => {
    let err: unknown;
    try {
      parseInputs(schema, { 'INPUT_MAX-SHARDS': '0', INPUT_ENFORCE: 'yes', INPUT_MODE: 'strict', INPUT_EXTRA: '{bad' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).format();
    expect(msg).toContain("input 'max-shards' must be at least 1, got 0");
    expect(msg).toContain("input 'enforce' expected true or false, got 'yes'");
    expect(msg).toContain("input 'mode' ");
    expect(msg).toContain("input 'extra' is not valid JSON");
    expect(msg).toContain("input 'token' is required but was not set");
    expect(msg).toContain('Fix: ');
  });

  test('booleans accept only the YAML 1.2 core spellings, as getBooleanInput does', () => {
    const b = z.object({ x: booleanInput() });
    for (const t of ['true', 'True', 'TRUE']) expect(parseInputs(b, { INPUT_X: t }).x).toBe(true);
    for (const f of ['false', 'False', 'FALSE']) expect(parseInputs(b, { INPUT_X: f }).x).toBe(false);
    for (const bad of ['yes', '1', 'tRue']) expect(() => parseInputs(b, { INPUT_X: bad })).toThrow(ConfigError);
  });
});
