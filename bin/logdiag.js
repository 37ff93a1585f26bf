#!/usr/bin/env node
import { main } from '../dist/cli.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`logdiag: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
