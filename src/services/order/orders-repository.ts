import type { Pool } from '../common/db/pool.js';

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
  currency: 'USD';
}

export interface NewOrder {
  id: string;
  email: string;
  name: string;
  productIds: number[];
  quantities: number[];
  idempotencyKey: string | null;
  requestHash: string | null;
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
 * The whole order transaction in one statement, so one round trip and one implicit
 * transaction: price the lines from `products`, and only when every product exists,
 * insert the order (ON CONFLICT on the idempotency key does nothing), its lines and
 * its outbox row. Prepared by name so PostgreSQL plans it once per connection.
 */
const INSERT_ORDER_SQL = `
WITH input AS (
  SELECT t.line::int AS line, t.product_id, t.quantity
  FROM unnest($4::int[], $5::int[]) WITH ORDINALITY AS t(product_id, quantity, line)
), priced AS (
  SELECT i.line, i.product_id, i.quantity, p.name, p.price_cents
  FROM input i JOIN products p ON p.id = i.product_id
), summary AS (
  SELECT count(*)::int AS found,
         coalesce(sum(price_cents::bigint * quantity), 0)::bigint AS total_cents,
         jsonb_agg(jsonb_build_object('productId', product_id, 'name', name,
           'unitPrice', ${dollars('price_cents')}, 'quantity', quantity) ORDER BY line) AS items
  FROM priced
), new_order AS (
  INSERT INTO orders (id, customer_email, customer_name, total_cents, idempotency_key, request_hash)
  SELECT $1::uuid, $2::text, $3::text, s.total_cents, $6::text, $7::text FROM summary s
  WHERE s.found = cardinality($4::int[])
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id, created_at, total_cents
), message AS (
  SELECT o.id, jsonb_build_object(
    'orderId', o.id,
    'createdAt', ${isoUtc('o.created_at')},
    'customer', jsonb_build_object('email', $2::text, 'name', $3::text),
    'items', s.items,
    'total', ${dollars('o.total_cents')},
    'currency', 'USD') AS payload
  FROM new_order o CROSS JOIN summary s
), new_items AS (
  INSERT INTO order_items (order_id, line, product_id, product_name, unit_price_cents, quantity)
  SELECT o.id, p.line, p.product_id, p.name, p.price_cents, p.quantity
  FROM new_order o CROSS JOIN priced p
), new_outbox AS (
  INSERT INTO outbox (order_id, payload) SELECT id, payload FROM message
)
SELECT s.found, m.payload FROM summary s LEFT JOIN message m ON true`;

export async function insertOrder(pool: Pool, order: NewOrder): Promise<InsertResult> {
  const { rows } = await pool.query<{ found: number; payload: OrderMessage | null }>({
    name: 'order-insert',
    text: INSERT_ORDER_SQL,
    values: [order.id, order.email, order.name, order.productIds, order.quantities, order.idempotencyKey, order.requestHash],
  });
  const row = rows[0]!;
  if (row.payload) return { kind: 'created', message: row.payload };
  if (row.found < order.productIds.length) return { kind: 'unknown_products' };
  return { kind: 'key_taken' };
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
    'currency', 'USD') AS message
FROM orders o LEFT JOIN outbox ob ON ob.order_id = o.id`;

export async function findOrderById(pool: Pool, id: string): Promise<StoredOrder | undefined> {
  const { rows } = await pool.query<StoredOrder>(`${SELECT_ORDER_SQL} WHERE o.id = $1`, [id]);
  return rows[0];
}

export async function findOrderByKey(pool: Pool, idempotencyKey: string): Promise<StoredOrder | undefined> {
  const { rows } = await pool.query<StoredOrder>(`${SELECT_ORDER_SQL} WHERE o.idempotency_key = $1`, [idempotencyKey]);
  return rows[0];
}
