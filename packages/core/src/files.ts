/**
 * Reading files that inputs name, safely. A pull request controls what is in
 * the checkout, including symlinks: a `timings` file or a JUnit report
 * committed as a link to `/etc/passwd` or `~/.ssh/id_rsa` must not be read and
 * echoed back. Files are read only when their real path is inside the
 * workspace or the runner's temp directory (where artifacts and reports are
 * downloaded). Every failure is a ConfigError naming the input, never an
 * ENOENT/EISDIR stack, and no message quotes the file's content.
 */
import { closeSync, fstatSync, lstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';

/** Default cap for a file an input names. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

export interface InputFileOptions {
  /** What the file is, for messages (`SARIF log`). */
  what: string;
  /** The input that named it (`sarif`). */
  input: string;
  /** What to do about it. */
  fix: string;
  /** Largest size read (bytes); default 64 MiB. */
  maxBytes?: number;
  /** Directories besides the workspace a file may resolve into (default: RUNNER_TEMP). */
  roots?: readonly string[];
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The directories a named file may really live in: the workspace and RUNNER_TEMP. */
export function allowedRoots(cwd: string, extra?: readonly string[], env: Record<string, string | undefined> = process.env): string[] {
  const roots = [cwd, ...(extra ?? (env['RUNNER_TEMP'] ? [env['RUNNER_TEMP']] : []))];
  return [...new Set(roots.map(realOrSelf))];
}

/**
 * Where a path an input names may lead. A relative path (or an absolute one
 * inside the workspace) is the checkout's, which the pull request controls:
 * it must resolve inside the workspace or RUNNER_TEMP. An absolute path
 * outside the workspace was written by the workflow itself (e.g. a download
 * directory), so that location counts as allowed too.
 */
export function rootsFor(cwd: string, named: string, base: readonly string[]): string[] {
  const abs = path.resolve(cwd, named);
  if (!path.isAbsolute(named) || isInside(abs, path.resolve(cwd))) return [...base];
  return [...base, realOrSelf(abs)];
}

export function isInside(child: string, root: string): boolean {
  const rel = path.relative(root, child);
  // `..cache/x` is inside; only `..` itself or a `../` prefix leaves the root.
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * The real path of `file` (relative to `cwd`) when it is a regular file inside
 * an allowed root; otherwise a ConfigError that says why, without content.
 */
export function resolveInputFile(cwd: string, file: string, o: InputFileOptions): string {
  const where = { file: `input '${o.input}'`, fix: o.fix };
  const abs = path.resolve(cwd, file);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(`${o.what} '${file}' does not exist`, where);
    if (code === 'ELOOP') throw new ConfigError(`${o.what} '${file}' is a symlink loop`, where);
    throw new ConfigError(`${o.what} '${file}' cannot be opened (${code ?? 'error'})`, where);
  }
  const roots = rootsFor(cwd, file, allowedRoots(cwd, o.roots));
  if (!roots.some((r) => isInside(real, r))) {
    throw new ConfigError(`${o.what} '${file}' resolves outside the workspace (a symlink?); it is not read`, { ...where, fix: `${o.fix}; a file committed as a symlink is never followed out of the workspace` });
  }
  const st = statSync(real);
  if (st.isDirectory()) throw new ConfigError(`${o.what} '${file}' is a directory, not a file`, where);
  if (!st.isFile()) throw new ConfigError(`${o.what} '${file}' is not a regular file`, where);
  return real;
}

/** Read a file an input names, with the checks of `resolveInputFile` and a size cap. */
export function readInputFile(cwd: string, file: string, o: InputFileOptions): string {
  return readInputBuffer(cwd, file, o).toString('utf8');
}

export function readInputBuffer(cwd: string, file: string, o: InputFileOptions): Buffer {
  const real = resolveInputFile(cwd, file, o);
  const max = o.maxBytes ?? MAX_INPUT_BYTES;
  const fd = openSync(real, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > max) throw new ConfigError(`${o.what} '${file}' is ${size} bytes, over the ${max}-byte limit`, { file: `input '${o.input}'`, fix: o.fix });
    const buf = Buffer.alloc(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, buf, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
    return buf.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

/**
 * A path an action writes to (e.g. calibrate's model file): it must stay
 * inside the workspace, so an input cannot make the action write elsewhere.
 */
export function outputPathInWorkspace(cwd: string, file: string, input: string): string {
  const abs = path.resolve(cwd, file);
  // The file itself may be a (dangling) symlink the checkout holds: writing would follow it out.
  try {
    if (lstatSync(abs).isSymbolicLink()) throw new ConfigError(`'${file}' is a symlink; the action does not write through it`, { file: `input '${input}'`, fix: 'remove the link or write to another path inside the workspace' });
  } catch (e) {
    if (e instanceof ConfigError) throw e;
  }
  // The nearest existing ancestor's real path decides: a symlinked folder pointing out is refused too.
  let existing = abs;
  for (;;) {
    try {
      existing = realpathSync(existing);
      break;
    } catch {
      const up = path.dirname(existing);
      if (up === existing) break;
      existing = up;
    }
  }
  if (!isInside(abs, path.resolve(cwd)) || !isInside(existing, realOrSelf(cwd))) {
    throw new ConfigError(`'${file}' is outside the workspace; the action writes only inside it`, { file: `input '${input}'`, fix: 'give a path relative to the repository root, without `..` or a symlinked folder' });
  }
  return abs;
}
