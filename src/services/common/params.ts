import { z } from 'zod';

const MAX_INT4 = 2_147_483_647;

/** A positive integer id as it appears in a path: digits only, within PostgreSQL's integer. */
export const integerId = z
  .string()
  .regex(/^\d{1,10}$/, 'must be a positive integer')
  .transform(Number)
  .refine((n) => n >= 1 && n <= MAX_INT4, 'must be between 1 and 2147483647');

/** A query-string integer in [min, max]; absent means `fallback`. */
export const queryInt = (min: number, max: number, fallback: number) =>
  z
    // A repeated parameter arrives as an array: say so in words, not in zod's.
    .string({ error: 'must be given once, as a whole number' })
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`)
    .optional()
    .transform((n) => n ?? fallback);
