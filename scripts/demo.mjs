#!/usr/bin/env node
// Bundle (once per change) and run the PR-pipeline demo from packages/harness/src/demo.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ncc from '@vercel/ncc';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'packages/harness/src');
const out = path.join(root, 'packages/harness/dist/demo');
const newest = (dir) => Math.max(...readdirSync(dir).map((f) => statSync(path.join(dir, f)).mtimeMs));
const bundle = path.join(out, 'index.js');
if (!existsSync(bundle) || statSync(bundle).mtimeMs < Math.max(newest(src), newest(path.join(root, 'packages/core/src')))) {
  const { code, assets } = await ncc(path.join(src, 'demo-main.ts'), { cache: false, quiet: true, transpileOnly: true, target: 'es2022', sourceMap: false });
  mkdirSync(out, { recursive: true });
  writeFileSync(bundle, code);
  for (const [name, a] of Object.entries(assets ?? {})) {
    if (name === 'package.json') continue;
    mkdirSync(path.dirname(path.join(out, name)), { recursive: true });
    writeFileSync(path.join(out, name), a.source);
  }
  writeFileSync(path.join(out, 'package.json'), '{\n  "type": "module"\n}\n');
}
const r = spawnSync(process.execPath, [bundle, root], { stdio: 'inherit' });
process.exit(r.status ?? 1);
