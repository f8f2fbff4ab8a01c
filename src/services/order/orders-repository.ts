import type { Pool } from '../common/db/pool.js';
import { CATALOGUE_CURRENCY } from '../common/money.js';

/** One line of an order as stored and as published. */
export interface OrderLine {
  productId: number;
  name: string;
  unitPrice: number;
  quantity: number;
}

/** The `orders` message: the outbox payload, published as is. */
export interface OrderMessage {
  orderId: string;
  createdAt: string;
  customer: { email: string; name: string };
  items: OrderLine[];
  total: number;
  currency: typeof CATALOGUE_CURRENCY;
  /** Placed with X-Ecom-Test-Order: true (docs/architecture.md, "Test orders"). */
  test: boolean;
}

export interface NewOrder {
  id: string;
  email: string;
  name: string;
  productIds: number[];
  quantities: number[];
  idempotencyKey: string | null;
  requestHash: string | null;
  /** A test order (`ecom smoke`); false when absent. */
  test?: boolean;
}

export type InsertResult =
  | { kind: 'created'; message: OrderMessage }
  /** Some product does not exist; nothing was written. */
  | { kind: 'unknown_products' }
  /** The idempotency key is taken (possibly by a request that committed meanwhile). */
  | { kind: 'key_taken' };

export interface StoredOrder {
  message: OrderMessage;
  requestHash: string | null;
  publishedAt: string | null;
}

// Millisecond ISO-8601 in UTC, the same text in the HTTP answer and in the message.
const isoUtc = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const dollars = (cents: string) => `(${cents} / 100.0)::float8`;

/**
 * Stores a batch of orders in one statement, so one round trip and one implicit
 * transaction however many orders it carries: price the lines from `products`, and for
 * each order whose products all exist insert it (ON CONFLICT on the idempotency key
 * does nothing), its lines and its outbox row. Each order is all-or-nothing on its own;
 * one order's unknown product or taken key does not stop the others. One row per
 * order comes back, in input order. Prepared by name so it is planned once per connection.
 */
export const INSERT_ORDERS_SQL = `
WITH o_in AS (
  SELECT t.ord::int AS ord, t.id, t.email, t.name, t.key, t.hash, t.test
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $10::bool[]) WITH ORDINALITY
    AS t(id, email, name, key, hash, test, ord)
), priced AS (
  SELECT l.ord, l.line, l.product_id, l.quantity, p.name, p.price_cents
  FROM unnest($6::int[], $7::int[], $8::int[], $9::int[]) AS l(ord, line, product_id, quantity)
  LEFT JOIN products p ON p.id = l.product_id
), summary AS (
  SELECT ord, count(price_cents) = count(*) AS complete,
         coalesce(sum(price_cents::bigint * quantity), 0)::bigint AS total_cents,
         jsonb_agg(jsonb_build_object('productId', product_id, 'name', name,
           'unitPrice', ${dollars('price_cents')}, 'quantity', quantity) ORDER BY line) AS items
  FROM priced GROUP BY ord
), new_order AS (
  INSERT INTO orders (id, customer_email, customer_name, total_cents, idempotency_key, request_hash, test)
  SELECT o.id, o.email, o.name, s.total_cents, o.key, o.hash, o.test
  FROM o_in o JOIN summary s USING (ord) WHERE s.complete ORDER BY o.ord
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id, created_at, total_cents
), message AS (
  SELECT o.ord, n.id, jsonb_build_object(
    'orderId', n.id,
    'createdAt', ${isoUtc('n.created_at')},
    'customer', jsonb_build_object('email', o.email, 'name', o.name),
    'items', s.items,
    'total', ${dollars('n.total_cents')},
    'currency', '${CATALOGUE_CURRENCY}',
    'test', o.test) AS payload
  FROM new_order n JOIN o_in o ON o.id = n.id JOIN summary s ON s.ord = o.ord
), new_items AS (
  INSERT INTO order_items (order_id, line, product_id, product_name, unit_price_cents, quantity)
  SELECT m.id, p.line, p.product_id, p.name, p.price_cents, p.quantity
  FROM message m JOIN priced p ON p.ord = m.ord
), new_outbox AS (
  INSERT INTO outbox (order_id, payload) SELECT id, payload FROM message ORDER BY ord
)
SELECT s.complete, m.payload FROM o_in o JOIN summary s USING (ord) LEFT JOIN message m USING (ord) ORDER BY o.ord`;

/** Stores `orders` in one statement; one result per order, in the same order. */
export async function insertOrders(pool: Pool, orders: NewOrder[]): Promise<InsertResult[]> {
  const lines = { ord: [] as number[], line: [] as number[], productId: [] as number[], quantity: [] as number[] };
  orders.forEach((order, index) => {
    order.productIds.forEach((productId, i) => {
      lines.ord.push(index + 1);
      lines.line.push(i + 1);
      lines.productId.push(productId);
      lines.quantity.push(order.quantities[i]!);
    });
  });
  const { rows } = await pool.query<{ complete: boolean; payload: OrderMessage | null }>({
    name: 'orders-insert',
    text: INSERT_ORDERS_SQL,
    values: [
      orders.map((o) => o.id),
      orders.map((o) => o.email),
      orders.map((o) => o.name),
      orders.map((o) => o.idempotencyKey),
      orders.map((o) => o.requestHash),
      lines.ord,
      lines.line,
      lines.productId,
      lines.quantity,
      orders.map((o) => o.test ?? false),
    ],
  });
  return rows.map((row): InsertResult => {
    if (row.payload) return { kind: 'created', message: row.payload };
    return row.complete ? { kind: 'key_taken' } : { kind: 'unknown_products' };
  });
}

/** Indexes (0-based, as sent) of the lines whose product does not exist. */
export async function findUnknownProducts(pool: Pool, productIds: number[]): Promise<number[]> {
  const { rows } = await pool.query<{ index: number }>(
    `SELECT (t.line - 1)::int AS index FROM unnest($1::int[]) WITH ORDINALITY AS t(product_id, line)
     WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.id = t.product_id) ORDER BY t.line`,
    [productIds],
  );
  return rows.map((r) => r.index);
}

const SELECT_ORDER_SQL = `
SELECT o.request_hash AS "requestHash", ${isoUtc('ob.published_at')} AS "publishedAt",
  jsonb_build_object(
    'orderId', o.id,
    'createdAt', ${isoUtc('o.created_at')},
    'customer', jsonb_build_object('email', o.customer_email, 'name', o.customer_name),
    'items', (SELECT jsonb_agg(jsonb_build_object('productId', i.product_id, 'name', i.product_name,
                'unitPrice', ${dollars('i.unit_price_cents')}, 'quantity', i.quantity) ORDER BY i.line)
              FROM order_items i WHERE i.order_id = o.id),
    'total', ${dollars('o.total_cents')},
    'currency', '${CATALOGUE_CURRENCY}',
    'test', o.test) AS message
FROM orders o LEFT JOIN outbox ob ON ob.order_id = o.id`;

export async function findOrderById(pool: Pool, id: string): Promise<StoredOrder | undefined> {
  const { rows } = await pool.query<StoredOrder>(`${SELECT_ORDER_SQL} WHERE o.id = $1`, [id]);
  return rows[0];
}

export async function findOrderByKey(pool: Pool, idempotencyKey: string): Promise<StoredOrder | undefined> {
  const { rows } = await pool.query<StoredOrder>(`${SELECT_ORDER_SQL} WHERE o.idempotency_key = $1`, [idempotencyKey]);
  return rows[0];
}
