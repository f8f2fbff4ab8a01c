import { randomUUID } from 'node:crypto';
import type { Channel, GetMessage } from 'amqplib';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderQueues } from '../../../src/services/common/amqp.js';
import type { OrderConsumer } from '../../../src/services/frontend/consumer.js';
import { OrderFeed } from '../../../src/services/frontend/feed.js';
import { findSamples, parseMetrics } from '../../../src/smoke/prometheus-text.js';
import { type TestDatabase } from '../../helpers/database.js';
import { eventually, memoryLogger } from '../../helpers/services.js';
import { type ConsumerStack, openEventStream, publishOrder, sampleOrder, startConsumerStack } from './helpers.js';

describe('frontend order consumer and live feed', () => {
  let db: TestDatabase;
  let channel: Channel;
  let queues: OrderQueues;
  let stack: ConsumerStack | undefined;
  let consumer: OrderConsumer;
  let registry: Registry;
  let base: string;
  const feed = new OrderFeed();
  const logger = memoryLogger('frontend');

  const outcome = async (name: string) => {
    const metrics = parseMetrics(await registry.metrics());
    return findSamples(metrics, 'orders_consumed_total', { outcome: name })[0]?.value ?? 0;
  };
  const rowsFor = async (messageId: string) =>
    (await db.pool.query('SELECT order_id, payload FROM consumed_orders WHERE message_id = $1', [messageId])).rows;

  beforeAll(async () => {
    stack = await startConsumerStack(feed, logger, { retryDelayMs: 50 });
    ({ db, channel, queues, consumer, registry, base } = stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('stores a valid order, acks it, and pushes it to an open stream', async () => {
    const stream = await openEventStream(`${base}/api/orders/stream`);
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(stream.headers.get('cache-control')).toMatch(/no-cache/);
      const order = sampleOrder();
      publishOrder(channel, queues.orders, order);
      const event = await stream.waitFor((e) => e.id === order.orderId);
      expect(event.event).toBe('order');
      const data = JSON.parse(event.data!);
      expect(data).toMatchObject({ messageId: order.orderId, orderId: order.orderId, customerName: 'Ada Lovelace', itemCount: 2, total: 2598, currency: 'EUR' });
      // The feed is public: no e-mail address on it.
      expect(event.data).not.toContain('ada@example.com');
      const rows = await rowsFor(order.orderId);
      expect(rows).toHaveLength(1);
      expect(rows[0].payload).toEqual(order);
      await eventually(async () => ((await channel.checkQueue(queues.orders)).messageCount === 0 ? true : undefined), 5_000, 'an empty queue');
    } finally {
      stream.close();
    }
  });

  it('consumes a redelivered message (same messageId) once: one row, one event', async () => {
    const stream = await openEventStream(`${base}/api/orders/stream`);
    try {
      const order = sampleOrder({ customer: { email: 'grace@example.com', name: 'Grace Hopper' } });
      const duplicatesBefore = await outcome('duplicate');
      publishOrder(channel, queues.orders, order);
      publishOrder(channel, queues.orders, order);
      await eventually(async () => ((await outcome('duplicate')) === duplicatesBefore + 1 ? true : undefined), 5_000, 'the duplicate');
      expect(await rowsFor(order.orderId)).toHaveLength(1);
      // SSE is ordered: once a later marker arrives, every event for the order has too.
      const marker = sampleOrder();
      publishOrder(channel, queues.orders, marker);
      await stream.waitFor((e) => e.id === marker.orderId);
      expect(stream.events.filter((e) => e.id === order.orderId)).toHaveLength(1);
      // The time from order to consumption is observed once per stored order, never for the duplicate.
      const metrics = parseMetrics(await registry.metrics());
      const delayed = findSamples(metrics, 'orders_consumption_delay_seconds', {}, 'orders_consumption_delay_seconds_count')[0]?.value;
      expect(delayed).toBe(await outcome('consumed'));
    } finally {
      stream.close();
    }
  });

  it('dead-letters poison messages (bad JSON, wrong shape, no messageId) without redelivering them', async () => {
    const poisonBefore = await outcome('poison');
    const deadLettered = async () => findSamples(parseMetrics(await registry.metrics()), 'orders_dead_lettered_total', { reason: 'invalid' })[0]?.value;
    const deadLetteredBefore = await deadLettered();
    const badJsonId = `bad-json-${randomUUID()}`;
    const wrongShapeId = `wrong-shape-${randomUUID()}`;
    publishOrder(channel, queues.orders, {}, { messageId: badJsonId, raw: '{"orderId": ' });
    publishOrder(channel, queues.orders, { orderId: randomUUID(), items: [] }, { messageId: wrongShapeId });
    publishOrder(channel, queues.orders, sampleOrder({ customer: { email: 'x@example.com', name: 'No Id' } }), { messageId: undefined });

    const dead: GetMessage[] = [];
    await eventually(
      async () => {
        const msg = await channel.get(queues.deadLetterQueue, { noAck: false });
        if (msg) {
          dead.push(msg);
          channel.ack(msg);
        }
        return dead.length >= 3 ? true : undefined;
      },
      10_000,
      'three dead-lettered messages',
    );
    expect(dead.map((m) => m.properties.messageId).sort()).toEqual([badJsonId, wrongShapeId, undefined].sort());
    for (const m of dead) {
      const death = (m.properties.headers?.['x-death'] as Array<{ reason: string; queue: string }>)[0]!;
      expect(death).toMatchObject({ reason: 'rejected', queue: queues.orders });
    }
    expect(await outcome('poison')).toBe(poisonBefore + 3);
    expect(await deadLettered()).toBe(deadLetteredBefore! + 3);
    // Nothing went back to the work queue, and nothing was stored.
    await new Promise((r) => setTimeout(r, 300));
    expect(await outcome('poison')).toBe(poisonBefore + 3);
    expect((await channel.checkQueue(queues.orders)).messageCount).toBe(0);
    expect(await rowsFor(badJsonId)).toHaveLength(0);
    const reasons = logger.lines().filter((l) => l.msg === 'poison order message dead-lettered').map((l) => l.reason);
    expect(reasons).toEqual(expect.arrayContaining(['body is not valid JSON', 'missing or malformed messageId']));
  });

  it('requeues after a database error, with a pause, and stores the order once the database is back', async () => {
    await db.pool.query('ALTER TABLE consumed_orders RENAME TO consumed_orders_away');
    const order = sampleOrder();
    try {
      publishOrder(channel, queues.orders, order);
      await eventually(() => (logger.lines().filter((l) => l.messageId === order.orderId && l.msg === 'cannot store order; will requeue').length >= 2 ? true : undefined), 5_000, 'retries');
    } finally {
      await db.pool.query('ALTER TABLE consumed_orders_away RENAME TO consumed_orders');
    }
    await eventually(async () => ((await rowsFor(order.orderId)).length === 1 ? true : undefined), 10_000, 'the stored order');
    const delays = logger.lines().filter((l) => l.messageId === order.orderId && typeof l.delayMs === 'number').map((l) => l.delayMs as number);
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
  });

  /** Publishes `count` orders of this test's own and waits until each is stored. */
  const consumeOwnOrders = async (count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const order = sampleOrder();
      publishOrder(channel, queues.orders, order);
      await eventually(async () => ((await rowsFor(order.orderId)).length === 1 ? true : undefined), 5_000, `order ${order.orderId} stored`);
      ids.push(order.orderId);
    }
    return ids;
  };

  it('lists consumed orders newest first on /api/orders/recent, without e-mail addresses', async () => {
    const ids = await consumeOwnOrders(3);
    const res = await fetch(`${base}/api/orders/recent?limit=50`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Array<{ messageId: string }>; count: number };
    expect(body.items.slice(0, 3).map((o) => o.messageId)).toEqual([...ids].reverse());
    expect(body.count).toBe(body.items.length);
    expect(JSON.stringify(body)).not.toContain('@');
    const bad = await fetch(`${base}/api/orders/recent?limit=0`);
    expect(bad.status).toBe(400);
  });

  it('starts a new stream with the recent orders, resumes after Last-Event-ID, and sends heartbeats', async () => {
    const ids = await consumeOwnOrders(3);
    const fresh = await openEventStream(`${base}/api/orders/stream`);
    try {
      await fresh.waitFor((e) => e.id === ids[2]);
      expect(fresh.events.map((e) => e.id).slice(-3)).toEqual(ids);
      await eventually(() => (fresh.comments.includes('heartbeat') ? true : undefined), 2_000, 'a heartbeat');
    } finally {
      fresh.close();
    }
    const resumed = await openEventStream(`${base}/api/orders/stream`, { 'Last-Event-ID': ids[0]! });
    try {
      await resumed.waitFor((e) => e.id === ids[2]);
      expect(resumed.events.map((e) => e.id)).toEqual(ids.slice(1));
    } finally {
      resumed.close();
    }
  });

  it('drops a closed client from the feed', async () => {
    const stream = await openEventStream(`${base}/api/orders/stream`);
    await eventually(() => (feed.size >= 1 ? true : undefined), 2_000, 'a subscriber');
    stream.close();
    await eventually(() => (feed.size === 0 ? true : undefined), 2_000, 'the subscriber to leave');
  });

  it('stops consuming on close(); later messages wait in the queue', async () => {
    await consumer.close();
    publishOrder(channel, queues.orders, sampleOrder());
    await eventually(async () => ((await channel.checkQueue(queues.orders)).messageCount === 1 ? true : undefined), 5_000, 'the waiting message');
    expect((await channel.checkQueue(queues.orders)).consumerCount).toBe(0);
  });
});
