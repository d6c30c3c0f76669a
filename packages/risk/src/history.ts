/**
 * The repository's own labelled history, for calibration:
 * - Kamei metrics of every past commit, in one chronological pass over
 *   `git log --numstat` (state per file and per author, no per-commit git calls);
 * - defect-inducing labels, by trust: `Fixes: <sha>` / "introduced by <sha>"
 *   trailers, reverts, then B-SZZ (fix commits → lines they changed → blame on
 *   the fix's parent), with cosmetic, merge, too-large and not-before-fix
 *   candidates filtered out. Each label keeps its source.
 */
import path from 'node:path/posix';
import { GitError, git, walkUnifiedDiff, type GitOptions } from '@maestro/core/git';
import { ConfigError } from '@maestro/core/errors';
import type { Signals } from './model.js';
// One definition of `fix`, subsystems and days for scoring and calibration: no training/serving skew.
import { DAY, excluder, fixRule, numstatRecord, subsystem } from './signals.js';

export interface HistoryCommit {
  sha: string;
  author: string;
  time: number;
  message: string;
  parents: string[];
  files: Array<{ path: string; added: number; deleted: number }>;
  signals: Signals;
}

export type LabelSource = 'trailer' | 'revert' | 'szz';

export interface Label {
  sha: string;
  source: LabelSource;
  /** The fixing (or reverting) commit. */
  fixedBy: string;
  /** For SZZ labels: which rule made the fixing commit a fix (see `fixRule`), for a label audit. */
  rule?: NonNullable<ReturnType<typeof fixRule>>;
}

const SOURCE_RE = /\.(ts|tsx|js|jsx|mjs|cjs|py|go|java|kt|scala|rb|rs|c|cc|cpp|h|hpp|cs|php|swift|m|mm|sh|sql)$/i;

/** Every non-merge commit reachable from `rev` (oldest first), with its Kamei metrics at that time. */
export async function readHistory(opts: GitOptions & { rev?: string; maxCommits?: number; exclude?: readonly string[] }): Promise<HistoryCommit[]> {
  const excluded = excluder(opts.exclude);
  let out: string;
  try {
    out = await git(['-c', 'core.quotePath=false', 'log', '--reverse', '--no-merges', '--no-renames', `--max-count=${opts.maxCommits ?? 20000}`, '--numstat', '-z', '--format=%x01%H%x00%P%x00%ae%x00%at%x00%B%x02', opts.rev ?? 'HEAD'], opts);
  } catch (e) {
    // A partial clone or a mirror with missing objects: say which object and how to get it, not "internal error".
    if (!(e instanceof GitError)) throw e;
    const missing = /(?:missing|unable to read|bad object|could not read)\s+(?:blob|tree|object)?\s*([0-9a-f]{7,40})/i.exec(e.stderr)?.[1];
    throw new ConfigError(`the history cannot be read: git log --numstat failed (exit ${e.exitCode})${missing ? ` on the missing object ${missing}` : ''}`, { file: 'git checkout', fix: 'calibrate on a full clone: actions/checkout with fetch-depth: 0 and no partial-clone filter (or `git fetch --refetch` locally)' });
  }
  const commits: HistoryCommit[] = [];
  for (const rec of out.split('\x01')) {
    if (!rec) continue;
    const end = rec.indexOf('\x02');
    const [sha, parents, author, time, message] = rec.slice(0, end).split('\0') as [string, string, string, string, string];
    const files: HistoryCommit['files'] = [];
    for (const part of rec.slice(end + 1).split('\0')) {
      const r = numstatRecord(part);
      if (r && r.path && !excluded(r.path)) files.push(r);
    }
    commits.push({ sha, author, time: Number(time), message: message.trim(), parents: parents.split(' ').filter(Boolean), files, signals: {} });
  }
  // One pass in time order: the metrics of a commit use only what came before it.
  const lines = new Map<string, number>();
  const lastChange = new Map<string, number>();
  const devs = new Map<string, Set<string>>();
  const changes = new Map<string, number>();
  const authorChanges = new Map<string, Array<{ time: number; sub: string }>>();
  for (const c of commits) {
    const la = c.files.reduce((a, f) => a + f.added, 0);
    const ld = c.files.reduce((a, f) => a + f.deleted, 0);
    const total = la + ld;
    const subs = new Set(c.files.map((f) => subsystem(f.path)));
    const ds = new Set<string>([c.author]);
    let nuc = 0;
    const ages: number[] = [];
    for (const f of c.files) {
      for (const d of devs.get(f.path) ?? []) ds.add(d);
      nuc += (changes.get(f.path) ?? 0) + 1;
      const last = lastChange.get(f.path);
      if (last !== undefined) ages.push(Math.max(0, (c.time - last) / DAY));
    }
    const mine = authorChanges.get(c.author) ?? [];
    c.signals = {
      ns: subs.size,
      nd: new Set(c.files.map((f) => path.dirname(f.path))).size,
      nf: c.files.length,
      entrophy: total ? -c.files.reduce((a, f) => {
        const p = (f.added + f.deleted) / total;
        return p > 0 ? a + p * Math.log2(p) : a;
      }, 0) : 0,
      la,
      ld,
      lt: c.files.reduce((a, f) => a + (lines.get(f.path) ?? 0), 0),
      fix: fixRule(c.message) ? 1 : 0,
      ndev: ds.size,
      age: ages.length ? ages.reduce((a, b) => a + b, 0) / ages.length : 0,
      nuc,
      exp: mine.length,
      rexp: mine.reduce((a, m) => a + 1 / (1 + Math.max(0, (c.time - m.time) / DAY)), 0),
      sexp: mine.filter((m) => subs.has(m.sub)).length,
    };
    for (const f of c.files) {
      lines.set(f.path, Math.max(0, (lines.get(f.path) ?? 0) + f.added - f.deleted));
      lastChange.set(f.path, c.time);
      if (!devs.has(f.path)) devs.set(f.path, new Set());
      devs.get(f.path)!.add(c.author);
      changes.set(f.path, (changes.get(f.path) ?? 0) + 1);
      mine.push({ time: c.time, sub: subsystem(f.path) });
    }
    authorChanges.set(c.author, mine);
  }
  return commits;
}

function looksCosmetic(line: string): boolean {
  const t = line.trim();
  return t === '' || /^(\/\/|#|\*|\/\*|\*\/|--|;)/.test(t) || /^[{}()[\];,]+$/.test(t);
}

export interface LabelOptions extends GitOptions {
  /** Candidates touching more files than this are not blamed on (mass edits, imports). */
  maxCandidateFiles?: number;
  /** Fix commits touching more source files than this are not used for SZZ (mass moves, reformatting); default 50. */
  maxFixFiles?: number;
  /** At most this many commits are blamed for one fix (those owning the most blamed lines); default 10. */
  maxBlamedPerFix?: number;
  /**
   * Only fixes at or after this Unix time are traced back (SZZ): a fix older than the calibration
   * window can only blame commits older still, which the fit never reads.
   */
  fixesSince?: number;
}

/** Test code: a fix's changed test lines say nothing about which change introduced the bug. */
const TEST_RE = /(^|\/)(__tests__|tests?|spec|fixtures?)\/|\.(test|spec)\.[^/]+$|(^|\/)test_[^/]+\.py$|_test\.(go|py|rb)$/;

/** Defect-inducing labels for the commits in `history`. */
export async function labelHistory(history: readonly HistoryCommit[], opts: LabelOptions): Promise<Label[]> {
  const known = new Map(history.map((c) => [c.sha, c]));
  const byPrefix = (abbrev: string) => {
    if (known.has(abbrev)) return abbrev;
    if (abbrev.length < 7) return undefined;
    for (const sha of known.keys()) if (sha.startsWith(abbrev)) return sha;
    return undefined;
  };
  const labels = new Map<string, Label>();
  const add = (sha: string | undefined, source: LabelSource, fixedBy: string, rule?: Label['rule']) => {
    if (!sha || sha === fixedBy) return;
    const c = known.get(sha)!;
    const fix = known.get(fixedBy)!;
    if (c.time > fix.time) return; // cannot introduce a bug it fixed before existing
    if (c.files.length > (opts.maxCandidateFiles ?? 100)) return;
    const prev = labels.get(sha);
    const rank: Record<LabelSource, number> = { trailer: 0, revert: 1, szz: 2 };
    if (!prev || rank[source] < rank[prev.source]) labels.set(sha, { sha, source, fixedBy, ...(rule ? { rule } : {}) });
  };
  for (const c of history) {
    for (const m of c.message.matchAll(/^(?:Fixes|Fixes-commit|Introduced-by):\s*([0-9a-f]{7,40})\b/gim)) add(byPrefix(m[1]!), 'trailer', c.sha);
    for (const m of c.message.matchAll(/introduced (?:in|by) (?:commit )?([0-9a-f]{7,40})\b/gi)) add(byPrefix(m[1]!), 'trailer', c.sha);
    for (const m of c.message.matchAll(/This reverts commit ([0-9a-f]{7,40})/g)) add(byPrefix(m[1]!), 'revert', c.sha);
  }
  // B-SZZ over fix commits, with the standard filters: a fix that touches too many source files is a
  // mass edit, not a fix; renames are followed (a moved file is not "changed"); test files and
  // cosmetic lines are not blamed; one fix blames at most a few commits.
  const maxFixFiles = opts.maxFixFiles ?? 50;
  const maxBlamed = opts.maxBlamedPerFix ?? 10;
  for (const fix of history) {
    if (!fix.signals.fix || fix.parents.length !== 1) continue;
    if (opts.fixesSince !== undefined && fix.time < opts.fixesSince) continue;
    if (fix.files.filter((f) => SOURCE_RE.test(f.path) && !TEST_RE.test(f.path)).length > maxFixFiles) continue;
    const parent = fix.parents[0]!;
    const diff = await git(['-c', 'core.quotePath=false', 'diff', '-U0', '-M', '--no-ext-diff', parent, fix.sha, '--'], opts).catch(() => '');
    // The lines the fix removed or changed, by their line numbers in the parent: hunks read by their
    // counts (a removed line "-- a/x" is content, not a file header), quoted names unquoted.
    const ranges = new Map<string, Array<[number, number]>>();
    walkUnifiedDiff(diff, (_file, kind, _line, old) => {
      if (kind !== '-' || !old.path || !SOURCE_RE.test(old.path) || TEST_RE.test(old.path)) return;
      const list = ranges.get(old.path) ?? ranges.set(old.path, []).get(old.path)!;
      const last = list[list.length - 1];
      if (last && last[1] === old.line - 1) last[1] = old.line;
      else list.push([old.line, old.line]);
    });
    const blamed = new Map<string, number>();
    for (const [f, rs] of ranges) {
      const args = ['blame', '--porcelain', '-w', '-M', ...rs.flatMap(([a, b]) => ['-L', `${a},${b}`]), parent, '--', f];
      const blame = await git(args, opts).catch(() => '');
      let current = '';
      for (const line of blame.split('\n')) {
        const hm = /^([0-9a-f]{40}) \d+ \d+/.exec(line);
        if (hm) {
          current = hm[1]!;
          continue;
        }
        if (line.startsWith('\t') && current && known.has(current) && !looksCosmetic(line.slice(1))) blamed.set(current, (blamed.get(current) ?? 0) + 1);
      }
    }
    const rule = fixRule(fix.message);
    for (const [sha] of [...blamed].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, maxBlamed)) add(sha, 'szz', fix.sha, rule);
  }
  return [...labels.values()];
}
