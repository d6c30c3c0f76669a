/**
 * The PR-pipeline demo: a sample monorepo, a real pull request (git merge
 * commit at refs/pull/1/merge), a shallow checkout like actions/checkout, and
 * the PR pipeline (affected → allocate-shards → risk-score → policy-gate →
 * health-comment) run as bundles through runner-sim against the
 * OpenAPI-validated fake GitHub and the cache-v2 fake — three times: opened,
 * a new commit, a re-run. Prints the PR comment and writes the job summary.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FakeCacheService } from './fake-cache.js';
import { FakeGitHub } from './fake-github.js';
import { GitFixture } from './git-fixture.js';
import { sampleMonorepo } from './sample.js';
import { GATE_JOBS, runPrPipeline, type PipelineResult } from './pipeline.js';
import { ArtifactStore } from './workflow.js';

const REPO = { owner: 'acme', name: 'shop' };
const FULL = 'acme/shop';

export async function demo(root: string, log: (s: string) => void = console.log): Promise<{ ok: boolean; violations: number }> {
  const t0 = Date.now();
  const needed = ['affected', 'allocate-shards', 'risk-score', 'policy-gate', 'health-comment'];
  const missing = needed.filter((n) => !existsSync(path.join(root, 'actions', n, 'dist/index.js')));
  if (missing.length) throw new Error(`build the actions first (./dev build): ${missing.join(', ')} not built`);
  const fx = GitFixture.create();
  const [gh, cache] = await Promise.all([FakeGitHub.start(), FakeCacheService.start()]);
  const artifacts = new ArtifactStore();
  try {
    sampleMonorepo(fx);
    fx.push('main');
    fx.branch('feature/rounding');
    fx.commit('utils: round half up', { 'packages/utils/src/money.ts': 'export const cents = (n: number) => Math.floor(n * 100 + 0.5);\n', 'packages/web/src/banner.ts': 'export const banner = "sale";\n', 'README.md': '# shop\n\nRounding fixed.\n' });
    let pr = fx.pullRequest(1, 'main', 'feature/rounding');
    gh.addRepo(FULL);
    gh.addPull(FULL, { number: 1, headSha: pr.head, baseSha: pr.base, headRef: 'feature/rounding' });

    log('sample monorepo: 3 packages (utils ← api, web); PR #1 changes packages/utils, adds packages/web/src/banner.ts, edits README.md');
    log(`pipeline: workflows-templates/pr-pipeline.yml run as written by the workflow executor (GitHub's parser and evaluator): ${[...GATE_JOBS, 'test', 'health'].join(', ')}; each job a fresh machine, evidence passed as artifacts, each token scoped by the job's permissions`);

    const show = (label: string, r: PipelineResult) => {
      log(`\n▶ ${label}`);
      for (const job of r.workflow.jobs) {
        const own = job.steps.filter((s) => s.result);
        const ms = own.reduce((a, s) => a + s.result!.stages.reduce((b, x) => b + x.ms, 0), 0);
        log(`  ${job.result === 'success' ? '✓' : job.result === 'skipped' ? '–' : '✗'} ${job.key.padEnd(15)} ${job.result}${own.length ? ` (${own.map((s) => `${s.uses?.replace(/^maestro\/conductor\/actions\//, '')} ${s.result!.conclusion}`).join(', ')}; ${ms} ms on Node ${own[0]!.result!.nodeVersion})` : ''}`);
        for (const s of own) for (const a of s.result!.annotations.slice(0, 4)) log(`      ${a.level}: ${a.message}${a.file ? ` (${a.file}${a.line ? `:${a.line}` : ''})` : ''}`);
      }
      log(`  health: comment ${r.health.outputs['comment']}, check run ${r.health.outputs['check-run-id']}, conclusion ${r.health.outputs['conclusion']}`);
    };
    const run = (runId: number) => runPrPipeline({ root, fx, gh, cache, repo: REPO, number: 1, pr, headRef: 'feature/rounding', runId, artifacts });

    const first = await run(1001);
    show(`run 1 (pull_request opened): head ${pr.head.slice(0, 12)}, GITHUB_SHA = merge commit ${pr.merge.slice(0, 12)}`, first);
    fx.checkout('feature/rounding');
    fx.commit('web: test the banner', { 'packages/web/src/banner.test.ts': "import { banner } from './banner';\nif (!banner) throw new Error('banner');\n" });
    pr = fx.pullRequest(1, 'main', 'feature/rounding');
    gh.addPull(FULL, { number: 1, headSha: pr.head, baseSha: pr.base, headRef: 'feature/rounding' });
    const second = await run(1002);
    show(`run 2 (pull_request synchronize): head ${pr.head.slice(0, 12)}`, second);
    const third = await run(1003);
    show('run 3 (re-run, nothing changed)', third);

    const comments = gh.comments(FULL, 1);
    const body = String(comments[0]?.['body'] ?? '');
    log(`\nPR #1 comments: ${comments.length} (health: ${first.health.outputs['comment']} on run 1, ${second.health.outputs['comment']} on run 2, ${third.health.outputs['comment']} on run 3)`);
    log('─── the PR comment, as posted ───');
    log(body.split('\n').filter((l) => !l.startsWith('<!-- maestro:health')).join('\n').trim());
    log('─────────────────────────────────');
    const out = path.join(root, '.maestro-demo');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'summary.md'), second.health.summary);
    writeFileSync(path.join(out, 'comment.md'), body);
    log(`job summary written to ${path.relative(process.cwd(), path.join(out, 'summary.md')) || path.join(out, 'summary.md')} (comment: comment.md)`);
    log(`GitHub API requests: ${gh.requests.length}, OpenAPI violations: ${gh.violations.length}`);
    const healthOk = [first, second, third].every((r) => r.health.conclusion === 'success');
    const ok = healthOk && gh.violations.length === 0 && comments.length === 1 && first.health.outputs['comment'] === 'created' && second.health.outputs['comment'] === 'updated' && third.health.outputs['comment'] === 'unchanged';
    log(`\n${ok ? 'demo passed' : 'demo FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { ok, violations: gh.violations.length };
  } finally {
    artifacts.dispose();
    await Promise.all([gh.stop(), cache.stop()]);
    fx.dispose();
  }
}
