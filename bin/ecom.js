#!/usr/bin/env node
// Launcher: the CLI is built to dist/ by `npm ci` (the prepare script) or `npm run build`.
// CommonJS (bin/package.json): Node starts it sooner than an ES module, and
// dist/cli/launcher.cjs answers `ecom --help` from its cache without loading any.
// No checks before the require: every module loaded here delays `ecom --help`.
try {
  require('../dist/cli/launcher.cjs');
} catch (err) {
  if (err?.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli/launcher.cjs')) throw err;
  process.stderr.write(`error: ecom is not built (dist/cli/launcher.cjs is missing)\n  hint: run \`npm ci\` or \`npm run build\` in ${require('node:path').resolve(__dirname, '..')}/\n`);
  process.exitCode = 3;
}
