import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertOrderTopology, type OrderQueues } from '../../../src/services/common/amqp.js';
import { connectOrderPublisher, type OrderPublisher } from '../../../src/services/order/broker-publisher.js';
import { OutboxRelay } from '../../../src/services/order/outbox-relay.js';
import { placeOrder } from '../../../src/services/order/place-order.js';
import { connectTestBroker, deleteQueues, testAmqpUrl, uniqueQueues } from '../../helpers/broker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { eventually, memoryLogger } from '../../helpers/services.js';

const order = (productId: number) => ({
  customer: { email: 'relay@example.com', name: 'Relay Test' },
  items: [{ productId, quantity: 1 }],
});

/** Collects every message that reaches `queue`. */
async function collect(channel: Channel, queue: string): Promise<ConsumeMessage[]> {
  const seen: ConsumeMessage[] = [];
  await channel.consume(queue, (msg) => msg && seen.push(msg), { noAck: true });
  return seen;
}

describe('outbox relay', () => {
  let db: TestDatabase;
  let broker: ChannelModel;
  let channel: Channel;
  let queues: OrderQueues;
  const publishers: OrderPublisher[] = [];
  const logger = memoryLogger('order');

  beforeAll(async () => {
    [db, broker] = await Promise.all([createTestDatabase(), connectTestBroker()]);
    channel = await broker.createChannel();
  });
  afterEach(async () => {
    await Promise.all(publishers.splice(0).map((p) => p.close()));
    await db.pool.query('UPDATE outbox SET published_at = now() WHERE published_at IS NULL');
    await deleteQueues(broker, queues);
  });
  afterAll(async () => {
    await broker.close();
    await db.drop();
  });

  const freshQueues = async () => {
    queues = uniqueQueues();
    await assertOrderTopology(channel, queues);
    return queues;
  };
  const publisher = async (q: OrderQueues) => {
    const p = await connectOrderPublisher(testAmqpUrl(), q, logger);
    publishers.push(p);
    await eventually(() => (p.ready ? true : undefined), 5_000, 'the publisher channel');
    return p;
  };

  it('publishes a persistent message with the order id as messageId and the outbox payload as body', async () => {
    const q = await freshQueues();
    const seen = await collect(channel, q.orders);
    const placed = await placeOrder(db.pool, order(4));
    if (placed.kind !== 'created') throw new Error(placed.kind);
    const relay = new OutboxRelay({ pool: db.pool, publisher: await publisher(q), logger, batchSize: 500, pollMs: 1_000 });
    expect(await relay.relayBatch()).toBe(1);

    const msg = await eventually(() => seen[0], 5_000, 'the order message');
    expect(msg.properties).toMatchObject({
      deliveryMode: 2,
      messageId: placed.order.id,
      contentType: 'application/json',
      type: 'order.created',
    });
    expect(JSON.parse(msg.content.toString())).toEqual({
      orderId: placed.order.id,
      createdAt: placed.order.createdAt,
      customer: { email: 'relay@example.com', name: 'Relay Test' },
      items: [{ productId: 4, name: '27-inch 4K Monitor', unitPrice: 379, quantity: 1 }],
      total: 379,
      currency: 'USD',
      test: false,
    });
    const { rows } = await db.pool.query('SELECT published_at FROM outbox WHERE order_id = $1', [placed.order.id]);
    expect(rows[0].published_at).toBeInstanceOf(Date);
    expect(await relay.relayBatch()).toBe(0);
  });

  it('shares the outbox between replicas without sending a row twice', async () => {
    const q = await freshQueues();
    const seen = await collect(channel, q.orders);
    const ORDERS = 600;
    await Promise.all(Array.from({ length: ORDERS }, (_, i) => placeOrder(db.pool, order((i % 14) + 1))));
    const relays = await Promise.all(
      [1, 2, 3].map(async () => new OutboxRelay({ pool: db.pool, publisher: await publisher(q), logger, batchSize: 50, pollMs: 1_000 })),
    );
    const drain = async (relay: OutboxRelay) => {
      let total = 0;
      for (let sent = -1; sent !== 0; total += sent) sent = await relay.relayBatch();
      return total;
    };
    const counts = await Promise.all(relays.map(drain));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(ORDERS);
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1);
    await eventually(() => (seen.length >= ORDERS ? true : undefined), 10_000, `${ORDERS} messages`);
    expect(new Set(seen.map((m) => m.properties.messageId)).size).toBe(ORDERS);
  });

  it('drains a backlog with two lanes in flight, each message once', async () => {
    const q = await freshQueues();
    const seen = await collect(channel, q.orders);
    const ORDERS = 1_000;
    await Promise.all(Array.from({ length: ORDERS }, (_, i) => placeOrder(db.pool, order((i % 14) + 1))));
    const batches: number[] = [];
    const relay = new OutboxRelay({
      pool: db.pool,
      publisher: await publisher(q),
      logger,
      batchSize: 100,
      pollMs: 60_000,
      lanes: 2,
      onBatchPublished: (n) => batches.push(n),
    });
    relay.start();
    await eventually(() => (seen.length >= ORDERS ? true : undefined), 15_000, `${ORDERS} messages`);
    await relay.close();
    expect(batches.reduce((a, b) => a + b, 0)).toBe(ORDERS);
    expect(new Set(seen.map((m) => m.properties.messageId)).size).toBe(ORDERS);
    expect(seen).toHaveLength(ORDERS);
  });

  it('keeps rows pending when publishing fails, and sends them on the next round', async () => {
    const q = await freshQueues();
    const seen = await collect(channel, q.orders);
    const placed = await placeOrder(db.pool, order(6));
    if (placed.kind !== 'created') throw new Error(placed.kind);
    let fail = true;
    const real = await publisher(q);
    const flaky = {
      get ready() {
        return true;
      },
      publishBatch: async (messages: Parameters<OrderPublisher['publishBatch']>[0]) => {
        if (fail) throw new Error('broker said no');
        await real.publishBatch(messages);
      },
    };
    const relay = new OutboxRelay({ pool: db.pool, publisher: flaky, logger, batchSize: 10, pollMs: 1_000 });
    await expect(relay.relayBatch()).rejects.toThrow('broker said no');
    const { rows } = await db.pool.query('SELECT published_at FROM outbox WHERE order_id = $1', [placed.order.id]);
    expect(rows[0].published_at).toBeNull();
    fail = false;
    expect(await relay.relayBatch()).toBe(1);
    await eventually(() => seen.find((m) => m.properties.messageId === placed.order.id), 5_000, 'the retried message');
  });

  it('fails the batch, keeping it pending, when the queue was deleted under it, then re-declares it', async () => {
    const q = await freshQueues();
    const pub = await publisher(q);
    await channel.deleteQueue(q.orders);
    const placed = await placeOrder(db.pool, order(7));
    if (placed.kind !== 'created') throw new Error(placed.kind);
    const relay = new OutboxRelay({ pool: db.pool, publisher: pub, logger, batchSize: 10, pollMs: 1_000 });
    await expect(relay.relayBatch()).rejects.toThrow(/unroutable/);
    expect(await relay.relayBatch()).toBe(1);
    const got = await eventually(async () => (await channel.get(q.orders, { noAck: true })) || undefined, 5_000, 'the message');
    expect(got.properties.messageId).toBe(placed.order.id);
  });

  it('is woken by a new order instead of waiting for its poll, and stops cleanly', async () => {
    const q = await freshQueues();
    const seen = await collect(channel, q.orders);
    const relay = new OutboxRelay({ pool: db.pool, publisher: await publisher(q), logger, batchSize: 500, pollMs: 60_000 });
    relay.start();
    await new Promise((r) => setTimeout(r, 100));
    const placed = await placeOrder(db.pool, order(8));
    if (placed.kind !== 'created') throw new Error(placed.kind);
    relay.orderCreated();
    await eventually(() => seen.find((m) => m.properties.messageId === placed.order.id), 3_000, 'the woken relay');
    await relay.close();
  });
});
