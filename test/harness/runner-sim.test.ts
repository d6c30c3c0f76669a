import { describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertContract, pushEvent, runAction } from '@maestro/harness';

/** A throwaway action whose stages are plain ESM scripts, to prove runner-sim catches contract breaches. */
function scriptAction(stages: { main: string; post?: string }, inputs = ''): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'script-action-'));
  mkdirSync(path.join(dir, 'dist/post'), { recursive: true });
  writeFileSync(path.join(dir, 'dist/package.json'), '{"type":"module"}\n');
  writeFileSync(path.join(dir, 'dist/index.js'), `import fs from 'node:fs';\n${stages.main}\n`);
  if (stages.post) writeFileSync(path.join(dir, 'dist/post/index.js'), `import fs from 'node:fs';\n${stages.post}\n`);
  writeFileSync(
    path.join(dir, 'action.yml'),
    `name: t\ndescription: t\ninputs:\n  value:\n    description: v\n    default: 'dflt'\n${inputs}runs:\n  using: node24\n  main: dist/index.js\n${stages.post ? '  post: dist/post/index.js\n' : ''}`,
  );
  return dir;
}

const event = pushEvent({ repo: { owner: 'o', name: 'r' }, before: '0'.repeat(40), after: 'a'.repeat(40) });

describe('runner-sim reports contract breaches', () => {
  test('a secret printed before its add-mask, deprecated ::set-output, an output holding a secret', async () => {
    const dir = scriptAction({
      main: `console.log('token is hunter2-xyz');\nconsole.log('::add-mask::hunter2-xyz');\nconsole.log('again hunter2-xyz');\nconsole.log('::set-output name=old::v');\nfs.appendFileSync(process.env.GITHUB_OUTPUT, 'leak=hunter2-xyz\\n');`,
    });
    const r = await runAction({ actionDir: dir, event, stages: ['main'] });
    expect(r.violations).toEqual([
      '[main] a secret was printed before it was masked: "token is <secret>"',
      '[main] deprecated ::set-output:: printed (GITHUB_OUTPUT must be used)',
      "[main] output 'leak' contains a secret",
    ]);
    expect(r.log).toContain('again ***');
    expect(r.outputs['leak']).toBeUndefined();
    expect(() => assertContract(r)).toThrow(/runner contract violations/);
  });

  test('a malformed file command fails the step; NODE_OPTIONS through GITHUB_ENV is refused; a summary over 1 MiB is dropped', async () => {
    const dir = scriptAction({
      main: `fs.appendFileSync(process.env.GITHUB_OUTPUT, 'x<<EOF\\nno end\\n');\nfs.appendFileSync(process.env.GITHUB_ENV, 'NODE_OPTIONS=--inspect\\nKEEP=1\\n');\nfs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, 'y'.repeat(1048577));`,
    });
    const r = await runAction({ actionDir: dir, event, stages: ['main'] });
    expect(r.conclusion).toBe('failure');
    expect(r.stages[0]!.exitCode).toBe(1);
    expect(r.violations).toEqual([
      "[main] Unable to process file command 'output' successfully: matching delimiter not found 'EOF'",
      '[main] NODE_OPTIONS may not be set through GITHUB_ENV',
      '[main] $GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k, got 1025k',
    ]);
    expect(r.jobEnv).toEqual({ KEEP: '1' });
    expect(r.summary).toBe('');
  });

  test('inputs reach the process under runner names; env from GITHUB_ENV and state reach post only through the runner', async () => {
    const dir = scriptAction(
      {
        main: `console.log('value=' + process.env['INPUT_VALUE'] + ' spaced=' + process.env['INPUT_MY_INPUT']);\nfs.appendFileSync(process.env.GITHUB_STATE, 's=from-main\\n');\nfs.appendFileSync(process.env.GITHUB_ENV, 'LATER=yes\\n');\nprocess.exitCode = 1;`,
        post: `console.log('post state=' + process.env['STATE_s'] + ' later=' + process.env['LATER'] + ' ci=' + process.env.CI + ' actions=' + process.env.GITHUB_ACTIONS);`,
      },
      '  my input:\n    description: spaced\n',
    );
    const r = await runAction({ actionDir: dir, event, with: { 'my input': 'sp' } });
    expect(r.stages.map((s) => [s.stage, s.exitCode])).toEqual([['main', 1], ['post', 0]]);
    expect(r.stages[0]!.log).toContain('value=dflt spaced=sp');
    expect(r.stages[1]!.log).toContain('post state=from-main later=yes ci=true actions=true');
    expect(r.env['NODE_OPTIONS']).toBeUndefined();
  });

  test('lines end at CR as well as LF (the runner reads with .NET ReadLine): a CR in printed text starts a command; NEL is trimmed like .NET does', async () => {
    const dir = scriptAction({ main: `process.stdout.write('changed: src/a.ts\\r::error title=x::injected\\n\\u0085::warning::nel\\r\\n::notice::crlf\\n');` });
    const r = await runAction({ actionDir: dir, event, stages: ['main'] });
    expect(r.annotations.map((a) => [a.level, a.message])).toEqual([['error', 'injected'], ['warning', 'nel'], ['notice', 'crlf']]);
  });

  test('the legacy ##[command] form runs wherever it appears in a line, as the runner\'s ActionCommand.TryParse finds it', async () => {
    const dir = scriptAction({ main: `console.log('changed: src/##[add-mask]hunter2 and src/##[error file=a.ts]forged');` });
    const r = await runAction({ actionDir: dir, event, stages: ['main'] });
    expect(r.masks).toEqual(['hunter2 and src/##[error file=a.ts]forged']);
  });
});

