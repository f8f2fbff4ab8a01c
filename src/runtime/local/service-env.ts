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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface Wiring {
  ports: Record<ServiceName, number>;
  databaseUrl: string;
  amqpUrl: string;
}

export const serviceUrl = (port: number) => `http://127.0.0.1:${port}`;

export function serviceEnv(service: ServiceName, wiring: Wiring, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!SERVICE_VARIABLES.includes(k)) env[k] = v;
  env.PORT = String(wiring.ports[service]);
  env.HOST = '127.0.0.1';
  env.DATABASE_URL = wiring.databaseUrl;
  env.LOG_LEVEL = LOG_LEVELS.includes(base.LOG_LEVEL ?? '') ? base.LOG_LEVEL : 'info';
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
