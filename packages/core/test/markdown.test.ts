import { describe, expect, test } from '@jest/globals';
import { sizeOf, table, truncateMarkdown } from '../src/index.js';

describe('truncateMarkdown', () => {
  test('text within the budget is returned unchanged', () => {
    expect(truncateMarkdown('# hi\n', 100)).toEqual({ text: '# hi\n', truncated: false });
  });

  test('cuts at a line boundary, closes open <details> and code fences, stays within the budget', () => {
    const md = ['# Report', '<details><summary>rows</summary>', '', '```', ...Array.from({ length: 5000 }, (_, i) => `line ${i} ✓`), '```', '</details>', 'tail'].join('\n');
    for (const max of [200, 1000, 65536]) {
      const { text, truncated } = truncateMarkdown(md, max, 'bytes');
      expect(truncated).toBe(true);
      expect(sizeOf(text, 'bytes')).toBeLessThanOrEqual(max);
      expect((text.match(/```/g) ?? []).length % 2).toBe(0);
      expect((text.match(/<details/g) ?? []).length).toBe((text.match(/<\/details>/g) ?? []).length);
      expect(text).toContain('truncated');
    }
  });

  test('counts characters or UTF-8 bytes as asked', () => {
    const md = 'é'.repeat(100);
    expect(truncateMarkdown(md, 150, 'chars').truncated).toBe(false);
    expect(truncateMarkdown(md, 150, 'bytes').truncated).toBe(true);
  });
});

describe('table', () => {
  test('escapes pipes and newlines in cells', () => {
    expect(table(['a', 'b'], [['x|y', 'l1\nl2']])).toBe('| a | b |\n| --- | --- |\n| x\\|y | l1<br>l2 |');
  });
});
