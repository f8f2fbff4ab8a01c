import { z } from 'zod';

/** The body the order service publishes (docs/architecture.md, "Order messages"). */
export const orderMessageSchema = z.object({
  // guid, not uuid: PostgreSQL's uuid type takes any 8-4-4-4-12 hex, whatever its version bits.
  orderId: z.guid(),
  // Any timestamp Date can read: ISO from JSON, or PostgreSQL's text form.
  createdAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be a timestamp'),
  customer: z.object({
    email: z.string().min(1).max(320),
    name: z.string().min(1).max(200),
  }),
  items: z
    .array(
      z.object({
        productId: z.number().int().positive(),
        name: z.string().min(1).max(200),
        unitPrice: z.number().nonnegative(),
        quantity: z.number().int().positive(),
      }),
    )
    .min(1),
  total: z.number().nonnegative(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be a three-letter currency code'),
  // A test order (docs/architecture.md, "Test orders"); absent in messages from before them.
  test: z.boolean().optional(),
});

export type OrderMessage = z.infer<typeof orderMessageSchema>;

export const ORDER_MESSAGE_TYPE = 'order.created';
const MESSAGE_ID_PATTERN = /^[\w.:-]{1,200}$/;

export type ParsedMessage =
  | { ok: true; messageId: string; order: OrderMessage }
  | { ok: false; reason: string };

/**
 * Decides whether a delivery can ever be stored. Anything rejected here is poison:
 * redelivering it would fail the same way forever, so it belongs in the dead-letter queue.
 */
export function parseOrderMessage(content: Buffer, properties: { messageId?: unknown; type?: unknown }): ParsedMessage {
  const { messageId, type } = properties;
  if (typeof messageId !== 'string' || !MESSAGE_ID_PATTERN.test(messageId)) {
    return { ok: false, reason: 'missing or malformed messageId' };
  }
  // An absent type is tolerated (older publishers); a different one is not ours to store.
  if (type !== undefined && type !== null && type !== ORDER_MESSAGE_TYPE) {
    return { ok: false, reason: `unexpected message type ${JSON.stringify(type)}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(content.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
  const result = orderMessageSchema.safeParse(json);
  if (!result.success) {
    const fields = result.error.issues.map((i) => i.path.join('.') || '(root)');
    return { ok: false, reason: `body does not match the order contract: ${[...new Set(fields)].join(', ')}` };
  }
  return { ok: true, messageId, order: result.data };
}
