import type { Logger } from './logger.js';

/**
 * SIGTERM/SIGINT handling for a service process (docs/architecture.md, "Faults"):
 * stop accepting, finish in-flight requests, release resources, exit 0; exit 1 if that
 * takes longer than the grace period.
 *
 * The handlers are installed before the service starts. A signal that arrives while it
 * starts, or just after it logs "listening" (a supervisor stopping a service the moment
 * it is ready), would otherwise meet Node's default action and kill the process without
 * closing anything. Such a signal waits for the start to finish, then closes.
 */
export interface ShutdownOnSignal {
  /** The service is up: a signal now, or one received while it started, closes it. */
  started(close: () => Promise<void>): void;
}

export function shutdownOnSignal(opts: { logger: Logger; graceMs: number }): ShutdownOnSignal {
  let started!: (close: () => Promise<void>) => void;
  const up = new Promise<() => Promise<void>>((resolve) => (started = resolve));
  let stopping = false;

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    opts.logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      opts.logger.error({ graceMs: opts.graceMs }, 'shutdown exceeded the grace period');
      process.exit(1);
    }, opts.graceMs);
    timer.unref();
    // A start that fails exits on its own (runService), so this waits for success only.
    const close = await up;
    try {
      await close();
    } catch (err) {
      opts.logger.warn({ err }, 'shutdown step failed');
    }
    opts.logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return { started };
}
