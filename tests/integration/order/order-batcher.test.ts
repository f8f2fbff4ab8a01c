import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '../../../src/services/common/db/pool.js';
import { OrderBatcher } from '../../../src/services/order/order-batcher.js';
import type { NewOrder } from '../../../src/services/order/orders-repository.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

const newOrder = (lines: Array<[productId: number, quantity: number]>, key: string | null = null): NewOrder => ({
  id: randomUUID(),
  email: 'batch@example.com',
  name: 'Batch Test',
  productIds: lines.map(([p]) => p),
  quantities: lines.map(([, q]) => q),
  idempotencyKey: key,
  requestHash: key === null ? null : 'hash',
});

/** The pool, counting the statements that reach it. */
function countingPool(pool: Pool): { pool: Pool; statements: () => number } {
  let count = 0;
  const counted = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop !== 'query') return Reflect.get(target, prop, receiver);
      return (...args: Parameters<Pool['query']>) => {
        count++;
        return (target.query as (...a: unknown[]) => unknown)(...args);
      };
    },
  });
  return { pool: counted, statements: () => count };
}

describe('order batcher', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('shares one statement between orders arriving while another runs, and answers each its own', async () => {
    const { pool, statements } = countingPool(db.pool);
    await new OrderBatcher(db.pool).insert(newOrder([[1, 1]], 'taken-key'));
    const batcher = new OrderBatcher(pool, { maxBatch: 64, maxInFlight: 1 });

    const orders = [
      newOrder([[2, 1]]),
      newOrder([[3, 2], [4, 1]]),
      newOrder([[999_999, 1]]),
      newOrder([[5, 1]], 'taken-key'),
      ...Array.from({ length: 16 }, (_, i) => newOrder([[(i % 14) + 1, (i % 3) + 1]])),
    ];
    const results = await Promise.all(orders.map((o) => batcher.insert(o)));
    // The first goes out at once; the other 19 queue behind it and share one statement.
    expect(statements()).toBe(2);
    expect(results.map((r) => r.kind)).toEqual([
      'created',
      'created',
      'unknown_products',
      'key_taken',
      ...Array(16).fill('created'),
    ]);
    const second = results[1];
    if (second?.kind !== 'created') throw new Error('expected created');
    expect(second.message.orderId).toBe(orders[1]!.id);
    expect(second.message.items.map((i) => [i.productId, i.quantity])).toEqual([[3, 2], [4, 1]]);
    expect(second.message.total).toBe(29.99 * 2 + 379);
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM orders o JOIN outbox b ON b.order_id = o.id WHERE o.id = ANY($1::uuid[])',
      [orders.map((o) => o.id)],
    );
    expect(rows[0]!.n).toBe(18);
  });

  it('never puts two orders with one idempotency key in the same statement', async () => {
    const batcher = new OrderBatcher(db.pool, { maxBatch: 64, maxInFlight: 1 });
    const results = await Promise.all([
      batcher.insert(newOrder([[1, 1]])),
      batcher.insert(newOrder([[2, 1]], 'same')),
      batcher.insert(newOrder([[2, 1]], 'same')),
      batcher.insert(newOrder([[2, 1]], 'same')),
    ]);
    expect(results.map((r) => r.kind)).toEqual(['created', 'created', 'key_taken', 'key_taken']);
  });

  it('keeps one failing order from failing the others in its statement', async () => {
    const batcher = new OrderBatcher(db.pool, { maxBatch: 64, maxInFlight: 1 });
    // Quantity 0 slips past no validation here and breaks the CHECK constraint.
    const settled = await Promise.allSettled([
      batcher.insert(newOrder([[1, 1]])),
      batcher.insert(newOrder([[2, 1]])),
      batcher.insert(newOrder([[3, 0]])),
      batcher.insert(newOrder([[4, 1]])),
    ]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value.kind : 'rejected'))).toEqual([
      'created',
      'created',
      'rejected',
      'created',
    ]);
  });
});
