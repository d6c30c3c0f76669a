// Bundles @maestro/attest (the same source the action uses) for the benchmark.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../../scripts/build.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
await bundle(path.join(here, 'lib.ts'), path.join(here, '.lib/index.js'), { typeModuleDir: path.join(here, '.lib') });
console.log('built bench/attest/.lib');
