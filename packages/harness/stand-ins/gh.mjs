import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const [group, command, ...rest] = process.argv.slice(2);
if (group !== 'pr' || command !== 'create') {
  console.error(`gh stand-in: 'gh ${[group, command].filter(Boolean).join(' ')}' is not supported (only 'gh pr create')`);
  process.exit(2);
}
const { values } = parseArgs({ args: rest, options: { title: { type: 'string' }, body: { type: 'string', default: '' }, base: { type: 'string' }, head: { type: 'string' } }, strict: true });
const token = process.env.GH_TOKEN || process.env.GITHUB_TOKEN;
if (!token) {
  console.error('gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable.');
  process.exit(4);
}
if (!values.title) {
  console.error('gh stand-in: --title is required');
  process.exit(2);
}
const head = values.head ?? execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { encoding: 'utf8' }).trim();
const res = await fetch(`${process.env.GITHUB_API_URL}/repos/${process.env.GITHUB_REPOSITORY}/pulls`, {
  method: 'POST',
  headers: { authorization: `token ${token}`, 'content-type': 'application/json', accept: 'application/vnd.github+json' },
  body: JSON.stringify({ title: values.title, body: values.body, head, base: values.base ?? 'main' }),
});
const data = await res.json();
if (!res.ok) {
  console.error(`pull request create failed: HTTP ${res.status}: ${data.message}`);
  process.exit(1);
}
console.log(data.html_url);
