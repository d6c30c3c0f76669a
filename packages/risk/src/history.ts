/**
 * The repository's own labelled history, for calibration:
 * - Kamei metrics of every past commit, in one chronological pass over
 *   `git log --numstat` (state per file and per author, no per-commit git calls);
 * - defect-inducing labels, by trust: `Fixes: <sha>` / "introduced by <sha>"
 *   trailers, reverts, then B-SZZ (fix commits → lines they changed → blame on
 *   the fix's parent), with cosmetic, merge, too-large and not-before-fix
 *   candidates filtered out. Each label keeps its source.
 */
import { availableParallelism } from 'node:os';
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

/** A commit as `git log --numstat` reports it, before exclusions and metrics: what the history cache keeps. */
export interface RawCommit {
  sha: string;
  parents: string[];
  author: string;
  time: number;
  message: string;
  files: Array<{ path: string; added: number; deleted: number }>;
}

/**
 * What a calibration run can keep for the next one (an Actions cache entry, or a file for the CLI):
 * each commit's numstat record and each traced fix's blame result. Both depend only on the commit
 * (and, for blame, on the rules of this version), so a weekly run reads only the new commits and
 * traces only the new fixes. `readHistory` and `labelHistory` add what they compute.
 */
export interface HistoryCache {
  version: typeof HISTORY_CACHE_VERSION;
  commits: Record<string, [parents: string, author: string, time: number, message: string, files: Array<[path: string, added: number, deleted: number]>]>;
  /** Fix commit → the commits its changed lines blame, with how many lines each (most first). */
  szz: Record<string, Array<[sha: string, lines: number]>>;
}

/** Bumped whenever what is cached would be computed differently (the numstat format, SZZ's filters). */
export const HISTORY_CACHE_VERSION = 2;

export const emptyHistoryCache = (): HistoryCache => ({ version: HISTORY_CACHE_VERSION, commits: {}, szz: {} });

/** A cache read back from JSON: used only if it is this version's and well-formed, else started afresh (said by `valid: false`). */
export function historyCacheFrom(data: unknown): { cache: HistoryCache; valid: boolean } {
  const d = data as Partial<HistoryCache> | null;
  const ok = !!d && typeof d === 'object' && d.version === HISTORY_CACHE_VERSION && !!d.commits && typeof d.commits === 'object' && !Array.isArray(d.commits) && !!d.szz && typeof d.szz === 'object' && !Array.isArray(d.szz);
  if (!ok) return { cache: emptyHistoryCache(), valid: false };
  // Entry by entry: a damaged one is dropped (and read again from git), never a crash.
  const n = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const commits: HistoryCache['commits'] = {};
  for (const [sha, e] of Object.entries(d.commits!)) {
    if (Array.isArray(e) && e.length === 5 && typeof e[0] === 'string' && typeof e[1] === 'string' && n(e[2]) && typeof e[3] === 'string' && Array.isArray(e[4]) && e[4].every((f) => Array.isArray(f) && f.length === 3 && typeof f[0] === 'string' && n(f[1]) && n(f[2]))) commits[sha] = e;
  }
  const szz: HistoryCache['szz'] = {};
  for (const [sha, e] of Object.entries(d.szz!)) if (Array.isArray(e) && e.every((b) => Array.isArray(b) && b.length === 2 && typeof b[0] === 'string' && n(b[1]))) szz[sha] = e;
  return { cache: { version: HISTORY_CACHE_VERSION, commits, szz }, valid: true };
}

export interface HistoryRead {
  /** Oldest first, with metrics. */
  commits: HistoryCommit[];
  /** Commits git could not read (missing objects in a partial mirror): skipped and counted, never guessed. */
  unreadable: { count: number; sample: string[]; object?: string };
  /** Commits whose numstat came from the cache. */
  cached: number;
}

const LOG_FORMAT = '--format=%x01%H%x00%P%x00%ae%x00%at%x00%B%x02';
const MISSING_RE = /(?:missing|unable to read|bad object|could not read)\s+(?:blob|tree|object)?\s*([0-9a-f]{7,40})/i;
/** After this many unreadable commits in a row, the rest of the (older) history is taken as unreadable too. */
const MAX_UNREADABLE_RUN = 20;

function parseLog(out: string): RawCommit[] {
  const commits: RawCommit[] = [];
  for (const rec of out.split('\x01')) {
    if (!rec) continue;
    const end = rec.indexOf('\x02');
    if (end < 0) continue;
    const [sha, parents, author, time, message] = rec.slice(0, end).split('\0') as [string, string, string, string, string];
    const files: RawCommit['files'] = [];
    for (const part of rec.slice(end + 1).split('\0')) {
      const r = numstatRecord(part);
      if (r && r.path) files.push({ path: r.path, added: r.added, deleted: r.deleted });
    }
    commits.push({ sha, author, time: Number(time), message: message.trim(), parents: parents.split(' ').filter(Boolean), files });
  }
  return commits;
}

const historyError = (e: GitError, what: string) => {
  const missing = MISSING_RE.exec(e.stderr)?.[1];
  return new ConfigError(`the history cannot be read: ${what} failed (exit ${e.exitCode})${missing ? ` on the missing object ${missing}` : ''}`, { file: 'git checkout', fix: 'calibrate on a full clone: actions/checkout with fetch-depth: 0 and no partial-clone filter (or `git fetch --refetch` locally)' });
};

/**
 * Numstat records of `shas` (newest first). A commit git cannot read (a missing tree or blob) is
 * skipped and counted: each failed round keeps what git streamed before it stopped, a lone commit
 * decides which one failed, and after a long run of failures the older rest is counted unreadable.
 */
async function readCommits(shas: readonly string[], opts: GitOptions): Promise<{ read: RawCommit[]; unreadable: string[]; object?: string }> {
  const read: RawCommit[] = [];
  const unreadable: string[] = [];
  let object: string | undefined;
  let rest = shas.slice();
  let run = 0;
  const args = ['-c', 'core.quotePath=false', 'log', '--no-walk=unsorted', '--stdin', '--no-renames', '--numstat', '-z', LOG_FORMAT];
  while (rest.length) {
    try {
      read.push(...parseLog(await git(args, { ...opts, input: rest.join('\n') + '\n' })));
      break;
    } catch (e) {
      if (!(e instanceof GitError) || !MISSING_RE.test(e.stderr)) throw e instanceof GitError ? historyError(e, 'git log --numstat') : e;
      object ??= MISSING_RE.exec(e.stderr)?.[1];
      // The last record git started may be cut off: keep the ones before it, read that one again.
      const got = parseLog(e.stdout).slice(0, -1);
      if (got.length) {
        read.push(...got);
        rest = rest.slice(got.length);
        run = 0;
        continue;
      }
      // No progress: the first commit alone tells whether it is the unreadable one.
      const one = await git([...args.filter((a) => a !== '--stdin' && a !== '--no-walk=unsorted'), '-1', rest[0]!], opts).then(parseLog, () => undefined);
      if (one?.length) {
        read.push(one[0]!);
        run = 0;
      } else {
        unreadable.push(rest[0]!);
        if (++run >= MAX_UNREADABLE_RUN) {
          unreadable.push(...rest.slice(1));
          break;
        }
      }
      rest = rest.slice(1);
    }
  }
  return { read, unreadable, ...(object ? { object } : {}) };
}

/**
 * Every non-merge commit reachable from `rev` (oldest first), with its Kamei metrics at that time.
 * Commits in `cache` are not read again; the ones read are added to it. Commits git cannot read are
 * skipped and counted (`unreadable`); their metrics simply do not exist, like history before a shallow clone.
 */
export async function readHistory(opts: GitOptions & { rev?: string; maxCommits?: number; exclude?: readonly string[]; cache?: HistoryCache }): Promise<HistoryRead> {
  const excluded = excluder(opts.exclude);
  let ids: string[];
  try {
    ids = (await git(['rev-list', '--no-merges', `--max-count=${opts.maxCommits ?? 20000}`, opts.rev ?? 'HEAD', '--'], opts)).split('\n').filter(Boolean);
  } catch (e) {
    throw e instanceof GitError ? historyError(e, 'git rev-list') : e;
  }
  const cache = opts.cache;
  const need = cache ? ids.filter((id) => !Object.hasOwn(cache.commits, id)) : ids;
  const { read, unreadable, object } = await readCommits(need, opts);
  const bySha = new Map(read.map((c) => [c.sha, c]));
  if (cache) for (const c of read) cache.commits[c.sha] = [c.parents.join(' '), c.author, c.time, c.message, c.files.map((f) => [f.path, f.added, f.deleted])];
  const commits: HistoryCommit[] = [];
  let cached = 0;
  for (let i = ids.length - 1; i >= 0; i--) {
    const sha = ids[i]!;
    let raw = bySha.get(sha);
    if (!raw && cache && Object.hasOwn(cache.commits, sha)) {
      const [parents, author, time, message, files] = cache.commits[sha]!;
      raw = { sha, parents: parents.split(' ').filter(Boolean), author, time, message, files: files.map(([p, a, d]) => ({ path: p, added: a, deleted: d })) };
      cached++;
    }
    if (raw) commits.push({ ...raw, files: raw.files.filter((f) => !excluded(f.path)), signals: {} });
  }
  // One pass in time order: the metrics of a commit use only what came before it.
  const lines = new Map<string, number>();
  const lastChange = new Map<string, number>();
  /** Per path: the numbers of the authors who changed it. */
  const devs = new Map<string, number[]>();
  const authorIds = new Map<string, number>();
  const authorId = (a: string) => authorIds.get(a) ?? authorIds.set(a, authorIds.size).get(a)!;
  const stamp: number[] = [];
  const changes = new Map<string, number>();
  // Per author: file changes so far, per subsystem, and per earlier commit (time, files) — rexp sums over
  // commits weighted by their file count, the same sum as over single file changes, |commits| not |files| long.
  const authorChanges = new Map<string, { files: number; bySub: Map<string, number>; commits: Array<[time: number, files: number]> }>();
  for (let ci = 0; ci < commits.length; ci++) {
    const c = commits[ci]!;
    const la = c.files.reduce((a, f) => a + f.added, 0);
    const ld = c.files.reduce((a, f) => a + f.deleted, 0);
    const total = la + ld;
    const subs = new Set(c.files.map((f) => subsystem(f.path)));
    // Distinct developers by stamping author numbers with this commit's index (no Set per commit:
    // on a long history the per-commit garbage, not the live data, is what grows the heap).
    const me = authorId(c.author);
    stamp[me] = ci + 1;
    let ndev = 1;
    let nuc = 0;
    let ageSum = 0;
    let ageCount = 0;
    for (const f of c.files) {
      for (const d of devs.get(f.path) ?? []) {
        if (stamp[d] !== ci + 1) {
          stamp[d] = ci + 1;
          ndev++;
        }
      }
      nuc += (changes.get(f.path) ?? 0) + 1;
      const last = lastChange.get(f.path);
      if (last !== undefined) {
        ageSum += Math.max(0, (c.time - last) / DAY);
        ageCount++;
      }
    }
    const mine = authorChanges.get(c.author) ?? { files: 0, bySub: new Map<string, number>(), commits: [] };
    let rexp = 0;
    for (const [t, n] of mine.commits) rexp += n / (1 + Math.max(0, (c.time - t) / DAY));
    let sexp = 0;
    for (const sub of subs) sexp += mine.bySub.get(sub) ?? 0;
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
      ndev,
      age: ageCount ? ageSum / ageCount : 0,
      nuc,
      exp: mine.files,
      rexp,
      sexp,
    };
    for (const f of c.files) {
      lines.set(f.path, Math.max(0, (lines.get(f.path) ?? 0) + f.added - f.deleted));
      lastChange.set(f.path, c.time);
      const ds = devs.get(f.path);
      if (!ds) devs.set(f.path, [me]);
      else if (!ds.includes(me)) ds.push(me);
      changes.set(f.path, (changes.get(f.path) ?? 0) + 1);
      const sub = subsystem(f.path);
      mine.bySub.set(sub, (mine.bySub.get(sub) ?? 0) + 1);
    }
    if (c.files.length) mine.commits.push([c.time, c.files.length]);
    mine.files += c.files.length;
    authorChanges.set(c.author, mine);
  }
  return { commits, unreadable: { count: unreadable.length, sample: unreadable.slice(0, 5), ...(object ? { object } : {}) }, cached };
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
  /** How many fixes are blamed at once (default: the machine's cores). */
  concurrency?: number;
  /** Blame results of fixes traced before: reused, and new ones added. */
  cache?: HistoryCache;
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
  const fixes = history.filter(
    (fix) => fix.signals.fix && fix.parents.length === 1 && (opts.fixesSince === undefined || fix.time >= opts.fixesSince) && fix.files.filter((f) => SOURCE_RE.test(f.path) && !TEST_RE.test(f.path)).length <= maxFixFiles,
  );
  // Blame is most of calibration's time and each git process uses one core: several fixes at once,
  // results applied in history order (the same labels whatever finishes first).
  const results = new Array<{ blamed: Array<[string, number]>; complete: boolean }>(fixes.length);
  let nextFix = 0;
  // On a shallow clone blame pins old lines on the boundary commit: such results are used, not cached.
  const shallow = opts.cache ? (await git(['rev-parse', '--is-shallow-repository'], opts).catch(() => 'true')).trim() !== 'false' : false;
  const worker = async () => {
    while (nextFix < fixes.length) {
      const i = nextFix++;
      const fix = fixes[i]!;
      const cached = opts.cache?.szz[fix.sha];
      results[i] = cached ? { blamed: cached, complete: true } : await blameFix(fix, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? availableParallelism()) }, worker));
  fixes.forEach((fix, i) => {
    const { blamed, complete } = results[i]!;
    if (opts.cache && complete && !shallow) opts.cache.szz[fix.sha] = blamed;
    const rule = fixRule(fix.message);
    for (const [sha] of blamed.filter(([sha]) => known.has(sha)).slice(0, maxBlamed)) add(sha, 'szz', fix.sha, rule);
  });
  return [...labels.values()];
}

/**
 * B-SZZ for one fix: the lines it removed or changed in source files (not tests, not cosmetic), blamed on
 * its parent with moves and whitespace ignored. The commits they came from, most lines first.
 */
async function blameFix(fix: HistoryCommit, opts: GitOptions): Promise<{ blamed: Array<[string, number]>; complete: boolean }> {
  const parent = fix.parents[0]!;
  // A git failure (a missing object) makes the result incomplete: used for this run, never cached.
  let complete = true;
  const diff = await git(['-c', 'core.quotePath=false', 'diff', '-U0', '-M', '--no-ext-diff', parent, fix.sha, '--'], opts).catch(() => ((complete = false), ''));
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
    const blame = await git(args, opts).catch(() => ((complete = false), ''));
    let current = '';
    for (const line of blame.split('\n')) {
      const hm = /^([0-9a-f]{40}) \d+ \d+/.exec(line);
      if (hm) {
        current = hm[1]!;
        continue;
      }
      if (line.startsWith('\t') && current && !looksCosmetic(line.slice(1))) blamed.set(current, (blamed.get(current) ?? 0) + 1);
    }
  }
  return { blamed: [...blamed].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])), complete };
}
