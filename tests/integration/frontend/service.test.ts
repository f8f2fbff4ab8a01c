import type { Channel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogConfigSchema, startCatalogService } from '../../../src/services/catalog/service.js';
import type { OrderQueues } from '../../../src/services/common/amqp.js';
import { ConfigError, parseConfig } from '../../../src/services/common/config.js';
import type { RunningService } from '../../../src/services/common/server.js';
import { frontendConfigSchema, startFrontendService } from '../../../src/services/frontend/service.js';
import { findSamples, parseMetrics } from '../../../src/smoke/prometheus-text.js';
import { openTestQueues, testAmqpUrl, type TestBroker } from '../../helpers/broker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { eventually, memoryLogger } from '../../helpers/services.js';
import { openEventStream, publishOrder, recordingApp, sampleOrder, serve, type Upstream } from './helpers.js';

describe('frontend service as started by main', () => {
  let db: TestDatabase;
  let channel: Channel;
  let queues: OrderQueues;
  let broker: TestBroker | undefined;
  let catalog: RunningService;
  let others: Upstream;
  let frontend: RunningService | undefined;
  let base: string;

  const env = () => ({
    PORT: '0',
    DATABASE_URL: db.url,
    AMQP_URL: testAmqpUrl(),
    CATALOG_URL: `http://127.0.0.1:${catalog.port}`,
    SEARCH_URL: others.url,
    ORDER_URL: others.url,
    ORDERS_QUEUE: queues.orders,
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    broker = await openTestQueues();
    ({ channel, queues } = broker);
    catalog = await startCatalogService(parseConfig(catalogConfigSchema, { PORT: '0', DATABASE_URL: db.url }), memoryLogger('catalog'));
    others = await serve(recordingApp().app);
    frontend = await startFrontendService(parseConfig(frontendConfigSchema, env()), memoryLogger('frontend'));
    base = `http://127.0.0.1:${frontend.port}`;
  });
  afterAll(async () => {
    await frontend?.close();
    await catalog?.close();
    await others?.close();
    await broker?.close();
    await db?.drop();
  });

  it('reads its environment with defaults, and names a bad or missing variable', () => {
    const config = parseConfig(frontendConfigSchema, { ...env(), PORT: undefined, ORDERS_QUEUE: undefined });
    expect(config).toMatchObject({ PORT: 5004, ORDERS_QUEUE: 'orders', UPSTREAM_TIMEOUT_MS: 3000, HOST: '127.0.0.1' });
    expect(() => parseConfig(frontendConfigSchema, { ...env(), CATALOG_URL: undefined })).toThrow(
      new ConfigError('CATALOG_URL', 'is required but not set'),
    );
    expect(() => parseConfig(frontendConfigSchema, { ...env(), ORDER_URL: 'ftp://x' })).toThrow(/ORDER_URL must be an http\(s\):\/\/ URL/);
    expect(() => parseConfig(frontendConfigSchema, { ...env(), UPSTREAM_TIMEOUT_MS: 'soon' })).toThrow(/UPSTREAM_TIMEOUT_MS/);
  });

  it('serves the storefront with products from the real catalog service', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Noise-Cancelling Headphones');
  });

  it('is healthy once connected, and consumes orders into /api/orders/recent and /metrics', async () => {
    await eventually(async () => {
      const res = await fetch(`${base}/health`);
      const body = (await res.json()) as { status: string };
      return res.status === 200 && body.status === 'ok' ? true : undefined;
    }, 10_000, 'a healthy frontend');
    const order = sampleOrder();
    publishOrder(channel, queues.orders, order);
    await eventually(async () => {
      const body = (await (await fetch(`${base}/api/orders/recent`)).json()) as { items: Array<{ orderId: string }> };
      return body.items.some((o) => o.orderId === order.orderId) ? true : undefined;
    }, 10_000, 'the consumed order');
    const metrics = parseMetrics(await (await fetch(`${base}/metrics`)).text());
    expect(findSamples(metrics, 'orders_consumed_total', { service: 'frontend', outcome: 'consumed' })[0]?.value).toBe(1);
  });

  it('closes promptly while a live stream is open, ending the stream and the consumer', async () => {
    const stream = await openEventStream(`${base}/api/orders/stream`);
    await stream.waitFor(() => true);
    const started = Date.now();
    await frontend!.close();
    frontend = undefined;
    await stream.ended;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await channel.checkQueue(queues.orders)).consumerCount).toBe(0);
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });
});
