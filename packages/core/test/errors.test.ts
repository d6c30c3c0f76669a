import { describe, expect, test } from '@jest/globals';
import { ConfigError, describeFailure } from '../src/index.js';

describe('describeFailure', () => {
  test('user errors show file:line:col, message and fix', () => {
    const r = describeFailure('policy-gate', new ConfigError('unknown mode "strict"', { file: 'policy/rules.yaml', line: 4, column: 11, fix: 'use observe, warn or enforce' }));
    expect(r).toEqual({ kind: 'user', message: 'policy/rules.yaml:4:11: unknown mode "strict" Fix: use observe, warn or enforce' });
  });

  test('anything else is an internal error prefixed with the action name; the stack is kept for debug only', () => {
    const r = describeFailure('risk-score', new TypeError('x is undefined'));
    expect(r.kind).toBe('internal');
    expect(r.message).toBe('risk-score: internal error: x is undefined');
    expect(r.detail).toContain('TypeError');
    expect(describeFailure('a', 'plain string').message).toBe('a: internal error: plain string');
  });
});
