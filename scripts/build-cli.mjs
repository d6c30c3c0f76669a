#!/usr/bin/env node
// Bundle the `maestro` CLI with ncc to packages/cli/dist/index.js (ESM, executable).
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ncc from '@vercel/ncc';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'packages/cli/dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
const { code, assets } = await ncc(path.join(root, 'packages/cli/src/index.ts'), { cache: false, minify: false, sourceMap: false, quiet: true, transpileOnly: true, target: 'es2022' });
const file = path.join(dist, 'index.js');
writeFileSync(file, code.startsWith('#!') ? code : `#!/usr/bin/env node\n${code}`);
chmodSync(file, 0o755);
for (const name of Object.keys(assets ?? {}).sort()) if (name !== 'package.json') writeFileSync(path.join(dist, name), assets[name].source);
writeFileSync(path.join(dist, 'package.json'), '{\n  "type": "module"\n}\n');
console.log('built packages/cli (maestro)');
