/**
 * What configures the risk gate is read from the base commit, never from the
 * change under review (GitHub itself takes CODEOWNERS from the base branch):
 * a pull request that adds `policy/risk-model.json` scoring everything 0, or
 * its own CODEOWNERS, must not grade itself. One rule for the action and the
 * `maestro risk` CLI.
 *
 * A file that no commit tracks (written by an earlier step of the job, e.g. a
 * model downloaded from the cache) is the workflow's own and is read from the
 * workspace.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@maestro/core/errors';
import { git, readFileAt } from '@maestro/core/git';
import { CODEOWNERS_PATHS } from './codeowners.js';
import { DEFAULT_MODEL } from './default-model.data.js';
import { DEFAULT_SOURCE, SEED_SOURCE, readModel } from './assess.js';
import type { Model } from './model.js';

/** The default model file a repository commits (`maestro risk calibrate` writes it). */
export const REPO_MODEL = 'policy/risk-model.json';

/** True when `file` is in HEAD's tree (the checkout's commit: the PR's merge or head). */
async function tracked(cwd: string, file: string): Promise<boolean> {
  return git(['cat-file', '-e', `HEAD:${file}`], { cwd }).then(
    () => true,
    () => false,
  );
}

export interface ResolvedModel {
  model: Model | 'seed';
  source: string;
  /** Why a file the change holds was not used (for a warning). */
  note?: string;
}

/**
 * The model to score with. `input`: '' (the repository's `policy/risk-model.json`
 * when the base has it, else the bundled default), `seed`, or a path. With a
 * `base`, a committed model is read at the base; the change's own version is
 * ignored with a note.
 */
export async function resolveModel(opts: { cwd: string; input: string; base?: string }): Promise<ResolvedModel> {
  if (opts.input === 'seed') return { model: 'seed', source: SEED_SOURCE };
  const file = opts.input || REPO_MODEL;
  const explicit = !!opts.input;
  const cwd = realpathSync(opts.cwd);
  const abs = path.resolve(cwd, file);
  const rel = path.relative(cwd, abs).split(path.sep).join('/');
  const fix = 'commit the file written by `maestro risk calibrate` to the base branch, or leave `model` empty for the default';
  if (opts.base && rel !== '..' && !rel.startsWith('../')) {
    const atBase = await readFileAt(opts.base, rel, { cwd: opts.cwd });
    if (atBase !== undefined) {
      const here = existsSync(abs) ? readFileSync(abs, 'utf8') : undefined;
      const note = here !== undefined && here !== atBase ? `the change edits ${rel}; scored with the version of the base commit ${opts.base.slice(0, 12)}` : undefined;
      return { model: readModel(atBase, `${rel} (base ${opts.base.slice(0, 12)})`), source: rel, ...(note ? { note } : {}) };
    }
    if (await tracked(opts.cwd, rel)) {
      // Added by the change under review: it does not get to grade itself.
      return { model: DEFAULT_MODEL, source: DEFAULT_SOURCE, note: `${rel} is added by the change under review and is not used; it counts once it is on the base branch` };
    }
  }
  if (existsSync(abs)) {
    // Only a file the workflow wrote itself: reached through a symlink (one the change may have committed,
    // `policy -> docs`), it is the change's content, and it may lead out of the workspace.
    if (realpathSync(abs) !== abs) {
      const note = `${rel} is reached through a symlink in the checkout and is not used`;
      if (explicit) throw new ConfigError(note, { file: "input 'model'", fix });
      return { model: DEFAULT_MODEL, source: DEFAULT_SOURCE, note };
    }
    return { model: readModel(readFileSync(abs, 'utf8'), rel), source: rel };
  }
  if (explicit) throw new ConfigError(`model file '${file}' does not exist`, { file: "input 'model'", fix });
  return { model: DEFAULT_MODEL, source: DEFAULT_SOURCE };
}

/**
 * The CODEOWNERS GitHub would use: the base branch's (first of
 * CODEOWNERS_PATHS there), or without a base, the checkout's.
 */
export async function codeownersAt(cwd: string, base?: string): Promise<string | undefined> {
  if (base) {
    for (const p of CODEOWNERS_PATHS) {
      const text = await readFileAt(base, p, { cwd });
      if (text !== undefined) return text;
    }
    return undefined;
  }
  const file = CODEOWNERS_PATHS.find((p) => existsSync(path.join(cwd, p)));
  return file === undefined ? undefined : readFileSync(path.join(cwd, file), 'utf8');
}
