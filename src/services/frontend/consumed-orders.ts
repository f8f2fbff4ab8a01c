import type { Pool } from '../common/db/pool.js';
import type { FeedOrder } from './feed.js';
import type { OrderMessage } from './order-message.js';

interface ConsumedRow {
  message_id: string;
  order_id: string | null;
  payload: OrderMessage;
  consumed_at: Date;
}

const COLUMNS = 'message_id, order_id, payload, consumed_at';

/**
 * Stores the consumer's effect, keyed by message id. Returns the new row, or
 * undefined when this message id was stored before (a redelivery): the caller
 * then acks without publishing anything.
 */
export async function insertConsumedOrder(pool: Pool, messageId: string, order: OrderMessage): Promise<FeedOrder | undefined> {
  const { rows } = await pool.query<ConsumedRow>(
    `INSERT INTO consumed_orders (message_id, order_id, payload, test) VALUES ($1, $2, $3, $4)
     ON CONFLICT (message_id) DO NOTHING
     RETURNING ${COLUMNS}`,
    [messageId, order.orderId, JSON.stringify(order), order.test ?? false],
  );
  return rows[0] ? toFeedOrder(rows[0]) : undefined;
}

/** The newest `limit` orders shoppers may see (no test orders), newest first. */
export async function recentConsumedOrders(pool: Pool, limit: number): Promise<FeedOrder[]> {
  const { rows } = await pool.query<ConsumedRow>(
    `SELECT ${COLUMNS} FROM consumed_orders WHERE NOT test ORDER BY consumed_at DESC, message_id DESC LIMIT $1`,
    [limit],
  );
  return rows.map(toFeedOrder);
}

/**
 * Orders stored after `messageId` (an EventSource's Last-Event-ID), oldest first, so a
 * reconnecting client gets what it missed and nothing twice. Undefined when the id is
 * unknown, and the caller falls back to the recent list.
 */
export async function consumedOrdersAfter(pool: Pool, messageId: string, limit: number): Promise<FeedOrder[] | undefined> {
  const known = await pool.query('SELECT 1 FROM consumed_orders WHERE message_id = $1', [messageId]);
  if (known.rowCount === 0) return undefined;
  // Compared inside SQL: a JS Date would drop consumed_at's microseconds.
  const { rows } = await pool.query<ConsumedRow>(
    `SELECT ${COLUMNS} FROM consumed_orders
      WHERE NOT test
        AND (consumed_at, message_id) > (SELECT consumed_at, message_id FROM consumed_orders WHERE message_id = $1)
      ORDER BY consumed_at, message_id LIMIT $2`,
    [messageId, limit],
  );
  return rows.map(toFeedOrder);
}

function toFeedOrder(row: ConsumedRow): FeedOrder {
  const p = row.payload;
  return {
    messageId: row.message_id,
    orderId: row.order_id,
    customerName: p.customer.name,
    items: p.items.map((i) => ({ productId: i.productId, name: i.name, quantity: i.quantity })),
    itemCount: p.items.reduce((n, i) => n + i.quantity, 0),
    total: p.total,
    currency: p.currency,
    createdAt: p.createdAt,
    consumedAt: row.consumed_at.toISOString(),
  };
}

/** Whether an order has been consumed, test orders included: what `ecom smoke` waits for. */
export interface Consumption {
  orderId: string;
  messageId: string;
  test: boolean;
  consumedAt: string;
}

export async function findConsumption(pool: Pool, orderId: string): Promise<Consumption | undefined> {
  const { rows } = await pool.query<{ message_id: string; order_id: string; test: boolean; consumed_at: Date }>(
    'SELECT message_id, order_id, test, consumed_at FROM consumed_orders WHERE order_id = $1 ORDER BY consumed_at LIMIT 1',
    [orderId],
  );
  const row = rows[0];
  return row && { orderId: row.order_id, messageId: row.message_id, test: row.test, consumedAt: row.consumed_at.toISOString() };
}
