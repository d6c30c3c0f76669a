#!/usr/bin/env node
// Bundle every action (actions/* and the test-only test/actions/*) with @vercel/ncc.
// Entries come from each action.yml: runs.main/pre/post `dist/X.js` <- `src/X.ts`.
// Output is deterministic (no timestamps, sorted assets); a test builds twice and compares.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import ncc from '@vercel/ncc';
import { actionDirs, root } from './actions.mjs';

function entries(dir) {
  const meta = load(readFileSync(path.join(dir, 'action.yml'), 'utf8'));
  const out = [];
  for (const stage of ['pre', 'main', 'post']) {
    const target = meta?.runs?.[stage];
    if (!target) continue;
    // Each entry gets its own folder so code-split chunks of different entries never collide.
    const m = /^dist\/(?:([\w-]+)\/)?index\.js$/.exec(target);
    if (!m) throw new Error(`${dir}/action.yml: runs.${stage} must be dist/index.js or dist/<stage>/index.js, got ${target}`);
    out.push({ stage, out: target, src: path.join(dir, 'src', `${m[1] ?? 'index'}.ts`) });
  }
  return out;
}

/**
 * Bundle one TypeScript entry with ncc into `outFile` (ESM), writing its
 * code-split chunks and assets next to it in sorted order, and a
 * `package.json` with type module in `typeModuleDir` (default: next to it).
 */
export async function bundle(entry, outFile, { typeModuleDir } = {}) {
  const { code, assets } = await ncc(entry, {
    cache: false,
    minify: false,
    sourceMap: false,
    quiet: true,
    license: '',
    target: 'es2022',
    assetBuilds: false,
    transpileOnly: true, // types are checked once by `tsc --noEmit`
  });
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, code);
  for (const name of Object.keys(assets ?? {}).sort()) {
    if (name === 'package.json') continue;
    const target = path.join(path.dirname(outFile), name);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, assets[name].source);
  }
  // ESM bundles need a type:module marker next to (or above) them.
  writeFileSync(path.join(typeModuleDir ?? path.dirname(outFile), 'package.json'), '{\n  "type": "module"\n}\n');
}

async function buildAction(dir, { outRoot } = {}) {
  const dist = outRoot ? path.join(outRoot, path.relative(root, dir), 'dist') : path.join(dir, 'dist');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const written = [];
  for (const e of entries(dir)) {
    if (!existsSync(e.src)) throw new Error(`${path.relative(root, e.src)} is missing (runs.${e.stage} of ${path.relative(root, dir)})`);
    const file = path.join(dist, e.out.slice('dist/'.length));
    await bundle(e.src, file, { typeModuleDir: dist });
    written.push(file);
  }
  return written;
}

export async function build({ only, outRoot } = {}) {
  const dirs = actionDirs().filter((d) => !only || only.includes(path.basename(d)));
  const results = [];
  for (const dir of dirs) {
    const t0 = Date.now();
    const files = await buildAction(dir, { outRoot });
    results.push({ action: path.relative(root, dir), files: files.map((f) => path.relative(root, f)), ms: Date.now() - t0 });
  }
  return results;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const outRoot = outIdx >= 0 ? path.resolve(args[outIdx + 1]) : undefined;
  const only = args.filter((a, i) => !a.startsWith('--') && (outIdx < 0 || i !== outIdx + 1));
  // --product: the published actions only (not test/actions/*, which only the tests use).
  const product = args.includes('--product') ? actionDirs().filter((d) => path.relative(root, d).split(path.sep)[0] === 'actions').map((d) => path.basename(d)) : undefined;
  try {
    const results = await build({ only: only.length ? only : product, outRoot });
    for (const r of results) console.log(`built ${r.action} (${r.files.length} entr${r.files.length === 1 ? 'y' : 'ies'}, ${(r.ms / 1000).toFixed(1)} s)`);
  } catch (e) {
    console.error(`build failed: ${e.message}`);
    process.exit(1);
  }
}
