// The action folders of the workspace: actions/* and the test-only test/actions/*,
// each holding an action.yml. Shared by the build, the docs generator and the tests.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function actionDirs() {
  return ['actions', 'test/actions'].flatMap((parent) => {
    const abs = path.join(root, parent);
    return existsSync(abs) ? readdirSync(abs).sort().filter((n) => existsSync(path.join(abs, n, 'action.yml'))).map((n) => path.join(abs, n)) : [];
  });
}
