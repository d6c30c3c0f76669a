/**
 * The PR-pipeline demo: a sample monorepo, a real pull request (git merge
 * commit at refs/pull/1/merge), a shallow checkout like actions/checkout, and
 * every landed action run as its bundle through runner-sim against the
 * OpenAPI-validated fake GitHub and the cache-v2 fake — twice, as a push of a
 * new commit to the PR would.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { FakeCacheService, scopesFor } from './fake-cache.js';
import { FakeGitHub } from './fake-github.js';
import { GitFixture } from './git-fixture.js';
import { sampleMonorepo } from './sample.js';
import { pullRequestEvent } from './events.js';
import { assertContract, runAction, type RunResult } from './runner-sim.js';

const REPO = { owner: 'acme', name: 'shop' };
const FULL = 'acme/shop';

/** Inputs the demo passes to each landed action. */
const DEMO_INPUTS: Record<string, Record<string, string>> = {
  affected: { 'test-selection': 'files', cache: 'restore-save', 'cache-targets': 'build' },
  'risk-score': { mode: 'warn' },
  'allocate-shards': { 'tests-glob': 'packages/**/*.test.ts', timings: 'ci/test-timings.json', shards: 'auto', overhead: '20', 'max-shards': '4' },
};

interface Step {
  id: string;
  actionDir: string;
  with: Record<string, string>;
}

export async function demo(root: string, log: (s: string) => void = console.log): Promise<{ ok: boolean; violations: number }> {
  const t0 = Date.now();
  const landed = existsSync(path.join(root, 'actions')) ? readdirSync(path.join(root, 'actions')).filter((n) => existsSync(path.join(root, 'actions', n, 'dist/index.js'))).sort() : [];
  const fx = GitFixture.create();
  const [gh, cache] = await Promise.all([FakeGitHub.start(), FakeCacheService.start()]);
  try {
    sampleMonorepo(fx);
    fx.push('main');
    fx.branch('feature/rounding');
    fx.commit('utils: round half up', { 'packages/utils/src/money.ts': 'export const cents = (n: number) => Math.floor(n * 100 + 0.5);\n', 'README.md': '# shop\n\nRounding fixed.\n' });
    let pr = fx.pullRequest(1, 'main', 'feature/rounding');
    gh.addRepo(FULL);
    gh.addPull(FULL, { number: 1, headSha: pr.head, baseSha: pr.base, headRef: 'feature/rounding' });
    const token = gh.addToken('ghs_demo_token');

    log(`sample monorepo: 3 packages (utils ← api, web); PR #1 changes packages/utils and README.md`);
    log(`actions landed: ${landed.length ? landed.join(', ') : 'none yet'}; the pipeline also runs the harness reference action (test/actions/hello)`);

    const steps: Step[] = [
      ...landed.map((name) => ({ id: name, actionDir: path.join(root, 'actions', name), with: DEMO_INPUTS[name] ?? {} })),
      { id: 'hello', actionDir: path.join(root, 'test/actions/hello'), with: { 'who-to-greet': 'PR #1', comment: 'true', 'cache-path': '.demo-cache', 'cache-key': 'demo-cache-v1' } },
    ];

    const runPipeline = async (label: string) => {
      const event = pullRequestEvent({ repo: REPO, number: 1, ...pr, headRef: 'feature/rounding' });
      const workspace = fx.checkoutLike(pr.merge, { depth: 1 });
      log(`\n▶ ${label}: GITHUB_SHA=${pr.merge.slice(0, 12)} (merge commit), head ${pr.head.slice(0, 12)}, shallow checkout`);
      const results: Array<[Step, RunResult]> = [];
      for (const step of steps) {
        const r = await runAction({ actionDir: step.actionDir, with: step.with, event, workspace, token, apiUrl: gh.url, env: cache.env(scopesFor('refs/pull/1/merge')) });
        assertContract(r);
        results.push([step, r]);
        const ms = r.stages.reduce((a, s) => a + s.ms, 0);
        log(`  ${r.conclusion === 'success' ? '✓' : '✗'} ${step.id.padEnd(10)} ${r.conclusion} in ${ms} ms on Node ${r.nodeVersion}; outputs: ${Object.entries(r.outputs).map(([k, v]) => `${k}=${v.length > 60 ? `${v.slice(0, 57)}…` : v}`).join(', ')}`);
        for (const a of r.annotations) log(`      ${a.level}: ${a.message}${a.file ? ` (${a.file}${a.line ? `:${a.line}` : ''})` : ''}`);
        if (step.id === 'policy-gate' && r.outputs['decision']) {
          for (const v of (JSON.parse(r.outputs['decision']) as { violations: Array<{ rule: string; mode: string; subject: string; reason: string }> }).violations) log(`      ${v.mode} ${v.rule}: ${v.subject} — ${v.reason}`);
        }
        if (step.id === 'risk-score' && r.outputs['factors']) {
          for (const f of JSON.parse(r.outputs['factors']) as Array<{ text: string }>) log(`      ${f.text}`);
        }
        if (step.id === 'allocate-shards' && r.outputs['plan']) {
          const plan = JSON.parse(r.outputs['plan']) as { shards: Array<{ index: number; items: string[]; predicted: number }> };
          for (const sh of plan.shards) log(`      shard ${sh.index}: ${sh.items.join(', ')} (${sh.predicted} s predicted)`);
        }
        if (step.id === 'affected' && r.outputs['reasons']) {
          for (const [project, why] of Object.entries(JSON.parse(r.outputs['reasons']) as Record<string, string[]>)) log(`      ${project}: ${why[0]}`);
          log(`      tests: ${r.outputs['tests']}; cache hits: ${r.outputs['cache-hits']}`);
        }
      }
      return results;
    };

    const first = await runPipeline('run 1 (pull_request opened)');
    fx.checkout('feature/rounding');
    fx.commit('utils: test rounding', { 'packages/utils/src/money.test.ts': "import { cents } from './money';\nif (cents(0.125) !== 13) throw new Error('rounding');\n" });
    pr = fx.pullRequest(1, 'main', 'feature/rounding');
    gh.addPull(FULL, { number: 1, headSha: pr.head, baseSha: pr.base, headRef: 'feature/rounding' });
    const second = await runPipeline('run 2 (pull_request synchronize)');

    const comments = gh.comments(FULL, 1);
    log(`\nPR #1 comments: ${comments.length} (sticky: ${second.at(-1)![1].outputs['comment-status']} on run 2)`);
    log(`cache entries: ${cache.entries.filter((e) => e.finalized).map((e) => `${e.key} [${e.scope}, ${e.size} B]`).join(', ')}; run 2 cache-hit=${second.at(-1)![1].outputs['cache-hit']}`);
    log(`GitHub API requests: ${gh.requests.length}, OpenAPI violations: ${gh.violations.length}`);
    log(`job summary (run 2, hello):\n${second.at(-1)![1].summary.trim().split('\n').map((l) => `    ${l}`).join('\n')}`);
    const ok = [...first, ...second].every(([, r]) => r.conclusion === 'success') && gh.violations.length === 0 && comments.length === 1;
    log(`\n${ok ? 'demo passed' : 'demo FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { ok, violations: gh.violations.length };
  } finally {
    await Promise.all([gh.stop(), cache.stop()]);
    fx.dispose();
  }
}
