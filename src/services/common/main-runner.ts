import type { z } from 'zod';
import { ConfigError, parseConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';
import type { RunningService } from './server.js';
import { shutdownOnSignal } from './shutdown.js';

/** What every service's schema extends (baseConfigSchema). */
type ServiceConfig = { LOG_LEVEL: string; SHUTDOWN_GRACE_MS: number };

/**
 * Entry point shared by every service's main.ts: validate the environment (one line
 * naming the variable, exit 1), build a logger, handle SIGTERM/SIGINT from the first
 * moment, start. A failure to start is one line too, never a stack trace on the
 * terminal (the JSON log carries the detail).
 */
export async function runService<S extends z.ZodType<ServiceConfig>>(
  service: string,
  schema: S,
  start: (config: z.infer<S>, logger: Logger) => Promise<RunningService>,
): Promise<void> {
  let config: z.infer<S>;
  try {
    config = parseConfig(schema, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(service, config.LOG_LEVEL);
  const shutdown = shutdownOnSignal({ logger, graceMs: config.SHUTDOWN_GRACE_MS });
  try {
    shutdown.started((await start(config, logger)).close);
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    process.stderr.write(`${service}: failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
