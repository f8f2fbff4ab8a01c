import { z } from 'zod';
import { orderQueues } from '../common/amqp.js';
import { amqpUrl, baseConfigSchema, httpUrl, postgresUrl } from '../common/config.js';
import { prepareDatabase } from '../common/db/migrate.js';
import { createPool } from '../common/db/pool.js';
import type { Logger } from '../common/logger.js';
import { listen, type RunningServer, type RunningService } from '../common/server.js';
import { createFrontendApp } from './app.js';
import { startOrderConsumer, type OrderConsumer } from './consumer.js';
import { OrderFeed } from './feed.js';
import { Gateway } from './gateway.js';

export const frontendConfigSchema = baseConfigSchema.extend({
  PORT: baseConfigSchema.shape.PORT.default(5004),
  DATABASE_URL: postgresUrl,
  AMQP_URL: amqpUrl,
  CATALOG_URL: httpUrl,
  SEARCH_URL: httpUrl,
  ORDER_URL: httpUrl,
  ORDERS_QUEUE: z
    .string()
    .regex(/^[\w.:-]{1,200}$/, 'must be a queue name (letters, digits, . _ : -)')
    .default('orders'),
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(1).max(120_000).default(3_000),
});
export type FrontendConfig = z.infer<typeof frontendConfigSchema>;

/**
 * Starts the storefront: migrations (not the seed: the catalogue is the catalog
 * service's), the HTTP app, then the consumer feeding the live stream.
 */
export async function startFrontendService(config: FrontendConfig, logger: Logger): Promise<RunningService> {
  const pool = createPool(config.DATABASE_URL);
  const feed = new OrderFeed();
  let consumer: OrderConsumer | undefined;
  let server: RunningServer | undefined;
  try {
    await prepareDatabase(pool, { seed: false });
    const gateway = new Gateway({
      upstreams: { catalog: config.CATALOG_URL, search: config.SEARCH_URL, order: config.ORDER_URL },
      timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    });
    const { app, registry } = createFrontendApp({
      pool,
      logger,
      feed,
      gateway,
      brokerCheck: async () => {
        if (!consumer) throw new Error('order consumer not started');
        await consumer.broker.ping();
      },
    });
    const queues = orderQueues(config.ORDERS_QUEUE);
    consumer = await startOrderConsumer({ amqpUrl: config.AMQP_URL, queues, pool, feed, logger, registry });
    server = await listen(app, config.PORT, config.HOST);
  } catch (err) {
    feed.close();
    await consumer?.close();
    await pool.end();
    throw err;
  }
  logger.info({ port: server.port }, 'frontend listening');
  const running = server;
  return {
    port: running.port,
    close: async () => {
      // Stop accepting first, then end the open streams so the server can finish closing.
      const httpClosed = running.close();
      feed.close();
      await httpClosed;
      await consumer?.close();
      await pool.end();
    },
  };
}
