// Bundles a benchmark's `lib.ts` (a re-export of the package under test, the same source the action
// bundles) with ncc into `<dir>/.lib/index.js`, and imports it.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundle } from '../scripts/build.mjs';

export async function buildLib(dir) {
  await bundle(path.join(dir, 'lib.ts'), path.join(dir, '.lib/index.js'), { typeModuleDir: path.join(dir, '.lib') });
  console.log(`built ${path.relative(path.resolve(dir, '../..'), dir)}/.lib`);
  return import(pathToFileURL(path.join(dir, '.lib/index.js')).href);
}
