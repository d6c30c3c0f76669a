// Synthetic pnpm workspace: N packages on a random DAG (package i depends on up to 4 of the
// packages before it), a few source/test/doc files each, ~10% with one small npm dependency.
// Deterministic for a seed. Returns the graph so the bench can compute the true closure itself.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const TOOLS = { nx: '24.0.6', turbo: '2.11.11' };
const EXTERNAL = [['ms', '^2.1.0'], ['left-pad', '^1.3.0'], ['is-number', '^7.0.0'], ['kind-of', '^6.0.0']];

/** xorshift32: small, deterministic, good enough to shape a graph. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

export const id = (i) => `pkg-${String(i).padStart(4, '0')}`;
export const scoped = (i) => `@bench/${id(i)}`;

export function generate(dir, n, seed = 7) {
  const r = rng(seed);
  const deps = [];
  const external = [];
  const json = (o) => JSON.stringify(o, null, 2) + '\n';
  const write = (f, c) => {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), c);
  };
  write('package.json', json({ name: 'bench-root', private: true, packageManager: 'pnpm@10.34.8', devDependencies: { nx: TOOLS.nx, turbo: TOOLS.turbo } }));
  write('pnpm-workspace.yaml', 'packages:\n  - "packages/*"\n');
  write('turbo.json', json({ tasks: { build: { dependsOn: ['^build'], inputs: ['src/**'], outputs: ['dist/**'] }, test: { dependsOn: ['build'], inputs: ['src/**', 'test/**'] } } }));
  write('nx.json', json({ namedInputs: { default: ['{projectRoot}/**/*'], production: ['default', '!{projectRoot}/test/**', '!{projectRoot}/README.md'] }, targetDefaults: { build: { dependsOn: ['^build'], inputs: ['production', '^production'], cache: true } } }));
  write('.gitignore', 'node_modules\n.nx\n.turbo\ndist\n');
  for (let i = 0; i < n; i++) {
    const mine = new Set();
    const k = i === 0 ? 0 : Math.floor(r() * 5);
    for (let t = 0; t < k; t++) mine.add(Math.floor(r() * i));
    const list = [...mine].sort((a, b) => a - b);
    deps.push(list);
    const d = Object.fromEntries(list.map((j) => [scoped(j), 'workspace:*']));
    if (r() < 0.1) {
      const [name, range] = EXTERNAL[Math.floor(r() * EXTERNAL.length)];
      d[name] = range;
      external.push([i, name]);
    }
    const root = `packages/${id(i)}`;
    write(`${root}/package.json`, json({ name: scoped(i), version: '1.0.0', private: true, scripts: { build: 'echo build', test: 'echo test' }, dependencies: d }));
    write(`${root}/src/index.ts`, list.map((j) => `import { value as v${j} } from '${scoped(j)}';`).join('\n') + `\nexport const value = ${i};\n`);
    write(`${root}/src/util.ts`, `export const twice = (x: number) => x * 2 + ${i};\n`);
    write(`${root}/test/index.test.ts`, `import { value } from '../src/index';\nif (value !== ${i}) throw new Error('x');\n`);
    write(`${root}/README.md`, `# ${id(i)}\n`);
  }
  const picks = new Set();
  while (picks.size < 5) picks.add(Math.floor(r() * n));
  return { n, deps, external, picks: [...picks].sort((a, b) => a - b) };
}

/** Ground truth, independent of the library: seeds plus everything that reaches them. */
export function dependentsClosure(g, seeds) {
  const rev = Array.from({ length: g.n }, () => []);
  g.deps.forEach((list, i) => list.forEach((j) => rev[j].push(i)));
  const seen = new Set(seeds);
  const q = [...seeds];
  while (q.length) for (const d of rev[q.pop()]) if (!seen.has(d)) { seen.add(d); q.push(d); }
  return [...seen].sort((a, b) => a - b).map(scoped);
}

export function leaves(g) {
  const hasDependent = new Set(g.deps.flat());
  return [...Array(g.n).keys()].filter((i) => !hasDependent.has(i));
}
