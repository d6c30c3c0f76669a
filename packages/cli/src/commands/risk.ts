/** `maestro risk`: the defect probability of a local change, with its top factors. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '@maestro/core/errors';
import { assess, auditLine, calibrate, changedPaths, codeownersAt, collectExtras, loadHistoryCache, resolveModel, saveHistoryCache, SEED_SOURCE } from '@maestro/risk';
import { git } from '@maestro/core/git';
import type { CommandContext } from '../main.js';
import { defaultBase } from './base.js';

async function calibrateCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args: ctx.args,
    options: {
      out: { type: 'string', default: 'policy/risk-model.json' },
      'maturity-days': { type: 'string', default: '30' },
      'window-days': { type: 'string', default: '365' },
      'max-commits': { type: 'string', default: '20000' },
      cache: { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
      labels: { type: 'string' },
      json: { type: 'boolean', default: false },
      cwd: { type: 'string' },
    },
    strict: true,
  });
  const cwd = values.cwd ?? ctx.cwd;
  const int = (v: string | undefined, name: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`--${name} must be a whole number, got '${v}'`, { file: 'maestro risk calibrate', fix: `pass e.g. --${name} 30` });
    return n;
  };
  // Incremental by default: numstat records and blame results kept in the repository's git directory.
  const cacheFile = values['no-cache'] ? undefined : values.cache ? path.resolve(cwd, values.cache) : path.resolve(cwd, (await git(['rev-parse', '--git-common-dir'], { cwd })).trim(), 'maestro/risk-history.json.gz');
  const loaded = cacheFile ? loadHistoryCache(cacheFile) : undefined;
  const { model, report, labels } = await calibrate({ cwd, maturityDays: int(values['maturity-days'], 'maturity-days'), windowDays: int(values['window-days'], 'window-days'), maxCommits: int(values['max-commits'], 'max-commits'), ...(loaded ? { cache: loaded.cache } : {}) });
  if (cacheFile && loaded) saveHistoryCache(cacheFile, loaded.cache);
  const out = path.resolve(cwd, values.out!);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(model, null, 2) + '\n');
  if (values.labels) writeFileSync(path.resolve(cwd, values.labels), JSON.stringify(labels, null, 2) + '\n');
  if (values.json) {
    ctx.stdout(JSON.stringify(report, null, 2));
    return 0;
  }
  const h = report.holdout;
  ctx.stdout(
    [
      `${report.commits} commits read; ${report.matured} matured in the window; ${report.positives} defect-inducing (labels: ${report.labels.trailer} trailer, ${report.labels.revert} revert, ${report.labels.szz} SZZ)`,
      `${report.mode}: ${report.reason}`,
      ...report.warnings.map((w) => `warning: ${w}`),
      ...(h ? [`hold-out (newest 30 %, ${h.rows} commits): AUC ${h.auc} (lines added ${h.laAuc}), ECE ${h.ece}, recall at a 20 % review budget ${h.recallAt20} (lines added ${h.laRecallAt20})`] : []),
      auditLine(report.audit),
      ...report.audit.topFixes.slice(0, 3).map((f) => `  labelled ${f.labelled} by ${f.sha.slice(0, 10)} ${f.subject}`),
      ...(loaded ? [`${loaded.note}; reused ${report.reused.commits} commits and ${report.reused.fixes} of ${report.reused.fixesTraced} traced fixes`] : []),
      `wrote ${values.out}`,
    ].join('\n'),
  );
  return 0;
}

export async function riskCommand(ctx: CommandContext): Promise<number> {
  if (ctx.args[0] === 'calibrate') return calibrateCommand({ ...ctx, args: ctx.args.slice(1) });
  const { values } = parseArgs({
    args: ctx.args,
    options: {
      base: { type: 'string' },
      head: { type: 'string', default: 'HEAD' },
      model: { type: 'string' },
      'base-rate': { type: 'string' },
      warn: { type: 'string', default: '0.6' },
      enforce: { type: 'string', default: '0.75' },
      json: { type: 'boolean', default: false },
      cwd: { type: 'string' },
    },
    strict: true,
  });
  const cwd = values.cwd ?? ctx.cwd;
  const head = values.head!;
  const { base, note } = values.base ? { base: values.base, note: '' } : await defaultBase(cwd, head, 'maestro risk');
  // The action's rule: policy/risk-model.json (or --model) as the base commit has it; the change's own version is not used.
  const { model, source, note: modelNote } = await resolveModel({ cwd, input: values.model ?? '', base });
  const num = (v: string | undefined, name: string) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n <= 0 || n >= 1) throw new ConfigError(`--${name} must be a probability between 0 and 1, got '${v}'`, { file: 'maestro risk', fix: `pass e.g. --${name} 0.6` });
    return n;
  };
  // The seed formula also weighs owners, centrality and complexity: measure what a local checkout has.
  let extras;
  if (model === 'seed') {
    const codeowners = await codeownersAt(cwd, base);
    extras = await collectExtras({ cwd, base, head, files: await changedPaths(cwd, base, head), ...(codeowners !== undefined ? { codeowners } : {}) });
  }
  const r = await assess({ cwd, base, head, model, ...(extras ? { extras } : {}), ...(values['base-rate'] ? { baseRate: num(values['base-rate'], 'base-rate') } : {}), warn: num(values.warn, 'warn'), enforce: num(values.enforce, 'enforce'), source: model === 'seed' ? SEED_SOURCE : source });
  if (values.json) {
    ctx.stdout(JSON.stringify(r, null, 2));
    return 0;
  }
  ctx.stdout(
    [
      ...(note ? [`(${note})`] : []),
      ...(modelNote ? [`(${modelNote})`] : []),
      r.model.calibrated
        ? `risk ${(r.score * 100).toFixed(1)} % — ${r.level} (warn at ${(r.thresholds.warn * 100).toFixed(0)} %, enforce at ${(r.thresholds.enforce * 100).toFixed(0)} %)`
        : `seed score ${r.score.toFixed(3)} (a weighted sum, not a probability) — ${r.level} (warn at ${r.thresholds.warn}, enforce at ${r.thresholds.enforce})`,
      ...r.factors.map((f) => `  ${f.text}`),
      ...(r.missing.length ? [`missing signals (${r.model.calibrated ? 'not counted as 0' : 'the seed formula counts them as 0'}): ${r.missing.join(', ')}`] : []),
      ...r.notes.map((n) => `note: ${n}`),
      `model: ${r.model.source}`,
    ].join('\n'),
  );
  return 0;
}
