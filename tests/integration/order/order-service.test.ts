import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertOrderTopology, type OrderQueues } from '../../../src/services/common/amqp.js';
import type { RunningService } from '../../../src/services/common/server.js';
import { orderConfigSchema, startOrderService } from '../../../src/services/order/service.js';
import { findSamples } from '../../../src/smoke/prometheus-text.js';
import { parseScrape } from './scrape.js';
import { connectTestBroker, deleteQueues, testAmqpUrl, uniqueQueues } from '../../helpers/broker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { eventually, memoryLogger } from '../../helpers/services.js';
import { amqpTarget, createTcpProxy, viaProxy, type TcpProxy } from './tcp-proxy.js';

/** The fields these tests read from /health and /orders/:id. */
interface HealthOrOrder {
  status?: string;
  published?: boolean;
  checks: Record<string, { ok: boolean; critical: boolean }>;
}

const newOrder = {
  customer: { email: 'outage@example.com', name: 'Outage Test' },
  items: [{ productId: 9, quantity: 1 }],
};

/**
 * The real service on a free port, its broker reached through a proxy the test cuts
 * and restores: an outage of the broker, seen from the service only.
 */
describe('order service with a broker that comes and goes', () => {
  let db: TestDatabase;
  let broker: ChannelModel;
  let channel: Channel;
  let queues: OrderQueues;
  let proxy: TcpProxy;
  let service: RunningService;
  let base: string;
  const seen: ConsumeMessage[] = [];

  beforeAll(async () => {
    [db, broker] = await Promise.all([createTestDatabase(), connectTestBroker()]);
    queues = uniqueQueues();
    channel = await broker.createChannel();
    await assertOrderTopology(channel, queues);
    await channel.consume(queues.orders, (msg) => msg && seen.push(msg), { noAck: true });
    proxy = await createTcpProxy(amqpTarget(testAmqpUrl()));
    // The broker is unreachable from the very start.
    await proxy.stop();
    const config = orderConfigSchema.parse({
      PORT: '0',
      DATABASE_URL: db.url,
      AMQP_URL: viaProxy(testAmqpUrl(), proxy),
      ORDERS_QUEUE: queues.orders,
      RELAY_POLL_MS: '200',
      LOG_LEVEL: 'silent',
    });
    service = await startOrderService(config, memoryLogger('order'));
    base = `http://127.0.0.1:${service.port}`;
  });
  afterAll(async () => {
    await service?.close();
    await proxy?.stop();
    await deleteQueues(broker, queues);
    await broker.close();
    await db.drop();
  });

  const post = async () => {
    const res = await fetch(`${base}/create-order`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(newOrder),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string };
  };
  const getJson = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: (await res.json()) as HealthOrOrder };
  };
  const metric = async (name: string) => {
    const metrics = parseScrape(await (await fetch(`${base}/metrics`)).text());
    return findSamples(metrics, name)[0]?.value;
  };
  const delivered = (id: string) =>
    eventually(() => seen.find((m) => m.properties.messageId === id), 20_000, `message ${id}`);

  it('accepts orders while the broker is away, reports degraded health, and delivers them when it returns', async () => {
    const health = await getJson('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('degraded');
    expect(health.body.checks.rabbitmq).toMatchObject({ ok: false, critical: false });
    expect(health.body.checks.postgres?.ok).toBe(true);

    const order = await post();
    await new Promise((r) => setTimeout(r, 500));
    expect(await metric('outbox_pending')).toBe(1);
    expect((await getJson(`/orders/${order.id}`)).body.published).toBe(false);
    expect(seen).toHaveLength(0);

    await proxy.start();
    const msg = await delivered(order.id);
    expect(msg.properties.deliveryMode).toBe(2);
    expect(JSON.parse(msg.content.toString()).orderId).toBe(order.id);
    await eventually(async () => ((await getJson(`/orders/${order.id}`)).body.published ? true : undefined), 5_000, 'published');
    expect(await metric('outbox_pending')).toBe(0);
    expect(await metric('orders_published_total')).toBe(1);
    expect((await getJson('/health')).body.status).toBe('ok');
  });

  it('keeps orders placed during a mid-run outage and delivers them after it', async () => {
    await proxy.stop();
    await eventually(async () => ((await getJson('/health')).body.status === 'degraded' ? true : undefined), 5_000, 'degraded health');
    const orders = [await post(), await post(), await post()];
    await new Promise((r) => setTimeout(r, 500));
    expect(await metric('outbox_pending')).toBe(3);

    await proxy.start();
    for (const order of orders) await delivered(order.id);
    await eventually(async () => ((await metric('outbox_pending')) === 0 ? true : undefined), 5_000, 'an empty outbox');
    expect(await metric('orders_created_total')).toBe(4);
    expect(await metric('orders_published_total')).toBe(4);
  });

  it('publishes new orders while the broker is up', async () => {
    // That a new order wakes the relay without waiting for its poll is the relay
    // unit test's job; here the whole path delivers (delivered() has its deadline).
    const order = await post();
    await delivered(order.id);
  });
});
