/**
 * `logs` for the local runtime: each service's log file (pino JSON lines), the last N
 * lines per service, a `since` filter on the `time` field, merged by time, and
 * following by watching the files (fs.watch, with polling as the fallback) until the
 * signal aborts. A truncated or replaced (rotated) file is re-read from its start.
 */
import { closeSync, existsSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { LogLine, LogOptions, ServiceName } from '../types.js';

export const FOLLOW_POLL_MS = 500;

/** The `time` of a pino line: ISO text or epoch milliseconds; undefined for other lines. */
export function lineTime(line: string): Date | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const time = (JSON.parse(line) as { time?: unknown }).time;
    const date = typeof time === 'number' || typeof time === 'string' ? new Date(time) : undefined;
    return date && !Number.isNaN(date.getTime()) ? date : undefined;
  } catch {
    return undefined;
  }
}

export function toLogLines(service: ServiceName, lines: string[]): LogLine[] {
  return lines.filter((l) => l.trim() !== '').map((line) => {
    const time = lineTime(line);
    return time ? { service, line, time } : { service, line };
  });
}

/** Lines at or after `since`; a line without a time goes with the timed line before it. */
export function filterSince(lines: LogLine[], since: Date | undefined): LogLine[] {
  if (!since) return lines;
  let keep = false;
  return lines.filter((l) => {
    if (l.time) keep = l.time.getTime() >= since.getTime();
    return keep;
  });
}

export function lastLines<T>(lines: T[], tail: number | undefined): T[] {
  if (tail === undefined) return lines;
  return tail === 0 ? [] : lines.slice(-tail);
}

/**
 * Merges per-service lists (each already in file order) by time. Untimed lines keep
 * their place after the timed line before them; ties keep list order (stable).
 */
export function mergeByTime(lists: LogLine[][]): LogLine[] {
  const keyed = lists.flatMap((list, li) => {
    let last = 0;
    return list.map((line, i) => {
      if (line.time) last = line.time.getTime();
      return { line, key: last, li, i };
    });
  });
  keyed.sort((a, b) => a.key - b.key || a.li - b.li || a.i - b.i);
  return keyed.map((k) => k.line);
}

/** Reads a file from `offset`; complete lines plus the offset after the last newline. */
export function readFrom(file: string, offset: number): { lines: string[]; offset: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { lines: [], offset };
  }
  try {
    const size = statSync(file).size;
    if (size <= offset) return { lines: [], offset };
    const buffer = Buffer.alloc(size - offset);
    const n = readSync(fd, buffer, 0, buffer.length, offset);
    const text = buffer.subarray(0, n).toString('utf8');
    const end = text.lastIndexOf('\n');
    if (end < 0) return { lines: [], offset };
    return { lines: text.slice(0, end).split('\n'), offset: offset + Buffer.byteLength(text.slice(0, end + 1)) };
  } finally {
    closeSync(fd);
  }
}

/** Follows one file by inode and size: new lines from where we were, or from 0 after truncation or rotation. */
class FileCursor {
  private ino: number | undefined;
  constructor(
    readonly service: ServiceName,
    private readonly file: string,
    private offset: number,
  ) {
    this.ino = inode(file);
  }

  read(): string[] {
    if (!existsSync(this.file)) {
      this.offset = 0;
      this.ino = undefined;
      return [];
    }
    const ino = inode(this.file);
    const size = statSync(this.file).size;
    if (ino !== this.ino || size < this.offset) {
      this.ino = ino;
      this.offset = 0;
    }
    const chunk = readFrom(this.file, this.offset);
    this.offset = chunk.offset;
    return chunk.lines;
  }

  static atEnd(service: ServiceName, file: string): { cursor: FileCursor; lines: string[] } {
    const all = readFrom(file, 0);
    return { cursor: new FileCursor(service, file, all.offset), lines: all.lines };
  }
}

function inode(file: string): number | undefined {
  try {
    return statSync(file).ino;
  } catch {
    return undefined;
  }
}

export async function* readLogs(logFile: (s: ServiceName) => string, options: LogOptions): AsyncGenerator<LogLine> {
  const cursors: FileCursor[] = [];
  const initial: LogLine[][] = [];
  for (const service of options.services) {
    const { cursor, lines } = FileCursor.atEnd(service, logFile(service));
    cursors.push(cursor);
    initial.push(lastLines(filterSince(toLogLines(service, lines), options.since), options.tail));
  }
  yield* mergeByTime(initial);
  if (!options.follow) return;

  const signal = options.signal;
  let wake: (() => void) | undefined;
  const poke = () => wake?.();
  const watchers = watchDirs(options.services.map(logFile), poke);
  signal?.addEventListener('abort', poke, { once: true });
  try {
    while (!signal?.aborted) {
      const batch = cursors.map((c) => filterSince(toLogLines(c.service, c.read()), options.since));
      yield* mergeByTime(batch);
      if (signal?.aborted) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FOLLOW_POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
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
