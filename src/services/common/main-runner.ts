import type { z } from 'zod';
import { ConfigError, parseConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';

/**
 * Entry point shared by every service's main.ts: validate the environment (one line
 * naming the variable, exit 1), build a logger, start. A failure to start is one
 * line too, never a stack trace on the terminal (the JSON log carries the detail).
 */
export async function runService<S extends z.ZodType>(
  service: string,
  schema: S,
  start: (config: z.infer<S>, logger: Logger) => Promise<void>,
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
  const logger = createLogger(service, (config as { LOG_LEVEL?: string }).LOG_LEVEL ?? 'info');
  try {
    await start(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    logger.flush();
    process.stderr.write(`${service}: failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
