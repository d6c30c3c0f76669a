/**
 * A snapshot of the repository at one commit, read from git objects only:
 * `git ls-tree` gives every path with its blob id (which doubles as the
 * content hash for cache keys), `git cat-file --batch` reads many blobs in one
 * process. Nothing depends on what is checked out, so base and head are read
 * the same way, also in a shallow clone that holds just those two commits.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { git, type GitOptions } from '@maestro/core/git';

export interface Tree {
  /** The commit this tree belongs to (or a label for in-memory trees). */
  readonly rev: string;
  /** Every tracked file → blob id. */
  readonly files: ReadonlyMap<string, string>;
  /** File contents by path (undefined when absent). Reads are cached. */
  read(path: string): string | undefined;
  /** Prefetch many files in one batch (optional optimisation). */
  prefetch?(paths: readonly string[]): Promise<void>;
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

/** List every file of `rev` (submodules and symlinks included as entries). */
export async function listTree(rev: string, opts: GitOptions): Promise<Map<string, string>> {
  const out = await git(['-c', 'core.quotePath=false', 'ls-tree', '-r', '-z', '--full-tree', rev], opts);
  const files = new Map<string, string>();
  for (const rec of out.split('\0')) {
    if (!rec) continue;
    // "<mode> SP <type> SP <oid> TAB <path>"
    const tab = rec.indexOf('\t');
    const meta = rec.slice(0, tab).split(' ');
    files.set(rec.slice(tab + 1), meta[2]!);
  }
  return files;
}

/** Read blobs by object id in one `git cat-file --batch` process. */
export function readBlobs(oids: readonly string[], opts: GitOptions): Promise<Map<string, Buffer>> {
  const unique = [...new Set(oids)];
  if (!unique.length) return Promise.resolve(new Map());
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], { cwd: opts.cwd, env: { ...process.env, ...opts.env, LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`git cat-file --batch failed (exit ${code}): ${stderr.trim()}`));
      const buf = Buffer.concat(chunks);
      const result = new Map<string, Buffer>();
      let at = 0;
      while (at < buf.length) {
        const nl = buf.indexOf(10, at);
        const header = buf.subarray(at, nl).toString('utf8');
        at = nl + 1;
        const [oid, type, size] = header.split(' ');
        if (type === 'missing' || size === undefined) continue;
        const n = Number(size);
        result.set(oid!, buf.subarray(at, at + n));
        at += n + 1; // content + LF
      }
      resolve(result);
    });
    child.stdin.end(unique.join('\n') + '\n');
  });
}

/** The tree of a commit, with batched, cached reads. */
export async function gitTree(rev: string, opts: GitOptions): Promise<Tree> {
  const files = await listTree(rev, opts);
  const cache = new Map<string, string | undefined>();
  return {
    rev,
    files,
    read(path) {
      if (cache.has(path)) return cache.get(path);
      throw new Error(`internal: ${path} at ${rev} was not prefetched`);
    },
    async prefetch(paths) {
      const want = paths.filter((p) => !cache.has(p));
      const oids = want.map((p) => files.get(p)).filter((o): o is string => !!o);
      const blobs = await readBlobs(oids, opts);
      for (const p of want) {
        const oid = files.get(p);
        const b = oid ? blobs.get(oid) : undefined;
        cache.set(p, b?.toString('utf8'));
      }
    },
  };
}

/** Read the files a caller needs, prefetching when the tree supports it. */
export async function readAll(tree: Tree, paths: readonly string[]): Promise<Map<string, string>> {
  const present = paths.filter((p) => tree.files.has(p));
  if (tree.prefetch) await tree.prefetch(present);
  const out = new Map<string, string>();
  for (const p of present) {
    const c = tree.read(p);
    if (c !== undefined) out.set(p, c);
  }
  return out;
}
