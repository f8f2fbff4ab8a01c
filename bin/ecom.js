#!/usr/bin/env node
// Launcher: the CLI is built to dist/ by `npm ci` (the prepare script) or `npm run build`.
// No checks before the import: every module loaded here delays `ecom --help`.
try {
  await import('../dist/cli/launcher.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !/dist\/cli\/(launcher|main)\.js/.test(String(err.message))) throw err;
  const root = new URL('..', import.meta.url).pathname;
  process.stderr.write(`error: ecom is not built (dist/cli is missing)\n  hint: run \`npm ci\` or \`npm run build\` in ${root}\n`);
  process.exitCode = 3;
}
