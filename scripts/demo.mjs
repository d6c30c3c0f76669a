#!/usr/bin/env node
// Bundle (when its sources changed) and run the PR-pipeline demo from packages/harness/src/demo.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sources = ['packages/harness/src', 'packages/core/src'].map((d) => path.join(root, d));
const out = path.join(root, 'packages/harness/dist/demo/index.js');
const newest = (dir) => Math.max(...readdirSync(dir).map((f) => statSync(path.join(dir, f)).mtimeMs));
if (!existsSync(out) || statSync(out).mtimeMs < Math.max(...sources.map(newest))) {
  await bundle(path.join(root, 'packages/harness/src/demo-main.ts'), out);
}
const r = spawnSync(process.execPath, [out, root], { stdio: 'inherit' });
process.exit(r.status ?? 1);
