import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout, one per event; `service` on every line so merged logs stay readable. */
export function createLogger(service: string, level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    { level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    destination ?? pino.destination({ sync: false }),
  );
}
