import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ArtifactStore, FakeGitHub, GitFixture, WorkflowError, expandMatrix, pullRequestEvent, pushEvent, runWorkflow } from '../src/index.js';

const root = path.resolve('.');
const REPO = { owner: 'acme', name: 'shop' };
let fx: GitFixture;
let gh: FakeGitHub;
let head: string;
const dir = mkdtempSync(path.join(tmpdir(), 'workflows-'));
const artifacts = new ArtifactStore();

beforeAll(async () => {
  fx = GitFixture.create();
  gh = await FakeGitHub.start();
  head = fx.commit('base', { 'README.md': '# shop\n', 'sub/file.txt': 'hello\n' });
  fx.push('main');
  gh.addRepo('acme/shop');
  gh.addPull('acme/shop', { number: 1, headSha: head, baseSha: head, headRef: 'x' });
});
afterAll(async () => {
  await gh?.stop();
  fx?.dispose();
  artifacts.dispose();
});

function wf(name: string, yaml: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, yaml);
  return f;
}
const run = (file: string, extra: Partial<Parameters<typeof runWorkflow>[0]> = {}) => runWorkflow({ root, file, event: pushEvent({ repo: REPO, before: head, after: head }), fx, gh, run: { id: 555 }, artifacts, ...extra });

describe('workflow executor', () => {
  test('needs order, outputs through GITHUB_OUTPUT and job outputs, GITHUB_ENV carried, matrix from fromJSON, if: failure()/always(), continue-on-error, working-directory', async () => {
    const file = wf('flow.yml', `name: flow
on: push
env:
  GREETING: hi
jobs:
  first:
    runs-on: ubuntu-latest
    outputs:
      legs: \${{ steps.make.outputs.legs }}
    steps:
      - uses: actions/checkout@08eba0b27e820071cde6df949e0beb9ba4906955
      - id: make
        run: |
          echo 'legs=["a","b"]' >> "$GITHUB_OUTPUT"
          echo "CARRIED=from-first-step" >> "$GITHUB_ENV"
      - id: read
        working-directory: sub
        run: echo "content=$(cat file.txt) $CARRIED $GREETING" >> "$GITHUB_OUTPUT"
      - id: broken
        continue-on-error: true
        run: exit 3
      - if: steps.read.outputs.content != 'hello from-first-step hi'
        run: exit 1
  second:
    needs: first
    runs-on: ubuntu-latest
    strategy:
      matrix:
        leg: \${{ fromJSON(needs.first.outputs.legs) }}
        n: [1, 2]
        exclude:
          - leg: b
            n: 2
    outputs:
      last: \${{ steps.say.outputs.said }}
    steps:
      - id: say
        run: echo "said=\${{ matrix.leg }}\${{ matrix.n }} of \${{ strategy.job-total }}" >> "$GITHUB_OUTPUT"
  third:
    needs: second
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: exit 1
      - if: failure()
        id: after
        run: echo "ran after the failure"
      - if: success()
        run: echo "never"
`);
    const r = await run(file);
    expect(r.jobs.map((j) => [j.key, j.result])).toEqual([
      ['first', 'success'],
      ['second (a, 1)', 'success'],
      ['second (a, 2)', 'success'],
      ['second (b, 1)', 'success'],
      ['third', 'failure'],
    ]);
    const first = r.jobs[0]!;
    expect(first.outputs).toEqual({ legs: '["a","b"]' });
    expect(first.steps.find((s) => s.id === 'broken')).toMatchObject({ outcome: 'failure', conclusion: 'success' });
    expect(first.steps.at(-1)!.outcome).toBe('skipped');
    expect(r.jobs.find((j) => j.key === 'second (b, 1)')!.outputs).toEqual({ last: 'b1 of 3' });
    expect(r.jobs.at(-1)!.steps.map((s) => s.outcome)).toEqual(['failure', 'success', 'skipped']);
    expect(r.conclusion).toBe('failure');
  });

  test('permissions: become the job token\'s scopes; a job without pull-requests or issues write gets 403 on a comment', async () => {
    // The same step in two jobs that differ only in their permissions: it posts a comment with the job's token.
    const post = `    steps:
      - id: post
        env: { TOKEN: '\${{ github.token }}', API: '\${{ github.api_url }}' }
        run: |
          echo "status=$(node -e "fetch(process.env.API + '/repos/acme/shop/issues/1/comments', { method: 'POST', headers: { authorization: 'token ' + process.env.TOKEN, 'content-type': 'application/json' }, body: JSON.stringify({ body: 'x' }) }).then((r) => console.log(r.status))")" >> "$GITHUB_OUTPUT"
    outputs: { status: '\${{ steps.post.outputs.status }}' }
`;
    const file = wf('perm.yml', `on: push
permissions: {}
jobs:
  writer:
    runs-on: ubuntu-latest
    permissions: { pull-requests: write }
${post}  reader:
    runs-on: ubuntu-latest
    permissions:
      contents: read
${post}`);
    const r = await run(file);
    expect(r.jobs.map((j) => [j.id, j.outputs['status'], j.permissions])).toEqual([
      ['writer', '201', { 'pull-requests': 'write' }],
      ['reader', '403', { contents: 'read' }],
    ]);
    // A fork's run: read-only whatever the workflow asks for.
    const fork = await run(file, { event: pullRequestEvent({ repo: REPO, number: 1, base: head, head, merge: head, fork: { owner: 'outsider' } }), readOnly: true });
    expect(fork.jobs[0]!.outputs['status']).toBe('403');
  });

  test('artifacts: upload, download by name and by pattern with merge, across runs by run-id; immutability', async () => {
    const file = wf('art.yml', `on: push
jobs:
  up:
    runs-on: ubuntu-latest
    steps:
      - run: mkdir -p out/a out/b && echo 1 > out/a/one.json && echo 2 > out/b/two.json
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02
        with: { name: ev-a, path: out/a/ }
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02
        with: { name: ev-b, path: out/b/ }
      - id: again
        continue-on-error: true
        uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02
        with: { name: ev-b, path: out/b/ }
  down:
    needs: up
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093
        with: { pattern: ev-*, merge-multiple: true, path: merged }
      - id: ls
        run: echo "files=$(ls merged | tr '\\n' ' ')" >> "$GITHUB_OUTPUT"
    outputs: { files: '\${{ steps.ls.outputs.files }}' }
`);
    const r = await run(file, { run: { id: 777 } });
    expect(r.jobs[0]!.steps.find((s) => s.id === 'again')).toMatchObject({ outcome: 'failure', log: expect.stringContaining("an artifact named 'ev-b' already exists in run 777") });
    expect(r.jobs[1]!.outputs['files']).toBe('one.json two.json ');
    const later = wf('later.yml', `on: push
jobs:
  get:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093
        with: { name: ev-a, run-id: '777', path: got }
      - id: cat
        run: echo "one=$(cat got/one.json)" >> "$GITHUB_OUTPUT"
    outputs: { one: '\${{ steps.cat.outputs.one }}' }
`);
    expect((await run(later, { run: { id: 778 } })).jobs[0]!.outputs['one']).toBe('1');
  });

  test('an action we cannot run fails its step with the reason', async () => {
    const r = await run(wf('unknown.yml', 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: someone/deploy@v3\n'));
    expect(r.jobs[0]!.result).toBe('failure');
    expect(r.jobs[0]!.steps[0]!.log).toMatch(/uses: someone\/deploy@v3 is not something this executor can run/);
  });

  test('template errors are reported with the parser\'s location, before anything runs', async () => {
    await expect(run(wf('bad-expr.yml', 'on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ foo( }}\n'))).rejects.toThrow(/bad-expr\.yml \(Line: 6, Col: 14\): Unexpected end of expression/);
    await expect(run(wf('bad-needs.yml', 'on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n  b:\n    runs-on: x\n    needs: nope\n    steps:\n      - run: echo\n'))).rejects.toThrow(/bad-needs\.yml \(Line: 9, Col: 12\).*nope/);
    await expect(run(wf('bad-output.yml', 'on: push\njobs:\n  a:\n    runs-on: x\n    outputs:\n      v: ${{ steps.missing.outputs.v }}\n    steps:\n      - id: there\n        run: echo\n'))).rejects.toThrow(/bad-output\.yml \(Line: 6, Col: 10\): an output of job 'a' refers to steps\.missing, but job 'a' has no step with that id/);
    const call = wf('call.yml', 'on:\n  workflow_call:\n    inputs:\n      must: { type: string, required: true }\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ inputs.must }}\n');
    await expect(run(call)).rejects.toThrow(WorkflowError);
    await expect(run(call)).rejects.toThrow("required input 'must' was not given");
    await expect(run(call, { inputs: { must: 'x', extra: 'y' } })).rejects.toThrow("input 'extra' is not declared by the workflow (declared: must)");
  });

  test('matrix expansion: product, exclude, include extending legs and adding new ones', () => {
    expect(expandMatrix({ os: ['l', 'w'], n: [1, 2], exclude: [{ os: 'w', n: 2 }], include: [{ os: 'l', extra: true }, { os: 'm', n: 9 }] })).toEqual([
      { os: 'l', n: 1, extra: true },
      { os: 'l', n: 2, extra: true },
      { os: 'w', n: 1 },
      { os: 'm', n: 9 },
    ]);
    expect(expandMatrix({ include: [{ shard: 1 }, { shard: 2 }] })).toEqual([{ shard: 1 }, { shard: 2 }]);
  });
});
