import { describe, expect, test } from '@jest/globals';
import { EVIDENCE_SCHEMA } from '@maestro/core/evidence';
import { BUNDLE_SCHEMA, conclusion, digestOf, esc, marker, missingTests, ownComments, parseBundle, parseMarker, planSticky, readEvidence, render, sections, type HealthBundle } from '../src/index.js';

const SHA = 'a'.repeat(40);
const env = (action: string, data: unknown, run = 10, sha = SHA, attempt = 1) => JSON.stringify({ schema: EVIDENCE_SCHEMA, action, sha, run: { id: run, attempt, number: run % 100000 }, createdAt: '2026-11-25T00:00:00Z', data });

const AFFECTED = { base: 'b'.repeat(40), head: SHA, baseSource: 'merge-commit-parent', all: false, allReason: null, projects: ['web'], projectCount: 1, reasons: { web: ['packages/web/src/a.ts changed'] }, removed: [], changedFiles: 3, files: ['packages/web/src/a.ts', 'packages/web/src/b.ts', 'packages/web/src/b.test.ts'], tests: null, cache: { targets: 4, hits: 3, missed: ['web:build'] } };
const POLICY = { outcome: 'block', policy: 'policy/rules.yaml', actor: 'human', violations: [{ rule: 'infra-frozen', reason: 'Infra goes through <b>platform</b> @platform-team', mode: 'enforce', subject: 'infra/main.tf', detail: 'human may not write infra/main.tf' }], overrides: [] };
const RISK = { score: 0.42, level: 'elevated', mode: 'warn', blocks: false, thresholds: { warn: 0.3, enforce: 0.6 }, factors: [{ feature: 'la', contribution: 0.8, value: 300, text: '300 lines added' }], missing: ['coverage'], model: { source: 'default' } };
const SHARDS = { tests: 120, shards: 4, predictedSeconds: 95.2, skew: 0.01, timingCoverage: 0.97, flakes: { probability: 0.081, known: 110, top: [{ id: 'test/flaky.test.ts', probability: 0.08, flaky: 2, runs: 24 }] } };

function bundle(over: Partial<HealthBundle> = {}): HealthBundle {
  const { evidence, problems } = readEvidence([
    { name: 'affected.json', text: env('affected', AFFECTED) },
    { name: 'policy-gate.json', text: env('policy-gate', POLICY) },
    { name: 'risk-score.json', text: env('risk-score', RISK) },
    { name: 'allocate-shards.json', text: env('allocate-shards', SHARDS) },
  ], { sha: SHA });
  return { schema: BUNDLE_SCHEMA, repo: 'acme/shop', pr: 7, headSha: SHA, run: { id: 10, attempt: 1, number: 10 }, createdAt: '2026-11-25T00:00:00Z', required: [], evidence, security: null, uncovered: null, problems, ...over };
}

describe('evidence', () => {
  test('valid evidence is read; malformed, foreign-commit and unknown files are reported, not thrown; the newest run wins', () => {
    const r = readEvidence([
      { name: 'risk-old.json', text: env('risk-score', { ...RISK, score: 0.1 }, 5) },
      { name: 'risk-new.json', text: env('risk-score', RISK, 11) },
      { name: 'broken.json', text: '{"schema": ' },
      { name: 'other-commit.json', text: env('affected', AFFECTED, 12, 'c'.repeat(40)) },
      { name: 'wrong-shape.json', text: env('policy-gate', { ...POLICY, outcome: 'maybe' }) },
      { name: 'huge-string.json', text: env('risk-score', { ...RISK, factors: [{ feature: 'x', contribution: 1, text: 'y'.repeat(5000) }] }, 13) },
      { name: 'alien.json', text: env('rm-rf', {}) },
    ], { sha: SHA });
    expect(r.evidence['risk-score']!.score).toBe(0.42);
    expect(r.evidence.affected).toBeUndefined();
    expect(r.problems.map((p) => p.file)).toEqual(['broken.json', 'other-commit.json', 'wrong-shape.json', 'alien.json']);
    expect(r.problems[1]!.problem).toMatch(/about commit cccccccccccc, not aaaaaaaaaaaa; ignored/);
    expect(r.problems[2]!.problem).toMatch(/policy-gate evidence is malformed at outcome/);
    // A long string is cut for display, never a reason to drop the evidence (run 13 is the newest).
    expect(r.evidence['risk-score']!.factors[0]!.text).toHaveLength(500);
    expect(r.evidence['risk-score']!.factors[0]!.text.endsWith('…')).toBe(true);
  });

  test('real-world values: 11-digit run ids, a 1,200-character path, 6,000 violations — the block is kept, strings and lists are cut', () => {
    const long = `infra/${'deep/'.repeat(240)}main.tf`;
    const violations = Array.from({ length: 6000 }, (_, i) => ({ rule: 'infra-write', reason: 'Infra changes need the platform team', mode: 'enforce', subject: i ? `infra/f${i}.tf` : long, detail: `human may not write ${i ? `infra/f${i}.tf` : long}`, file: i ? `infra/f${i}.tf` : long }));
    const r = readEvidence([{ name: 'policy-gate.json', text: env('policy-gate', { ...POLICY, violations }, 16823450912) }], { sha: SHA, run: { id: 16823450912, attempt: 1 } });
    expect(r.problems).toEqual([]);
    const p = r.evidence['policy-gate']!;
    expect(p.outcome).toBe('block');
    expect(p.violations).toHaveLength(5000);
    expect(p.truncated?.violations).toBe(1000);
    expect(p.violations[0]!.subject.length).toBeLessThanOrEqual(1000);
    const b = bundle({ run: { id: 16823450912, attempt: 2, number: 18431 }, pr: 48213, evidence: r.evidence });
    expect(conclusion(parseBundle(JSON.stringify(b)))).toBe('failure');
  });

  test('only this run counts: an artifact from another run (or one claiming a huge run id) is ignored; in one run and attempt the worse verdict wins', () => {
    const run = { id: 16823450912, attempt: 2 };
    const r = readEvidence([
      { name: 'mine.json', text: env('policy-gate', { ...POLICY, outcome: 'block' }, run.id, SHA, 2) },
      { name: 'forged.json', text: env('policy-gate', { ...POLICY, outcome: 'pass', violations: [] }, 9_007_199_254_740_991, SHA, 1) },
      { name: 'old-attempt.json', text: env('risk-score', { ...RISK, level: 'high', blocks: true }, run.id, SHA, 1) },
      { name: 'future-attempt.json', text: env('risk-score', { ...RISK, level: 'low', blocks: false }, run.id, SHA, 3) },
      { name: 'matrix-a.json', text: env('allocate-shards', SHARDS, run.id, SHA, 2) },
    ], { sha: SHA, run });
    expect(r.evidence['policy-gate']!.outcome).toBe('block');
    expect(r.evidence['risk-score']!.blocks).toBe(true);
    expect(r.problems.map((p) => p.file)).toEqual(['forged.json', 'future-attempt.json']);
    expect(r.problems[0]!.problem).toMatch(/from run 9007199254740991\.1, not this run \(16823450912\.2\); ignored/);
    const same = readEvidence([
      { name: 'a.json', text: env('policy-gate', { ...POLICY, outcome: 'block' }, run.id, SHA, 2) },
      { name: 'b.json', text: env('policy-gate', { ...POLICY, outcome: 'pass', violations: [] }, run.id, SHA, 2) },
    ], { sha: SHA, run });
    expect(same.evidence['policy-gate']!.outcome).toBe('block');
  });

  test('required evidence: missing or invalid fails the check with a reason; not required, it is a dash', () => {
    const b = bundle();
    const { 'policy-gate': _, ...withoutPolicy } = b.evidence;
    const lax = bundle({ evidence: withoutPolicy, required: [] });
    const strict = bundle({ evidence: withoutPolicy, required: ['policy-gate', 'risk-score'], problems: [{ file: 'policy-gate.json', problem: 'policy-gate evidence is malformed at outcome: invalid' }] });
    expect(conclusion({ ...lax, evidence: { ...withoutPolicy, 'risk-score': { ...withoutPolicy['risk-score']!, level: 'low' } } })).toBe('success');
    expect(conclusion(strict)).toBe('failure');
    const md = render(strict, { budget: 65536, measure: 'chars' }).markdown;
    expect(md).toContain('## Maestro health: ❌ blocked');
    expect(md).toMatch(/\| ❌ \| Policy \| \*\*policy-gate evidence missing\*\*: required, so this check fails \|/);
    expect(md).toContain('policy-gate evidence is malformed at outcome');
    expect(render(lax, { budget: 65536, measure: 'chars' }).markdown).toMatch(/\| ➖ \| Policy \| no policy-gate evidence \|/);
  });

  test('a bundle is validated as untrusted data: bad SHA, oversize arrays and extra fields', () => {
    const good = bundle();
    expect(parseBundle(JSON.stringify(good)).headSha).toBe(SHA);
    expect(() => parseBundle(JSON.stringify({ ...good, headSha: '../../etc' }))).toThrow(/invalid at headSha/);
    // Lists are cut, not refused: a long list must not throw a verdict away.
    expect(parseBundle(JSON.stringify({ ...good, problems: Array(51).fill({ file: 'x', problem: 'y' }) })).problems).toHaveLength(50);
    expect(() => parseBundle(JSON.stringify({ ...good, run: { id: 2 ** 60, attempt: 1, number: 1 } }))).toThrow(/invalid at run\.id/);
    expect(parseBundle(JSON.stringify({ ...good, run: { id: 16823450912, attempt: 1, number: 18431 }, pr: 48213 })).run.id).toBe(16823450912);
    expect(() => parseBundle('not json')).toThrow(/not JSON/);
    // Unknown keys are dropped, never passed on.
    expect(Object.keys(parseBundle(JSON.stringify({ ...good, script: 'curl evil' })))).not.toContain('script');
  });
});

describe('render', () => {
  test('every section from evidence; absent evidence says what is missing; the verdict follows the gates', () => {
    const b = bundle();
    const md = render(b, { budget: 65536, measure: 'chars' }).markdown;
    expect(md).toContain('## Maestro health: ❌ blocked');
    expect(md).toMatch(/\| ❌ \| Policy \| block: infra-frozen \|/);
    expect(md).toMatch(/\| ⚠️ \| Risk \| 42 % \(elevated\) — 300 lines added \|/);
    expect(md).toMatch(/\| ✅ \| Flake probability \| 8\.1 % that a planned test flakes \(120 tests in 4 shard\(s\), ~95 s\) \|/);
    expect(md).toMatch(/\| ✅ \| Cache \| 3\/4 targets restored \|/);
    expect(md).toMatch(/\| ➖ \| Cost \| no agent steps ran \|/);
    expect(md).toMatch(/\| ➖ \| Security findings \| no scanner results \|/);
    // b.ts has b.test.ts changed with it; a.ts has none (naming check without file-level selection).
    expect(md).toContain('- `packages/web/src/a.ts`');
    expect(md).not.toContain('- `packages/web/src/b.ts`');
    expect(conclusion(b)).toBe('failure');
    expect(conclusion(bundle({ evidence: { ...b.evidence, 'policy-gate': { ...b.evidence['policy-gate']!, outcome: 'pass', violations: [] } } }))).toBe('neutral');
  });

  test('a seed-formula score is shown as the number it is, never as a probability', () => {
    const b = bundle();
    const seed = { ...b.evidence['risk-score']!, score: 0.263, thresholds: { warn: 0.6, enforce: 0.7 }, factors: [{ feature: 'locChanged', contribution: 0.1, text: 'adds 0.1 of 0.1: lines changed' }], model: { source: 'seed formula', calibrated: false } };
    const md = render(bundle({ evidence: { ...b.evidence, 'risk-score': seed } }), { budget: 65536, measure: 'chars' }).markdown;
    expect(md).toMatch(/\| ⚠️ \| Risk \| 0\.263 seed score \(elevated\) — adds 0\.1 of 0\.1: lines changed \|/);
    expect(md).toContain('Seed formula score (a weighted sum, not a probability): **0.263** (elevated; warn at 0.600, enforce at 0.700');
    expect(md).not.toMatch(/26 %|26\.3 %/);
  });

  test('untrusted text cannot inject HTML, mentions, references or break a table', () => {
    const md = render(bundle(), { budget: 65536, measure: 'chars' }).markdown;
    expect(md).not.toContain('<b>');
    expect(md).not.toMatch(/@platform-team/);
    expect(md).toContain('&lt;b&gt;platform&lt;/b&gt;');
    expect(esc('fixes #12 | @bob')).toBe('fixes #\u206012 \\| @\u2060bob');
    // A hostile bundle: every string field it controls stays inert.
    const b = bundle();
    const evil = '<img src=x onerror=alert(1)> @org/admins #1 | `x`';
    const hostile = { ...b, evidence: { ...b.evidence, 'policy-gate': { ...b.evidence['policy-gate']!, violations: [{ rule: evil, reason: evil, mode: 'enforce' as const, subject: evil, detail: evil }], overrides: [{ rule: evil, by: evil, status: evil, reason: evil, expires: '2026-12-01' }] }, 'risk-score': { ...b.evidence['risk-score']!, factors: [{ feature: 'la', contribution: 1, text: evil }], model: { source: evil } } }, problems: [{ file: evil, problem: evil }] };
    // Inside code spans text is literal (no HTML, no mentions); everywhere else it must be escaped.
    const out = render(hostile, { budget: 65536, measure: 'chars' }).markdown.replace(/(`+) [\s\S]*? \1|(`+)[^`]*?\2/g, '');
    expect(out).not.toMatch(/<img/);
    expect(out).not.toMatch(/@org\/admins/);
    expect(out).not.toMatch(/(^|[^\u2060`])#1\b/);
  });

  test('the budget holds for comments (characters) and check runs (bytes), with valid markdown after cutting', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ rule: 'infra-frozen', reason: 'Infra ünïcödé reason '.repeat(5), mode: 'enforce' as const, subject: `infra/gen/f${i}.tf`, detail: 'x'.repeat(300) }));
    const files = Array.from({ length: 5000 }, (_, i) => `packages/web/src/gen/f${i}.ts`);
    const b = bundle();
    const big = { ...b, evidence: { ...b.evidence, 'policy-gate': { ...b.evidence['policy-gate']!, violations: many }, affected: { ...b.evidence.affected!, files } } };
    for (const [budget, measure] of [[65536, 'chars'], [65535, 'bytes'], [4000, 'bytes']] as const) {
      const { markdown, truncated } = render(big, { budget, measure });
      expect(measure === 'bytes' ? Buffer.byteLength(markdown) : markdown.length).toBeLessThanOrEqual(budget);
      // Sections cap their own lists (30 violations, 20 files), so only the tiny budget needs cutting.
      expect(truncated).toBe(budget === 4000);
      expect((markdown.match(/<details/g) ?? []).length).toBe((markdown.match(/<\/details>/g) ?? []).length);
      expect(markdown).toContain('## Maestro health: ❌ blocked');
    }
    // A small change is never cut.
    expect(render(b, { budget: 65536, measure: 'chars' }).truncated).toBe(false);
  });

  test('cost to date and budget left from the agent-step ledger, with prompt cache hits; over budget is bad', () => {
    const { evidence } = readEvidence([{ name: 'agent-step.json', text: env('agent-step', { usd: 1.25, budgetUsd: 3, promptTokens: 41000, maxPromptTokens: 60000, promptCache: { hits: 12, lookups: 20 } }) }], { sha: SHA });
    const cost = sections(bundle({ evidence: { ...bundle().evidence, ...evidence } })).find((x) => x.id === 'cost')!;
    expect(cost.line).toBe('$1.25 of $3.00 (left: $1.75)');
    expect(cost.body).toBe('LLM spend to date: **$1.25** of $3.00 (left: $1.75); 41000 prompt tokens of 60000; prompt cache 12/20 hits.');
    expect(cost.state).toBe('ok');
    const over = readEvidence([{ name: 'a.json', text: env('agent-step', { usd: 3.5, budgetUsd: 3, promptTokens: 1, maxPromptTokens: null, promptCache: null }) }], { sha: SHA }).evidence;
    expect(sections(bundle({ evidence: { ...bundle().evidence, ...over } })).find((x) => x.id === 'cost')!.state).toBe('bad');
  });

  test('attestations: shown when attest-verify ran; a blocking failure fails the verdict; required and missing fails too', () => {
    const ok = { mode: 'enforce', verified: 1, failed: 0, blocks: false, policy: '.maestro/attest-policy.yml', subjects: [{ subject: 'pkg:npm/shop@1.2.0', ok: true, failures: [], accepted: [{ require: 'provenance', signer: 'https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.2.0 (public-good)' }] }] };
    const bad = { ...ok, verified: 0, failed: 1, blocks: true, subjects: [{ subject: 'dist/app.tgz', ok: false, failures: ['provenance: no provenance attestation of dist/app.tgz (no bundles found)'], accepted: [] }] };
    const noSecurity = { ...bundle().evidence, 'policy-gate': { ...bundle().evidence['policy-gate']!, outcome: 'pass' as const, violations: [] }, 'risk-score': { ...bundle().evidence['risk-score']!, level: 'low' as const } };
    const read = (data: unknown) => readEvidence([{ name: 'attest-verify.json', text: env('attest-verify', data) }], { sha: SHA }).evidence;
    expect(sections(bundle({ evidence: noSecurity })).some((x) => x.id === 'attest')).toBe(false);
    const good = bundle({ evidence: { ...noSecurity, ...read(ok) } });
    expect(sections(good).find((x) => x.id === 'attest')).toMatchObject({ line: '1 subject(s) verified', state: 'ok' });
    expect(conclusion(good)).toBe('success');
    const blocked = bundle({ evidence: { ...noSecurity, ...read(bad) } });
    const sec = sections(blocked).find((x) => x.id === 'attest')!;
    expect([sec.line, sec.state]).toEqual(['1 subject(s) without a valid attestation (blocking)', 'bad']);
    expect(sec.body).toContain('no provenance attestation of dist/app.tgz');
    expect(conclusion(blocked)).toBe('failure');
    expect(conclusion(bundle({ evidence: noSecurity, required: ['attest-verify'] }))).toBe('failure');
  });

  test('missing tests from the import graph when file-level selection ran; uncovered changed lines listed', () => {
    const b = bundle();
    const withGraph = { ...b, evidence: { ...b.evidence, affected: { ...b.evidence.affected!, tests: { selected: 3, testsPerFile: { 'packages/web/src/a.ts': 2, 'packages/web/src/orphan.ts': 0 } } } }, uncovered: [{ file: 'packages/web/src/a.ts', lines: [3, 4, 5, 9] }] };
    expect(missingTests(withGraph)).toEqual({ files: ['packages/web/src/orphan.ts'], method: 'import-graph' });
    const s = sections(withGraph).find((x) => x.id === 'tests')!;
    expect(s.line).toBe('1 changed source file(s) without tests; uncovered lines in 1');
    expect(s.body).toContain('`packages/web/src/a.ts: 3–5, 9`');
  });
});

describe('sticky comment', () => {
  const me = 'github-actions[bot]';
  const m = (run: number, sha = SHA, digest = 'd'.repeat(32)) => marker({ sha, run, attempt: 1, digest });

  test('only comments with the marker AND our identity count: a pasted marker from someone else is ignored', () => {
    const comments = [
      { id: 5, body: `${m(9)}\nhijack`, user: { login: 'mallory' } },
      { id: 6, body: `${m(9)}\nours`, user: { login: me } },
      { id: 7, body: 'plain comment', user: { login: me } },
    ];
    expect(ownComments(comments, me).map((c) => c.id)).toEqual([6]);
  });

  test('create, update, unchanged (same digest, no write), duplicates collapse to the oldest, older runs never overwrite newer', () => {
    const next = { sha: SHA, run: 10, attempt: 1, digest: digestOf('body') };
    expect(planSticky([], next)).toEqual({ action: 'create' });
    expect(planSticky([{ id: 6, body: m(9), user: { login: me } }, { id: 8, body: m(9), user: { login: me } }], next)).toEqual({ action: 'update', id: 6, duplicates: [8] });
    expect(planSticky([{ id: 6, body: marker(next), user: { login: me } }], next)).toEqual({ action: 'unchanged', id: 6, duplicates: [] });
    expect(planSticky([{ id: 6, body: m(11, 'b'.repeat(40)), user: { login: me } }], next)).toMatchObject({ action: 'stale' });
    expect(planSticky([{ id: 6, body: m(9), user: { login: me } }], next, 'c'.repeat(40))).toMatchObject({ action: 'stale', why: expect.stringMatching(/head is now cccccccccccc/) });
    expect(parseMarker(marker(next))).toEqual(next);
  });
});
