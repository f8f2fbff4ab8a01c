import type { Channel } from 'amqplib';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderQueues } from '../../../src/services/common/amqp.js';
import { startOrderConsumer, type OrderConsumer } from '../../../src/services/frontend/consumer.js';
import { OrderFeed, type FeedOrder } from '../../../src/services/frontend/feed.js';
import { openTestQueues, testAmqpUrl, type TestBroker } from '../../helpers/broker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { eventually, memoryLogger } from '../../helpers/services.js';
import { amqpTarget, createTcpProxy, viaProxy, type TcpProxy } from '../order/tcp-proxy.js';
import { publishOrder, sampleOrder } from './helpers.js';

/** The consumer reaches the broker through a proxy the test cuts, to play a broker outage. */
describe('frontend order consumer across a broker outage', () => {
  let db: TestDatabase;
  let channel: Channel;
  let queues: OrderQueues;
  let broker: TestBroker | undefined;
  let proxy: TcpProxy;
  let consumer: OrderConsumer;
  const feed = new OrderFeed();
  const pushed: FeedOrder[] = [];
  const logger = memoryLogger('frontend');

  const rowCount = async (messageId: string) =>
    (await db.pool.query('SELECT 1 FROM consumed_orders WHERE message_id = $1', [messageId])).rowCount;

  beforeAll(async () => {
    db = await createTestDatabase({ seed: false });
    broker = await openTestQueues();
    ({ channel, queues } = broker);
    proxy = await createTcpProxy(amqpTarget(testAmqpUrl()));
    feed.subscribe({ onOrder: (o) => pushed.push(o), onClose: () => {} });
    consumer = await startOrderConsumer({
      amqpUrl: viaProxy(testAmqpUrl(), proxy),
      queues,
      pool: db.pool,
      feed,
      logger,
      registry: new Registry(),
      retryDelayMs: 200,
    });
    await eventually(() => (consumer.broker.connected ? true : undefined), 10_000, 'the consumer to connect');
  });
  afterAll(async () => {
    await consumer?.close();
    await proxy?.stop();
    feed.close();
    await broker?.close();
    await db?.drop();
  });

  it('reconnects by itself and consumes what was published while it was away', async () => {
    await proxy.stop();
    await eventually(() => (consumer.broker.connected ? undefined : true), 5_000, 'the consumer to notice');
    await expect(consumer.broker.ping()).rejects.toThrow(/broker unreachable/);
    const order = sampleOrder();
    publishOrder(channel, queues.orders, order);
    await proxy.start();
    await eventually(async () => ((await rowCount(order.orderId)) === 1 ? true : undefined), 15_000, 'the order after reconnecting');
    expect(pushed.map((o) => o.messageId)).toContain(order.orderId);
  });

  it('stores an order once when the connection dies before it could be settled', async () => {
    // The insert fails, so the message waits for its requeue; the outage cuts the channel
    // first, and the broker redelivers the unsettled message to the next connection.
    await db.pool.query('ALTER TABLE consumed_orders RENAME TO consumed_orders_away');
    const order = sampleOrder();
    try {
      publishOrder(channel, queues.orders, order);
      await eventually(() => (logger.lines().some((l) => l.messageId === order.orderId) ? true : undefined), 5_000, 'a failed insert');
      await proxy.stop();
    } finally {
      await db.pool.query('ALTER TABLE consumed_orders_away RENAME TO consumed_orders');
    }
    await proxy.start();
    await eventually(async () => ((await rowCount(order.orderId)) === 1 ? true : undefined), 15_000, 'the redelivered order');
    await eventually(async () => ((await channel.checkQueue(queues.orders)).messageCount === 0 ? true : undefined), 5_000, 'an empty queue');
    expect(pushed.filter((o) => o.messageId === order.orderId)).toHaveLength(1);
  });
});
