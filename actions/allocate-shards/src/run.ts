import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  ConfigError,
  allowedRoots,
  rootsFor,
  annotate,
  integerInput,
  isConfigError,
  isInside,
  listInput,
  log,
  mdCode,
  mdText,
  parseInputs,
  parseJson,
  readInputFile,
  resolveInputFile,
  runAction,
  runnerEvent,
  runnerTempPath,
  setOutputs,
  table,
  writeEvidence,
  writeSummary,
} from '@maestro/core';
import {
  commitRun,
  coverage,
  discoverTests,
  droppedNote,
  durations,
  emptyStore,
  flakeOutlook,
  flakeReport,
  generationKey,
  generationOf,
  generationPrefix,
  jestSequencer,
  legacyPrefix,
  mergeRun,
  claimIndex,
  claimKey,
  normalizeKey,
  drainQueue,
  estimate,
  plan as makePlan,
  queueChunks,
  type Chunk,
  type ClaimStore,
  readPlan,
  readStore,
  readTimings,
  shardList,
  vitestSequencer,
  type ChainIO,
  type Plan,
  type Restored,
  type RunId,
  type TimingSource,
  type TimingStore,
} from '@maestro/shards';

export const ACTION = 'allocate-shards';

export const inputSchema = z.object({
  mode: z.enum(['plan', 'shard', 'queue', 'collect']).default('plan'),
  command: z.string().default(''),
  'chunk-startup': z.string().regex(/^\d+(\.\d+)?$/, 'a number of seconds').transform(Number).default(3),
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

/**
 * Largest `plan` / `files` output. Outputs passed on as inputs or `env:` become
 * environment variables, and one over 128 KiB makes execve fail (E2BIG); the
 * files (`plan-path`, `files-path`) always carry the whole thing.
 */
const OUTPUT_INLINE_MAX = 32 * 1024;
/** Largest timing file, report, test list or plan read (a 50 MiB timing map is ~1M entries). */
const MAX_FILE_BYTES = 50 * 1024 * 1024;
const STORE_FILE = 'maestro-timing-store.json';
/** The cached store lives under the home directory: `~` paths give the same cache version on every runner. */
const STORE_DIR = '~/.maestro-timings';
const storeDir = () => path.join(process.env['HOME'] ?? process.cwd(), '.maestro-timings');

function workDir(): string {
  const dir = runnerTempPath('maestro-shards', process.cwd());
  mkdirSync(dir, { recursive: true });
  return dir;
}

const isReportName = (p: string) => /\.(xml|json)$/i.test(p) || path.basename(p) === '.test_durations';

interface Found {
  files: string[];
  /** Links met while walking a directory that point outside the workspace and RUNNER_TEMP (or nowhere): not read. */
  outside: string[];
}

/**
 * Files behind a list of paths: directories contribute their .xml/.json files
 * (recursively). A named path must exist and stay inside the workspace or
 * RUNNER_TEMP (ConfigError otherwise); a symlink found while walking that
 * leads outside is skipped and reported, never followed.
 */
function expand(paths: readonly string[], input: string, what: string, fix: string): Found {
  const cwd = process.cwd();
  const base = allowedRoots(cwd);
  const found: Found = { files: [], outside: [] };
  const visited = new Set<string>();
  // Per named path: an absolute path outside the workspace is the workflow's own download location.
  let roots = base;
  const inRoots = (real: string) => roots.some((r) => isInside(real, r));
  const walk = (p: string) => {
    let st = lstatSync(p);
    if (st.isSymbolicLink()) {
      let real: string;
      try {
        real = realpathSync(p);
      } catch {
        found.outside.push(p);
        return;
      }
      if (!inRoots(real)) {
        found.outside.push(p);
        return;
      }
      st = statSync(real);
    }
    if (st.isDirectory()) {
      const real = realpathSync(p);
      if (visited.has(real)) return;
      visited.add(real);
      for (const e of readdirSync(p).sort()) walk(path.join(p, e));
    } else if (st.isFile() && isReportName(p)) found.files.push(p);
  };
  for (const p of paths) {
    roots = rootsFor(cwd, p, base);
    let dir = false;
    try {
      dir = statSync(path.resolve(cwd, p)).isDirectory();
    } catch {
      // missing or a dangling link: resolveInputFile says which
    }
    if (!dir) {
      resolveInputFile(cwd, p, { what, input, fix });
      found.files.push(p);
      continue;
    }
    if (!inRoots(realpathSync(path.resolve(cwd, p)))) {
      throw new ConfigError(`${what} directory '${p}' resolves outside the workspace (a symlink?); it is not read`, { file: `input '${input}'`, fix: `${fix}; a directory committed as a symlink is never followed out of the workspace` });
    }
    walk(p);
  }
  return found;
}

function readSource(file: string, input: string, what: string, fix: string): TimingSource {
  return readTimings(readInputFile(process.cwd(), file, { what, input, fix, maxBytes: MAX_FILE_BYTES }), file);
}

const TIMINGS_FIX = 'pass timing files written by the test runner (JSON map, .test_durations, Jest --json, JUnit XML) inside the workspace, each at most 50 MiB';
const REPORTS_FIX = 'pass the directory the shards’ JUnit reports were downloaded to (inside the workspace or RUNNER_TEMP)';

function warnOutside(outside: readonly string[], input: string): void {
  for (const f of outside) annotate('warning', { title: ACTION, message: `${f}: a symlink that leads outside the workspace (or nowhere) was found under input '${input}'; it was not read` });
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
    const text = readInputFile(process.cwd(), inputs['tests-file'], { what: 'test list', input: 'tests-file', fix: 'write the list (one test per line) to a file inside the workspace in an earlier step', maxBytes: MAX_FILE_BYTES });
    return text.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  }
  throw new ConfigError('no tests given', { file: "input 'tests'", fix: 'set `tests`, `tests-glob` or `tests-file`' });
}

/** What the cache holds for the timing store. */
type Cached =
  | { found: 'none' }
  | { found: 'store'; key: string; generation: number; store: TimingStore; dropped: string }
  | { found: 'newer'; key: string; generation: number; version: number }
  | { found: 'unreadable'; key: string; why: string };

/** The store file the cache just restored, checked as untrusted data. */
function readRestored(key: string, prefix: string): Cached {
  const dir = storeDir();
  try {
    const text = readInputFile(dir, STORE_FILE, { what: 'cached timing store', input: 'store-key', fix: 'use a new store-key to start a fresh store', maxBytes: MAX_FILE_BYTES, roots: [dir] });
    const check = readStore(parseJson(text, STORE_FILE));
    const generation = generationOf(key, prefix);
    if (check.status === 'newer') return { found: 'newer', key, generation, version: check.version };
    if (check.status === 'invalid') return { found: 'unreadable', key, why: check.reason };
    return { found: 'store', key, generation, store: check.store, dropped: droppedNote(check.dropped) };
  } catch (e) {
    if (isConfigError(e)) return { found: 'unreadable', key, why: (e as Error).message };
    throw e;
  }
}

/** Restore the newest generation of the store (or a store saved before generations existed). */
async function restoreNewest(inputs: Inputs): Promise<Cached> {
  const prefix = generationPrefix(inputs['store-key'], inputs.granularity);
  const cache = await import('@actions/cache');
  try {
    const hit = await cache.restoreCache([STORE_DIR], prefix, [prefix, legacyPrefix(inputs['store-key'], inputs.granularity)]);
    return hit ? readRestored(hit, prefix) : { found: 'none' };
  } catch (e) {
    log.warning(`${ACTION}: could not restore the timing store: ${(e as Error).message}`);
    return { found: 'none' };
  }
}

/** Log what was restored; the store to use, if any. */
function usable(c: Cached, doing: string): TimingStore | undefined {
  if (c.found === 'newer') {
    annotate('warning', { title: ACTION, message: `the cached timing store (${c.key}) was written by a newer allocate-shards (format ${c.version}); ${doing} without it. Use the same allocate-shards version in every workflow of the repository` });
    return undefined;
  }
  if (c.found === 'unreadable') {
    annotate('warning', { title: ACTION, message: `the cached timing store (${c.key}) is unreadable (${c.why}); ${doing} without it` });
    return undefined;
  }
  if (c.found === 'none') return undefined;
  if (c.dropped) annotate('warning', { title: ACTION, message: `the cached timing store (${c.key}) had ${c.dropped}; they were dropped and the rest kept` });
  log.info(`timing store restored from cache key ${c.key} (${Object.keys(c.store.tests).length} tests, ${c.store.runs} runs)`);
  return c.store;
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
  if (p.giants.length) lines.push(`**Split these:** ${p.giants.map((g) => `${mdCode(g.key)} (${g.seconds.toFixed(1)} s)`).join(', ')} take longer than a fair share (${(p.total / p.count).toFixed(1)} s) and set the floor.`, '');
  return lines.join('\n') + '\n';
}

async function planMode(inputs: Inputs): Promise<void> {
  const tests = testList(inputs);
  const found = expand(inputs.timings, 'timings', 'timing file', TIMINGS_FIX);
  warnOutside(found.outside, 'timings');
  const sources = found.files.map((f) => readSource(f, 'timings', 'timing file', TIMINGS_FIX));
  for (const w of sources.flatMap((s) => s.warnings)) annotate('warning', { title: ACTION, message: w });
  const store = inputs.store === 'cache' ? usable(await restoreNewest(inputs), 'planning') : undefined;
  const timings = durations(store ? [{ file: STORE_FILE, kind: 'store', results: [], store, warnings: [] }, ...sources] : sources);
  const p = makePlan(tests, timings, { shards: inputs.shards, overhead: inputs.overhead, maxShards: inputs['max-shards'], granularity: inputs.granularity });
  // The queue every shard of a queue-mode run drains, from the same estimates (in the plan file only).
  const queue = p.count ? { startup: inputs['chunk-startup'], chunks: queueChunks(estimate(tests, timings, { granularity: inputs.granularity }), { shards: p.count, startup: inputs['chunk-startup'] }) } : undefined;
  const dir = workDir();
  const planPath = path.join(dir, 'shard-plan.json');
  const text = JSON.stringify(p);
  const fileText = JSON.stringify(queue ? { ...p, queue } : p);
  writeFileSync(planPath, fileText + '\n');
  writeFileSync(path.join(dir, 'maestro-jest-sequencer.cjs'), jestSequencer());
  writeFileSync(path.join(dir, 'maestro-vitest-sequencer.cjs'), vitestSequencer());
  const inline = Buffer.byteLength(text) <= OUTPUT_INLINE_MAX;
  if (!inline) annotate('notice', { title: ACTION, message: `the plan is ${Math.ceil(Buffer.byteLength(text) / 1024)} KiB, over the ${OUTPUT_INLINE_MAX / 1024} KiB output limit, so the \`plan\` output is empty: upload \`plan-path\` as an artifact and pass the downloaded file as \`plan-path\` in shard mode` });
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
    plan: inline ? text : '',
    'plan-path': planPath,
    skew: p.skew,
    'predicted-seconds': p.makespan,
    coverage: p.coverage.share,
    'flake-probability': flakes.probability,
    'evidence-path': evidencePath,
  });
}

const PLAN_FIX = 'pass plan-path: the plan file uploaded by the plan job (its `plan-path` output) and downloaded in this job, or plan: ${{ needs.<plan job>.outputs.plan }} for small plans';

/** The plan file of the plan step (shard, queue and collect mode). */
function readPlanInput(inputs: Inputs): Plan & { queue?: { startup: number; chunks: Chunk[] } } {
  let text = inputs.plan;
  let source = "input 'plan'";
  if (!text) {
    if (!inputs['plan-path']) throw new ConfigError(`${inputs.mode} mode needs the plan`, { file: "input 'plan-path'", fix: PLAN_FIX });
    source = "input 'plan-path'";
    text = readInputFile(process.cwd(), inputs['plan-path'], { what: 'plan file', input: 'plan-path', fix: PLAN_FIX, maxBytes: MAX_FILE_BYTES });
  }
  const p = readPlan(parseJson(text, source));
  if (!p) throw new ConfigError('not a shard plan', { file: source, fix: 'pass the plan written by the allocate-shards plan step (its `plan-path` file or `plan` output)' });
  return p;
}

function shardMode(inputs: Inputs): void {
  if (inputs.shard === '') throw new ConfigError('shard mode needs `shard`', { file: "input 'shard'", fix: 'pass shard: ${{ matrix.shard }}' });
  const p = readPlanInput(inputs);
  const files = shardList(p, inputs.shard);
  const dir = workDir();
  const listPath = path.join(dir, `shard-${inputs.shard}.txt`);
  writeFileSync(listPath, files.map((f) => `${f}\n`).join(''));
  // Sequencers and the plan next to each other, so jest/vitest --shard=i/m read the same plan.
  writeFileSync(path.join(dir, 'shard-plan.json'), JSON.stringify(p) + '\n');
  writeFileSync(path.join(dir, 'maestro-jest-sequencer.cjs'), jestSequencer());
  writeFileSync(path.join(dir, 'maestro-vitest-sequencer.cjs'), vitestSequencer());
  const s = p.shards.find((x) => x.index === inputs.shard)!;
  const list = JSON.stringify(files);
  const inline = Buffer.byteLength(list) <= OUTPUT_INLINE_MAX;
  if (!inline) annotate('notice', { title: ACTION, message: `shard ${inputs.shard} lists ${files.length} tests (${Math.ceil(Buffer.byteLength(list) / 1024)} KiB), over the ${OUTPUT_INLINE_MAX / 1024} KiB output limit, so the \`files\` output is empty: read \`files-path\`` });
  writeSummary(`## Shard ${inputs.shard} of ${p.count}\n\n${files.length} test(s), predicted ${s.predicted.toFixed(1)} s.\n`);
  setOutputs({ files: inline ? list : '', 'files-path': listPath, count: files.length, any: files.length > 0, 'plan-path': path.join(dir, 'shard-plan.json') });
}

/** Claims as create-only Actions cache entries: lookup = the newest entry under the queue's prefix, claim = reserve a key. */
function cacheClaims(cache: typeof import('@actions/cache'), queue: string, dir: string, shard: number): ClaimStore {
  const claimFile = path.join(dir, 'claim.json');
  return {
    async latest() {
      // The newest entry under the queue's prefix: claims are made in index order, so it is the highest.
      return claimIndex(queue, await cache.restoreCache([dir], `${queue}-0`, [`${queue}-0`], { lookupOnly: true }));
    },
    async claim(index: number) {
      // What the entry holds does not matter (the key is the claim); it names the holder for debugging.
      writeFileSync(claimFile, JSON.stringify({ shard, index }));
      return (await cache.saveCache([dir], claimKey(queue, index))) !== -1;
    },
  };
}

function runChunk(command: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    // The test runner's output goes to the log as it comes, neutralised: a test name cannot issue workflow commands.
    child.stdout.on('data', (c: Buffer) => log.info(c.toString('utf8').replace(/\n$/, '')));
    child.stderr.on('data', (c: Buffer) => log.info(c.toString('utf8').replace(/\n$/, '')));
    child.on('error', () => resolve(127));
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function queueMode(inputs: Inputs): Promise<void> {
  if (inputs.shard === '') throw new ConfigError('queue mode needs `shard`', { file: "input 'shard'", fix: 'pass shard: ${{ matrix.shard }}' });
  if (!inputs.command.trim()) throw new ConfigError('queue mode needs `command`', { file: "input 'command'", fix: 'pass the test command run for each chunk, e.g. npx jest --ci $(cat "$MAESTRO_SHARD_FILES")' });
  const p = readPlanInput(inputs);
  const chunks = p.queue?.chunks;
  if (!chunks?.length || !chunks.every((c) => Number.isSafeInteger(c.index) && Array.isArray(c.items) && c.items.every((i) => typeof i === 'string'))) {
    throw new ConfigError('the plan has no queue', { file: "input 'plan-path'", fix: 'plan with this allocate-shards version (plan mode writes the queue into the plan file), and pass that file' });
  }
  const dir = workDir();
  // The cache versions an entry by the path strings it was saved with: every shard must name the same one,
  // so claims use a fixed path relative to the workspace (the same on every runner of the run).
  const claimDir = '.maestro-queue-claim';
  mkdirSync(claimDir, { recursive: true });
  const shard = inputs.shard;
  const ran: string[] = [];
  const failed: number[] = [];
  const runOne = async (index: number, items: readonly string[]) => {
    const list = path.join(dir, `chunk-${index}.txt`);
    writeFileSync(list, items.map((f) => `${f}\n`).join(''));
    log.info(`shard ${shard}: chunk ${index + 1} of ${chunks.length} (${items.length} test(s))`);
    const code = await runChunk(inputs.command, { MAESTRO_SHARD_FILES: list, MAESTRO_CHUNK: String(index), MAESTRO_SHARD: String(shard), MAESTRO_SHARDS: String(p.count) });
    ran.push(...items);
    if (code !== 0) failed.push(index);
  };
  const cache = await import('@actions/cache');
  let fallback: string | undefined;
  let stats: { lookups: number; creates: number; claimed: number[] } = { lookups: 0, creates: 0, claimed: [] };
  if (!cache.isFeatureAvailable()) fallback = 'the Actions cache service is not available here (GHES without it?)';
  else {
    // One queue per run attempt and plan: a re-run of failed jobs is a new attempt with a fresh queue.
    const queue = `maestro-queue-${process.env['GITHUB_RUN_ID'] ?? '0'}-${process.env['GITHUB_RUN_ATTEMPT'] ?? '1'}-${p.hash.slice(0, 12)}`;
    // One probe first, on a key only this shard uses: if even that cannot be created, claims are unavailable
    // (the service is down or refuses writes) and the shard runs its static share instead of spinning.
    writeFileSync(path.join(claimDir, 'claim.json'), JSON.stringify({ shard, probe: true }));
    const probe = await cache.saveCache([claimDir], `${queue}-probe-${shard}`);
    if (probe === -1) fallback = 'a claim could not be created (the cache service is down or refuses writes)';
    else {
      const store = cacheClaims(cache, queue, claimDir, shard);
      stats = await drainQueue(store, chunks.length, (i) => runOne(i, chunks[i]!.items));
      stats.creates++;
    }
  }
  if (fallback) {
    annotate('warning', { title: ACTION, message: `queue mode fell back to the static plan: ${fallback}. Shard ${shard} runs its planned tests; collect checks that every test ran` });
    await runOne(-1, shardList(p, shard));
  }
  const listPath = path.join(dir, `shard-${shard}.txt`);
  writeFileSync(listPath, ran.map((f) => `${f}\n`).join(''));
  writeSummary(`## Shard ${shard} (queue)\n\n${fallback ? `Static fallback: ${mdText(fallback)}.` : `${stats.claimed.length} of ${chunks.length} chunk(s) claimed and run, ${ran.length} test(s); ${stats.lookups + stats.creates} claim call(s).`}${failed.length ? `\n\nFailing chunk(s): ${failed.map((i) => (i < 0 ? 'static list' : i + 1)).join(', ')}.` : ''}\n`);
  setOutputs({ files: Buffer.byteLength(JSON.stringify(ran)) <= OUTPUT_INLINE_MAX ? ran : '', 'files-path': listPath, count: ran.length, any: ran.length > 0, chunks: { claimed: stats.claimed, calls: stats.lookups + stats.creates, fallback: !!fallback } });
  if (failed.length) {
    process.exitCode = 1;
    annotate('error', { title: ACTION, message: `${failed.length} chunk(s) failed (their tests failed, or the command did); the rest of the queue still ran` });
  }
}

interface Skipped {
  file: string;
  why: string;
  line?: number;
}

/** Why a report could not be read, in words that quote nothing from it. */
function skipReason(file: string, e: unknown): Skipped {
  if (!isConfigError(e)) return { file, why: `could not be read (${(e as Error).name ?? 'error'})` };
  const c = e as ConfigError;
  if (c.file && c.file.startsWith("input '")) return { file, why: c.message.includes('bytes, over') ? `is over the ${MAX_FILE_BYTES / 1024 / 1024} MiB limit` : 'could not be opened' };
  const at = c.line !== undefined ? ` at line ${c.line}${c.column !== undefined ? `, column ${c.column}` : ''}` : '';
  const kind = /\.xml$/i.test(file) ? 'well-formed JUnit XML' : 'a readable test report';
  return { file, why: `is not ${kind}${at} (truncated, or a value out of range)`, ...(c.line !== undefined ? { line: c.line } : {}) };
}

/** Read every report; a bad one is skipped with a warning, never fails the others. */
/**
 * Reporters that write absolute paths (Node 24's JUnit `file`, jest --json) name the shard's checkout:
 * the workspace path is the same in every job of a run, so it is cut to a repository-relative path.
 */
function relativeToWorkspace(source: TimingSource, workspace: string | undefined): TimingSource {
  if (!workspace) return source;
  // Readers normalise keys (a leading `/` dropped), so both spellings of the workspace are cut.
  const ws = workspace.replace(/\/+$/, '');
  const prefixes = [`${ws}/`, `${ws.replace(/^\/+/, '')}/`];
  const cut = (p: string) => {
    const hit = prefixes.find((x) => p.startsWith(x));
    return hit ? p.slice(hit.length) : p;
  };
  return { ...source, results: source.results.map((r) => ({ ...r, id: cut(r.id), file: cut(r.file) })) };
}

function readReports(files: readonly string[]): { sources: TimingSource[]; skipped: Skipped[]; errors: unknown[] } {
  const sources: TimingSource[] = [];
  const skipped: Skipped[] = [];
  const errors: unknown[] = [];
  for (const f of files) {
    try {
      sources.push(relativeToWorkspace(readSource(f, 'reports', 'report', REPORTS_FIX), process.env['GITHUB_WORKSPACE']));
    } catch (e) {
      skipped.push(skipReason(f, e));
      errors.push(e);
    }
  }
  return { sources, skipped, errors };
}

function runId(): RunId {
  const attempt = Number(process.env['GITHUB_RUN_ATTEMPT'] ?? '1');
  return { runId: process.env['GITHUB_RUN_ID'] || `local-${Date.now()}`, attempt: Number.isSafeInteger(attempt) && attempt >= 1 ? attempt : 1 };
}

/** The cache as the generation chain sees it. */
function chainIO(inputs: Inputs, cache: typeof import('@actions/cache'), write: (s: TimingStore) => void, restored: number): ChainIO {
  const prefix = generationPrefix(inputs['store-key'], inputs.granularity);
  /** The last generation this run read from the cache (0: none). */
  let lastRead = restored;
  const exists = async (generation: number) => !!(await cache.restoreCache([STORE_DIR], generationKey(prefix, generation), [], { lookupOnly: true }).catch(() => undefined));
  return {
    async save(generation, store) {
      // Checked first so the common race does not print the cache library's reservation warning.
      if (await exists(generation)) return 'exists';
      write(store);
      let id: number;
      try {
        id = await cache.saveCache([STORE_DIR], generationKey(prefix, generation));
      } catch (e) {
        log.warning(`${ACTION}: could not save the timing store: ${(e as Error).message}`);
        return 'failed';
      }
      if (id !== -1) return 'created';
      if (await exists(generation)) {
        log.info(`${generationKey(prefix, generation)} was created by another run meanwhile (hence the cache's "reservation failed" warning); merging this run into it`);
        return 'exists';
      }
      // Not readable: another job may still be uploading it, unless the cache does not answer at all
      // (then even the generation this run read cannot be found).
      if (lastRead > 0 && !(await exists(lastRead))) return 'failed';
      return 'exists';
    },
    async restore(generation) {
      const key = generationKey(prefix, generation);
      const hit = await cache.restoreCache([STORE_DIR], key, []).catch(() => undefined);
      if (hit !== key) return undefined;
      const c = readRestored(hit, prefix);
      if (c.found === 'newer') return { status: 'newer', version: c.version } satisfies Restored;
      if (c.found !== 'store') return undefined;
      if (c.dropped) annotate('warning', { title: ACTION, message: `the cached timing store (${c.key}) had ${c.dropped}; they were dropped and the rest kept` });
      lastRead = generation;
      return { status: 'ok', store: c.store } satisfies Restored;
    },
    wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

async function collectMode(inputs: Inputs): Promise<void> {
  if (!inputs.reports.length) throw new ConfigError('collect mode needs `reports`', { file: "input 'reports'", fix: 'download the JUnit reports of all shards and pass their directory' });
  const found = expand(inputs.reports, 'reports', 'report', REPORTS_FIX);
  warnOutside(found.outside, 'reports');
  const { sources, skipped, errors } = readReports(found.files);
  if (skipped.length && !sources.length) {
    // Nothing left to merge: the first report's own error, at its file and line.
    const first = errors[0];
    if (isConfigError(first) && !(first as ConfigError).file?.startsWith("input '")) {
      const c = first as ConfigError;
      throw new ConfigError(`none of the ${skipped.length} report file(s) could be read; this one ${skipped[0]!.why}`, { file: c.file ?? skipped[0]!.file, ...(c.line !== undefined ? { line: c.line } : {}), ...(c.column !== undefined ? { column: c.column } : {}), fix: c.fix ?? REPORTS_FIX });
    }
    throw new ConfigError(`none of the ${skipped.length} report file(s) could be read; ${skipped[0]!.file} ${skipped[0]!.why}`, { file: "input 'reports'", fix: REPORTS_FIX });
  }
  for (const s of skipped) annotate('warning', { title: ACTION, file: s.file, ...(s.line !== undefined ? { line: s.line } : {}), message: `report skipped: ${s.file} ${s.why}; the other reports were merged` });
  // With the plan: every planned test must have a result (a shard that died leaves some without one).
  if (inputs['plan-path'] || inputs.plan) {
    const p = readPlanInput(inputs);
    const reported = new Set(sources.flatMap((s) => s.results.map((r) => normalizeKey(p.granularity === 'file' ? r.file : r.id))));
    const missing = p.shards.flatMap((x) => x.items).filter((k) => !reported.has(normalizeKey(k)));
    if (missing.length && inputs.command.trim()) {
      const list = path.join(workDir(), 'missing-tests.txt');
      writeFileSync(list, missing.map((f) => `${f}\n`).join(''));
      annotate('warning', { title: ACTION, message: `${missing.length} planned test(s) have no result (a shard died?); running them now: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}` });
      if ((await runChunk(inputs.command, { MAESTRO_SHARD_FILES: list, MAESTRO_CHUNK: 'missing', MAESTRO_SHARD: '0', MAESTRO_SHARDS: String(p.count) })) !== 0) process.exitCode = 1;
    } else if (missing.length) {
      process.exitCode = 1;
      annotate('error', { title: ACTION, message: `${missing.length} planned test(s) have no result: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}. A shard died or a report is missing; pass \`command\` to run them here` });
    }
  }
  for (const w of sources.flatMap((s) => s.warnings)) annotate('warning', { title: ACTION, message: w });
  const run = runId();
  const merge = (s: TimingStore) => mergeRun(s, sources, { keep: inputs.keep, dropAfter: inputs['drop-after'], run, ...(process.env['GITHUB_SHA'] ? { sha: process.env['GITHUB_SHA'] } : {}) });
  const dir = storeDir();
  mkdirSync(dir, { recursive: true });
  const storePath = path.join(dir, STORE_FILE);
  const write = (s: TimingStore) => writeFileSync(storePath, JSON.stringify(s) + '\n');
  const notes: string[] = [];

  const cached = inputs.store === 'cache' ? await restoreNewest(inputs) : ({ found: 'none' } as Cached);
  const restored = usable(cached, 'merging');
  const { event } = runnerEvent();
  const defaultBranch = (event['repository'] as { default_branch?: string } | undefined)?.default_branch;
  const onDefault = !!defaultBranch && process.env['GITHUB_REF'] === `refs/heads/${defaultBranch}`;
  const saving = inputs.store === 'cache' && (inputs['save-on'] === 'any' || onDefault);
  let result: { store: TimingStore; summary: ReturnType<typeof merge>['summary'] };
  if (cached.found === 'newer') {
    // Never overwrite a newer format: report this run from its own reports, save nothing.
    result = merge(emptyStore(inputs.granularity));
    const msg = `timing store not saved: the newest cached store (${cached.key}) was written by a newer allocate-shards (format ${cached.version}); this run's ${result.summary.measured} timings and its flake counts were not saved`;
    annotate('warning', { title: ACTION, message: msg });
    notes.push(msg);
  } else if (!saving) {
    result = merge(restored ?? emptyStore(inputs.granularity));
    if (inputs.store === 'cache') log.info(`timing store not saved: ${process.env['GITHUB_REF'] ?? 'this ref'} is not the default branch (${defaultBranch ?? 'unknown'}); set save-on: any to save anyway`);
  } else {
    const cache = await import('@actions/cache');
    const prefix = generationPrefix(inputs['store-key'], inputs.granularity);
    // After an unreadable generation the chain goes on from its number (its content is lost either way).
    const generation = cached.found === 'store' ? cached.generation : cached.found === 'unreadable' ? generationOf(cached.key, prefix) : 0;
    const r = await commitRun({ store: restored ?? emptyStore(inputs.granularity), generation }, merge, chainIO(inputs, cache, write, cached.found === 'store' && cached.key.startsWith(prefix) ? generation : 0));
    result = r;
    const what = `this run's ${r.summary.measured} timings and its flake counts`;
    if (r.skipped.length) log.warning(`${ACTION}: generation(s) ${r.skipped.join(', ')} of the timing store were created by another job but never became readable; stepped over them`);
    if (r.status === 'saved') log.info(`timing store saved as ${generationKey(prefix, r.generation)}${r.conflicts ? ` after ${r.conflicts} concurrent update(s) by other runs, merged in` : ''}`);
    else if (r.status === 'already') notes.push(`This run (${run.runId}, attempt ${run.attempt}) was already merged into ${generationKey(prefix, r.generation)}; nothing new to save.`);
    else {
      const why =
        r.status === 'newer'
          ? `generation ${r.generation} was written by a newer allocate-shards (format ${r.version})`
          : r.status === 'gave-up'
            ? `other runs kept saving newer generations (${r.conflicts} attempts, last ${generationKey(prefix, r.generation)})`
            : `the cache did not accept ${generationKey(prefix, r.generation)}`;
      const msg = `timing store not saved: ${why}; ${what} were not saved`;
      annotate('warning', { title: ACTION, message: msg });
      notes.push(msg);
    }
  }
  const { store, summary } = result;
  write(store);
  const flakes = flakeReport(store);
  const tests = Object.keys(store.tests);
  const skippedLines = [
    ...skipped.map((s) => `- ${mdCode(s.file)} ${mdText(s.why)}`),
    ...found.outside.map((f) => `- ${mdCode(f)} is a symlink leading outside the workspace; not read`),
  ];
  writeSummary(
    [
      '## Timing store',
      '',
      `${summary.measured} measured this run (${summary.added} new), ${summary.dropped.length} dropped after ${inputs['drop-after']} runs unseen; ${tests.length} in the store after ${store.runs} run(s).`,
      '',
      ...(skippedLines.length ? [`**Skipped ${skippedLines.length} report file(s)** (the rest were merged):`, '', ...skippedLines, ''] : []),
      ...notes.flatMap((n) => [`**${n}**`, '']),
      summary.flaky.length ? `**Flaky this run** (failed, then passed on retry): ${summary.flaky.map(mdCode).join(', ')}` : 'No flaky tests this run.',
      '',
      flakes.quarantine.length ? `**Suggested quarantine:** ${flakes.quarantine.map(mdCode).join(', ')}` : '',
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
    else if (inputs.mode === 'queue') await queueMode(inputs);
    else await collectMode(inputs);
  });
}
