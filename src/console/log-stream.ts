/**
 * The console's live log tail: the runtime's merged service logs (Runtime.logs with
 * follow), as server-sent events, one JSON event per line (docs/architecture.md, "Console").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SERVICE_NAMES } from '../core/system.js';
import type { LogLine, Runtime } from '../runtime/types.js';

/** Lines sent before following: enough to see what just happened. */
export const LOG_TAIL_LINES = 100;
/** A comment line this often keeps proxies and the browser from timing the stream out. */
export const HEARTBEAT_MS = 15_000;
/** A line longer than this is cut: one stack trace must not stall the page. */
export const MAX_LINE_CHARS = 4_000;

/** What the page gets per log line: fields of a pino line picked out, the raw line for the rest. */
export interface LogEvent {
  service: string;
  pod?: string;
  time?: string;
  level?: string;
  msg?: string;
  /** What a person looks for beside the message: an access line's request, an error's message. */
  detail?: string;
  line: string;
}

const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export function logEvent(l: LogLine): LogEvent {
  const event: LogEvent = { service: l.service, line: l.line.length > MAX_LINE_CHARS ? `${l.line.slice(0, MAX_LINE_CHARS)}…` : l.line };
  if (l.pod) event.pod = l.pod;
  if (l.time) event.time = l.time.toISOString();
  if (l.line.startsWith('{')) {
    try {
      const parsed = JSON.parse(l.line) as PinoLine;
      const level = typeof parsed.level === 'number' ? PINO_LEVELS[parsed.level] : typeof parsed.level === 'string' ? parsed.level : undefined;
      if (level) event.level = level;
      if (typeof parsed.msg === 'string') event.msg = parsed.msg.slice(0, MAX_LINE_CHARS);
      const detail = describePino(parsed);
      if (detail) event.detail = detail.slice(0, MAX_LINE_CHARS);
    } catch {
      // not JSON after all: the raw line stands
    }
  }
  return event;
}

interface PinoLine {
  level?: unknown;
  msg?: unknown;
  method?: unknown;
  url?: unknown;
  status?: unknown;
  ms?: unknown;
  err?: { message?: unknown };
}

/** `GET /catalog 200 3ms` for an access line (app-factory's fields), the error's message for a failure. */
function describePino(p: PinoLine): string | undefined {
  if (typeof p.method === 'string' && typeof p.url === 'string') {
    return [p.method, p.url, p.status, typeof p.ms === 'number' ? `${p.ms}ms` : undefined].filter((v) => v !== undefined).join(' ');
  }
  return typeof p.err?.message === 'string' ? p.err.message : undefined;
}

/** Writes, waiting for the socket to drain when the browser reads slower than the logs grow. */
async function send(res: ServerResponse, text: string): Promise<void> {
  if (res.write(text)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Streams until the browser goes away; an error of the runtime's log reader ends the stream with a `failure` event. */
export async function streamLogs(req: IncomingMessage, res: ServerResponse, logs: Runtime['logs']): Promise<void> {
  const stop = new AbortController();
  req.on('close', () => stop.abort());
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  // The browser reconnects on its own after a break and gets the tail again: `start` tells it to clear.
  res.write('event: start\ndata: {}\n\n');
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  try {
    for await (const line of logs({ services: [...SERVICE_NAMES], follow: true, tail: LOG_TAIL_LINES, signal: stop.signal })) {
      if (stop.signal.aborted) break;
      await send(res, `data: ${JSON.stringify(logEvent(line))}\n\n`);
    }
  } catch (err) {
    if (!stop.signal.aborted) res.write(`event: failure\ndata: ${JSON.stringify({ message: (err as Error).message })}\n\n`);
  } finally {
    clearInterval(heartbeat);
    stop.abort();
    res.end();
  }
}
