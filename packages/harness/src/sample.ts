import type { GitFixture } from './git-fixture.js';

/** The demo's sample monorepo: 3 packages (utils ← api, web), a policy, test timings. */
export function sampleMonorepo(fx: GitFixture): void {
  const pkg = (name: string, deps: Record<string, string> = {}) => JSON.stringify({ name, version: '1.0.0', private: true, scripts: { build: 'tsc -b', test: 'node --test' }, dependencies: deps }, null, 2) + '\n';
  fx.commit('sample monorepo', {
    'package.json': JSON.stringify({ name: 'shop', private: true }, null, 2) + '\n',
    'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
    'maestro.projects.yaml': 'targets:\n  build:\n    outputs: ["dist/**"]\n',
    'README.md': '# shop\n',
    'packages/utils/package.json': pkg('@shop/utils'),
    'packages/utils/src/money.ts': 'export const cents = (n: number) => Math.round(n * 100);\n',
    'packages/api/package.json': pkg('@shop/api', { '@shop/utils': 'workspace:*' }),
    'packages/api/src/checkout.ts': "import { cents } from '@shop/utils';\nexport const total = (xs: number[]) => cents(xs.reduce((a, b) => a + b, 0));\n",
    'packages/web/package.json': pkg('@shop/web'),
    'packages/web/src/app.ts': 'export const app = () => "shop";\n',
    'packages/web/src/app.test.ts': "import { app } from './app';\nif (app() !== 'shop') throw new Error('app');\n",
    'packages/api/src/checkout.test.ts': "import { total } from './checkout';\nif (total([1]) !== 100) throw new Error('total');\n",
    'packages/api/src/slow-e2e.test.ts': 'export {};\n',
    'policy/rules.yaml': 'version: 1\nmode: warn\npaths:\n  - id: money-math\n    reason: Rounding code moves money; a second reviewer signs off\n    effect: deny\n    paths: ["packages/utils/src/money*.ts"]\n    mode: warn\n  - id: infra-frozen\n    reason: Infrastructure changes go through the platform team\n    effect: deny\n    paths: ["infra/**"]\n    mode: enforce\n',
    'ci/test-timings.json': JSON.stringify({ 'packages/web/src/app.test.ts': 12.5, 'packages/api/src/checkout.test.ts': 30.1, 'packages/api/src/slow-e2e.test.ts': 95.0 }, null, 2) + '\n',
  });
}
