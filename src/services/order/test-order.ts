import { z } from 'zod';
import { validate } from '../common/http-errors.js';

/**
 * Marks an order as a test order (docs/architecture.md, "Test orders"): `ecom smoke`
 * sends it so its orders are stored and published like any other, with `test: true`,
 * and the storefront keeps them out of the live feed shoppers see.
 */
export const TEST_ORDER_HEADER = 'X-Ecom-Test-Order';

// Exactly "true" or "false": a typo ("yes", "1") would otherwise put a smoke order in
// front of shoppers, or hide a real one, without anyone noticing.
const testOrderSchema = z.enum(['true', 'false'], { error: 'must be "true" or "false"' }).optional();

/** The header as a flag, false when absent; a 400 naming the header when malformed. */
export function readTestOrderFlag(header: string | string[] | undefined): boolean {
  return validate(testOrderSchema, header, 'header', TEST_ORDER_HEADER) === 'true';
}
