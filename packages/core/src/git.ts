/**
 * Git helpers over the git CLI. Pure of `@actions/*` so the CLI can use them.
 * Paths are read with `-z`, so unicode and odd file names arrive verbatim.
 */
import { execFile, spawn } from 'node:child_process';
import { ConfigError } from './errors.js';

export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    /** What git wrote to stdout before it failed (a log that stops at a missing object streams the commits before it). */
    readonly stdout = '',
  ) {
    super(`git ${args.join(' ')} failed (exit ${exitCode}): ${stderr.trim().split('\n').slice(-3).join(' / ')}`);
    this.name = 'GitError';
  }
}

export interface GitOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
}

export function git(args: readonly string[], opts: GitOptions & { input?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args as string[],
      {
        cwd: opts.cwd,
        env: { ...process.env, ...opts.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
        maxBuffer: 1024 * 1024 * 512,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as unknown as { code: number }).code) : null;
          reject(new GitError(args, code, stderr || err.message, typeof stdout === 'string' ? stdout : ''));
        } else resolve(stdout);
      },
    );
    if (opts.input !== undefined) {
      // git may exit before reading all of its input (a failed log): that is its error to report, not EPIPE's.
      child.stdin?.on('error', () => {});
      child.stdin?.end(opts.input);
    }
  });
}

/** True if `rev` names a commit present in the local object store. */
export async function hasCommit(rev: string, opts: GitOptions): Promise<boolean> {
  try {
    await git(['cat-file', '-e', `${rev}^{commit}`], opts);
    return true;
  } catch {
    return false;
  }
}

export async function isShallow(opts: GitOptions): Promise<boolean> {
  return (await git(['rev-parse', '--is-shallow-repository'], opts)).trim() === 'true';
}

export async function revParse(rev: string, opts: GitOptions): Promise<string> {
  return (await git(['rev-parse', '--verify', `${rev}^{commit}`], opts)).trim();
}

export async function isAncestor(ancestor: string, descendant: string, opts: GitOptions): Promise<boolean> {
  try {
    await git(['merge-base', '--is-ancestor', ancestor, descendant], opts);
    return true;
  } catch (e) {
    if (e instanceof GitError && e.exitCode === 1) return false;
    throw e;
  }
}

/**
 * Make sure `sha` is available locally; in a shallow or partial clone fetch
 * just that commit (depth 1 unless told otherwise). Never guesses another base.
 */
export async function ensureCommit(sha: string, opts: GitOptions & { remote?: string; depth?: number }): Promise<'present' | 'fetched'> {
  if (await hasCommit(sha, opts)) return 'present';
  const remote = opts.remote ?? 'origin';
  try {
    await git(['fetch', '--no-tags', '--no-recurse-submodules', `--depth=${opts.depth ?? 1}`, remote, sha], opts);
  } catch (e) {
    throw new ConfigError(`commit ${sha} is not in this clone and could not be fetched from '${remote}': ${(e as Error).message}`, {
      file: 'git checkout',
      fix: 'use actions/checkout with `fetch-depth: 0`, or make sure the token can read the repository',
      cause: e,
    });
  }
  if (!(await hasCommit(sha, opts))) {
    throw new ConfigError(`commit ${sha} is still missing after fetching it from '${remote}'`, {
      file: 'git checkout',
      fix: 'check that the SHA exists on the remote (it may have been force-pushed away)',
    });
  }
  return 'fetched';
}

/**
 * Merge base of two commits, deepening a shallow clone step by step (up to
 * `maxDeepen` commits) until one is found.
 */
export async function mergeBase(a: string, b: string, opts: GitOptions & { remote?: string; maxDeepen?: number }): Promise<string> {
  const remote = opts.remote ?? 'origin';
  let deepened = 0;
  let step = 50;
  for (;;) {
    try {
      return (await git(['merge-base', a, b], opts)).trim();
    } catch (e) {
      if (!(e instanceof GitError) || e.exitCode !== 1) throw e;
      if (!(await isShallow(opts)) || deepened >= (opts.maxDeepen ?? 10000)) {
        throw new ConfigError(`no common ancestor between ${a.slice(0, 12)} and ${b.slice(0, 12)}`, {
          file: 'git checkout',
          fix: 'fetch more history (actions/checkout `fetch-depth: 0`) or check that the base branch is right',
        });
      }
      await git(['fetch', '--no-tags', `--deepen=${step}`, remote, a, b], opts);
      deepened += step;
      step *= 2;
    }
  }
}

export type ChangeStatus = 'added' | 'modified' | 'deleted' | 'renamed' | 'copied' | 'type-changed';

export interface FileChange {
  status: ChangeStatus;
  path: string;
  /** Set for renames and copies: the path before. */
  oldPath?: string;
  /** Rename/copy similarity in percent. */
  similarity?: number;
}

const STATUS: Record<string, ChangeStatus> = {
  A: 'added',
  M: 'modified',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  T: 'type-changed',
};

/** Parse `git diff --name-status -z` output. */
export function parseNameStatus(out: string): FileChange[] {
  const parts = out.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  const changes: FileChange[] = [];
  for (let i = 0; i < parts.length; ) {
    const code = parts[i++]!;
    const letter = code[0]!;
    const status = STATUS[letter];
    if (!status) throw new Error(`unexpected git status '${code}'`);
    if (letter === 'R' || letter === 'C') {
      const oldPath = parts[i++]!;
      const path = parts[i++]!;
      changes.push({ status, path, oldPath, similarity: Number(code.slice(1)) || 0 });
    } else {
      changes.push({ status, path: parts[i++]! });
    }
  }
  return changes;
}

/** `git diff --raw -z`: per changed path, the new blob id (all zeros for a deletion). */
export async function diffBlobs(base: string, head: string, opts: GitOptions): Promise<Map<string, string>> {
  const out = await git(['-c', 'core.quotePath=false', 'diff', '--raw', '-z', '--no-abbrev', '--no-ext-diff', '--find-renames', base, head, '--'], opts);
  const parts = out.split('\0');
  const blobs = new Map<string, string>();
  for (let i = 0; i < parts.length; ) {
    const meta = parts[i++]!;
    if (!meta.startsWith(':')) continue;
    const fields = meta.slice(1).split(' ');
    const status = fields[4] ?? '';
    const newOid = fields[3] ?? '';
    if (status.startsWith('R') || status.startsWith('C')) i++; // old path
    const p = parts[i++];
    // A submodule (mode 160000) points at a commit, not a blob: there is no content here to read.
    if (p !== undefined && fields[1] !== '160000') blobs.set(p, newOid);
  }
  return blobs;
}

/** Files changed between two commits, with rename detection. */
export async function diffFiles(base: string, head: string, opts: GitOptions & { renames?: boolean }): Promise<FileChange[]> {
  const args = ['-c', 'core.quotePath=false', 'diff', '--name-status', '-z', '--no-ext-diff'];
  args.push(opts.renames === false ? '--no-renames' : '--find-renames');
  args.push(base, head, '--');
  return parseNameStatus(await git(args, opts));
}

/** Every path a change touches: both sides of a rename count. */
export function touchedPaths(changes: readonly FileChange[]): string[] {
  const out = new Set<string>();
  for (const c of changes) {
    out.add(c.path);
    if (c.oldPath) out.add(c.oldPath);
  }
  return [...out];
}

/** A file's text at a commit (`git show <rev>:<path>`), or undefined when that commit has no such file. */
export function readFileAt(rev: string, file: string, opts: GitOptions): Promise<string | undefined> {
  return git(['show', `${rev}:${file}`], opts).catch(() => undefined);
}

/**
 * Feed one request per line to a `git cat-file` batch mode and return its whole output. A request
 * holding a line break (a path named "a\nHEAD~1:x") would shift every answer after it: such requests
 * are dropped here, and the caller gets them back as absent.
 */
function catFileBatch(format: string, requests: readonly string[], opts: GitOptions): Promise<{ sent: string[]; out: Buffer }> {
  const sent = [...new Set(requests)].filter((o) => !/[\r\n]/.test(o));
  if (!sent.length) return Promise.resolve({ sent, out: Buffer.alloc(0) });
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', format, ...(format === '--batch' ? ['--buffer'] : [])], { cwd: opts.cwd, env: { ...process.env, ...opts.env, LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ sent, out: Buffer.concat(chunks) }) : reject(new Error(`git cat-file ${format} failed (exit ${code}): ${stderr.trim()}`))));
    child.stdin.end(sent.join('\n') + '\n');
  });
}

/** Read blobs by object id or `<rev>:<path>` in one `git cat-file --batch` process; keyed by the request. */
export async function readBlobs(oids: readonly string[], opts: GitOptions): Promise<Map<string, Buffer>> {
  const { sent, out: buf } = await catFileBatch('--batch', oids, opts);
  const result = new Map<string, Buffer>();
  let at = 0;
  // One header per request, in order: "<oid> <type> <size>" or "<spec> missing".
  for (const spec of sent) {
    if (at >= buf.length) break;
    const nl = buf.indexOf(10, at);
    const header = buf.subarray(at, nl).toString('utf8');
    at = nl + 1;
    if (header.endsWith(' missing') || header.endsWith(' ambiguous')) continue;
    const n = Number(header.slice(header.lastIndexOf(' ') + 1));
    result.set(spec, buf.subarray(at, at + n));
    at += n + 1; // content + LF
  }
  return result;
}

/** A path as git prints it: as is, or C-quoted (`"a\\"b\\303\\274"`), whose octal escapes are UTF-8 bytes. */
export function unquoteGitPath(p: string): string {
  if (!p.startsWith('"') || !p.endsWith('"')) return p;
  const bytes: number[] = [];
  const simple: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };
  const body = p.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body[i + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Walk a unified diff (`git diff -U<n>`), calling `on` for every added (`+`)
 * and removed (`-`) line with the new path and, for added lines, the 1-based
 * line number in the new file. Hunks are read by their line counts
 * (`@@ -a,b +c,d @@`), so an added line whose text is `++ b/other` (shown as
 * `+++ b/other`) is content, not a file header, and cannot hide what follows.
 */
export function walkUnifiedDiff(unifiedDiff: string, on: (file: string | undefined, kind: '+' | '-', line: number, old: { path: string | undefined; line: number }) => void, onFile?: (file: string) => void): void {
  let file: string | undefined;
  let line = 0;
  let oldLine = 0;
  let oldLeft = 0;
  let newLeft = 0;
  let oldPath: string | undefined;
  for (const l of unifiedDiff.split('\n')) {
    if (oldLeft > 0 || newLeft > 0) {
      // Inside a hunk: every line is content (or git's "\ No newline" note).
      if (l.startsWith('\\')) continue;
      if (l.startsWith('+')) {
        on(file, '+', line, { path: oldPath, line: oldLine });
        line++;
        newLeft--;
      } else if (l.startsWith('-')) {
        on(file ?? oldPath, '-', 0, { path: oldPath, line: oldLine });
        oldLine++;
        oldLeft--;
      } else {
        line++;
        oldLine++;
        oldLeft--;
        newLeft--;
      }
      continue;
    }
    if (l.startsWith('diff --git ')) file = oldPath = undefined;
    else if (l.startsWith('--- ')) {
      const p = unquoteGitPath(l.slice(4).replace(/\t$/, ''));
      oldPath = p === '/dev/null' ? undefined : p.replace(/^a\//, '');
    } else if (l.startsWith('+++ ')) {
      // git appends a tab to names with spaces, and C-quotes names with quotes, backslashes or control characters.
      const p = unquoteGitPath(l.slice(4).replace(/\t$/, ''));
      file = p === '/dev/null' ? undefined : p.replace(/^b\//, '');
      if (file) onFile?.(file);
    } else if (l.startsWith('@@')) {
      const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(l);
      if (!m) continue;
      oldLine = Number(m[1]);
      oldLeft = m[2] === undefined ? 1 : Number(m[2]);
      line = Number(m[3]);
      newLeft = m[4] === undefined ? 1 : Number(m[4]);
    }
  }
}

/** Line numbers (1-based) a unified diff adds, per new path. */
export function addedLines(unifiedDiff: string): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  walkUnifiedDiff(
    unifiedDiff,
    (file, kind, line) => {
      if (file && kind === '+') out.get(file)!.add(line);
    },
    (file) => {
      if (!out.has(file)) out.set(file, new Set());
    },
  );
  return out;
}

/** Lines added and removed per path (the new path; a deleted file's old path). */
export function diffLineCounts(unifiedDiff: string): Map<string, { added: number; deleted: number }> {
  const out = new Map<string, { added: number; deleted: number }>();
  walkUnifiedDiff(unifiedDiff, (file, kind) => {
    if (!file) return;
    const c = out.get(file) ?? { added: 0, deleted: 0 };
    if (kind === '+') c.added++;
    else c.deleted++;
    out.set(file, c);
  });
  return out;
}

/** Sizes of blobs by object id (absent ones left out), from one `git cat-file --batch-check`. Ids, not `<rev>:<path>`: a path may hold a newline. */
export async function blobSizes(specs: readonly string[], opts: GitOptions): Promise<Map<string, number>> {
  const { sent, out } = await catFileBatch('--batch-check=%(objecttype) %(objectsize)', specs, opts);
  const lines = out.toString('utf8').split('\n');
  const sizes = new Map<string, number>();
  sent.forEach((spec, i) => {
    const m = /^blob (\d+)$/.exec(lines[i] ?? '');
    if (m) sizes.set(spec, Number(m[1]));
  });
  return sizes;
}
