import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Pool } from '../common/db/pool.js';
import { withTimeout } from '../common/health.js';
import type { Logger } from '../common/logger.js';

export interface OrderMetrics {
  created: Counter;
  published: Counter;
  batchSize: Histogram;
  pending: Gauge;
}

const PENDING_QUERY_TIMEOUT_MS = 1_000;
const BATCH_SIZE_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000];

/**
 * The order domain series, on the service's own registry. `outbox_pending` is counted
 * at scrape time from the table itself, so it is right whichever replica relayed
 * the rows, and stays right after a crash; the partial index keeps the count cheap.
 */
export function createOrderMetrics(registry: Registry, pool: Pool, logger: Logger): OrderMetrics {
  const created = new Counter({
    name: 'orders_created_total',
    help: 'Orders stored by this replica (idempotent replays not counted)',
    registers: [registry],
  });
  const published = new Counter({
    name: 'orders_published_total',
    help: 'Order messages confirmed by the broker and marked sent by this replica',
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'outbox_publish_batch_size',
    help: 'Messages per confirmed relay batch',
    buckets: BATCH_SIZE_BUCKETS,
    registers: [registry],
  });
  const pending = new Gauge({
    name: 'outbox_pending',
    help: 'Outbox rows not yet published (all replicas)',
    registers: [registry],
    async collect() {
      try {
        const { rows } = await withTimeout(
          pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL'),
          PENDING_QUERY_TIMEOUT_MS,
          'outbox count timed out',
        );
        this.set(rows[0]!.n);
      } catch (err) {
        // Keep the last value: a scrape must not fail because PostgreSQL is away
        // (/health says so); the staleness shows as a flat line.
        logger.debug({ err: (err as Error).message }, 'cannot count pending outbox rows');
      }
    },
  });
  return { created, published, batchSize, pending };
}
