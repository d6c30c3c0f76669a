/**
 * The 14 Kamei change metrics for a change base..head, computed from git the
 * way the public data sets define them: size and spread from the diff, file
 * sizes from the base tree, history (developers, age, earlier changes, author
 * experience) from `git log` before the base. In a shallow clone without that
 * history the history metrics are reported missing, never 0.
 */
import path from 'node:path/posix';
import { Minimatch } from 'minimatch';
import { diffLineCounts, git, isShallow, readBlobs, type GitOptions } from '@maestro/core/git';
import type { Metric, Signals } from './model.js';

export interface ChangeSignals {
  signals: Signals;
  missing: Metric[];
  /** Why some signals are missing. */
  notes: string[];
  files: Array<{ path: string; added: number; deleted: number; before: string }>;
  author: string;
  /**
   * Lines added + deleted in the touched files by commits of the 30 days before
   * the change (the seed formula's `churn30d`); null when the clone holds too
   * little history to tell.
   */
  churn30d: number | null;
}

export interface SignalOptions extends GitOptions {
  base: string;
  head: string;
  /** Upper bound of history commits read (large repositories). */
  maxHistory?: number;
  /** Text that counts for `fix` besides commit messages (e.g. the PR title and body). */
  extraMessage?: string;
  /** Globs of files left out of every metric (default: vendored, generated and lock files). */
  exclude?: readonly string[];
}

/** Vendored, generated and lock files: they inflate size metrics without being anyone's change. */
export const DEFAULT_EXCLUDE = ['**/node_modules/**', '**/vendor/**', '**/third_party/**', '**/dist/**', '**/*.min.js', '**/*.min.css', '**/*.map', '**/__generated__/**', '**/*.generated.*', '**/*.snap', 'pnpm-lock.yaml', 'package-lock.json', 'yarn.lock', 'bun.lock', 'go.sum', 'Cargo.lock', 'poetry.lock'];

export function excluder(globs: readonly string[] = DEFAULT_EXCLUDE): (file: string) => boolean {
  const ms = globs.map((g) => new Minimatch(g, { dot: true, matchBase: !g.includes('/') }));
  return (file) => ms.some((m) => m.match(file));
}

/**
 * Whether a commit message says it fixes a bug (the `fix` metric, and the fixes SZZ starts from),
 * and by which rule. Narrow on purpose: a broad matcher ("resolve" in prose, any `#123`, tokens
 * like `node-20`) labelled half of a real repository's commits as fixes, `feat:` commits included.
 * - `conventional`: a Conventional Commits subject typed `fix` (also `bugfix`, `hotfix`); any other
 *   type (`feat:`, `chore:`, `docs:`, …) is not a fix, whatever the words;
 * - `trailer`: a `Fixes: <sha>` trailer (kernel style) or `Bug:`/`Fixes-bug:` trailer;
 * - `closing`: a fix keyword followed by an issue reference (`fixes #123`, `fixed JIRA-42`);
 * - `subject`: fix wording as a whole word in the subject line (fix, fixes, fixed, bug, bugfix,
 *   hotfix, defect, regression, crash); words in the body are prose and do not count.
 */
export function fixRule(message: string): 'conventional' | 'trailer' | 'closing' | 'subject' | undefined {
  const subject = message.split('\n', 1)[0]!.trim();
  const type = /^([A-Za-z]+)(\([^)]*\))?!?:\s/.exec(subject)?.[1]?.toLowerCase();
  if (type) return ['fix', 'bugfix', 'hotfix'].includes(type) ? 'conventional' : undefined;
  if (/^(Fixes|Fixes-bug|Bug):\s*\S+/m.test(message)) return 'trailer';
  if (/\b(fix|fixes|fixed|fixing)\s+(#\d+|[A-Z][A-Z0-9]+-\d+\b|https?:\/\/\S+\/issues\/\d+)/i.test(message)) return 'closing';
  if (/\b(fix|fixes|fixed|fixing|bug|bugs|bugfix|hotfix|defect|regression|crash|crashes)\b/i.test(subject)) return 'subject';
  return undefined;
}

/** True when any of the messages is a fix by `fixRule` (a PR body counts only through the closing and trailer rules). */
export function isFix(messages: readonly string[], prose: readonly string[] = []): boolean {
  return messages.some((m) => fixRule(m) !== undefined) || prose.some((p) => { const r = fixRule(`\n${p}`); return r === 'closing' || r === 'trailer'; });
}
export const DAY = 86400;

/** Kamei's subsystem: the first path component, `root` for top-level files. */
export const subsystem = (f: string) => (f.includes('/') ? f.slice(0, f.indexOf('/')) : 'root');

/**
 * One `git … --numstat -z` record, `<added>\t<deleted>\t<path>` (leading newlines between commits
 * ignored). Only the first two tabs separate fields: a path may itself contain tabs. Binary files
 * (`-`) count 0 lines. The path is '' for a rename, whose old and new paths follow as records.
 */
export function numstatRecord(rec: string): { added: number; deleted: number; path: string; binary?: boolean } | undefined {
  let i = 0;
  while (rec.charCodeAt(i) === 10) i++;
  const t1 = rec.indexOf('\t', i);
  const t2 = t1 < 0 ? -1 : rec.indexOf('\t', t1 + 1);
  if (t2 < 0) return undefined;
  const a = rec.slice(i, t1);
  const d = rec.slice(t1 + 1, t2);
  if (!/^(\d+|-)$/.test(a) || !/^(\d+|-)$/.test(d)) return undefined;
  return { added: a === '-' ? 0 : Number(a), deleted: d === '-' ? 0 : Number(d), path: rec.slice(t2 + 1), ...(a === '-' ? { binary: true } : {}) };
}

/** `git diff --numstat -z` with renames: returns per-file added/deleted lines (binary files count 0). */
type NumstatFile = { path: string; added: number; deleted: number; before: string; binary?: boolean };

function parseNumstat(out: string): NumstatFile[] {
  const parts = out.split('\0');
  const files: NumstatFile[] = [];
  for (let i = 0; i < parts.length; i++) {
    const rec = parts[i]!;
    if (!rec) continue;
    const r = numstatRecord(rec);
    if (!r) continue;
    let file = r.path;
    let before = file;
    if (file === '') {
      // rename: "<a>\t<d>\t" then old NUL new
      before = parts[i + 1] ?? '';
      file = parts[i + 2] ?? '';
      i += 2;
    }
    files.push({ path: file, added: r.added, deleted: r.deleted, before, ...(r.binary ? { binary: true } : {}) });
  }
  return files;
}

/** Git's own binary test: a NUL byte in the first 8000 bytes. */
const looksBinary = (b: Buffer | undefined) => !!b && b.subarray(0, 8000).includes(0);

/**
 * numstat honours `.gitattributes` (`-diff`, `binary`) even with `--text`, so a
 * change could add `*.ts -diff` and report 600 added lines as "binary, 0".
 * Files numstat calls binary but whose content is text (no NUL, git's own
 * test) are recounted from a `--text` patch. Returns how many were recounted.
 */
async function countAttributeBinaries(files: NumstatFile[], base: string, head: string, g: GitOptions): Promise<number> {
  const marked = files.filter((f) => f.binary);
  if (!marked.length) return 0;
  const blobs = await readBlobs(marked.flatMap((f) => [`${base}:${f.before}`, `${head}:${f.path}`]), g);
  const textual = marked.filter((f) => !looksBinary(blobs.get(`${base}:${f.before}`)) && !looksBinary(blobs.get(`${head}:${f.path}`)));
  if (!textual.length) return 0;
  const spec = textual.length <= 1000 ? [...new Set(textual.flatMap((f) => [f.path, f.before]))].map((p) => `:(literal)${p}`) : [];
  const counts = diffLineCounts(await git(['-c', 'core.quotePath=false', 'diff', '-U0', '-M', '--text', '--no-textconv', '--no-ext-diff', '--no-color', base, head, '--', ...spec], g));
  for (const f of textual) {
    const c = counts.get(f.path);
    if (c) {
      f.added = c.added;
      f.deleted = c.deleted;
    }
    delete f.binary;
  }
  return textual.length;
}

export async function changeSignals(opts: SignalOptions): Promise<ChangeSignals> {
  const g = { cwd: opts.cwd, ...(opts.env ? { env: opts.env } : {}) };
  const all = parseNumstat(await git(['-c', 'core.quotePath=false', 'diff', '--numstat', '-z', '-M', '--no-textconv', '--no-ext-diff', opts.base, opts.head, '--'], g));
  const recounted = await countAttributeBinaries(all, opts.base, opts.head, g);
  const excluded = excluder(opts.exclude);
  const files = all.filter((f) => !excluded(f.path));
  const signals: Signals = {};
  const missing: Metric[] = [];
  const notes: string[] = [];
  if (recounted) notes.push(`${recounted} file(s) that .gitattributes marks binary hold text: their lines are counted`);
  if (files.length < all.length) notes.push(`${all.length - files.length} vendored, generated or lock file(s) left out (${all.filter((f) => excluded(f.path)).slice(0, 3).map((f) => f.path).join(', ')}${all.length - files.length > 3 ? ', …' : ''})`);
  const la = files.reduce((a, f) => a + f.added, 0);
  const ld = files.reduce((a, f) => a + f.deleted, 0);
  signals.la = la;
  signals.ld = ld;
  signals.nf = files.length;
  signals.nd = new Set(files.map((f) => path.dirname(f.path))).size;
  signals.ns = new Set(files.map((f) => subsystem(f.path))).size;
  const total = la + ld;
  signals.entrophy = total ? -files.reduce((a, f) => {
    const p = (f.added + f.deleted) / total;
    return p > 0 ? a + p * Math.log2(p) : a;
  }, 0) : 0;

  // lt: lines of the touched files before the change (files new in this change count 0).
  const blobs = await readBlobs(files.map((f) => `${opts.base}:${f.before}`), g);
  let lt = 0;
  for (const b of blobs.values()) {
    let n = 0;
    for (let i = 0; i < b.length; i++) if (b[i] === 10) n++;
    lt += n + (b.length && b[b.length - 1] !== 10 ? 1 : 0);
  }
  signals.lt = lt;

  // fix: an issue key or fix wording in the change's messages.
  const messages = (await git(['log', '--format=%B%x00', `${opts.base}..${opts.head}`], g).catch(() => '')).split('\0').map((m) => m.trim()).filter(Boolean);
  // The PR title is a subject; its body is prose (only "fixes #12" style references and trailers count).
  const [title = '', ...body] = (opts.extraMessage ?? '').split('\n');
  signals.fix = isFix(title.trim() ? [...messages, title] : messages, body.length ? [body.join('\n')] : []) ? 1 : 0;

  const authorLine = (await git(['log', '-1', '--format=%ae%x00%at', opts.head], g)).trim();
  const [author, headTime] = authorLine.split('\0') as [string, string];
  const now = Number(headTime);

  // History before the base.
  const shallow = await isShallow(g);
  const log = await git(['-c', 'core.quotePath=false', 'log', '--no-merges', '--format=%x01%ae%x00%at', '--name-only', `--max-count=${opts.maxHistory ?? 50000}`, opts.base], g).catch(() => '');
  const history: Array<{ author: string; time: number; files: string[] }> = [];
  for (const chunk of log.split('\x01')) {
    if (!chunk.trim()) continue;
    const [head, ...rest] = chunk.split('\n');
    const [a, t] = (head ?? '').split('\0');
    history.push({ author: a ?? '', time: Number(t), files: rest.filter(Boolean) });
  }
  let churn30d: number | null = null;
  if (shallow && history.length < 50) {
    for (const m of ['ndev', 'age', 'nuc', 'exp', 'rexp', 'sexp'] as const) missing.push(m);
    const days = history.length ? (Math.max(...history.map((c) => c.time)) - Math.min(...history.map((c) => c.time))) / DAY : 0;
    notes.push(`the clone is shallow (${history.length} commit(s), ${days.toFixed(0)} day(s) of history before the base): developer, age and experience signals are missing; fetch more history (actions/checkout fetch-depth: 0) to include them`);
  } else {
    const touched = new Set(files.map((f) => f.before));
    const subsystems = new Set(files.map((f) => subsystem(f.path)));
    const devs = new Set<string>([author]);
    const last = new Map<string, number>();
    let nuc = files.length; // this change counts once per file
    let exp = 0;
    let rexp = 0;
    let sexp = 0;
    for (const c of history) {
      const mineCommit = c.author === author;
      for (const f of c.files) {
        if (touched.has(f)) {
          devs.add(c.author);
          nuc++;
          if (!last.has(f) || last.get(f)! < c.time) last.set(f, c.time);
        }
        if (mineCommit) {
          exp++;
          rexp += 1 / (1 + Math.max(0, (now - c.time) / DAY));
          if (subsystems.has(subsystem(f))) sexp++;
        }
      }
    }
    signals.ndev = devs.size;
    const ages = [...touched].filter((f) => last.has(f)).map((f) => Math.max(0, (now - last.get(f)!) / DAY));
    signals.age = ages.length ? ages.reduce((a, b) => a + b, 0) / ages.length : 0;
    signals.nuc = nuc;
    signals.exp = exp;
    signals.rexp = rexp;
    signals.sexp = sexp;
    churn30d = await recentChurn({ ...g, base: opts.base, since: now - 30 * DAY, touched });
    if (history.length >= (opts.maxHistory ?? 50000)) notes.push(`history read up to ${history.length} commits; older changes are not counted`);
  }
  return { signals, missing, notes, files, author, churn30d };
}

/** Lines added + deleted in `touched` files by non-merge commits reachable from `base` since `since` (Unix time). */
export async function recentChurn(opts: GitOptions & { base: string; since: number; touched: ReadonlySet<string> }): Promise<number> {
  // Limited to the touched paths (literal, not globs), so git diffs only the commits that touched them;
  // a change of thousands of files reads the window unfiltered instead of passing a huge argument list.
  if (!opts.touched.size) return 0;
  const paths = opts.touched.size <= 1000 ? ['--', ...[...opts.touched].map((f) => `:(literal)${f}`)] : [];
  // -z: paths come raw (no C-quoting of tabs, quotes or newlines), each record ending in NUL.
  const out = await git(['-c', 'core.quotePath=false', 'log', '-z', '--no-merges', '--no-renames', '--numstat', '--format=', `--since=@${Math.floor(opts.since)}`, opts.base, ...paths], opts);
  let n = 0;
  for (const rec of out.split('\0')) {
    const r = numstatRecord(rec);
    if (r && opts.touched.has(r.path)) n += r.added + r.deleted;
  }
  return n;
}
