#!/usr/bin/env node
// Entry point of the `hearth` command: runs the compiled CLI from dist/.
import { existsSync } from 'node:fs';

const main = new URL('../dist/runtime/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('hearth: not built yet; run `bash scripts/setup.sh` (or `npm run build`) first\n');
  process.exit(2);
}
await import(main.href);
