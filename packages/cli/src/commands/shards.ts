/** `maestro shards`: the allocate-shards plan (or one shard's list) on a laptop. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '@maestro/core/errors';
import { discoverTests, durations, plan, readTimings, shardList, type Granularity } from '@maestro/shards';
import type { CommandContext } from '../main.js';

export async function shardsCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args: ctx.args,
    options: {
      count: { type: 'string', default: 'auto' },
      timings: { type: 'string', multiple: true, default: [] },
      'tests-glob': { type: 'string', multiple: true, default: [] },
      'tests-file': { type: 'string' },
      overhead: { type: 'string', default: '60' },
      'max-shards': { type: 'string', default: '20' },
      granularity: { type: 'string', default: 'file' },
      shard: { type: 'string' },
      json: { type: 'boolean', default: false },
      cwd: { type: 'string' },
    },
    strict: true,
  });
  const cwd = values.cwd ?? ctx.cwd;
  const granularity = values.granularity as Granularity;
  if (granularity !== 'file' && granularity !== 'test') throw new ConfigError(`--granularity must be file or test, got '${granularity}'`, { file: 'maestro shards', fix: 'pass --granularity file or --granularity test' });
  const count = values.count === 'auto' ? 'auto' : Number(values.count);
  if (count !== 'auto' && (!Number.isInteger(count) || count < 1)) throw new ConfigError(`--count must be a positive integer or auto, got '${values.count}'`, { file: 'maestro shards', fix: 'pass e.g. --count 8' });
  const sources = values.timings!.map((f) => readTimings(readFileSync(f, 'utf8'), f));
  const timings = durations(sources);
  const tests = values['tests-file']
    ? readFileSync(values['tests-file'], 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean)
    : values['tests-glob']!.length
      ? discoverTests(cwd, values['tests-glob']!)
      : [...timings.keys()];
  const p = plan(tests, timings, { shards: count, overhead: Number(values.overhead), maxShards: Number(values['max-shards']), granularity });
  if (values.shard) {
    ctx.stdout(shardList(p, Number(values.shard)).join('\n'));
    return 0;
  }
  if (values.json) {
    ctx.stdout(JSON.stringify(p, null, 2));
    return 0;
  }
  ctx.stdout(
    [
      `${p.coverage.items} ${granularity === 'file' ? 'files' : 'tests'}, ${p.total.toFixed(1)} s → ${p.count} shard(s); longest ${p.makespan.toFixed(1)} s, lower bound ${p.lowerBound.toFixed(1)} s, skew ${(p.skew * 100).toFixed(1)} %; coverage ${(p.coverage.share * 100).toFixed(1)} %`,
      ...p.shards.map((s) => `  shard ${s.index}: ${s.items.length} item(s), ${s.predicted.toFixed(1)} s`),
      ...(p.giants.length ? [`split these (longer than a fair share): ${p.giants.map((g) => `${g.key} (${g.seconds.toFixed(1)} s)`).join(', ')}`] : []),
    ].join('\n'),
  );
  return 0;
}
