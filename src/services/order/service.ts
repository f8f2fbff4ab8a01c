import { z } from 'zod';
import { orderQueues } from '../common/amqp.js';
import { amqpUrl, baseConfigSchema, postgresUrl } from '../common/config.js';
import { prepareDatabase } from '../common/db/migrate.js';
import { createPool } from '../common/db/pool.js';
import type { Logger } from '../common/logger.js';
import { serve, type RunningService } from '../common/server.js';
import { createOrderApp } from './app.js';
import { connectOrderPublisher, type OrderPublisher } from './broker-publisher.js';
import { OutboxRelay } from './outbox-relay.js';

export const orderConfigSchema = baseConfigSchema.extend({
  PORT: baseConfigSchema.shape.PORT.default(5003),
  DATABASE_URL: postgresUrl,
  AMQP_URL: amqpUrl,
  ORDERS_QUEUE: z
    .string()
    .regex(/^[\w.:-]{1,200}$/, 'must be 1 to 200 letters, digits or _.:-')
    .default('orders'),
  RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  RELAY_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(1_000),
});
export type OrderConfig = z.infer<typeof orderConfigSchema>;

export async function startOrderService(config: OrderConfig, logger: Logger): Promise<RunningService> {
  const pool = createPool(config.DATABASE_URL);
  try {
    await prepareDatabase(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  let publisher: OrderPublisher;
  try {
    // Does not wait for the broker: orders wait in the outbox until it comes.
    publisher = await connectOrderPublisher(config.AMQP_URL, orderQueues(config.ORDERS_QUEUE), logger);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const { app, metrics } = createOrderApp({
    pool,
    logger,
    onOrderCreated: () => relay.orderCreated(),
    extraChecks: [{ name: 'rabbitmq', critical: false, check: () => publisher.check() }],
  });
  const relay = new OutboxRelay({
    pool,
    publisher,
    logger,
    batchSize: config.RELAY_BATCH_SIZE,
    pollMs: config.RELAY_POLL_MS,
    onBatchPublished: (count) => {
      metrics.published.inc(count);
      metrics.batchSize.observe(count);
    },
  });
  publisher.onReady(() => relay.brokerReady());
  relay.start();
  let abandonAt = Infinity;
  const service = await serve(app, config.PORT, config.HOST, async () => {
    // After HTTP: the relay finishes its batch in flight (or abandons it, pending, at
    // abandonAt), then the channel (bounded) and the pool go.
    await relay.close({ abandonAt });
    await publisher.close();
    await pool.end();
  });
  logger.info({ port: service.port, queue: config.ORDERS_QUEUE }, 'order listening');
  return {
    port: service.port,
    close: () => {
      abandonAt = relayAbandonAt(Date.now(), config.SHUTDOWN_GRACE_MS);
      return service.close();
    },
  };
}

// Confirms normally take milliseconds; a batch still waiting this long into shutdown
// waits on a stalled broker.
const RELAY_STOP_WAIT_MS = 2_000;

/**
 * When shutdown gives up on a batch waiting for confirms: at most RELAY_STOP_WAIT_MS
 * after the signal, and by half the grace period, leaving the rest for closing the
 * channel and the pool (docs/architecture.md, "Faults").
 */
export function relayAbandonAt(shutdownStartMs: number, graceMs: number): number {
  return shutdownStartMs + Math.min(RELAY_STOP_WAIT_MS, graceMs / 2);
}
