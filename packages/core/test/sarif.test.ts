import { describe, expect, test } from '@jest/globals';
import { summarizeFindings } from '../src/sarif.js';

describe('summarizeFindings', () => {
  const f = (severity: 'note' | 'low' | 'medium' | 'high' | 'critical', i: number) => ({ tool: 't', rule: `r${i}`, severity, file: `f${i}.ts`, line: i, message: 'm'.repeat(3000) });

  test('counts every finding by severity; the top list is the 20 most severe at or above the minimum, most severe first, messages capped', () => {
    const all = [f('medium', 1), f('critical', 2), f('high', 3), f('note', 4), ...Array.from({ length: 25 }, (_, i) => f('high', 10 + i))];
    const s = summarizeFindings(all);
    expect(s.total).toBe(29);
    expect(s.bySeverity).toEqual({ medium: 1, critical: 1, high: 26, note: 1 });
    expect(s.top).toHaveLength(20);
    expect(s.top[0]!.rule).toBe('r2');
    expect(s.top.every((x) => x.severity === 'critical' || x.severity === 'high')).toBe(true);
    expect(s.top[0]!.message).toHaveLength(2000);
    const few = summarizeFindings([f('medium', 1), f('high', 2), f('low', 3)], 'high');
    expect(few.top.map((x) => x.rule)).toEqual(['r2']);
    expect(few.total).toBe(3);
    expect(summarizeFindings([f('low', 1), f('medium', 2)]).top.map((x) => x.rule)).toEqual(['r2', 'r1']);
  });
});
