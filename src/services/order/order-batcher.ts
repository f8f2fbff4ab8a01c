import type { Pool } from '../common/db/pool.js';
import { insertOrders, type InsertResult, type NewOrder } from './orders-repository.js';

export interface BatchingOptions {
  /** Most orders in one statement. */
  maxBatch: number;
  /** Statements running at once; further orders queue and go in the next statement. */
  maxInFlight: number;
}

export const DEFAULT_BATCHING: BatchingOptions = { maxBatch: 64, maxInFlight: 4 };

interface Pending {
  order: NewOrder;
  resolve: (result: InsertResult) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit in the application. An order arriving while fewer than `maxInFlight`
 * statements run goes out at once, alone, so a quiet service adds no latency; under
 * load, orders that arrive while statements run share the next one. One statement
 * and one commit for many orders costs PostgreSQL a fraction of one per order
 * (measured here: 16 orders per statement commit about 3x the orders per second).
 */
export class OrderBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly pool: Pool,
    private readonly options: BatchingOptions = DEFAULT_BATCHING,
  ) {}

  insert(order: NewOrder): Promise<InsertResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ order, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /**
   * The oldest orders, at most one per idempotency key: a repeated key waits for the
   * next statement, where it finds the first one's order and replays it.
   */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const keys = new Set<string>();
    for (const pending of this.queue) {
      const key = pending.order.idempotencyKey;
      if (batch.length >= this.options.maxBatch || (key !== null && keys.has(key))) {
        rest.push(pending);
        continue;
      }
      if (key !== null) keys.add(key);
      batch.push(pending);
    }
    this.queue = rest;
    return batch;
  }

  private async run(batch: Pending[]): Promise<void> {
    try {
      const results = await insertOrders(this.pool, batch.map((p) => p.order));
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // One order must not fail its neighbours (a deadlock between batches sharing
      // keys, say): each goes again on its own and meets its own fate.
      await Promise.all(
        batch.map((p) => insertOrders(this.pool, [p.order]).then(([result]) => p.resolve(result!), p.reject)),
      );
    }
  }
}
