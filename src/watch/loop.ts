/**
 * The loop of `ecom up --watch` / `ecom dev` (docs/architecture.md, "The loop"):
 * watch the sources, and on each change let the runtime's Reloader rebuild, then
 * restart only the services whose build changed, saying what it did and how long it
 * took. A failed build or a service that does not come back is reported and the loop
 * goes on; what ran before keeps running. Ends when the signal aborts, leaving the
 * system up.
 */
import type { Reloader, RestartOutcome } from '../runtime/types.js';
import { formatBuildFailure, formatRestart, formatUnchanged } from './report.js';
import { watchFiles, type FileWatcher } from './watcher.js';

/** Editors save in bursts (write, rename, chmod): one build per burst. */
export const DEBOUNCE_MS = 40;
export const RESTART_TIMEOUT_MS = 60_000;

export interface LoopOutput {
  info(message: string): void;
  warn(message: string): void;
}

export interface WatchLoopOptions {
  reloader: Reloader;
  out: LoopOutput;
  signal: AbortSignal;
  /** How long a restarted service may take to answer /health. */
  restartTimeoutMs?: number;
  debounceMs?: number;
  /** The file watcher (chokidar by default); tests hand in their own. */
  watch?: (paths: string[], onChange: (file: string) => void) => Promise<FileWatcher>;
  /** Names a path for a person (relative to the project). */
  describePath?: (file: string) => string;
}

/** One cycle: build, then restart what changed. Exported for tests that drive it without a watcher. */
export async function reloadOnce(options: Pick<WatchLoopOptions, 'reloader' | 'out' | 'signal' | 'restartTimeoutMs'>, files?: string[], what?: string): Promise<RestartOutcome[]> {
  const { reloader, out } = options;
  const build = await reloader.build(files);
  if (!build.ok) {
    out.warn(formatBuildFailure(build.elapsedMs, build.error));
    return [];
  }
  if (build.changed.length === 0) {
    if (what) out.info(formatUnchanged(what, build.elapsedMs));
    return [];
  }
  const outcomes = await reloader.restart(build.changed, { timeoutMs: options.restartTimeoutMs ?? RESTART_TIMEOUT_MS, signal: options.signal });
  for (const outcome of outcomes) {
    const line = formatRestart(outcome, build.elapsedMs);
    if (outcome.ok) out.info(line);
    else out.warn(line);
  }
  return outcomes;
}

/** Runs until `signal` aborts; resolves then, with the watcher closed. */
export async function runWatchLoop(options: WatchLoopOptions): Promise<void> {
  const { reloader, out, signal } = options;
  const describe = options.describePath ?? ((f: string) => f);
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const cycle = async () => {
    while (pending.size > 0 && !signal.aborted) {
      const files = [...pending];
      pending.clear();
      const what = files.length === 1 ? describe(files[0]!) : `${files.length} files`;
      try {
        await reloadOnce(options, files, what);
      } catch (err) {
        out.warn(`reload failed: ${(err as Error).message}; still watching`);
      }
    }
    running = undefined;
  };
  const onChange = (file: string) => {
    pending.add(file);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      // A running cycle takes what arrives meanwhile; it may have taken all of it already
      // (then cycle() would end at once, before `running` is set, and stay set for good).
      if (!running && pending.size > 0) running = cycle();
    }, options.debounceMs ?? DEBOUNCE_MS);
  };

  const watcher = await (options.watch ?? watchFiles)(reloader.watchPaths, onChange);
  try {
    // Sources edited before the watch began (while `up` said "already up") count too.
    running = reloadOnce(options).then(() => {}, (err: unknown) => out.warn(`reload failed: ${(err as Error).message}`)).then(() => {
      running = undefined;
      if (pending.size > 0) running = cycle();
    });
    out.info(`watching ${reloader.watchPaths.map(describe).join(', ')}: a change rebuilds and restarts the services it affects (Ctrl-C ends the watch; the system keeps running)`);
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    if (timer) clearTimeout(timer);
    await watcher.close();
    await running?.catch(() => {});
  }
}
