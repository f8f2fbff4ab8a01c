/**
 * The state directory is how every later command finds the running system
 * (docs/architecture.md, "local"). Removed (`rm -rf .ecom`) or damaged while the
 * supervisor runs, `status` would say "not running" and `down` "nothing to stop" while
 * every process lives on, orphaned. So the supervisor checks it every few seconds and
 * writes back what it knows: state.json, and the runtime record `up` wrote.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatePaths } from './paths.js';
import { readState } from './state.js';

const CHECK_INTERVAL_MS = 2_000;
/** The file runtime/detect.ts reads (RUNTIME_RECORD_FILE); a target may not import detect.ts. */
const RUNTIME_RECORD = 'runtime.json';

export interface StateGuardOptions {
  paths: StatePaths;
  /** Writes the supervisor's current state to state.json. */
  writeState: () => void;
  /** True once shutdown began: `down` removes the files then, and they must stay removed. */
  stopping: () => boolean;
  log: (message: string) => void;
  intervalMs?: number;
}

/** Starts the periodic check; returns the function that stops it. */
export function guardStateDir(options: StateGuardOptions): () => void {
  const timer = setInterval(() => restoreStateDir(options), options.intervalMs ?? CHECK_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** One check: rewrites what is missing or unreadable. Returns what it restored. */
export function restoreStateDir({ paths, writeState, stopping, log }: StateGuardOptions): string[] {
  if (stopping()) return [];
  const restored: string[] = [];
  try {
    if (readState(paths.stateFile) === undefined) {
      writeState();
      restored.push('state.json');
    }
    const record = join(paths.stateDir, RUNTIME_RECORD);
    if (!existsSync(record)) {
      mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
      const written = { runtime: 'local', reason: 'restored by the local supervisor', chosenAt: new Date().toISOString() };
      writeFileSync(record, `${JSON.stringify(written, null, 2)}\n`, { mode: 0o600 });
      restored.push(RUNTIME_RECORD);
    }
  } catch (err) {
    log(`state directory ${paths.stateDir}: cannot restore it: ${(err as Error).message}`);
    return restored;
  }
  if (restored.length > 0) log(`state directory ${paths.stateDir} was removed or damaged; wrote ${restored.join(' and ')} again`);
  return restored;
}
