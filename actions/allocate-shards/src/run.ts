import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  ConfigError,
  annotate,
  integerInput,
  listInput,
  log,
  parseInputs,
  parseJson,
  runAction,
  runnerEvent,
  runnerTempPath,
  setOutputs,
  table,
  writeEvidence,
  writeSummary,
} from '@maestro/core';
import { coverage, discoverTests, durations, emptyStore, flakeOutlook, flakeReport, isStore, jestSequencer, mergeRun, plan as makePlan, readTimings, shardList, vitestSequencer, type Plan, type TimingSource, type TimingStore } from '@maestro/shards';

export const ACTION = 'allocate-shards';

export const inputSchema = z.object({
  mode: z.enum(['plan', 'shard', 'collect']).default('plan'),
  tests: z.string().default(''),
  'tests-glob': listInput().default([]),
  'tests-file': z.string().default(''),
  timings: listInput().default([]),
  shards: z.union([z.literal('auto'), integerInput({ min: 1, max: 256 })]).default('auto'),
  overhead: z.string().regex(/^\d+(\.\d+)?$/, 'a number of seconds').transform(Number).default(60),
  'max-shards': integerInput({ min: 1, max: 256 }).default(20),
  granularity: z.enum(['file', 'test']).default('file'),
  plan: z.string().default(''),
  'plan-path': z.string().default(''),
  shard: z.union([z.literal(''), integerInput({ min: 1, max: 256 })]).default(''),
  reports: listInput().default([]),
  store: z.enum(['cache', 'off']).default('cache'),
  'store-key': z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore').default('maestro-timings'),
  'save-on': z.enum(['default-branch', 'any']).default('default-branch'),
  keep: integerInput({ min: 1, max: 100 }).default(10),
  'drop-after': integerInput({ min: 1, max: 1000 }).default(20),
});
type Inputs = z.output<typeof inputSchema>;

const OUTPUT_BUDGET = 512 * 1024;
const STORE_FILE = 'maestro-timing-store.json';
/** The cached store lives under the home directory: `~` paths give the same cache version on every runner. */
const STORE_DIR = '~/.maestro-timings';
const storeDir = () => path.join(process.env['HOME'] ?? process.cwd(), '.maestro-timings');

function workDir(): string {
  const dir = runnerTempPath('maestro-shards', process.cwd());
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Files behind a list of paths: directories contribute their .xml/.json files (recursively). */
function expand(paths: readonly string[], input: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(path.join(p, e));
    else if (/\.(xml|json)$/i.test(p) || path.basename(p) === '.test_durations') out.push(p);
  };
  for (const p of paths) {
    if (!existsSync(p)) throw new ConfigError(`'${p}' does not exist`, { file: `input '${input}'`, fix: 'check the path (relative to the workspace) and that the previous step wrote it' });
    const st = statSync(p);
    if (st.isDirectory()) walk(p);
    else out.push(p);
  }
  return out;
}

function readSources(files: readonly string[]): TimingSource[] {
  return files.map((f) => readTimings(readFileSync(f, 'utf8'), f));
}

function testList(inputs: Inputs): string[] {
  const raw = inputs.tests.trim();
  if (raw) {
    if (raw.startsWith('[')) {
      const v = parseJson(raw, "input 'tests'");
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ConfigError('`tests` must be a JSON list of strings', { file: "input 'tests'", fix: 'pass e.g. ${{ steps.affected.outputs.tests }}' });
      return v as string[];
    }
    return raw.split(/\r?\n|,/).map((s) => s.trim()).filter(Boolean);
  }
  if (inputs['tests-glob'].length) return discoverTests(process.cwd(), inputs['tests-glob']);
  if (inputs['tests-file']) {
    if (!existsSync(inputs['tests-file'])) throw new ConfigError(`tests-file '${inputs['tests-file']}' does not exist`, { file: "input 'tests-file'", fix: 'write the list in an earlier step' });
    return readFileSync(inputs['tests-file'], 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  }
  throw new ConfigError('no tests given', { file: "input 'tests'", fix: 'set `tests`, `tests-glob` or `tests-file`' });
}

async function restoreStore(inputs: Inputs): Promise<TimingStore | undefined> {
  if (inputs.store !== 'cache') return undefined;
  const dir = storeDir();
  const cache = await import('@actions/cache');
  try {
    const hit = await cache.restoreCache([STORE_DIR], `${inputs['store-key']}-${inputs.granularity}-`, [`${inputs['store-key']}-${inputs.granularity}-`]);
    if (!hit) return undefined;
    const file = path.join(dir, STORE_FILE);
    if (!existsSync(file)) return undefined;
    const data = parseJson(readFileSync(file, 'utf8'), STORE_FILE);
    if (!isStore(data)) {
      log.warning(`${ACTION}: the cached timing store (${hit}) is not a store; ignoring it`);
      return undefined;
    }
    log.info(`timing store restored from cache key ${hit} (${Object.keys(data.tests).length} tests, ${data.runs} runs)`);
    return data;
  } catch (e) {
    if (e instanceof ConfigError) {
      log.warning(`${ACTION}: the cached timing store is unreadable (${e.message}); planning without it`);
      return undefined;
    }
    log.warning(`${ACTION}: could not restore the timing store: ${(e as Error).message}`);
    return undefined;
  }
}

function planSummary(p: Plan): string {
  const lines = ['## Test shards', ''];
  lines.push(`${p.coverage.items} ${p.granularity === 'file' ? 'files' : 'tests'}, ${p.total.toFixed(1)} s in total → **${p.count} shard(s)**; longest predicted ${p.makespan.toFixed(1)} s; lower bound ${p.lowerBound.toFixed(1)} s; skew ${(p.skew * 100).toFixed(1)} %.`, '');
  lines.push(`Timing coverage: ${(p.coverage.share * 100).toFixed(1)} % (${p.unknown.count} without a measurement, estimated from their directory's median).`, '');
  if (p.auto) {
    const near = p.auto.candidates.filter((c) => Math.abs(c.shards - p.count) <= 1);
    lines.push(`Auto: ${p.auto.overhead} s overhead per shard; predicted wall ${near.map((c) => `${c.shards} shards → ${c.wall.toFixed(0)} s`).join(', ')}.`, '');
  }
  lines.push(table(['Shard', 'Tests', 'Predicted s', 'vs lower bound'], p.shards.map((s) => [s.index, s.items.length, s.predicted.toFixed(1), `${(((s.predicted / (p.lowerBound || 1)) - 1) * 100).toFixed(1)} %`])), '');
  if (p.giants.length) lines.push(`**Split these:** ${p.giants.map((g) => `\`${g.key}\` (${g.seconds.toFixed(1)} s)`).join(', ')} take longer than a fair share (${(p.total / p.count).toFixed(1)} s) and set the floor.`, '');
  return lines.join('\n') + '\n';
}

async function planMode(inputs: Inputs): Promise<void> {
  const tests = testList(inputs);
  const sources = readSources(expand(inputs.timings, 'timings'));
  for (const w of sources.flatMap((s) => s.warnings)) annotate('warning', { title: ACTION, message: w });
  const store = await restoreStore(inputs);
  const timings = durations(store ? [{ file: STORE_FILE, kind: 'store', results: [], store, warnings: [] }, ...sources] : sources);
  const p = makePlan(tests, timings, { shards: inputs.shards, overhead: inputs.overhead, maxShards: inputs['max-shards'], granularity: inputs.granularity });
  const dir = workDir();
  const planPath = path.join(dir, 'shard-plan.json');
  const text = JSON.stringify(p);
  writeFileSync(planPath, text + '\n');
  writeFileSync(path.join(dir, 'maestro-jest-sequencer.cjs'), jestSequencer());
  writeFileSync(path.join(dir, 'maestro-vitest-sequencer.cjs'), vitestSequencer());
  if (p.coverage.share < 0.9 && p.coverage.items > 0) annotate('warning', { title: ACTION, message: `only ${(p.coverage.share * 100).toFixed(0)} % of tests have timings; the plan is low-confidence until the store is refreshed (collect mode on the default branch)` });
  if (p.count === 0) annotate('notice', { title: ACTION, message: 'no tests to shard: `any` is false and the matrix is empty; gate the test job on `any`' });
  if (p.giants.length) annotate('notice', { title: ACTION, message: `${p.giants.length} item(s) are longer than a fair share and set the floor: ${p.giants.slice(0, 3).map((g) => g.key).join(', ')}` });
  writeSummary(planSummary(p));
  const flakes = flakeOutlook(store, tests);
  const evidencePath = writeEvidence(ACTION, { tests: tests.length, shards: p.count, predictedSeconds: p.makespan, skew: p.skew, timingCoverage: p.coverage.share, flakes });
  log.info(`${p.count} shard(s), predicted ${p.makespan.toFixed(1)} s (lower bound ${p.lowerBound.toFixed(1)} s, skew ${(p.skew * 100).toFixed(1)} %), coverage ${(p.coverage.share * 100).toFixed(1)} %`);
  setOutputs({
    matrix: { shard: p.shards.map((s) => s.index) },
    count: p.count,
    any: p.count > 0,
    plan: text.length <= OUTPUT_BUDGET ? text : '',
    'plan-path': planPath,
    skew: p.skew,
    'predicted-seconds': p.makespan,
    coverage: p.coverage.share,
    'flake-probability': flakes.probability,
    'evidence-path': evidencePath,
  });
}

function shardMode(inputs: Inputs): void {
  if (inputs.shard === '') throw new ConfigError('shard mode needs `shard`', { file: "input 'shard'", fix: 'pass shard: ${{ matrix.shard }}' });
  let text = inputs.plan;
  let source = "input 'plan'";
  if (!text) {
    if (!inputs['plan-path']) throw new ConfigError('shard mode needs the plan', { file: "input 'plan'", fix: 'pass plan: ${{ needs.<plan job>.outputs.plan }} or plan-path to a downloaded plan file' });
    source = inputs['plan-path'];
    if (!existsSync(source)) throw new ConfigError(`plan file '${source}' does not exist`, { file: "input 'plan-path'", fix: 'download the plan artifact first' });
    text = readFileSync(source, 'utf8');
  }
  const p = parseJson(text, source) as Plan;
  if (!p || p.version !== 1 || !Array.isArray(p.shards)) throw new ConfigError('not a shard plan', { file: source, fix: 'pass the `plan` output of the allocate-shards plan step' });
  const files = shardList(p, inputs.shard);
  const dir = workDir();
  const listPath = path.join(dir, `shard-${inputs.shard}.txt`);
  writeFileSync(listPath, files.map((f) => `${f}\n`).join(''));
  // Sequencers and the plan next to each other, so jest/vitest --shard=i/m read the same plan.
  writeFileSync(path.join(dir, 'shard-plan.json'), JSON.stringify(p) + '\n');
  writeFileSync(path.join(dir, 'maestro-jest-sequencer.cjs'), jestSequencer());
  writeFileSync(path.join(dir, 'maestro-vitest-sequencer.cjs'), vitestSequencer());
  const s = p.shards.find((x) => x.index === inputs.shard)!;
  writeSummary(`## Shard ${inputs.shard} of ${p.count}\n\n${files.length} test(s), predicted ${s.predicted.toFixed(1)} s.\n`);
  setOutputs({ files, 'files-path': listPath, count: files.length, any: files.length > 0, 'plan-path': path.join(dir, 'shard-plan.json') });
}

async function collectMode(inputs: Inputs): Promise<void> {
  if (!inputs.reports.length) throw new ConfigError('collect mode needs `reports`', { file: "input 'reports'", fix: 'download the JUnit reports of all shards and pass their directory' });
  const sources = readSources(expand(inputs.reports, 'reports'));
  for (const w of sources.flatMap((s) => s.warnings)) annotate('warning', { title: ACTION, message: w });
  const before = (await restoreStore(inputs)) ?? emptyStore(inputs.granularity);
  const { store, summary } = mergeRun(before, sources, { keep: inputs.keep, dropAfter: inputs['drop-after'], ...(process.env['GITHUB_SHA'] ? { sha: process.env['GITHUB_SHA'] } : {}) });
  const dir = storeDir();
  mkdirSync(dir, { recursive: true });
  const storePath = path.join(dir, STORE_FILE);
  writeFileSync(storePath, JSON.stringify(store) + '\n');
  const { event } = runnerEvent();
  const defaultBranch = (event['repository'] as { default_branch?: string } | undefined)?.default_branch;
  const onDefault = !!defaultBranch && process.env['GITHUB_REF'] === `refs/heads/${defaultBranch}`;
  if (inputs.store === 'cache' && inputs['save-on'] === 'default-branch' && !onDefault) {
    log.info(`timing store not saved: ${process.env['GITHUB_REF'] ?? 'this ref'} is not the default branch (${defaultBranch ?? 'unknown'}); set save-on: any to save anyway`);
  } else if (inputs.store === 'cache') {
    const cache = await import('@actions/cache');
    const key = `${inputs['store-key']}-${inputs.granularity}-${process.env['GITHUB_RUN_ID'] ?? Date.now()}-${process.env['GITHUB_RUN_ATTEMPT'] ?? '1'}`;
    try {
      await cache.saveCache([STORE_DIR], key);
      log.info(`timing store saved as ${key}`);
    } catch (e) {
      log.warning(`${ACTION}: could not save the timing store: ${(e as Error).message}`);
    }
  }
  const flakes = flakeReport(store);
  const tests = Object.keys(store.tests);
  writeSummary(
    [
      '## Timing store',
      '',
      `${summary.measured} measured this run (${summary.added} new), ${summary.dropped.length} dropped after ${inputs['drop-after']} runs unseen; ${tests.length} in the store after ${store.runs} run(s).`,
      '',
      summary.flaky.length ? `**Flaky this run** (failed, then passed on retry): ${summary.flaky.map((f) => `\`${f}\``).join(', ')}` : 'No flaky tests this run.',
      '',
      flakes.quarantine.length ? `**Suggested quarantine:** ${flakes.quarantine.map((f) => `\`${f}\``).join(', ')}` : '',
    ].join('\n') + '\n',
  );
  setOutputs({
    coverage: coverage(store, tests),
    'flake-rate': flakes.rate,
    quarantine: flakes.quarantine,
    'store-path': storePath,
  });
}

export function run(): Promise<void> {
  return runAction(ACTION, async () => {
    const inputs = parseInputs(inputSchema);
    if (inputs.mode === 'plan') await planMode(inputs);
    else if (inputs.mode === 'shard') shardMode(inputs);
    else await collectMode(inputs);
  });
}
