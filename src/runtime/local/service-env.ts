/**
 * How each service is wired: environment variables only (docs/architecture.md, "Configuration").
 * Variables a service reads are never inherited from the user's shell, so a stray
 * PORT or DATABASE_URL cannot point a service elsewhere.
 */
import type { ServiceName } from '../../core/system.js';

export const ORDERS_QUEUE = 'orders';

const SERVICE_VARIABLES = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'AMQP_URL',
  'ORDERS_QUEUE',
  'ELASTICSEARCH_URL',
  'SEARCH_BACKEND',
  'CATALOG_URL',
  'SEARCH_URL',
  'ORDER_URL',
];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The services' LOG_LEVEL: the one asked for (`up --log-level`), else a valid LOG_LEVEL in `env`, else info. */
export function resolveLogLevel(asked: string | undefined, env: NodeJS.ProcessEnv): string {
  const valid = (level: string | undefined): level is string => (LOG_LEVELS as readonly string[]).includes(level ?? '');
  if (valid(asked)) return asked;
  return valid(env.LOG_LEVEL) ? env.LOG_LEVEL : 'info';
}

export interface Wiring {
  ports: Record<ServiceName, number>;
  databaseUrl: string;
  amqpUrl: string;
  /** From the plan (`up --log-level`), so every restart keeps it. */
  logLevel?: string;
}

export const serviceUrl = (port: number) => `http://127.0.0.1:${port}`;

export function serviceEnv(service: ServiceName, wiring: Wiring, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!SERVICE_VARIABLES.includes(k)) env[k] = v;
  env.PORT = String(wiring.ports[service]);
  env.HOST = '127.0.0.1';
  env.DATABASE_URL = wiring.databaseUrl;
  env.LOG_LEVEL = resolveLogLevel(wiring.logLevel, base);
  switch (service) {
    case 'catalog':
      break;
    case 'search':
      env.SEARCH_BACKEND = 'postgres';
      break;
    case 'order':
      env.AMQP_URL = wiring.amqpUrl;
      env.ORDERS_QUEUE = ORDERS_QUEUE;
      break;
    case 'frontend':
      env.AMQP_URL = wiring.amqpUrl;
      env.ORDERS_QUEUE = ORDERS_QUEUE;
      env.CATALOG_URL = serviceUrl(wiring.ports.catalog);
      env.SEARCH_URL = serviceUrl(wiring.ports.search);
      env.ORDER_URL = serviceUrl(wiring.ports.order);
      break;
  }
  return env;
}
