/**
 * Markdown that stays valid under a size budget. Pure.
 *
 * Used for job summaries (1 MiB per step), check-run summaries (65,535 bytes)
 * and PR comments (65,536 characters). Truncation happens at line boundaries
 * and closes whatever was open (code fences, `<details>`), so a table or a
 * collapsed block never swallows the rest of the page.
 */

export type Measure = 'bytes' | 'chars';

export function sizeOf(text: string, measure: Measure): number {
  return measure === 'bytes' ? Buffer.byteLength(text, 'utf8') : text.length;
}

const FENCE = /^\s*(```|~~~)/;

/** What must be appended after `lines` to close open constructs. */
function closers(lines: readonly string[]): string[] {
  let fence: string | null = null;
  let details = 0;
  for (const line of lines) {
    const f = FENCE.exec(line);
    if (f) {
      fence = fence === null ? f[1]! : fence === f[1] ? null : fence;
      continue;
    }
    if (fence !== null) continue;
    details += (line.match(/<details\b/gi) ?? []).length;
    details -= (line.match(/<\/details>/gi) ?? []).length;
  }
  const out: string[] = [];
  if (fence !== null) out.push(fence);
  for (let i = 0; i < Math.max(0, details); i++) out.push('</details>');
  return out;
}

export interface TruncateResult {
  text: string;
  truncated: boolean;
}

/**
 * Fit `md` into `max` units. If it does not fit, keep whole lines from the top,
 * close open blocks and append `notice` (which must itself fit).
 */
export function truncateMarkdown(md: string, max: number, measure: Measure = 'bytes', notice = '\n\n_… truncated to fit the size limit._\n'): TruncateResult {
  if (sizeOf(md, measure) <= max) return { text: md, truncated: false };
  const lines = md.split('\n');
  // Binary search the number of lines we can keep.
  let lo = 0;
  let hi = lines.length;
  const render = (n: number) => {
    const kept = lines.slice(0, n);
    // A table cut mid-way is still a valid table; a blank line ends it before the notice.
    return [...kept, ...closers(kept)].join('\n') + notice;
  };
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sizeOf(render(mid), measure) <= max) lo = mid;
    else hi = mid - 1;
  }
  let text = render(lo);
  if (sizeOf(text, measure) > max) {
    // Even the notice alone does not fit: hard cut on a character boundary.
    text = Array.from(notice).slice(0, max).join('');
    while (sizeOf(text, measure) > max) text = text.slice(0, -1);
  }
  return { text, truncated: true };
}

/**
 * Escaping by context, in one place. Every string that came from outside
 * (paths, package names, reasons, finding messages, logins) goes through one
 * of these before it reaches a comment, a check run or a job summary:
 *
 * - `mdText`: plain text anywhere (a table cell, a list item, a sentence):
 *   no HTML, no @mentions or #references, no links (autolinks included) or emphasis, and no line
 *   break of any kind (CR alone ends a table row in GitHub's renderer).
 * - `mdCode`: an identifier shown as inline code, safe whatever backticks it
 *   holds, and safe inside a table cell.
 * - `cell`: what `table` applies to each (already formatted) cell: pipes and
 *   line breaks.
 */
const LINE_BREAKS = /\r\n|[\r\n\u2028\u2029\u0085\v\f]/g;

export function mdText(s: unknown): string {
  return String(s ?? '')
    .replace(LINE_BREAKS, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([@#])(?=[\w-])/g, '$1\u2060')
    // GitHub autolinks bare URLs and www. names: a word joiner keeps them text.
    .replace(/\b(https?|ftp)(?=:\/\/)/gi, '$1\u2060')
    .replace(/\b(www)(?=\.)/gi, '$1\u2060')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[*_`[\]~!]/g, '\\$&');
}

/** An identifier (path, rule id, package) as inline code. */
export function mdCode(s: unknown): string {
  const t = String(s ?? '')
    .replace(LINE_BREAKS, ' ')
    .replace(/\|/g, '\u2223');
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  return longest || t.startsWith(' ') || t.endsWith(' ') ? `${fence} ${t} ${fence}` : `${fence}${t}${fence}`;
}

/** A formatted cell for `table`: pipes escaped, line breaks (CR alone too) as `<br>`. */
export function cell(value: unknown): string {
  return String(value ?? '').replace(/\\\|/g, '\u0000').replace(/\|/g, '\\|').replace(/\u0000/g, '\\|').replace(LINE_BREAKS, '<br>');
}

export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const head = `| ${headers.map(cell).join(' | ')} |`;
  const sep = `| ${headers.map(() => '---').join(' | ')} |`;
  const body = rows.map((r) => `| ${r.map(cell).join(' | ')} |`);
  return [head, sep, ...body].join('\n');
}
