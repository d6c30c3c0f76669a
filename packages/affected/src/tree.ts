/**
 * A snapshot of the repository at one commit, read from git objects only:
 * `git ls-tree` gives every path with its blob id (which doubles as the
 * content hash for cache keys), `git cat-file --batch` reads many blobs in one
 * process. Nothing depends on what is checked out, so base and head are read
 * the same way, also in a shallow clone that holds just those two commits.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { git, readBlobs, type GitOptions } from '@maestro/core/git';

export interface Tree {
  /** The commit this tree belongs to (or a label for in-memory trees). */
  readonly rev: string;
  /** Every tracked file → blob id. */
  readonly files: ReadonlyMap<string, string>;
  /** File contents by path (undefined when absent). Reads are cached. */
  read(path: string): string | undefined;
  /** Prefetch many files in one batch (optional optimisation). */
  prefetch?(paths: readonly string[]): Promise<void>;
  /** Resolves once a background listing has finished, so `files` need not list synchronously. */
  ready?(): Promise<void>;
}

/** An in-memory tree (tests, and the CLI's view of a working directory). */
export function memoryTree(rev: string, contents: Record<string, string>): Tree {
  const files = new Map<string, string>();
  for (const [p, c] of Object.entries(contents)) files.set(p, blobOid(c)); // git's blob id, so keys match real trees
  return { rev, files, read: (p) => contents[p] };
}

export function blobOid(content: string | Buffer): string {
  const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
}

export { readBlobs };

const lsTreeArgs = (rev: string) => ['-c', 'core.quotePath=false', 'ls-tree', '-r', '-z', '--full-tree', rev];

/** List every file of `rev` (submodules and symlinks included as entries). */
export async function listTree(rev: string, opts: GitOptions): Promise<Map<string, string>> {
  return parseLsTree(await git(lsTreeArgs(rev), opts));
}

/**
 * The tree of a commit, with batched, cached reads. The file listing is taken
 * lazily (on first use of `files`), and reads go by `<rev>:<path>`, so a base
 * tree that is only asked for a few files never lists the whole repository.
 */
export interface GitTreeOptions extends GitOptions {
  eager?: boolean | 'background';
  /**
   * Contents by blob id, shared between trees of one repository: a base tree whose
   * manifests are unchanged reads them from here instead of another git process.
   */
  blobs?: Map<string, string>;
}

export async function gitTree(rev: string, opts: GitTreeOptions): Promise<Tree> {
  // Eager: list now, asynchronously (so it overlaps with other git work); background: start
  // listing now and return at once (`ready()` waits for it); lazy: list on first use.
  let files: Map<string, string> | undefined = opts.eager === true ? await listTree(rev, opts) : undefined;
  const listing = opts.eager === 'background' ? listTree(rev, opts).then((f) => void (files ??= f), () => undefined) : undefined;
  const cache = new Map<string, string | undefined>();
  return {
    rev,
    ready: () => listing ?? Promise.resolve(),
    get files() {
      // stderr is captured (it ends up in the error's message), not printed into the log.
      files ??= parseLsTree(execFileSync('git', lsTreeArgs(rev), { cwd: opts.cwd, env: { ...process.env, ...opts.env, LC_ALL: 'C' }, encoding: 'utf8', maxBuffer: 1 << 29, stdio: ['ignore', 'pipe', 'pipe'] }));
      return files;
    },
    read(path) {
      if (cache.has(path)) return cache.get(path);
      throw new Error(`internal: ${path} at ${rev} was not prefetched`);
    },
    async prefetch(paths) {
      const shared = opts.blobs;
      const want: string[] = [];
      for (const p of new Set(paths)) {
        if (cache.has(p)) continue;
        const oid = files?.get(p);
        // Listed trees know what is absent, and shared contents need no git process.
        if (files && oid === undefined) cache.set(p, undefined);
        else if (oid !== undefined && shared?.has(oid)) cache.set(p, shared.get(oid));
        else want.push(p);
      }
      if (!want.length) return;
      // Known blob ids when listed already; `rev:path` otherwise (missing paths come back "missing").
      const specs = want.map((p) => files?.get(p) ?? `${rev}:${p}`);
      const blobs = await readBlobs(specs, opts);
      want.forEach((p, i) => {
        const text = blobs.get(specs[i]!)?.toString('utf8');
        cache.set(p, text);
        const oid = files?.get(p);
        if (shared && oid !== undefined && text !== undefined) shared.set(oid, text);
      });
    },
  };
}

function parseLsTree(out: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const rec of out.split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    files.set(rec.slice(tab + 1), rec.slice(0, tab).split(' ')[2]!);
  }
  return files;
}

/** Read the files a caller needs, prefetching when the tree supports it. */
export async function readAll(tree: Tree, paths: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (tree.prefetch) {
    await tree.prefetch(paths);
    for (const p of paths) {
      const c = tree.read(p);
      if (c !== undefined) out.set(p, c);
    }
    return out;
  }
  for (const p of paths) {
    const c = tree.files.has(p) ? tree.read(p) : undefined;
    if (c !== undefined) out.set(p, c);
  }
  return out;
}
