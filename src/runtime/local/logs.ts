/**
 * `logs` for the local runtime: each service's log file (pino JSON lines), the last N
 * lines per service, a `since` filter on the `time` field, merged by time, and
 * following by watching the files (fs.watch, with polling as the fallback) until the
 * signal aborts. Files are read in bounded chunks (log-reader.ts); a truncated or
 * replaced (rotated) file is drained, re-read from its start, and the stream says so.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { ServiceName } from '../../core/system.js';
import type { LogLine, LogOptions } from '../types.js';
import { mergeByTime, mergeStreams } from '../../core/log-merge.js';
import { systemClock } from '../../core/poll.js';
import { ServiceLogCursor, type CursorRead } from './log-reader.js';

export const FOLLOW_POLL_MS = 500;

export async function* readLogs(logFile: (s: ServiceName) => string, options: LogOptions): AsyncGenerator<LogLine> {
  const cursors = options.services.map((s) => new ServiceLogCursor(s, logFile(s), options.since));
  try {
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
