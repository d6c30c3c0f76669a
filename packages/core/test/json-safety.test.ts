import { describe, expect, test } from '@jest/globals';
import { ConfigError } from '../src/errors.js';
import { MAX_JSON_DEPTH, jsonDepth, parseJson, scanJson } from '../src/config.js';

const err = (f: () => unknown): ConfigError => {
  try {
    f();
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error('did not throw');
};

describe('parseJson on hostile input', () => {
  test('a syntax error names line and column and never quotes the content (a token in a broken lockfile)', () => {
    const text = '{\n  "name": "x",\n  "token": ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n}';
    const e = err(() => parseJson(text, 'package-lock.json'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.line).toBe(3);
    expect(e.column).toBe(12);
    expect(e.format()).not.toMatch(/ghp_|0123456789/);
    expect(e.format()).toMatch(/^package-lock\.json:3:12: invalid JSON: unexpected character; expected a value/);
  });

  test('truncated text, trailing commas, bad escapes and control characters are located', () => {
    expect(err(() => parseJson('{"a": [1, 2', 'f.json')).message).toMatch(/the text ends too early/);
    expect(err(() => parseJson('{"a": 1,}', 'f.json')).column).toBe(9);
    expect(err(() => parseJson('["\\q"]', 'f.json')).message).toMatch(/a valid string/);
    expect(err(() => parseJson('["a\u0001"]', 'f.json')).message).toMatch(/a valid string/);
    expect(err(() => parseJson('[1] x', 'f.json')).message).toMatch(/the end of the text/);
  });

  test('nesting 5,000 deep is a ConfigError, not a stack overflow; 100,000 deep too', () => {
    for (const n of [5000, 100000]) {
      const e = err(() => parseJson('['.repeat(n) + ']'.repeat(n), 'deep.json'));
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toMatch(new RegExp(`nested ${n} levels deep; more than ${MAX_JSON_DEPTH}`));
    }
    expect(parseJson('{"a":{"b":[1,{"c":"]]]]"}]}}', 'ok.json')).toEqual({ a: { b: [1, { c: ']]]]' }] } });
  });

  test('the scanner agrees with JSON.parse on valid and invalid texts', () => {
    const samples = ['{}', '[]', '1', '-0.5e+3', '"a\\u00e9"', '{"a":[true,false,null]}', '{"a" 1}', '[1,]', '01', '[.5]', '{"a":1 "b":2}', 'nul', '"\\uZZZZ"', ' [ 1 , 2 ] '];
    for (const s of samples) {
      let ok = true;
      try {
        JSON.parse(s);
      } catch {
        ok = false;
      }
      expect([s, scanJson(s).error === -1]).toEqual([s, ok]);
    }
    expect(jsonDepth('[[["[[["]]]')).toBe(3);
  });
});
