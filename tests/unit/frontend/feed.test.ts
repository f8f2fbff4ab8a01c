import { describe, expect, it } from 'vitest';
import { OrderFeed } from '../../../src/services/frontend/feed.js';

describe('OrderFeed', () => {
  it('fans out to every subscriber, survives a throwing one, and closes them all', () => {
    const feed = new OrderFeed();
    const got: string[] = [];
    let closed = 0;
    feed.subscribe({ onOrder: (o) => got.push(o.messageId), onClose: () => closed++ });
    feed.subscribe({ onOrder: () => { throw new Error('socket gone'); }, onClose: () => closed++ });
    const order = { messageId: 'm1' } as Parameters<OrderFeed['publish']>[0];
    feed.publish(order);
    feed.publish({ ...order, messageId: 'm2' });
    expect(got).toEqual(['m1', 'm2']);
    expect(feed.size).toBe(1);
    feed.close();
    expect(closed).toBe(1);
    feed.subscribe({ onOrder: () => {}, onClose: () => closed++ });
    expect(closed).toBe(2);
    expect(feed.size).toBe(0);
  });
});
