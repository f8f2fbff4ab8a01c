/**
 * Log lines as values, whatever their source (a local log file, a pod's log stream):
 * the `time` of a pino line, the `since` filter, the last n, merging services by time,
 * and the marker lines ecom adds to a stream (docs/architecture.md, "Core helpers").
 */
import type { ServiceName } from './system.js';

/** Parts of the system besides the services whose logs `ecom logs` shows. */
export const DEPENDENCY_LOGS = ['postgres', 'broker', 'prometheus', 'supervisor'] as const;
export type DependencyLog = (typeof DEPENDENCY_LOGS)[number];
/** Whose log a line is: a service, or one of DEPENDENCY_LOGS. */
export type LogSource = ServiceName | DependencyLog;

/** One line of a service's (or a dependency's) log, as `Runtime.logs` yields it. */
export interface LogLine {
  service: LogSource;
  /** The raw line as the service wrote it (a JSON object per line for our services). */
  line: string;
  time?: Date;
  /** The pod that wrote it, where a service runs as several (cluster runtimes); the CLI prefixes it. */
  pod?: string;
}

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

export function toLogLines(service: LogSource, lines: string[]): LogLine[] {
  return lines.filter((l) => l.trim() !== '').map((line) => {
    const time = lineTime(line);
    return time ? { service, line, time } : { service, line };
  });
}

/**
 * A `since` filter that remembers across calls whether the last timed line was kept,
 * so a line without a time goes with the timed line before it even in a later chunk.
 */
export function sinceFilter(since: Date | undefined): (lines: LogLine[]) => LogLine[] {
  if (!since) return (lines) => lines;
  let keep = false;
  return (lines) =>
    lines.filter((l) => {
      if (l.time) keep = l.time.getTime() >= since.getTime();
      return keep;
    });
}

/** Lines at or after `since`; a line without a time goes with the timed line before it. */
export function filterSince(lines: LogLine[], since: Date | undefined): LogLine[] {
  return sinceFilter(since)(lines);
}

export function lastLines<T>(lines: T[], tail: number | undefined): T[] {
  if (tail === undefined) return lines;
  return tail === 0 ? [] : lines.slice(-tail);
}

/**
 * Merges per-service streams (each in file order) by time, pulling one line at a time
 * from each, so whole files never sit in memory. An untimed line keeps its place after
 * the timed line before it; ties go to the earlier stream; a stream's own order is kept.
 */
export function* mergeStreams(streams: Array<Iterable<LogLine>>): Generator<LogLine> {
  const heads = streams.map((stream) => {
    const iterator = stream[Symbol.iterator]();
    return { iterator, next: iterator.next(), key: 0 };
  });
  for (;;) {
    let best: (typeof heads)[number] | undefined;
    let bestKey = Infinity;
    for (const head of heads) {
      if (head.next.done) continue;
      const key = head.next.value.time?.getTime() ?? head.key;
      if (!best || key < bestKey) {
        best = head;
        bestKey = key;
      }
    }
    if (!best || best.next.done) return;
    yield best.next.value;
    best.key = bestKey;
    best.next = best.iterator.next();
  }
}

/** `mergeStreams` over lists already in memory. */
export function mergeByTime(lists: LogLine[][]): LogLine[] {
  return [...mergeStreams(lists)];
}

/**
 * A line ecom adds to a service's stream (a pino-shaped JSON object marked `ecom`), so
 * raw output stays one JSON object per line and the TTY renders it like any other.
 * It carries no LogLine `time`, so merging keeps it where it happened in its stream.
 */
export function noticeLine(service: LogSource, msg: string, level: 'info' | 'warn' = 'info', now = new Date()): LogLine {
  return { service, line: JSON.stringify({ level, time: now.toISOString(), service, msg, ecom: 'logs' }) };
}
