import { z } from 'zod';

const MAX_INT4 = 2_147_483_647;
export const MAX_ITEMS = 50;
export const MAX_QUANTITY = 100;

const orderItem = z.object({
  // No coercion: "2" is a client bug worth reporting, not guessing about.
  productId: z.number().int().min(1).max(MAX_INT4),
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
});

/**
 * The body of POST /create-order. Unknown keys (a client's `price`, say) are stripped:
 * prices come from the products table only.
 *
 * A product listed twice is a 400 rather than merged: merging could push the line
 * past the quantity limit the client never asked for, and would make the stored
 * lines differ from what was sent. One line per product, with the total quantity.
 */
export const orderRequestSchema = z.object({
  customer: z.object({
    email: z.string().trim().max(254).pipe(z.email('must be a valid email address')),
    // Control characters (NUL above all, which PostgreSQL text cannot hold) are input errors.
    name: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(200)
      .regex(/^\P{Cc}*$/u, 'must not contain control characters'),
  }),
  items: z
    .array(orderItem)
    .min(1, 'must list at least one item')
    .max(MAX_ITEMS, `must list at most ${MAX_ITEMS} items`)
    .superRefine((items, ctx) => {
      const seen = new Set<number>();
      items.forEach((item, index) => {
        if (seen.has(item.productId)) {
          ctx.addIssue({
            code: 'custom',
            path: [index, 'productId'],
            message: `product ${item.productId} is listed twice; send one line with the total quantity`,
          });
        }
        seen.add(item.productId);
      });
    }),
});

export type OrderRequest = z.infer<typeof orderRequestSchema>;

/** Any UUID PostgreSQL would accept in canonical form; lower-cased so lookups match. */
export const orderIdSchema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID')
  .transform((id) => id.toLowerCase());
