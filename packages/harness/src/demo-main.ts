import path from 'node:path';
import { demo } from './demo.js';

const root = path.resolve(process.argv[2] ?? process.cwd());
demo(root).then(
  (r) => {
    process.exitCode = r.ok ? 0 : 1;
  },
  (e: Error) => {
    console.error(`demo: internal error: ${e.message}`);
    process.exitCode = 1;
  },
);
