/**
 * Real git repositories for tests, built with the git CLI: a bare "origin",
 * a working clone to author commits, PR refs (`refs/pull/N/head` and a real
 * merge commit at `refs/pull/N/merge`), and checkouts made the way
 * actions/checkout makes them (shallow fetch of one SHA, detached HEAD).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const AUTHOR = { name: 'Mona Lisa', email: 'mona@example.com' };

export class GitFixture {
  readonly origin: string;
  readonly work: string;
  private tick = 0;

  private constructor(readonly root: string) {
    this.origin = path.join(root, 'origin.git');
    this.work = path.join(root, 'work');
  }

  static create(opts: { defaultBranch?: string } = {}): GitFixture {
    const fx = new GitFixture(mkdtempSync(path.join(tmpdir(), 'git-fixture-')));
    const branch = opts.defaultBranch ?? 'main';
    run(['init', '-q', '--bare', `--initial-branch=${branch}`, fx.origin], fx.root);
    // GitHub serves any reachable SHA; let shallow fetches by SHA work.
    run(['config', 'uploadpack.allowAnySHA1InWant', 'true'], fx.origin);
    run(['init', '-q', `--initial-branch=${branch}`, fx.work], fx.root);
    run(['remote', 'add', 'origin', fx.url], fx.work);
    return fx;
  }

  /** `file://` so `--depth` is honoured as on a real remote. */
  get url(): string {
    return `file://${this.origin}`;
  }

  git(args: string[], cwd = this.work, env: Record<string, string> = {}): string {
    return run(args, cwd, env);
  }

  private env(date?: string): Record<string, string> {
    const d = date ?? new Date(Date.UTC(2026, 0, 1) + (this.tick++) * 60_000).toISOString();
    return { GIT_AUTHOR_NAME: AUTHOR.name, GIT_AUTHOR_EMAIL: AUTHOR.email, GIT_COMMITTER_NAME: AUTHOR.name, GIT_COMMITTER_EMAIL: AUTHOR.email, GIT_AUTHOR_DATE: d, GIT_COMMITTER_DATE: d };
  }

  /**
   * Commit a set of file changes on the current branch: a string writes the
   * file, `null` deletes it, `{renameFrom}` renames, `{symlink}` commits a
   * symbolic link to that target (as a pull request can). Returns the new SHA.
   */
  commit(message: string, files: Record<string, string | null | { renameFrom: string; content?: string } | { symlink: string }>, opts: { author?: { name: string; email: string }; date?: string } = {}): string {
    const toAdd: string[] = [];
    for (const [file, value] of Object.entries(files)) {
      const abs = path.join(this.work, file);
      if (value === null) {
        run(['rm', '-q', '--', file], this.work);
      } else if (typeof value === 'object' && 'symlink' in value) {
        mkdirSync(path.dirname(abs), { recursive: true });
        rmSync(abs, { force: true });
        symlinkSync(value.symlink, abs);
        toAdd.push(file);
      } else if (typeof value === 'object') {
        mkdirSync(path.dirname(abs), { recursive: true });
        run(['mv', '--', value.renameFrom, file], this.work);
        if (value.content !== undefined) writeFileSync(abs, value.content);
        run(['add', '--', file], this.work);
      } else {
        mkdirSync(path.dirname(abs), { recursive: true });
        writeFileSync(abs, value);
        toAdd.push(file);
      }
    }
    // One `git add` per 1000 files: a fixture with thousands of files stays fast.
    for (let i = 0; i < toAdd.length; i += 1000) run(['add', '--', ...toAdd.slice(i, i + 1000)], this.work);
    const env = this.env(opts.date);
    if (opts.author) Object.assign(env, { GIT_AUTHOR_NAME: opts.author.name, GIT_AUTHOR_EMAIL: opts.author.email });
    run(['commit', '-q', '--allow-empty', '-m', message], this.work, env);
    return this.head();
  }

  head(rev = 'HEAD'): string {
    return run(['rev-parse', rev], this.work).trim();
  }

  branch(name: string, from = 'HEAD'): void {
    run(['checkout', '-q', '-b', name, from], this.work);
  }

  checkout(name: string): void {
    run(['checkout', '-q', name], this.work);
  }

  push(...refspecs: string[]): void {
    run(['push', '-q', '--force', 'origin', ...refspecs], this.work);
  }

  /**
   * Open pull request N from `head` into `base`: pushes both branches,
   * `refs/pull/N/head`, and a real merge commit at `refs/pull/N/merge` (first
   * parent = base tip), as GitHub does. Returns the SHAs.
   */
  pullRequest(n: number, base: string, head: string): { base: string; head: string; merge: string } {
    const baseSha = this.head(base);
    const headSha = this.head(head);
    const current = run(['rev-parse', '--abbrev-ref', 'HEAD'], this.work).trim();
    run(['checkout', '-q', '--detach', baseSha], this.work);
    run(['merge', '-q', '--no-ff', '--no-edit', '-m', `Merge ${headSha} into ${baseSha}`, headSha], this.work, this.env());
    const merge = this.head();
    run(['checkout', '-q', current], this.work);
    this.push(`${base}:refs/heads/${base}`, `${head}:refs/heads/${head}`, `${headSha}:refs/pull/${n}/head`, `${merge}:refs/pull/${n}/merge`);
    return { base: baseSha, head: headSha, merge };
  }

  /**
   * A checkout like actions/checkout: empty repo, origin remote, fetch of one
   * SHA (depth 1 by default; 0 = full history) and a detached HEAD.
   */
  checkoutLike(sha: string, opts: { depth?: number; into?: string; ref?: string } = {}): string {
    const dir = opts.into ?? mkdtempSync(path.join(tmpdir(), 'checkout-'));
    mkdirSync(dir, { recursive: true });
    run(['init', '-q', dir], this.root);
    run(['remote', 'add', 'origin', this.url], dir);
    const depth = opts.depth ?? 1;
    const target = opts.ref ? `+${sha}:${opts.ref}` : sha;
    run(['fetch', '-q', '--no-tags', ...(depth > 0 ? [`--depth=${depth}`] : []), 'origin', target], dir);
    run(['checkout', '-q', '--detach', sha], dir);
    return dir;
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

function run(args: string[], cwd: string, env: Record<string, string> = {}): string {
  return execFileSync('git', args, {
    cwd,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
