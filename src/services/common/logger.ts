import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout, one per event; `service` on every line so merged logs stay readable.
 * Written synchronously: an asynchronous destination still had a line in flight when a
 * service exited (pino's exit hook then wrote the later lines first, or the line was
 * lost), so "listening" could follow "stopped". The default level writes a few lines per
 * process; request lines are debug.
 */
export function createLogger(service: string, level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    { level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    destination ?? pino.destination({ sync: true }),
  );
}
