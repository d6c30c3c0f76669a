import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { resolveBase } from '@maestro/affected';
import {
  ConfigError,
  annotate,
  outputPathInWorkspace,
  mdText,
  booleanInput,
  integerInput,
  listInput,
  getGitHubClient,
  isReadOnlyTokenError,
  httpStatus,
  log,
  parseInputs,
  readInputFile,
  runAction,
  runnerEvent,
  setOutputs,
  table,
  writeEvidence,
  writeSummary,
} from '@maestro/core';
import { assess, auditLine, budgetThreshold, calibrate, emptyHistoryCache, loadHistoryCache, saveHistoryCache, type HistoryCache, changedPaths, codeownersAt, collectExtras, withBaseRate, resolveModel, type ExtraSignal, DEFAULT_SOURCE, modelAgeDays, parseCodeowners, reviewersFor, type Assessment } from '@maestro/risk';

export const ACTION = 'risk-score';

const probability = (name: string) =>
  z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, `${name} must be a probability between 0 and 1`)
    .transform(Number);

export const inputSchema = z.object({
  base: z.string().default(''),
  head: z.string().default(''),
  token: z.string().default(''),
  model: z.string().default(''),
  'base-rate': z.union([z.literal(''), probability('base-rate')]).default(''),
  warn: probability('warn').default(0.6),
  enforce: probability('enforce').default(0.75),
  'review-budget': z.union([z.literal(''), integerInput({ min: 1, max: 99 })]).default(''),
  mode: z.enum(['observe', 'warn', 'enforce', 'calibrate']).default('warn'),
  'request-reviewers': booleanInput().default(true),
  label: z.string().default('risk:high'),
  exclude: listInput().default([]),
  'coverage-base': z.string().default(''),
  'coverage-head': z.string().default(''),
  sarif: z.string().default(''),
  junit: listInput().default([]),
  'maturity-days': integerInput({ min: 0, max: 3650 }).default(30),
  'window-days': integerInput({ min: 1, max: 36500 }).default(365),
  'history-cache': booleanInput().default(true),
});

interface EventPayload {
  pull_request?: { number: number; user?: { login?: string }; title?: string; body?: string | null };
  repository?: { name: string; owner: { login: string } };
}

/** The score as people read it: a percentage for a calibrated model, the bare number for the seed's weighted sum. */
const shown = (a: Assessment) => (a.model.calibrated ? `${(a.score * 100).toFixed(1)} %` : `${a.score.toFixed(3)} (seed formula)`);

function summary(a: Assessment, mode: string, reviewers: { users: string[]; teams: string[] } | undefined, extras: readonly ExtraSignal[]): string {
  const icon = a.level === 'high' ? '🔴' : a.level === 'elevated' ? '🟠' : '🟢';
  const headline = a.model.calibrated
    ? `${icon} **${(a.score * 100).toFixed(1)} %** chance that this change introduces a defect — **${a.level}** (warn at ${(a.thresholds.warn * 100).toFixed(0)} %, enforce at ${(a.thresholds.enforce * 100).toFixed(0)} %; mode \`${mode}\`).`
    : `${icon} seed score **${a.score.toFixed(3)}** (a weighted sum, not a probability) — **${a.level}** (warn at ${a.thresholds.warn}, enforce at ${a.thresholds.enforce}; mode \`${mode}\`).`;
  const lines = ['## Change risk', '', headline, ''];
  if (a.factors.length) lines.push('Top factors:', '', ...a.factors.map((f) => `- ${f.text}`), '');
  if (a.missing.length) lines.push(a.model.calibrated ? `Missing signals (not counted as 0): ${a.missing.join(', ')}.` : `Missing signals (the seed formula counts them as 0): ${a.missing.join(', ')}.`, '');
  // Notes and signal details name files and projects of the change: escaped as text.
  for (const n of a.notes) lines.push(`> ${mdText(n)}`, '');
  const s = a.signals;
  const rows = Object.entries(s).map(([k, v]) => [k, typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v]);
  rows.push(['churn30d (lines changed in these files, last 30 days)', a.churn30d ?? 'missing (shallow history)']);
  lines.push('<details><summary>Signals</summary>', '', table(['signal', 'value'], rows), '', '</details>', '');
  lines.push(a.model.calibrated ? 'Other signals (reported, not part of the score: no labelled data to weigh them yet):' : 'Other signals (weighed by the seed formula):', '', table(['signal', 'value', ''], extras.map((e) => [e.name, e.value === null ? '—' : e.value, mdText(e.detail)])), '');
  if (reviewers && (reviewers.users.length || reviewers.teams.length)) lines.push(`Reviewers requested from CODEOWNERS: ${[...reviewers.users.map((u) => `@${u}`), ...reviewers.teams.map((t) => `team ${t}`)].join(', ')}.`, '');
  lines.push(a.model.baseRate === undefined ? `Model: ${a.model.source}.` : `Model: ${a.model.source}; base rate ${(a.model.baseRate * 100).toFixed(1)} %.`);
  return lines.join('\n') + '\n';
}

export function run(): Promise<void> {
  return runAction(ACTION, async () => {
    const inputs = parseInputs(inputSchema);
    if (inputs.warn > inputs.enforce) throw new ConfigError(`warn (${inputs.warn}) is above enforce (${inputs.enforce})`, { file: "input 'warn'", fix: 'set warn at or below enforce' });
    const cwd = process.env['GITHUB_WORKSPACE'] ?? process.cwd();
    // `exclude: none` turns the default exclusions off; empty keeps them.
    const exclude = inputs.exclude.length ? { exclude: inputs.exclude.length === 1 && inputs.exclude[0] === 'none' ? [] : inputs.exclude } : {};
    if (inputs.mode === 'calibrate') {
      // The model is written inside the workspace only (`model: ../x.json` is refused before any work).
      const out = outputPathInWorkspace(cwd, inputs.model || 'policy/risk-model.json', 'model');
      const stored = inputs['history-cache'] ? await restoreHistory() : undefined;
      const { model, report } = await calibrate({ cwd, maturityDays: inputs['maturity-days'], windowDays: inputs['window-days'], ...exclude, ...(stored ? { cache: stored.cache } : {}) });
      if (stored) await saveHistory(stored.cache);
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, JSON.stringify(model, null, 2) + '\n');
      const h = report.holdout;
      writeSummary(
        [
          '## Risk model calibration',
          '',
          `${report.commits} commits read; ${report.matured} matured in the window; ${report.positives} defect-inducing (labels: ${report.labels.trailer} from trailers, ${report.labels.revert} from reverts, ${report.labels.szz} from SZZ).`,
          '',
          `**${report.mode}**: ${report.reason}.`,
          '',
          ...(stored ? [`${mdText(stored.note)}; reused ${report.reused.commits} commits' metrics and ${report.reused.fixes} of ${report.reused.fixesTraced} traced fixes.`, ''] : []),
          `${mdText(auditLine(report.audit))}.`,
          '',
          report.audit.topFixes.length ? table(['fix that labelled the most', 'labelled'], report.audit.topFixes.map((f) => [`${f.sha.slice(0, 10)} ${mdText(f.subject)}`, f.labelled])) : '',
          '',
          h ? table(['hold-out (newest 30 %)', 'model', 'lines added'], [['AUC', h.auc, h.laAuc], ['recall at a 20 % review budget', h.recallAt20, h.laRecallAt20], ['ECE', h.ece, '—']]) : '',
        ].join('\n') + '\n',
      );
      for (const w of report.warnings) annotate('warning', { title: `${ACTION}: labels`, message: w });
      if (report.mode !== 'fitted') annotate(report.mode === 'default-kept' ? 'warning' : 'notice', { title: ACTION, message: report.reason });
      setOutputs({ calibration: report, 'model-path': out });
      return;
    }
    const trigger = runnerEvent();
    const event = trigger.event as EventPayload & Record<string, unknown>;
    const resolution = await resolveBase({
      cwd,
      ...trigger,
      ...(inputs.base ? { base: inputs.base } : {}),
      ...(inputs.head ? { head: inputs.head } : {}),
    });
    if (!resolution.base) {
      // Fail closed in enforce mode: an unscorable change is not a low-risk one.
      const msg = `cannot score the change: ${resolution.reason}`;
      if (inputs.mode === 'enforce') throw new ConfigError(msg, { file: 'git checkout', fix: 'pass `base`, or check out with enough history (fetch-depth: 0)' });
      annotate('warning', { title: ACTION, message: msg });
      const evidencePath = writeEvidence(ACTION, { score: null, level: 'unknown', mode: inputs.mode, blocks: false, unscored: msg, factors: [], missing: [], model: {}, reviewers: { users: [], teams: [] }, signals: [] });
      setOutputs({ score: '', level: 'unknown', factors: [], missing: [], model: {}, reviewers: { users: [], teams: [] }, signals: [], 'evidence-path': evidencePath });
      return;
    }
    // The model and CODEOWNERS come from the base commit: the change under review does not grade itself.
    const { model, source, note: modelNote } = await resolveModel({ cwd, input: inputs.model, base: resolution.base });
    if (modelNote) annotate('warning', { title: ACTION, message: modelNote });
    if (model === 'seed' && inputs['base-rate'] !== '') throw new ConfigError('the seed formula has no base rate to shift', { file: "input 'base-rate'", fix: 'leave base-rate empty with model: seed' });
    if (model === 'seed' && inputs['review-budget'] !== '') throw new ConfigError('a review budget needs a model with score percentiles; the seed formula has none', { file: "input 'review-budget'", fix: 'use `enforce` with model: seed, or a calibrated model' });
    const age = model === 'seed' ? undefined : modelAgeDays(model);
    if (source !== DEFAULT_SOURCE && age !== undefined && age > 90) {
      annotate('warning', { title: ACTION, message: `${source} was calibrated ${Math.floor(age)} days ago; recalibrate (maestro risk calibrate, or the risk-calibrate workflow) at least every 90 days` });
    }
    const pr = event.pull_request;
    const scored = inputs['base-rate'] !== '' && model !== 'seed' ? withBaseRate(model, inputs['base-rate']) : model;
    let enforce = inputs.enforce;
    let warn = inputs.warn;
    if (inputs['review-budget'] !== '' && scored !== 'seed') {
      const t = budgetThreshold(scored, inputs['review-budget'] / 100);
      if (t === undefined) throw new ConfigError('this model has no score percentiles, so a review budget cannot be turned into a threshold', { file: source, fix: 'recalibrate it (maestro risk calibrate), or use `enforce` instead of `review-budget`' });
      enforce = t;
      warn = Math.min(warn, t);
      log.info(`review budget ${inputs['review-budget']} %: changes at or above ${(t * 100).toFixed(1)} % are flagged`);
    }
    const codeowners = await codeownersAt(cwd, resolution.base);
    const changed = await changedPaths(cwd, resolution.base, resolution.head);
    const extras = await collectExtras({
      cwd,
      base: resolution.base,
      head: resolution.head,
      files: changed,
      ...(codeowners !== undefined ? { codeowners } : {}),
      ...(inputs['coverage-base'] ? { coverageBase: inputs['coverage-base'] } : {}),
      ...(inputs['coverage-head'] ? { coverageHead: inputs['coverage-head'] } : {}),
      ...(inputs.sarif ? { sarif: inputs.sarif } : {}),
      junit: inputs.junit,
      ...exclude,
    });

    for (const e of extras) if (e.problem) annotate('warning', { title: `${ACTION}: ${e.name} missing`, message: `${e.problem.message}; the score is computed without it`, file: e.problem.file, ...(e.problem.line !== undefined ? { line: e.problem.line } : {}) });
    const a = await assess({
      cwd,
      base: resolution.base,
      head: resolution.head,
      model: scored,
      warn,
      enforce,
      source,
      extras,
      ...exclude,
      ...(pr ? { extraMessage: `${pr.title ?? ''}\n${pr.body ?? ''}` } : {}),
    });

    let reviewers: { users: string[]; teams: string[] } = { users: [], teams: [] };
    if (a.level === 'high' && inputs.mode !== 'observe' && pr && event.repository && !inputs.token) {
      log.warning(`${ACTION}: no token, so reviewers are not requested and the label is not added; the score is in the outputs and the job summary`);
    } else if (a.level === 'high' && inputs.mode !== 'observe' && pr && event.repository) {
      const repo = { owner: event.repository.owner.login, repo: event.repository.name };
      const wanted = codeowners !== undefined && inputs['request-reviewers'] ? reviewersFor(parseCodeowners(codeowners), changed, pr.user?.login) : { users: [], teams: [] };
      const gh = await getGitHubClient(inputs.token, { log: { warn: log.warning } });
      // Reviewers and the label are a courtesy on top of the score, each tried on its own: a read-only token
      // (fork) or an API that keeps failing after the client's retries is reported, and the score, level and
      // evidence the gate depends on are still delivered.
      const attempt = async (what: string, call: () => Promise<unknown>): Promise<boolean> => {
        try {
          await call();
          return true;
        } catch (e) {
          if (isReadOnlyTokenError(e)) log.warning(`${ACTION}: the token cannot ${what} here (fork pull request?); the score is in the job summary and outputs.`);
          else annotate('warning', { title: ACTION, message: `could not ${what}: HTTP ${httpStatus(e) ?? '?'} ${(e as Error).message}; the score is in the outputs and the job summary` });
          return false;
        }
      };
      if ((wanted.users.length || wanted.teams.length) && (await attempt('request reviewers', () => gh.rest.pulls.requestReviewers({ ...repo, pull_number: pr.number, reviewers: wanted.users, team_reviewers: wanted.teams })))) reviewers = wanted;
      if (inputs.label) await attempt(`add the label ${inputs.label}`, () => gh.rest.issues.addLabels({ ...repo, issue_number: pr.number, labels: [inputs.label] }));
    }

    writeSummary(summary(a, inputs.mode, reviewers, extras));
    log.info(`risk ${shown(a)} (${a.level}); ${a.factors.map((f) => f.text).join('; ')}`);
    const blocks = inputs.mode === 'enforce' && a.level === 'high';
    const evidencePath = writeEvidence(ACTION, { score: a.score, level: a.level, mode: inputs.mode, blocks, thresholds: a.thresholds, factors: a.factors, missing: a.missing, model: a.model, reviewers, signals: extras });
    setOutputs({ score: a.score, level: a.level, factors: a.factors, missing: a.missing, model: a.model, reviewers, signals: extras, 'evidence-path': evidencePath });
    if (inputs.mode !== 'observe' && a.level !== 'low') {
      annotate(a.level === 'high' && inputs.mode === 'enforce' ? 'error' : 'warning', { title: `risk ${a.level}: ${shown(a)}`, message: a.factors.map((f) => f.text).join('; ') });
    }
    if (inputs.mode === 'enforce' && a.level === 'high') {
      process.exitCode = 1;
      log.info(`${ACTION}: failing the step: risk ${shown(a)} is at or above the enforce threshold ${a.model.calibrated ? `${(a.thresholds.enforce * 100).toFixed(0)} %` : a.thresholds.enforce}: ${a.factors.map((f) => f.text).join('; ')}`);
    }
  });
}

// The cache version hashes the path as given: '~/…' is the same on every runner (RUNNER_TEMP is not, locally).
const HISTORY_CACHE_PATH = '~/.maestro-risk-history';
const HISTORY_DIR = () => path.join(process.env['HOME'] ?? process.cwd(), '.maestro-risk-history');
const HISTORY_PREFIX = 'maestro-risk-history-v1-';

/** The newest history cache entry of the repository (none, or unreadable: started afresh, said so). */
async function restoreHistory(): Promise<{ cache: HistoryCache; note: string }> {
  const cache = await import('@actions/cache');
  const dir = HISTORY_DIR();
  if (!cache.isFeatureAvailable()) return { cache: emptyHistoryCache(), note: 'the Actions cache is not available here (no cache service in the environment): every commit is read' };
  try {
    const hit = await cache.restoreCache([HISTORY_CACHE_PATH], HISTORY_PREFIX, [HISTORY_PREFIX]);
    if (!hit) return { cache: emptyHistoryCache(), note: 'no history cache yet: every commit is read' };
    const loaded = loadHistoryCache(path.join(dir, 'history.json.gz'));
    return { ...loaded, note: `${loaded.note} (${hit})` };
  } catch (e) {
    log.warning(`${ACTION}: could not restore the history cache: ${(e as Error).message}`);
    return { cache: emptyHistoryCache(), note: 'the history cache could not be restored: every commit is read' };
  }
}

/** Saved under a key of its own per run attempt: entries are immutable, the next run restores the newest. */
async function saveHistory(h: HistoryCache): Promise<void> {
  const cache = await import('@actions/cache');
  const dir = HISTORY_DIR();
  saveHistoryCache(path.join(dir, 'history.json.gz'), h);
  if (!cache.isFeatureAvailable()) return;
  const key = `${HISTORY_PREFIX}${process.env['GITHUB_RUN_ID'] || 'local'}-${process.env['GITHUB_RUN_ATTEMPT'] || '1'}`;
  try {
    await cache.saveCache([HISTORY_CACHE_PATH], key);
  } catch (e) {
    // Losing the cache costs the next run time, never a result.
    log.warning(`${ACTION}: could not save the history cache: ${(e as Error).message}`);
  }
}
