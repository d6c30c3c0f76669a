#!/usr/bin/env node
// Generate the inputs/outputs tables of every action README from its action.yml
// (the single source). `--check` exits 1 and names the files that drifted.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { actionDirs, root } from './actions.mjs';

const START = '<!-- maestro:api:start (generated from action.yml by `pnpm docs`; do not edit) -->';
const END = '<!-- maestro:api:end -->';

const cell = (v) => String(v ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').trim();

export function renderApi(meta) {
  const lines = ['### Inputs', ''];
  const inputs = Object.entries(meta.inputs ?? {});
  if (!inputs.length) lines.push('_none_');
  else {
    lines.push('| name | required | default | description |', '| --- | --- | --- | --- |');
    for (const [name, i] of inputs) {
      const def = i.default === undefined ? '' : `\`${cell(i.default) === '' ? "''" : cell(i.default)}\``;
      lines.push(`| \`${name}\` | ${i.required ? 'yes' : 'no'} | ${def} | ${cell(i.description)}${i.deprecationMessage ? ` **Deprecated:** ${cell(i.deprecationMessage)}` : ''} |`);
    }
  }
  lines.push('', '### Outputs', '');
  const outputs = Object.entries(meta.outputs ?? {});
  if (!outputs.length) lines.push('_none_');
  else {
    lines.push('| name | description |', '| --- | --- |');
    for (const [name, o] of outputs) lines.push(`| \`${name}\` | ${cell(o.description)} |`);
  }
  return lines.join('\n');
}

/** README text with the generated block replaced (or appended when the markers are absent). */
export function updateReadme(readme, meta) {
  const block = `${START}\n${renderApi(meta)}\n${END}`;
  const s = readme.indexOf(START);
  const e = readme.indexOf(END);
  if (s >= 0 && e > s) return readme.slice(0, s) + block + readme.slice(e + END.length);
  // A README that already ends with its `## API` heading gets the block under it, not a second heading.
  const body = readme.trimEnd().replace(/\n## API$/, '');
  const head = body.trim() ? `${body}\n\n` : `# ${meta.name}\n\n${meta.description}\n\n`;
  return `${head}## API\n\n${block}\n`;
}

export function run({ check }) {
  const drifted = [];
  for (const dir of actionDirs()) {
    const meta = load(readFileSync(path.join(dir, 'action.yml'), 'utf8'));
    const file = path.join(dir, 'README.md');
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const next = updateReadme(current, meta);
    if (next !== current) {
      drifted.push(path.relative(root, file));
      if (!check) writeFileSync(file, next);
    }
  }
  return drifted;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const drifted = run({ check });
  if (check && drifted.length) {
    console.error(`README API tables are out of date with action.yml: ${drifted.join(', ')}. Run: pnpm docs`);
    process.exit(1);
  }
  console.log(drifted.length ? `${check ? 'drift' : 'updated'}: ${drifted.join(', ')}` : 'README API tables are up to date');
}
