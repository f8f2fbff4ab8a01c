import { randomUUID } from 'node:crypto';
import type { Channel } from 'amqplib';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderQueues } from '../../../src/services/common/amqp.js';
import { listen } from '../../../src/services/common/server.js';
import { createFrontendApp } from '../../../src/services/frontend/app.js';
import { OrderFeed } from '../../../src/services/frontend/feed.js';
import { Gateway } from '../../../src/services/frontend/gateway.js';
import { findSamples, parseMetrics } from '../../../src/smoke/prometheus-text.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { memoryLogger } from '../../helpers/services.js';
import express from 'express';
import { type ConsumerStack, openEventStream, publishOrder, sampleOrder, serve, startConsumerStack } from './helpers.js';

/**
 * Test orders (docs/architecture.md, "Test orders"): consumed, stored and counted like
 * any order, visible at /api/orders/:id/consumed, and never in what shoppers see - the
 * live stream, its history and catch-up, /api/orders/recent.
 */
describe('frontend: test orders are consumed but kept out of the live feed', () => {
  let db: TestDatabase;
  let channel: Channel;
  let queues: OrderQueues;
  let stack: ConsumerStack | undefined;
  let registry: Registry;
  let base: string;
  const feed = new OrderFeed();
  const logger = memoryLogger('frontend');
  const shopper = (name: string) => sampleOrder({ customer: { email: `${name}@example.com`, name } });
  const before = shopper('Ada Lovelace');
  const testOrder = sampleOrder({ customer: { email: 'smoke+consumer@example.com', name: 'Smoke Test' }, test: true });
  const after = shopper('Grace Hopper');

  const consumedCount = async () => findSamples(parseMetrics(await registry.metrics()), 'orders_consumed_total', { outcome: 'consumed' })[0]?.value ?? 0;
  const json = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    // One message at a time, in queue order: once a later order is on the stream, an
    // earlier one had its chance to be published.
    stack = await startConsumerStack(feed, logger, { prefetch: 1 });
    ({ db, channel, queues, registry, base } = stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('consumes and counts a test order without sending it to an open stream, while the orders around it arrive', async () => {
    const stream = await openEventStream(`${base}/api/orders/stream`);
    try {
      const counted = await consumedCount();
      for (const order of [before, testOrder, after]) publishOrder(channel, queues.orders, order);
      await stream.waitFor((e) => e.id === after.orderId);
      const ids = stream.events.filter((e) => e.event === 'order').map((e) => e.id);
      expect(ids).toEqual([before.orderId, after.orderId]);
      expect(await consumedCount()).toBe(counted + 3);
      const { rows } = await db.pool.query('SELECT test, payload FROM consumed_orders WHERE message_id = $1', [testOrder.orderId]);
      expect(rows).toEqual([{ test: true, payload: testOrder }]);
    } finally {
      stream.close();
    }
  });

  it('answers GET /api/orders/:id/consumed for test and ordinary orders alike', async () => {
    const test = await json(`/api/orders/${testOrder.orderId.toUpperCase()}/consumed`);
    expect(test).toEqual({
      status: 200,
      body: { orderId: testOrder.orderId, messageId: testOrder.orderId, test: true, consumedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) },
    });
    expect((await json(`/api/orders/${before.orderId}/consumed`)).body).toMatchObject({ orderId: before.orderId, test: false });
  });

  it('answers 404 for an order not consumed and 400 naming id for a malformed one', async () => {
    const missing = await json(`/api/orders/${randomUUID()}/consumed`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'not_found' } });
    const bad = await json('/api/orders/not-a-uuid/consumed');
    expect(bad.status).toBe(400);
    expect((bad.body.error as { details: Array<{ field: string }> }).details.map((d) => d.field)).toEqual(['id']);
  });

  it('leaves test orders out of /api/orders/recent, the stream history and a reconnect catch-up', async () => {
    const recent = await json('/api/orders/recent?limit=100');
    expect((recent.body.items as Array<{ orderId: string }>).map((o) => o.orderId)).toEqual([after.orderId, before.orderId]);

    const fresh = await openEventStream(`${base}/api/orders/stream`);
    const resumed = await openEventStream(`${base}/api/orders/stream`, { 'last-event-id': before.orderId });
    try {
      await fresh.waitFor((e) => e.id === after.orderId);
      await resumed.waitFor((e) => e.id === after.orderId);
      // A history is written in one go before live events: once its last order is there, all of it is.
      expect(fresh.events.map((e) => e.id)).toEqual([before.orderId, after.orderId]);
      expect(resumed.events.map((e) => e.id)).toEqual([after.orderId]);
    } finally {
      fresh.close();
      resumed.close();
    }
  });
});

describe('frontend gateway: a shopper cannot place a test order', () => {
  it('does not forward X-Ecom-Test-Order to the order service', async () => {
    const seen: Array<string | undefined> = [];
    const order = express();
    order.post('/create-order', (req, res) => {
      seen.push(req.get('x-ecom-test-order'));
      res.status(201).json({ id: randomUUID(), test: false });
    });
    const upstream = await serve(order);
    const db = await createTestDatabase({ seed: false });
    const feed = new OrderFeed();
    const frontend = createFrontendApp({
      pool: db.pool,
      logger: memoryLogger('frontend'),
      feed,
      gateway: new Gateway({ upstreams: { catalog: upstream.url, search: upstream.url, order: upstream.url }, timeoutMs: 2_000 }),
    });
    const server = await listen(frontend.app, 0, '127.0.0.1');
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ecom-test-order': 'true' },
        body: JSON.stringify({ customer: { email: 'ada@example.com', name: 'Ada' }, items: [{ productId: 1, quantity: 1 }] }),
      });
      expect(res.status).toBe(201);
      expect(seen).toEqual([undefined]);
    } finally {
      feed.close();
      await server.close();
      await upstream.close();
      await db.drop();
    }
  });
});
