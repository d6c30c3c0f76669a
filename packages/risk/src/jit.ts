/** Reader for the JIT defect CSVs (Kamei metrics + SZZ label), used for fitting and evaluation. */
import { ConfigError } from '@maestro/core/errors';
import { KAMEI, type Row } from './model.js';

export function readJitCsv(text: string, file: string): Row[] {
  const lines = text.split(/\r?\n/).filter((l) => l.length);
  const header = lines[0]?.split(',') ?? [];
  const col = (name: string) => header.indexOf(name);
  const need = ['date', 'bug', ...KAMEI];
  const missing = need.filter((n) => col(n) < 0);
  if (missing.length) throw new ConfigError(`missing column(s) ${missing.join(', ')}`, { file, line: 1, fix: `the header must include ${need.join(', ')}` });
  const at = Object.fromEntries(need.map((n) => [n, col(n)]));
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    const num = (n: string) => {
      const v = Number(cells[at[n]!]);
      if (!Number.isFinite(v)) throw new ConfigError(`column ${n} is not a number: '${cells[at[n]!]}'`, { file, line: i + 2, fix: 'fix or drop that row' });
      return v;
    };
    const x = Object.fromEntries(KAMEI.map((k) => [k, num(k)]));
    return { x, y: num('bug') ? 1 : 0, date: num('date') };
  });
}
