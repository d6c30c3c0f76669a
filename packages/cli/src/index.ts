#!/usr/bin/env node
import { main } from './main.js';

main(process.argv.slice(2), {
  cwd: process.cwd(),
  stdout: (s) => process.stdout.write(`${s}\n`),
  stderr: (s) => process.stderr.write(`${s}\n`),
}).then((code) => {
  process.exitCode = code;
});
