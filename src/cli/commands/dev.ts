/**
 * `ecom up --watch` and its alias `ecom dev`: after `up`, the loop of src/watch/ until
 * Ctrl-C or SIGTERM, which end the watch and leave the system running (as `docker
 * compose watch` does; `ecom down` stops it).
 */
import { isAbsolute, relative } from 'node:path';
import { UsageError } from '../../core/errors.js';
import type { Runtime } from '../../runtime/types.js';
import { runWatchLoop } from '../../watch/loop.js';
import type { Output } from '../output.js';

/** Flags that cannot go with --watch, refused before `up` starts anything. */
export function checkWatchFlags(options: { json?: boolean; dryRun?: boolean }, runtime: Runtime): void {
  if (options.json) throw new UsageError('--watch prints a line per change and cannot be combined with --json', 'drop --json, or run `ecom up --json` and then `ecom dev`');
  if (options.dryRun) throw new UsageError('--watch cannot be combined with --dry-run', 'drop one of them');
  if (!runtime.reloader) throw new UsageError(`the ${runtime.name} runtime cannot rebuild services in place`, 'use --runtime local, kind or context');
}

export async function runWatch(runtime: Runtime, out: Output, cwd: string): Promise<number> {
  const reloader = await runtime.reloader!();
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const describePath = (file: string) => {
    const rel = relative(cwd, file);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel;
  };
  try {
    await runWatchLoop({ reloader, out, signal: abort.signal, describePath });
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    await reloader.close();
  }
  out.info('watch ended; the system keeps running (`ecom down` stops it)');
  return 0;
}
