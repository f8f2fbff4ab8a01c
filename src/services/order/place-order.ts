import { randomUUID } from 'node:crypto';
import type { Pool } from '../common/db/pool.js';
import { requestHash } from './idempotency.js';
import {
  findOrderByKey,
  findUnknownProducts,
  insertOrders,
  type InsertResult,
  type NewOrder,
  type OrderMessage,
  type StoredOrder,
} from './orders-repository.js';
import type { OrderRequest } from './validation.js';

/** What the API shows for an order. */
export interface OrderView {
  id: string;
  customer: { email: string; name: string };
  items: Array<{ productId: number; name: string; unitPrice: number; quantity: number; lineTotal: number }>;
  total: number;
  currency: OrderMessage['currency'];
  /** A test order (docs/architecture.md, "Test orders"): kept out of the storefront's live feed. */
  test: boolean;
  createdAt: string;
  published: boolean;
  publishedAt: string | null;
}

export type PlaceOrderOutcome =
  | { kind: 'created'; order: OrderView }
  | { kind: 'replayed'; order: OrderView }
  | { kind: 'unknown_products'; lines: Array<{ index: number; productId: number }> }
  | { kind: 'key_reused'; idempotencyKey: string };

// A key can be taken and its order gone again only if that order is deleted between
// our insert and our read; retrying covers it without looping forever.
const MAX_ATTEMPTS = 3;

/** Stores one order; the app passes an OrderBatcher's, which shares statements under load. */
export type InsertOrder = (order: NewOrder) => Promise<InsertResult>;

/**
 * Stores the order with its outbox row, or explains why not. The common case is one
 * statement; the extra reads happen only on the error and replay paths.
 */
export async function placeOrder(
  pool: Pool,
  request: OrderRequest,
  idempotencyKey?: string,
  test = false,
  insert: InsertOrder = async (order) => (await insertOrders(pool, [order]))[0]!,
): Promise<PlaceOrderOutcome> {
  const hash = idempotencyKey === undefined ? null : requestHash(request, test);
  const productIds = request.items.map((i) => i.productId);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const result = await insert({
      id: randomUUID(),
      email: request.customer.email,
      name: request.customer.name,
      productIds,
      quantities: request.items.map((i) => i.quantity),
      idempotencyKey: idempotencyKey ?? null,
      requestHash: hash,
      test,
    });
    if (result.kind === 'created') return { kind: 'created', order: toView(result.message, null) };
    if (idempotencyKey !== undefined) {
      // A retry of an order whose product was removed since is still a replay.
      const existing = await findOrderByKey(pool, idempotencyKey);
      if (existing) return replayOrRefuse(existing, hash, idempotencyKey);
    }
    if (result.kind === 'unknown_products') {
      const indexes = await findUnknownProducts(pool, productIds);
      // Empty only if the products appeared meanwhile: then try again.
      if (indexes.length > 0) return { kind: 'unknown_products', lines: indexes.map((index) => ({ index, productId: productIds[index]! })) };
    }
  }
  throw new Error(`order could not be placed after ${MAX_ATTEMPTS} attempts (concurrent changes)`);
}

function replayOrRefuse(existing: StoredOrder, hash: string | null, idempotencyKey: string): PlaceOrderOutcome {
  if (existing.requestHash !== hash) return { kind: 'key_reused', idempotencyKey };
  return { kind: 'replayed', order: storedToView(existing) };
}

export function storedToView(stored: StoredOrder): OrderView {
  return toView(stored.message, stored.publishedAt);
}

function toView(message: OrderMessage, publishedAt: string | null): OrderView {
  return {
    id: message.orderId,
    customer: message.customer,
    // In cents so 3 x 19.99 is 59.97, not 59.970000000000006.
    items: message.items.map((line) => ({ ...line, lineTotal: (Math.round(line.unitPrice * 100) * line.quantity) / 100 })),
    total: message.total,
    currency: message.currency,
    test: message.test,
    createdAt: message.createdAt,
    published: publishedAt !== null,
    publishedAt,
  };
}
