/**
 * The health summary as markdown, under a size budget.
 *
 * Sections in priority order (what a reviewer needs first): policy blocks,
 * security findings, missing tests, flake probability, risk, cost, cache.
 * Each section is a complete markdown block; when the whole does not fit,
 * lower-priority sections are cut first with `truncateMarkdown`, which closes
 * open tables, fences and `<details>`. Every string that came from outside
 * (file names, finding messages, reasons) is escaped: no HTML, no @mentions,
 * no #references, no table breaks.
 */
import { mdCode, mdText, sizeOf, truncateMarkdown, type Measure } from '@maestro/core/markdown';
import { SEVERITIES_DESC } from '@maestro/core/sarif';
import type { HealthBundle } from './bundle.js';

export type Conclusion = 'success' | 'neutral' | 'failure';

/** Untrusted text and identifiers for markdown: the escaping lives in core, one place for every action. */
export const esc = mdText;
export const code = mdCode;

const pct = (p: number, digits = 0) => `${(p * 100).toFixed(digits)} %`;

export interface Section {
  id: 'policy' | 'security' | 'tests' | 'flakes' | 'risk' | 'cost' | 'cache' | 'attest';
  title: string;
  /** One line for the verdict table. */
  line: string;
  body: string;
  state: 'ok' | 'warn' | 'bad' | 'missing';
}

const ICON: Record<Section['state'], string> = { ok: '✅', warn: '⚠️', bad: '❌', missing: '➖' };

const SOURCE_EXT = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs|py|go|rb|java|kt|rs|cs|php|swift|scala|c|cc|cpp|h|hpp)$/;
const TEST_FILE = /(^|\/)(__tests__|tests?|spec)\/|\.(test|spec)\.[^/]+$|(^|\/)test_[^/]+\.py$|_test\.(go|py|rb)$/;
const NOT_CODE = /\.d\.ts$|(^|\/)(dist|build|vendor|node_modules|__generated__|generated)\//;

/** Changed source files no test reaches (import graph) or, without it, no test changed with. */
export function missingTests(b: HealthBundle): { files: string[]; method: 'import-graph' | 'naming' } | undefined {
  const a = b.evidence.affected;
  if (!a) return undefined;
  if (a.tests) {
    const files = Object.entries(a.tests.testsPerFile)
      .filter(([f, n]) => n === 0 && !NOT_CODE.test(f))
      .map(([f]) => f)
      .sort();
    return { files, method: 'import-graph' };
  }
  const changedTests = a.files.filter((f) => TEST_FILE.test(f));
  const stems = new Set(changedTests.map((f) => (f.split('/').pop() ?? f).replace(/^test_/, '').replace(/(\.(test|spec))?\.[^.]+$/, '').replace(/_test$/, '')));
  const files = a.files.filter((f) => SOURCE_EXT.test(f) && !TEST_FILE.test(f) && !NOT_CODE.test(f) && !stems.has((f.split('/').pop() ?? f).replace(/\.[^.]+$/, ''))).sort();
  return { files, method: 'naming' };
}

function list(items: readonly string[], max: number, fmt: (s: string) => string = code): string {
  const shown = items.slice(0, max).map((i) => `- ${fmt(i)}`);
  if (items.length > max) shown.push(`- …and ${items.length - max} more`);
  return shown.join('\n');
}

function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Evidence the pipeline required and did not deliver (or delivered invalid): each fails the health check. */
export function missingRequired(b: HealthBundle): string[] {
  return b.required.filter((n) => b.evidence[n] === undefined);
}

/** A section for evidence that is absent: a loud failure when the pipeline required it, else a dash. */
function absent(b: HealthBundle, name: (typeof b.required)[number], sec: Pick<Section, 'id' | 'title' | 'line' | 'body'>): Section {
  if (!b.required.includes(name)) return { ...sec, state: 'missing' };
  const why = b.problems.filter((p) => p.problem.startsWith(`${name} `) || p.file.includes(name)).map((p) => p.problem)[0];
  return {
    ...sec,
    line: `**${name} evidence missing**: required, so this check fails`,
    body: `**The ${name} step's evidence is missing or invalid**${why ? ` (${esc(why)})` : ''}. The pipeline runs that step, so its verdict is required: a step that crashed, was skipped or whose evidence was not passed on is not a pass. Re-run the pipeline; if the step failed, its log says why.`,
    state: 'bad',
  };
}

export function sections(b: HealthBundle): Section[] {
  const e = b.evidence;
  const out: Section[] = [];

  // Policy
  const p = e['policy-gate'];
  if (!p) out.push(absent(b, 'policy-gate', { id: 'policy', title: 'Policy', line: 'no policy-gate evidence', body: '_No policy-gate evidence for this commit (the gate did not run, or its evidence was not passed on)._' }));
  else {
    const active = p.violations.filter((v) => v.mode !== 'observe');
    const observed = p.violations.length - active.length;
    const more = p.truncated?.violations ?? 0;
    const rows = active.slice(0, 30).map((v) => [code(v.rule), v.mode, code(v.subject), `${esc(v.reason)} — ${esc(v.detail)}`]);
    const overrides = p.overrides.map((o) => `- ${code(o.rule)} by ${esc(o.by)}: ${esc(o.status)} — ${esc(o.reason)}`);
    const body = [
      active.length ? table(['rule', 'mode', 'subject', 'why'], rows) : `No rule of ${code(p.policy)} is violated${observed ? ` (${observed} observe-mode finding(s) recorded)` : ''}.`,
      Math.max(0, active.length - 30) + more ? `\n…and ${Math.max(0, active.length - 30) + more} more in the policy-gate job summary.` : '',
      p.outcome === 'block' ? `\nTo override a rule for this commit, someone with write access other than the author comments \`/maestro override <rule-id> sha: ${b.headSha.slice(0, 12)} reason: <why>\` (or adds the label \`maestro-override:<rule-id>\`); a new push needs a new override.` : '',
      overrides.length ? `\n**Overrides**\n${overrides.join('\n')}` : '',
    ]
      .filter(Boolean)
      .join('\n');
    const state = p.outcome === 'block' ? 'bad' : p.outcome === 'warn' ? 'warn' : 'ok';
    out.push({ id: 'policy', title: 'Policy', line: p.outcome === 'pass' ? 'pass' : `${p.outcome}: ${[...new Set(active.map((v) => v.rule))].slice(0, 4).map(esc).join(', ')}`, body, state });
  }

  // Security
  const s = b.security ?? (p?.findings ? { ...p.findings, sources: ['policy-gate'] } : null);
  if (!s) out.push({ id: 'security', title: 'Security findings', line: 'no scanner results', body: '_No SARIF or Grype results were given (pass them to policy-gate or health-comment)._', state: 'missing' });
  else {
    const counts = SEVERITIES_DESC.filter((k) => s.bySeverity[k]).map((k) => `${s.bySeverity[k]} ${k}`);
    const rows = s.top.slice(0, 10).map((f) => [f.severity, esc(f.tool), code(f.rule), f.package ? code(f.package) : code(f.line ? `${f.file}:${f.line}` : f.file), esc(f.message)]);
    const bad = (s.bySeverity.critical ?? 0) > 0;
    const warn = (s.bySeverity.high ?? 0) > 0;
    out.push({ id: 'security', title: 'Security findings', line: s.total ? counts.join(', ') : 'none', body: s.total ? `${counts.join(', ')}.\n\n${rows.length ? table(['severity', 'tool', 'rule', 'where', 'message'], rows) : ''}` : 'No findings.', state: bad ? 'bad' : warn ? 'warn' : 'ok' });
  }

  // Attestations (shown when the pipeline ran attest-verify)
  const at = e['attest-verify'];
  if (!at && b.required.includes('attest-verify')) out.push(absent(b, 'attest-verify', { id: 'attest', title: 'Attestations', line: 'no attest-verify evidence', body: '' }));
  else if (at) {
    const bad = at.subjects.filter((x) => !x.ok);
    const rows = bad.slice(0, 10).map((x) => [code(x.subject), esc(x.failures.join('; '))]);
    out.push({
      id: 'attest',
      title: 'Attestations',
      line: at.failed ? `${at.failed} subject(s) without a valid attestation${at.blocks ? ' (blocking)' : ''}` : `${at.verified} subject(s) verified`,
      body: at.failed
        ? `${at.verified} verified, ${at.failed} failed against ${code(at.policy)} (mode ${at.mode}).\n\n${table(['subject', 'what failed'], rows)}${bad.length > 10 ? `\n…and ${bad.length - 10} more in the attest-verify job summary.` : ''}`
        : `All ${at.verified} subject(s) verified against ${code(at.policy)}: ${at.subjects.slice(0, 5).map((x) => `${code(x.subject)} (${x.accepted.map((a) => esc(a.require)).join(', ')})`).join(', ')}${at.subjects.length > 5 ? ', …' : ''}.`,
      state: at.blocks ? 'bad' : at.failed ? 'warn' : 'ok',
    });
  }

  // Missing tests
  const m = missingTests(b);
  if (!m) out.push(absent(b, 'affected', { id: 'tests', title: 'Missing tests', line: 'no affected evidence', body: '_No affected evidence, so changed files are unknown._' }));
  else {
    const how = m.method === 'import-graph' ? 'no test file imports them, directly or through other modules' : 'no test file with the same name changed alongside (file-level test selection is off, so this is a naming check)';
    const unc = b.uncovered?.filter((u) => u.lines.length) ?? [];
    const uncovered = unc.length ? `\n\n**Changed lines without coverage**\n${list(unc.map((u) => `${u.file}: ${compactLines(u.lines)}`), 15)}` : '';
    out.push({
      id: 'tests',
      title: 'Missing tests',
      line: m.files.length ? `${m.files.length} changed source file(s) without tests${unc.length ? `; uncovered lines in ${unc.length}` : ''}` : unc.length ? `uncovered changed lines in ${unc.length} file(s)` : 'none',
      body: (m.files.length ? `Changed source files where ${how}:\n\n${list(m.files, 20)}` : 'Every changed source file is reached by a test.') + uncovered,
      state: m.files.length || unc.length ? 'warn' : 'ok',
    });
  }

  // Flakes
  const sh = e['allocate-shards'];
  if (!sh) out.push(absent(b, 'allocate-shards', { id: 'flakes', title: 'Flake probability', line: 'no allocate-shards evidence', body: '_No allocate-shards evidence: the timing store and its flake history were not consulted._' }));
  else {
    const f = sh.flakes;
    const rows = f.top.slice(0, 10).map((t) => [code(t.id), pct(t.probability, 1), `${t.flaky} of ${t.runs} runs`]);
    out.push({
      id: 'flakes',
      title: 'Flake probability',
      line: `${pct(f.probability, 1)} that a planned test flakes (${sh.tests} tests in ${sh.shards} shard(s), ~${Math.round(sh.predictedSeconds)} s)`,
      body: `${pct(f.probability, 1)} chance that at least one of the ${sh.tests} planned tests flakes in this run (history for ${f.known}; timings cover ${pct(sh.timingCoverage)}).${rows.length ? `\n\n${table(['test', 'flake probability', 'history'], rows)}` : ''}`,
      state: f.probability >= 0.2 ? 'warn' : 'ok',
    });
  }

  // Risk
  const r = e['risk-score'];
  if (!r) out.push(absent(b, 'risk-score', { id: 'risk', title: 'Risk', line: 'no risk-score evidence', body: '_No risk-score evidence for this commit._' }));
  else if (r.score === null) out.push({ id: 'risk', title: 'Risk', line: 'not scored', body: `Not scored: ${esc(r.unscored ?? 'unknown reason')}.`, state: 'missing' });
  else {
    const factors = r.factors.slice(0, 3).map((f) => `- ${esc(f.text)}`);
    const missing = r.missing.map((x) => (typeof x === 'string' ? x : x.signal));
    const model = String((r.model as { source?: unknown }).source ?? 'model');
    // The seed formula's score is a weighted sum, not a probability: shown as a number, never as a percentage.
    const seed = (r.model as { calibrated?: unknown }).calibrated === false;
    const show = (x: number, digits = 0) => (seed ? x.toFixed(3) : pct(x, digits));
    out.push({
      id: 'risk',
      title: 'Risk',
      line: `${show(r.score)}${seed ? ' seed score' : ''} (${r.level})${r.factors[0] ? ` — ${esc(r.factors[0].text)}` : ''}`,
      body: [`${seed ? 'Seed formula score (a weighted sum, not a probability)' : 'Probability that this change introduces a defect'}: **${show(r.score, 1)}** (${r.level}${r.thresholds ? `; warn at ${show(r.thresholds.warn)}, enforce at ${show(r.thresholds.enforce)}` : ''}, mode ${r.mode}).`, factors.length ? `\nTop factors:\n${factors.join('\n')}` : '', missing.length ? `\nNot measured: ${missing.map(esc).join(', ')}.` : '', `\nModel: ${esc(model)}.`].filter(Boolean).join('\n'),
      state: r.blocks ? 'bad' : r.level === 'low' ? 'ok' : 'warn',
    });
  }

  // Cost
  const ag = e['agent-step'];
  if (!ag) out.push(absent(b, 'agent-step', { id: 'cost', title: 'Cost', line: 'no agent steps ran', body: '_No agent-step ledger for this pull request: no LLM spend recorded._' }));
  else {
    const budget = ag.budgetUsd !== null ? ` of $${ag.budgetUsd.toFixed(2)} (left: $${Math.max(0, ag.budgetUsd - ag.usd).toFixed(2)})` : '';
    const cache = ag.promptCache && ag.promptCache.lookups ? `; prompt cache ${ag.promptCache.hits}/${ag.promptCache.lookups} hits` : '';
    out.push({ id: 'cost', title: 'Cost', line: `$${ag.usd.toFixed(2)}${budget}`, body: `LLM spend to date: **$${ag.usd.toFixed(2)}**${budget}; ${ag.promptTokens} prompt tokens${ag.maxPromptTokens !== null ? ` of ${ag.maxPromptTokens}` : ''}${cache}.`, state: ag.budgetUsd !== null && ag.usd > ag.budgetUsd ? 'bad' : 'ok' });
  }

  // Cache
  const a = e.affected;
  if (!a?.cache) out.push({ id: 'cache', title: 'Cache', line: a ? 'target cache off' : 'no affected evidence', body: a ? '_The per-target cache is off for this run._' : '_No affected evidence._', state: 'missing' });
  else {
    const c = a.cache;
    out.push({ id: 'cache', title: 'Cache', line: `${c.hits}/${c.targets} targets restored`, body: `${c.hits} of ${c.targets} target(s) restored from the CI cache.${c.missed.length ? `\n\nRebuilt:\n${list(c.missed, 15)}` : ''}`, state: 'ok' });
  }
  return out;
}

function compactLines(lines: readonly number[]): string {
  const sorted = [...new Set(lines)].sort((x, y) => x - y);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

export function conclusion(b: HealthBundle): Conclusion {
  const p = b.evidence['policy-gate'];
  const r = b.evidence['risk-score'];
  // Fail closed: a required gate whose evidence is missing is not a pass.
  const a = b.evidence['attest-verify'];
  if (p?.outcome === 'block' || r?.blocks || a?.blocks || missingRequired(b).length) return 'failure';
  if (p?.outcome === 'warn' || (r && r.level !== 'low' && r.level !== 'unknown') || (a && a.failed > 0)) return 'neutral';
  return 'success';
}

export interface RenderOptions {
  /** Size limit and its unit: comments count characters, check-run summaries bytes. */
  budget: number;
  measure: Measure;
  /** Prepended verbatim (the sticky marker); counted in the budget. */
  header?: string;
  /** Where the full version is, for the truncation notice. */
  fullAt?: string;
}

const VERDICT: Record<Conclusion, string> = { success: '✅ ready for review', neutral: '⚠️ needs attention', failure: '❌ blocked' };

/** The whole summary, within `budget`. Valid markdown however much is cut. */
export function render(b: HealthBundle, opts: RenderOptions): { markdown: string; truncated: boolean } {
  const secs = sections(b);
  const head = [
    opts.header ?? '',
    `## Maestro health: ${VERDICT[conclusion(b)]}`,
    '',
    table(['', 'check', 'result'], secs.map((s) => [ICON[s.state], s.title, s.line])),
    '',
  ].join('\n');
  const foot = [
    '',
    `<sub>Commit ${code(b.headSha.slice(0, 12))}${b.problems.length ? ` · ${b.problems.length} evidence file(s) ignored: ${b.problems.slice(0, 3).map((x) => `${esc(x.file)} (${esc(x.problem)})`).join('; ')}` : ''}</sub>`,
    '',
  ].join('\n');
  const blocks = secs.map((s) => `<details${s.state === 'bad' ? ' open' : ''}>\n<summary>${ICON[s.state]} ${s.title}</summary>\n\n${s.body}\n\n</details>\n`);
  const full = head + blocks.join('\n') + foot;
  if (sizeOf(full, opts.measure) <= opts.budget) return { markdown: full, truncated: false };
  // Cut from the lowest priority up: each section keeps what the budget left after the ones above it.
  const notice = `\n_…cut to fit; the full summary is in ${opts.fullAt ?? 'the job summary'}._\n`;
  let remaining = opts.budget - sizeOf(head, opts.measure) - sizeOf(foot, opts.measure);
  const kept: string[] = [];
  let truncated = false;
  for (let i = 0; i < blocks.length; i++) {
    const reserve = (blocks.length - i - 1) * 200;
    const room = Math.max(0, remaining - reserve);
    const block = blocks[i]!;
    if (sizeOf(block, opts.measure) + 1 <= room) kept.push(block);
    else {
      truncated = true;
      const t = truncateMarkdown(block, Math.max(0, room - 1), opts.measure, notice);
      kept.push(t.text.endsWith('\n') ? t.text : `${t.text}\n`);
    }
    remaining -= sizeOf(kept[kept.length - 1]!, opts.measure) + 1;
  }
  let markdown = head + kept.join('\n') + foot;
  if (sizeOf(markdown, opts.measure) > opts.budget) markdown = truncateMarkdown(markdown, opts.budget, opts.measure, notice).text;
  return { markdown, truncated };
}
