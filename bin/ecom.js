#!/usr/bin/env node
// Launcher: the CLI is built to dist/ by `npm ci` (the prepare script) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('error: ecom is not built (dist/cli/main.js is missing)\n  hint: run `npm ci` or `npm run build` in ' + fileURLToPath(new URL('..', import.meta.url)) + '\n');
  process.exit(3);
}
await import(entry.href);
