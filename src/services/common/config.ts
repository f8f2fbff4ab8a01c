import { z } from 'zod';

/** Raised when the environment does not satisfy a service's schema. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`invalid environment: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Fields every service reads. Services extend this with their own. */
export const baseConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
});

export const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL');
export const amqpUrl = z.string().regex(/^amqps?:\/\//, 'must be an amqp:// URL');
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL' });

/**
 * Parses `env` with `schema`. Throws ConfigError naming the first bad variable, so
 * `main` can print one line instead of a zod dump.
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = String(issue.path[0] ?? 'environment');
  const missing = env[variable] === undefined || env[variable] === '';
  throw new ConfigError(variable, missing ? 'is required but not set' : `${issue.message} (got "${env[variable]}")`);
}
