import { Writable } from 'node:stream';
import { pollUntil } from '../../src/core/poll.js';
import { createLogger, type Logger } from '../../src/services/common/logger.js';

/** A logger whose JSON lines are kept for assertions instead of printed. */
export function memoryLogger(service = 'test'): Logger & { lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger(service, 'debug', sink) as Logger & { lines: () => Array<Record<string, unknown>> };
  logger.lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return logger;
}

/**
 * Polls `probe` until it returns a value other than undefined; an error it throws
 * counts as "not yet" and is named if time runs out after `timeoutMs`.
 */
export function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  what = 'condition',
  intervalMs = 50,
): Promise<T> {
  return pollUntil(() => probe(), { what, timeoutMs, intervalMs, retryErrors: true });
}
