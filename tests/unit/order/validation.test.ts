import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/services/common/http-errors.js';
import { readIdempotencyKey, requestHash } from '../../../src/services/order/idempotency.js';
import { orderIdSchema, orderRequestSchema } from '../../../src/services/order/validation.js';

const valid = { customer: { email: 'ada@example.com', name: 'Ada' }, items: [{ productId: 1, quantity: 2 }] };

describe('order request validation', () => {
  it('strips unknown keys, including a client price', () => {
    const parsed = orderRequestSchema.parse({ ...valid, items: [{ productId: 1, quantity: 2, price: 0 }], extra: true });
    expect(parsed).toEqual(valid);
  });

  it('names a duplicated product at its second line', () => {
    const result = orderRequestSchema.safeParse({ ...valid, items: [{ productId: 1, quantity: 1 }, { productId: 2, quantity: 1 }, { productId: 1, quantity: 1 }] });
    expect(result.error?.issues.map((i) => i.path)).toEqual([['items', 2, 'productId']]);
  });

  it('accepts 50 items and quantities 1 and 100', () => {
    const items = Array.from({ length: 50 }, (_, i) => ({ productId: i + 1, quantity: i % 2 ? 1 : 100 }));
    expect(orderRequestSchema.safeParse({ ...valid, items }).success).toBe(true);
  });

  it('accepts an email of 254 characters and refuses 255', () => {
    const email = (n: number) => `${'a'.repeat(n - '@example.com'.length)}@example.com`;
    expect(orderRequestSchema.safeParse({ ...valid, customer: { ...valid.customer, email: email(254) } }).success).toBe(true);
    expect(orderRequestSchema.safeParse({ ...valid, customer: { ...valid.customer, email: email(255) } }).success).toBe(false);
  });

  it('lower-cases an order id and refuses anything but a UUID', () => {
    expect(orderIdSchema.parse('0AF1C2D3-0000-4000-8000-00000000000A')).toBe('0af1c2d3-0000-4000-8000-00000000000a');
    expect(orderIdSchema.safeParse('0af1c2d3').success).toBe(false);
  });
});

describe('idempotency', () => {
  it('hashes the validated request, so formatting and ignored fields do not matter', () => {
    const a = orderRequestSchema.parse(valid);
    const b = orderRequestSchema.parse({ items: [{ quantity: 2, productId: 1, price: 9 }], customer: { name: ' Ada ', email: 'ada@example.com ' } });
    expect(requestHash(a)).toBe(requestHash(b));
    expect(requestHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives another hash for another quantity, customer or line order', () => {
    const base = requestHash(orderRequestSchema.parse(valid));
    expect(requestHash({ ...valid, items: [{ productId: 1, quantity: 3 }] })).not.toBe(base);
    expect(requestHash({ ...valid, customer: { email: 'ada@example.com', name: 'Ad' } })).not.toBe(base);
    const two = { ...valid, items: [{ productId: 1, quantity: 1 }, { productId: 2, quantity: 1 }] };
    expect(requestHash(two)).not.toBe(requestHash({ ...two, items: [...two.items].reverse() }));
  });

  it('reads an absent header as no key and refuses malformed ones naming the header', () => {
    expect(readIdempotencyKey(undefined)).toBeUndefined();
    expect(readIdempotencyKey('k'.repeat(200))).toBe('k'.repeat(200));
    for (const bad of ['', 'a b', 'k'.repeat(201), 'é', ['a', 'b']]) {
      try {
        readIdempotencyKey(bad);
        expect.unreachable(`accepted ${JSON.stringify(bad)}`);
      } catch (err) {
        expect(err).toBeInstanceOf(HttpError);
        expect((err as HttpError).details[0]?.field).toBe('Idempotency-Key');
      }
    }
  });
});
