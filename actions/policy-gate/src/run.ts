import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { resolveBase } from '@maestro/affected';
import { ConfigError, annotate, booleanInput, getGitHubClient, httpStatus, integerInput, isReadOnlyTokenError, listInput, log, parseInputs, readSarif, runAction, runnerEvent, setOutputs, table, writeSummary } from '@maestro/core';
import { applyOverrides, checkPaths, evaluateFindings, loadPolicyAt, parseOverride, type Actor, type AuditEntry, type Decision, type Finding, type OverrideRequest } from '@maestro/policy';

export const ACTION = 'policy-gate';

export const inputSchema = z.object({
  policy: z.string().default('policy/rules.yaml'),
  base: z.string().default(''),
  head: z.string().default(''),
  actor: z.union([z.literal(''), z.enum(['human', 'bot', 'agent'])]).default(''),
  token: z.string().default(''),
  overrides: booleanInput().default(true),
  'override-days': integerInput({ min: 1, max: 365 }).default(7),
  sarif: listInput().default([]),
});

interface PullEvent {
  pull_request?: { number: number };
  repository?: { name: string; owner: { login: string } };
}

/** Override requests from the PR's comments, and which commenters have write access. */
async function readOverrides(token: string, event: PullEvent, days: number): Promise<{ requests: OverrideRequest[]; canOverride: Map<string, boolean> }> {
  const pr = event.pull_request;
  const repo = event.repository;
  const requests: OverrideRequest[] = [];
  const canOverride = new Map<string, boolean>();
  if (!pr || !repo || !token) return { requests, canOverride };
  const gh = await getGitHubClient(token, { log: { warn: log.warning } });
  const params = { owner: repo.owner.login, repo: repo.name };
  try {
    const comments = await gh.paginate(gh.rest.issues.listComments, { ...params, issue_number: pr.number, per_page: 100 });
    for (const c of comments) {
      const r = parseOverride(c.body ?? '', { by: c.user?.login ?? '', at: c.created_at, commentId: c.id }, days);
      if (r) requests.push(r);
    }
    for (const who of new Set(requests.map((r) => r.by))) {
      try {
        const { data } = await gh.rest.repos.getCollaboratorPermissionLevel({ ...params, username: who });
        canOverride.set(who, ['admin', 'maintain', 'write'].includes(data.permission) || ['admin', 'maintain', 'write'].includes(String(data.role_name)));
      } catch (e) {
        log.warning(`${ACTION}: cannot check ${who}'s permission (${(e as Error).message}); their override is refused`);
        canOverride.set(who, false);
      }
    }
  } catch (e) {
    if (isReadOnlyTokenError(e) || httpStatus(e) === 403) log.warning(`${ACTION}: cannot read the pull request's comments with this token; overrides are not applied`);
    else throw e;
  }
  return { requests, canOverride };
}

function readSarifFile(file: string, cwd: string): Finding[] {
  const abs = path.resolve(cwd, file);
  if (!existsSync(abs)) throw new ConfigError(`SARIF log '${file}' does not exist`, { file: "input 'sarif'", fix: 'run the scanner before this step, or leave `sarif` empty' });
  return readSarif(readFileSync(abs, 'utf8'), file);
}

export function run(): Promise<void> {
  return runAction(ACTION, async () => {
    const inputs = parseInputs(inputSchema);
    const cwd = process.env['GITHUB_WORKSPACE'] ?? process.cwd();
    const trigger = runnerEvent();
    const resolution = await resolveBase({ cwd, ...trigger, ...(inputs.base ? { base: inputs.base } : {}), ...(inputs.head ? { head: inputs.head } : {}) });
    // Fail closed: without a base there is no trusted policy and no change to judge.
    if (!resolution.base) throw new ConfigError(`no base commit to read the policy from and compare with: ${resolution.reason}`, { file: 'git checkout', fix: 'pass `base`, or check out with enough history' });
    // The policy comes from the base commit: a pull request cannot loosen the rules it is judged by.
    const policy = await loadPolicyAt(cwd, resolution.base, inputs.policy);
    const actorName = process.env['GITHUB_ACTOR'] ?? '';
    const actor: Actor = inputs.actor || (actorName.endsWith('[bot]') ? 'bot' : 'human');
    const { changes, decisions: pathDecisions } = await checkPaths({ cwd, base: resolution.base, head: resolution.head, policy, actor });
    const decisions: Decision[] = [
      ...pathDecisions,
      ...evaluateFindings(policy, inputs.sarif.flatMap((f) => readSarifFile(f, cwd)), changes.map((c) => c.path)),
    ];
    let audit: AuditEntry[] = [];
    if (inputs.overrides && decisions.length) {
      const { requests, canOverride } = await readOverrides(inputs.token, trigger.event as PullEvent, inputs['override-days']);
      const applied = applyOverrides(decisions, requests, canOverride);
      decisions.splice(0, decisions.length, ...applied.decisions);
      audit = applied.audit;
      for (const a of audit) log.info(`override ${a.rule} by ${a.by}: ${a.status} (${a.note})`);
    }
    const block = decisions.some((d) => d.mode === 'enforce');
    const outcome = block ? 'block' : decisions.some((d) => d.mode === 'warn') ? 'warn' : 'pass';
    for (const d of decisions) {
      if (d.mode === 'observe') continue;
      const [file, line] = d.subject.includes(':') ? d.subject.split(':') : [d.subject, undefined];
      annotate(d.mode === 'enforce' ? 'error' : 'warning', { title: `policy ${d.rule}`, message: `${d.reason} — ${d.detail}`, ...(file && !file.includes('@') ? { file } : {}), ...(line ? { line: Number(line) } : {}) });
    }
    writeSummary(
      [
        '## Policy gate',
        '',
        `**${outcome}** — ${decisions.length} violation(s) of ${inputs.policy} (from the base commit \`${resolution.base.slice(0, 12)}\`), actor: ${actor}.`,
        '',
        decisions.length ? table(['rule', 'mode', 'subject', 'why'], decisions.map((d) => [`\`${d.rule}\``, d.mode, `\`${d.subject}\``, `${d.reason} — ${d.detail}`])) : 'No rule is violated.',
        audit.length ? `\nOverrides: ${audit.map((a) => `\`${a.rule}\` by @${a.by}: ${a.status} (${a.note}; reason: ${a.reason})`).join('; ')}` : '',
      ].join('\n') + '\n',
    );
    setOutputs({ outcome, audit, decision: { outcome, policy: inputs.policy, base: resolution.base, actor, violations: decisions, overrides: audit } });
    if (block) {
      process.exitCode = 1;
      log.info(`${ACTION}: blocked by ${[...new Set(decisions.filter((d) => d.mode === 'enforce').map((d) => d.rule))].join(', ')}`);
    }
  });
}
