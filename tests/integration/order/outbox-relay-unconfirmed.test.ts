/**
 * The relay against a broker that takes messages but does not confirm them: an order
 * is marked published only after its confirm. The broker is real; a TCP proxy between
 * it and the publisher holds back the broker's answers or cuts the connection
 * mid-batch, so nothing of the shared broker is touched.
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertOrderTopology, type OrderQueues } from '../../../src/services/common/amqp.js';
import { connectOrderPublisher, type OrderPublisher } from '../../../src/services/order/broker-publisher.js';
import { OutboxRelay } from '../../../src/services/order/outbox-relay.js';
import { placeOrder } from '../../../src/services/order/place-order.js';
import { connectTestBroker, deleteQueues, testAmqpUrl, uniqueQueues } from '../../helpers/broker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { eventually, memoryLogger } from '../../helpers/services.js';
import { amqpTarget, createTcpProxy, viaProxy, type TcpProxy } from './tcp-proxy.js';

const CONFIRM_TIMEOUT_MS = 1_500;

describe('outbox relay when confirms do not come', () => {
  let db: TestDatabase;
  let broker: ChannelModel;
  let channel: Channel;
  let queues: OrderQueues;
  let proxy: TcpProxy;
  let publisher: OrderPublisher;
  let relay: OutboxRelay;
  const seen: ConsumeMessage[] = [];
  const logger = memoryLogger('order');

  const publishedAt = async (orderId: string) =>
    (await db.pool.query<{ published_at: Date | null }>('SELECT published_at FROM outbox WHERE order_id = $1', [orderId])).rows[0]!.published_at;
  const newOrder = async () => {
    const placed = await placeOrder(db.pool, { customer: { email: 'unconfirmed@example.com', name: 'No Confirm' }, items: [{ productId: 3, quantity: 1 }] });
    if (placed.kind !== 'created') throw new Error(`order not created: ${placed.kind}`);
    return placed.order.id;
  };

  beforeAll(async () => {
    [db, broker] = await Promise.all([createTestDatabase(), connectTestBroker()]);
    channel = await broker.createChannel();
    queues = uniqueQueues();
    await assertOrderTopology(channel, queues);
    await channel.consume(queues.orders, (msg) => msg && seen.push(msg), { noAck: true });
    proxy = await createTcpProxy(amqpTarget(testAmqpUrl()));
    publisher = await connectOrderPublisher(viaProxy(testAmqpUrl(), proxy), queues, logger, { confirmTimeoutMs: CONFIRM_TIMEOUT_MS });
    await eventually(() => (publisher.ready ? true : undefined), 5_000, 'the publisher channel');
    relay = new OutboxRelay({ pool: db.pool, publisher, logger, batchSize: 10, pollMs: 60_000 });
  });
  afterEach(async () => {
    // Leave no pending row behind for the next test's relayBatch().
    await db.pool.query('UPDATE outbox SET published_at = now() WHERE published_at IS NULL');
  });
  afterAll(async () => {
    await publisher?.close();
    await proxy?.stop();
    await deleteQueues(broker, queues);
    await broker?.close();
    await db?.drop();
  });

  /** Cuts the publisher's connection and waits until it has a fresh channel. */
  const reconnect = async () => {
    await proxy.stop();
    await eventually(() => (publisher.ready ? undefined : true), 5_000, 'the publisher to notice the cut');
    await proxy.start();
    await eventually(() => (publisher.ready ? true : undefined), 10_000, 'the publisher to reconnect through the proxy');
  };
  /** Starts a batch; its outcome is awaited later (never left unhandled). */
  const startBatch = () => {
    const batch = relay.relayBatch();
    batch.catch(() => {});
    return batch;
  };

  it('keeps an order unpublished while its confirm is outstanding, fails the batch at the confirm timeout, and publishes it on retry', async () => {
    const orderId = await newOrder();
    proxy.holdReplies();
    const batch = startBatch();
    // The message reaches the broker, but its confirm does not reach the relay.
    await eventually(() => seen.find((m) => m.properties.messageId === orderId), 5_000, 'the message at the broker');
    expect(await publishedAt(orderId)).toBeNull();
    await expect(batch).rejects.toThrow(`no publisher confirms within ${CONFIRM_TIMEOUT_MS} ms`);
    expect(await publishedAt(orderId)).toBeNull();

    await reconnect();
    expect(await relay.relayBatch()).toBe(1);
    expect(await publishedAt(orderId)).not.toBeNull();
    // Sent twice (at least once), the same messageId both times, so the consumer de-duplicates.
    await eventually(() => (seen.filter((m) => m.properties.messageId === orderId).length === 2 ? true : undefined), 5_000, 'the retried message');
  });

  it('abandons a batch still waiting for confirms when closed with a deadline, leaving it pending', async () => {
    const orderId = await newOrder();
    proxy.holdReplies();
    const closing = new OutboxRelay({ pool: db.pool, publisher, logger, batchSize: 10, pollMs: 60_000 });
    closing.start();
    await eventually(() => seen.find((m) => m.properties.messageId === orderId), 5_000, 'the message at the broker');
    // Well before the confirm timeout: close() returns because it abandons the batch.
    await closing.close({ abandonAt: Date.now() + 100 });
    expect(await publishedAt(orderId)).toBeNull();
    expect(logger.lines().some((l) => String(l.err).includes('batch abandoned before its confirms'))).toBe(true);
    await reconnect();
    expect(await relay.relayBatch()).toBe(1);
    expect(await publishedAt(orderId)).not.toBeNull();
  });

  it('keeps the batch pending when the connection is cut before the confirms arrive', async () => {
    const orderId = await newOrder();
    proxy.holdReplies();
    const batch = startBatch();
    await eventually(() => seen.find((m) => m.properties.messageId === orderId), 5_000, 'the message at the broker');
    await proxy.stop();
    await expect(batch).rejects.toThrow();
    expect(await publishedAt(orderId)).toBeNull();

    await eventually(() => (publisher.ready ? undefined : true), 5_000, 'the publisher to notice the cut');
    await proxy.start();
    await eventually(() => (publisher.ready ? true : undefined), 10_000, 'the publisher to reconnect through the proxy');
    expect(await relay.relayBatch()).toBe(1);
    expect(await publishedAt(orderId)).not.toBeNull();
  });
});
