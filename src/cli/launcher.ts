/**
 * What bin/ecom.js starts: help and version from the cache when this build already
 * printed them at this width (src/cli/help-cache.ts), else the CLI itself — whose help
 * or version text then goes into the cache for the next time.
 *
 * Built as CommonJS (dist/cli/launcher.cjs, tsup.config.ts): Node starts a CommonJS
 * file about 6 % sooner than an ES module (its ESM loader is set up only when the first
 * ES module loads), and a cached answer needs no ES module at all. main.js stays ESM.
 */
import { captureHelpOutput, directHelpOutput, writeOutDirect } from './direct-output.js';
import { helpCacheEntry, readCachedHelp, saveHelp } from './help-cache.js';

const entry = helpCacheEntry({
  args: process.argv.slice(2),
  env: process.env,
  mainPath: `${__dirname}/main.js`,
  width: directHelpOutput.getOutHelpWidth,
  colors: directHelpOutput.getOutHasColors,
});
const cached = entry && readCachedHelp(entry);

if (cached !== undefined) writeOutDirect(cached);
else void runCli();

async function runCli(): Promise<void> {
  const captured = entry && captureHelpOutput();
  // A literal specifier: esbuild keeps it as import() (main.js is ESM and external).
  await import('./main.js');
  const text = captured?.();
  if (entry && text && process.exitCode === 0) saveHelp(entry, text);
}
