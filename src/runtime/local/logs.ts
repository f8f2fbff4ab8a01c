/**
 * `logs` for the local runtime: each service's log file (pino JSON lines), the last N
 * lines per service, a `since` filter on the `time` field, merged by time, and
 * following by watching the files (fs.watch, with polling as the fallback) until the
 * signal aborts. Files are read in bounded chunks (log-reader.ts); a truncated or
 * replaced (rotated) file is drained, re-read from its start, and the stream says so.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { EcomError } from '../../core/errors.js';
import type { LogLine, LogOptions } from '../types.js';
import { mergeByTime, mergeStreams, noticeLine, type LogSource } from '../../core/log-merge.js';
import { systemClock } from '../../core/poll.js';
import { ServiceLogCursor, type CursorRead } from './log-reader.js';

export const FOLLOW_POLL_MS = 500;

/**
 * The files stay after `ecom down` (and after a crash: every process writes its own
 * file), so logs read them whether or not anything runs; only `down --purge` removes them.
 */
export async function* readLogs(logsDir: string, logFile: (s: LogSource) => string, options: LogOptions): AsyncGenerator<LogLine> {
  if (!existsSync(logsDir)) {
    throw new EcomError(`there are no logs in ${logsDir}: nothing has run here, or \`ecom down --purge\` deleted them`, 'start the system with `ecom up`');
  }
  const cursors = options.services.map((s) => new ServiceLogCursor(s, logFile(s), options.since, options.level));
  try {
    const only = options.services.length === 1 ? options.services[0]! : undefined;
    if (only && !existsSync(logFile(only))) yield noticeLine(only, `no log file ${logFile(only)} (yet): ecom has not run ${only} here`, 'warn');
    const tail = options.tail;
    yield* mergeStreams(cursors.map((c) => (tail === undefined ? c.stream() : c.tail(tail))));
    if (options.follow) yield* follow(cursors, options.services.map(logFile), options.signal);
  } finally {
    for (const c of cursors) c.close();
  }
}

async function* follow(cursors: ServiceLogCursor[], files: string[], signal: AbortSignal | undefined): AsyncGenerator<LogLine> {
  // A change seen while reading (not only while waiting) cuts the next wait short.
  let wake = new AbortController();
  const poke = () => wake.abort();
  const watchers = watchDirs(files, poke);
  signal?.addEventListener('abort', poke, { once: true });
  try {
    while (!signal?.aborted) {
      const reads: CursorRead[] = cursors.map((c) => c.read());
      yield* mergeByTime(reads.map((r) => r.lines));
      if (signal?.aborted) break;
      if (reads.some((r) => r.more)) continue;
      await systemClock.sleep(FOLLOW_POLL_MS, wake.signal);
      if (wake.signal.aborted) wake = new AbortController();
    }
  } finally {
    signal?.removeEventListener('abort', poke);
    for (const w of watchers) w.close();
  }
}

/** Watches the directories (files may not exist yet, or get replaced); errors leave polling alone. */
function watchDirs(files: string[], onChange: () => void): FSWatcher[] {
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(files.map((f) => dirname(f)))) {
    try {
      const w = watch(dir, { persistent: false }, onChange);
      w.on('error', () => w.close());
      watchers.push(w);
    } catch {
      // no inotify here: the poll still runs
    }
  }
  return watchers;
}
