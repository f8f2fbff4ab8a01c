import { describe, expect, it } from 'vitest';
import { parseOrderMessage } from '../../../src/services/frontend/order-message.js';

const order = {
  orderId: '0b9f4c1e-5d7a-4e0b-9a51-3c2d1e0f9a8b',
  createdAt: '2025-01-02T03:04:05.678Z',
  customer: { email: 'ada@example.com', name: 'Ada' },
  items: [{ productId: 1, name: 'Laptop Pro 14', unitPrice: 1299, quantity: 1 }],
  total: 1299,
  currency: 'EUR',
};
const parse = (body: unknown, props: { messageId?: unknown; type?: unknown } = { messageId: order.orderId, type: 'order.created' }) =>
  parseOrderMessage(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), props);

describe('parseOrderMessage', () => {
  it('accepts the published contract, and extra fields a newer publisher may add', () => {
    expect(parse(order)).toEqual({ ok: true, messageId: order.orderId, order });
    expect(parse({ ...order, channel: 'web' }).ok).toBe(true);
    expect(parse(order, { messageId: order.orderId }).ok).toBe(true);
  });

  it.each([
    ['no messageId', order, { type: 'order.created' }, 'missing or malformed messageId'],
    ['a messageId with a newline', order, { messageId: 'a\nb' }, 'missing or malformed messageId'],
    ['another message type', order, { messageId: 'm1', type: 'order.cancelled' }, 'unexpected message type "order.cancelled"'],
    ['a body that is not JSON', '{"orderId":', { messageId: 'm1' }, 'body is not valid JSON'],
    ['no items', { ...order, items: [] }, { messageId: 'm1' }, 'body does not match the order contract: items'],
    ['a bad order id and total', { ...order, orderId: 'x', total: '12' }, { messageId: 'm1' }, 'body does not match the order contract: orderId, total'],
    ['an array body', [order], { messageId: 'm1' }, 'body does not match the order contract: (root)'],
  ])('rejects %s as poison', (_what, body, props, reason) => {
    expect(parse(body, props)).toEqual({ ok: false, reason });
  });
});
