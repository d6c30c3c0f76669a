#!/usr/bin/env node
// Bundle the `maestro` CLI with ncc to packages/cli/dist/index.js (ESM, executable).
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'packages/cli/dist');
const file = path.join(dist, 'index.js');
rmSync(dist, { recursive: true, force: true });
await bundle(path.join(root, 'packages/cli/src/index.ts'), file);
const code = readFileSync(file, 'utf8');
if (!code.startsWith('#!')) writeFileSync(file, `#!/usr/bin/env node\n${code}`);
chmodSync(file, 0o755);
console.log('built packages/cli (maestro)');
