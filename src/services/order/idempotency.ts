import { createHash } from 'node:crypto';
import { z } from 'zod';
import { validate } from '../common/http-errors.js';
import type { OrderRequest } from './validation.js';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

// Visible ASCII only: a key with spaces or control characters is almost always a
// client bug (two joined header values, a stray newline), so it is refused, not trimmed.
const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1 to 200 visible ASCII characters')
  .optional();

/** The header's value, undefined when absent; a 400 naming the header when malformed. */
export function readIdempotencyKey(header: string | string[] | undefined): string | undefined {
  return validate(idempotencyKeySchema, header, 'header', IDEMPOTENCY_HEADER);
}

/**
 * A digest of the validated request, not of its bytes: whitespace, key order and
 * ignored fields (a client-side `price`) do not make a retry look like another order.
 * Item order does count, since lines are stored in the order sent. A test order's
 * flag counts too (a real order must not replay a test one), and only when set, so the
 * digests of ordinary orders stored before test orders existed still match.
 */
export function requestHash(order: OrderRequest, test = false): string {
  const canonical = JSON.stringify([
    order.customer.email,
    order.customer.name,
    order.items.map((item) => [item.productId, item.quantity]),
    ...(test ? ['test'] : []),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
