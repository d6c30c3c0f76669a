import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { actionYmlSchema, actionlint, crossCheckUses, readActionYml, scanIo, sourceFiles, templateHygiene, yamlFiles } from '@maestro/harness';
import { load } from 'js-yaml';

// @ts-expect-error -- plain ESM script without types
import { actionDirs as listActionDirs, root } from '../../scripts/actions.mjs';

const actionDirs: string[] = listActionDirs();

describe('action.yml files', () => {
  test('there is at least one action to check', () => {
    expect(actionDirs.length).toBeGreaterThan(0);
  });

  test.each(actionDirs.map((d) => [path.relative(root, d), d]))('%s: schema, node24, bundles exist', (_name, dir) => {
    const meta = readActionYml(dir);
    expect(meta.runs.using).toBe('node24');
    for (const stage of ['pre', 'main', 'post'] as const) {
      const target = meta.runs[stage];
      if (target) expect(existsSync(path.join(dir, target))).toBe(true);
    }
    expect(existsSync(path.join(dir, 'dist/package.json'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir, 'dist/package.json'), 'utf8'))).toEqual({ type: 'module' });
  });

  test('the schema rejects what the runner or our conventions would not accept', () => {
    const ok = { name: 'x', description: 'd', runs: { using: 'node24', main: 'dist/index.js' } };
    expect(actionYmlSchema.safeParse(ok).success).toBe(true);
    expect(actionYmlSchema.safeParse({ ...ok, runs: { using: 'node20', main: 'dist/index.js' } }).success).toBe(false);
    expect(actionYmlSchema.safeParse({ ...ok, inputs: { a: { required: true } } }).success).toBe(false); // no description
    expect(actionYmlSchema.safeParse({ ...ok, descripton: 'typo' }).success).toBe(false);
  });

  test.each(actionDirs.map((d) => [path.relative(root, d), d]))('%s: the input schema keys equal action.yml inputs; every output set is declared and every declared output is set', async (_name, dir) => {
    const meta = readActionYml(dir);
    const mod = (await import(path.join(dir, 'src/run.ts'))) as { inputSchema?: { shape: Record<string, unknown> } };
    expect(mod.inputSchema).toBeDefined();
    expect(Object.keys(mod.inputSchema!.shape).sort()).toEqual(Object.keys(meta.inputs ?? {}).sort());
    const io = scanIo(sourceFiles(path.join(dir, 'src')));
    expect(io.rawInputs).toEqual([]); // inputs are read only through the zod schema
    expect(io.outputs).not.toContain('<spread>');
    const declared = Object.keys(meta.outputs ?? {}).sort();
    expect([...new Set(io.outputs)].sort()).toEqual(declared);
  });
});

describe('workflows', () => {
  const workflows = [...yamlFiles(path.join(root, '.github/workflows')), ...yamlFiles(path.join(root, 'workflows-templates'))];

  test('actionlint is clean on every workflow and template', () => {
    expect(workflows.length).toBeGreaterThan(0);
    const findings = actionlint(workflows);
    expect(findings.map((f) => `${path.relative(root, f.file)}:${f.line}:${f.column} [${f.kind}] ${f.message}`)).toEqual([]);
  });

  test('actionlint really runs: it reports a bad workflow', () => {
    const bad = path.join(root, 'test/static/fixtures/bad-workflow.yml');
    const findings = actionlint([bad]);
    const kinds = findings.map((f) => f.kind);
    expect(kinds).toContain('expression'); // injection / unknown context
    expect(findings.some((f) => /permission/.test(f.message))).toBe(true);
  });

  test('templates reference our actions by owner/repo path, with known inputs only', () => {
    const problems = yamlFiles(path.join(root, 'workflows-templates')).flatMap((f) => crossCheckUses(f, path.join(root, 'actions'), { ownRepo: 'maestro/conductor', forbidLocal: true }));
    expect(problems).toEqual([]);
  });

  test('templates pin third-party actions by SHA, keep event data out of run:, declare permissions and fixed job names; the PR pipeline has a concurrency group', () => {
    const files = yamlFiles(path.join(root, 'workflows-templates'));
    expect(files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['pr-pipeline.yml', 'pr-health-publish.yml']));
    expect(files.flatMap((f) => templateHygiene(f, { ownRepo: 'maestro/conductor', requireConcurrency: f.endsWith('pr-pipeline.yml') }))).toEqual([]);
    expect(templateHygiene(path.join(root, 'test/static/fixtures/bad-hygiene.yml'), { ownRepo: 'maestro/conductor', requireConcurrency: true })).toEqual([
      'bad-hygiene.yml: no top-level permissions (set `permissions: {}` and grant per job)',
      'bad-hygiene.yml: no concurrency group (one run per pull request)',
      'bad-hygiene.yml: job build has no fixed name',
      'bad-hygiene.yml: job build does not declare its permissions',
      'bad-hygiene.yml: job build step 1: actions/checkout@v4 is not pinned to a commit SHA',
      'bad-hygiene.yml: job build step 2: ${{ github.event.* }} inside run: (pass it through env:)',
    ]);
  });

  test('the PR pipeline wires every action the health comment reads, and uploads each evidence file', () => {
    const doc = load(readFileSync(path.join(root, 'workflows-templates/pr-pipeline.yml'), 'utf8')) as { jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, string> }>; needs?: string[] }> };
    const uses = Object.values(doc.jobs).flatMap((j) => j.steps.map((s) => s.uses ?? '')).filter((u) => u.startsWith('maestro/conductor/'));
    for (const a of ['affected', 'allocate-shards', 'risk-score', 'policy-gate', 'health-comment']) expect(uses).toContain(`maestro/conductor/actions/${a}@v1`);
    expect(doc.jobs['health']!.needs).toEqual(['affected', 'plan', 'test', 'risk', 'policy']);
    const evidenceUploads = Object.values(doc.jobs).flatMap((j) => j.steps).filter((s) => s.with?.['name']?.startsWith('maestro-evidence-'));
    expect(evidenceUploads.map((s) => s.with!['path'])).toEqual(Array(4).fill('${{ runner.temp }}/maestro-evidence/'));
  });

  test('the cross-check catches unknown and missing inputs and ./ references', () => {
    const problems = crossCheckUses(path.join(root, 'test/static/fixtures/bad-uses.yml'), path.join(root, 'test/actions'), { ownRepo: 'maestro/conductor', forbidLocal: true });
    expect(problems.map((p) => p.message)).toEqual([
      "uses './actions/hello': templates must reference maestro/conductor/...@ref, not ./ (it resolves in the caller's repository)",
      "input 'tresh' is not defined by hello/action.yml",
      "required input 'who-to-greet' of hello is missing",
    ]);
  });

  test('the CI workflow runs the same command as .ci/run', () => {
    const ci = load(readFileSync(path.join(root, '.github/workflows/ci.yml'), 'utf8')) as { jobs: { test: { steps: Array<{ run?: string }> } } };
    expect(ci.jobs.test.steps.some((s) => s.run === '.ci/run')).toBe(true);
  });
});

describe('types', () => {
  test('tsc --noEmit is clean over every package, action and test (strict)', () => {
    const { status, stdout } = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit'], { cwd: root, encoding: 'utf8' });
    expect(stdout).toBe('');
    expect(status).toBe(0);
  });
});
