/**
 * `ecom logs [service]`: the services' pino lines, readable and coloured on a TTY, raw
 * JSON otherwise (prefixed by service when merged, and by pod in a cluster); a
 * dependency's own lines (`ecom logs postgres`) as it wrote them. `--level` keeps lines
 * at a level or above (core/log-level.ts maps each writer's format). The runtime says
 * when it has no logs at all. Ctrl-C ends a follow with exit 0.
 */
import { DEPENDENCY_LOGS, type LogSource } from '../../core/log-merge.js';
import type { LogLevel } from '../../core/log-level.js';
import { SERVICE_NAMES } from '../../core/system.js';
import type { LogLine, Runtime } from '../../runtime/types.js';
import { ExitCode } from '../../core/errors.js';
import { createOutput, type Output } from '../output.js';
import type { Paint } from '../../core/text.js';

export interface LogsOptions {
  cwd: string;
  /** A service or a dependency (postgres, broker, prometheus, supervisor); all four services when absent. */
  service?: LogSource;
  follow: boolean;
  /** Only lines newer than this many milliseconds. */
  since?: number;
  tail?: number;
  level?: LogLevel;
  verbose?: boolean;
  runtime?: string;
}

export interface LogsDeps {
  runtime?: Runtime;
  output?: Output;
  /** Ends the stream like Ctrl-C does (tests). */
  signal?: AbortSignal;
  now?: () => Date;
}

/** Merged output is the services'; a dependency is only ever shown alone. */
const SERVICE_WIDTH = Math.max(...SERVICE_NAMES.map((s) => s.length));

export async function runLogs(options: LogsOptions, deps: LogsDeps = {}): Promise<number> {
  const output = deps.output ?? createOutput({});
  const runtime = deps.runtime ?? (await runtimeFor(options));

  const stop = new AbortController();
  const onStop = () => stop.abort();
  const onPipeError = (err: NodeJS.ErrnoException) => {
    // The reader went away (`ecom logs -f | head`): that ends the stream, not an error.
    if (err.code === 'EPIPE') stop.abort();
  };
  process.once('SIGINT', onStop);
  process.once('SIGTERM', onStop);
  process.stdout.on('error', onPipeError);
  deps.signal?.addEventListener('abort', onStop, { once: true });

  const now = deps.now ?? (() => new Date());
  const format = await lineFormatter(output, !options.service);
  try {
    const lines = runtime.logs({
      services: options.service ? [options.service] : [...SERVICE_NAMES],
      follow: options.follow,
      since: options.since === undefined ? undefined : new Date(now().getTime() - options.since),
      tail: options.tail,
      level: options.level,
      signal: stop.signal,
    });
    await forEachUntil(lines, stop.signal, (line) => output.print(format(line)));
  } catch (err) {
    if (!stop.signal.aborted) throw err;
  } finally {
    process.removeListener('SIGINT', onStop);
    process.removeListener('SIGTERM', onStop);
    process.stdout.removeListener('error', onPipeError);
    deps.signal?.removeEventListener('abort', onStop);
  }
  return ExitCode.ok;
}

async function runtimeFor(options: LogsOptions): Promise<Runtime> {
  const { detectRuntime } = await import('../../runtime/detect.js');
  return (await detectRuntime({ cwd: options.cwd, name: options.runtime })).runtime;
}

/**
 * Iterates until the source ends or the signal aborts, even when the source ignores
 * the signal: a pending next() is abandoned and the iterator told to return.
 */
async function forEachUntil<T>(source: AsyncIterable<T>, signal: AbortSignal, each: (item: T) => void): Promise<void> {
  const iterator = source[Symbol.asyncIterator]();
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next === 'aborted' || next.done) return;
      each(next.value);
    }
  } finally {
    if (signal.aborted) void iterator.return?.()?.catch(() => {});
  }
}

async function lineFormatter(output: Output, merged: boolean): Promise<(line: LogLine) => string> {
  if (output.mode === 'tty') {
    const paint = await output.paint();
    return (line) => prettyLine(line, paint);
  }
  // A cluster runtime's line names its pod, as kubectl's --prefix does.
  const text = (line: LogLine) => (line.pod ? `[${line.pod}] ${line.line}` : line.line);
  return (line) => (merged ? `${line.service.padEnd(SERVICE_WIDTH)} | ${text(line)}` : text(line));
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** pino's bookkeeping, shown elsewhere on the line or not worth a column. */
const HIDDEN_KEYS = new Set(['time', 'level', 'msg', 'service', 'pid', 'hostname', 'v']);

/** `HH:MM:SS service LEVEL msg reqId=… key=val…` from one pino JSON line. */
export function prettyLine(line: LogLine, paint: Paint): string {
  const service = paint.nth([...SERVICE_NAMES, ...DEPENDENCY_LOGS].indexOf(line.service), line.service.padEnd(SERVICE_WIDTH));
  const record = parseRecord(line.line);
  if (!record) return `${clock(line.time)} ${service} ${line.pod ? `${paint.dim(line.pod)} ` : ''}${line.line}`;
  const time = clock(parseTime(record.time) ?? line.time);
  const level = levelName(record.level);
  const fields = Object.keys(record)
    .filter((k) => !HIDDEN_KEYS.has(k))
    .sort((a, b) => Number(b === 'reqId') - Number(a === 'reqId'))
    .map((k) => `${k}=${formatValue(record[k])}`);
  const msg = typeof record.msg === 'string' ? record.msg : '';
  const pod = line.pod ? paint.dim(line.pod) : '';
  const parts = [paint.dim(time), service, pod, paintLevel(level, paint), msg, ...(fields.length ? [paint.dim(fields.join(' '))] : [])];
  return parts.filter((p) => p !== '').join(' ');
}

function parseRecord(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function parseTime(value: unknown): Date | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function clock(date: Date | undefined): string {
  if (!date) return '--:--:--';
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

function levelName(level: unknown): string {
  if (typeof level === 'number') return LEVEL_NAMES[level] ?? String(level);
  return typeof level === 'string' ? level : 'info';
}

function paintLevel(level: string, paint: Paint): string {
  const label = level.toUpperCase().padEnd(5);
  if (level === 'error' || level === 'fatal') return paint.fail(label);
  if (level === 'warn') return paint.warn(label);
  if (level === 'info') return paint.ok(label);
  return paint.dim(label);
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}
