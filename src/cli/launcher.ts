/**
 * What bin/ecom.js starts: help and version from the cache when this build already
 * printed them at this width (src/cli/help-cache.ts), else the CLI itself — whose help
 * or version text then goes into the cache for the next time.
 */
import { captureHelpOutput, directHelpOutput, writeOutDirect } from './direct-output.js';
import { helpCacheEntry, readCachedHelp, saveHelp } from './help-cache.js';

const entry = helpCacheEntry({
  args: process.argv.slice(2),
  env: process.env,
  mainPath: decodeURIComponent(new URL('./main.js', import.meta.url).pathname),
  width: directHelpOutput.getOutHelpWidth,
  colors: directHelpOutput.getOutHasColors,
});
const cached = entry && readCachedHelp(entry);

if (cached !== undefined) {
  writeOutDirect(cached);
} else {
  const captured = entry && captureHelpOutput();
  await import('./main.js');
  const text = captured?.();
  if (entry && text && process.exitCode === 0) saveHelp(entry, text);
}
