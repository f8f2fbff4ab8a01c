/**
 * The broker restarted in the middle of a load of orders (docs/architecture.md,
 * "Faults"): a RabbitMQ node of the test's own is killed and started again while a
 * client places 400 orders through the frontend, retrying failures with the same
 * Idempotency-Key. Real processes: the built order and frontend services, the node,
 * PostgreSQL. Afterwards every accepted order is stored once, and the consumer's
 * record of processed messages is exactly the set of accepted orders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { eventually } from '../helpers/services.js';
import { OrderLoad, tally } from './helpers/order-load.js';
import { consumedMessageIds, metricValue, pendingOutboxRows, storedOrdersByKey } from './helpers/pipeline.js';
import { startPrivateBroker, type PrivateBroker } from './helpers/private-broker.js';
import { startService, type ServiceProcess } from './helpers/service-process.js';

const BEFORE = 150;
const DURING_MAX = 150;
const AFTER = 100;
const KEY_PREFIX = 'broker-restart';
// Nothing should be slow here: the client's deadline only turns a hang into a record.
const REQUEST_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 60_000;

describe('broker killed and restarted under load', () => {
  let db: TestDatabase;
  let broker: PrivateBroker;
  let order: ServiceProcess;
  let frontend: ServiceProcess;

  beforeAll(async () => {
    [db, broker] = await Promise.all([createTestDatabase(), startPrivateBroker()]);
    const common = { DATABASE_URL: db.url, AMQP_URL: broker.url };
    order = await startService('order', common);
    frontend = await startService('frontend', {
      ...common,
      ORDER_URL: order.url,
      // Not called by this test: orders go to the order service only.
      CATALOG_URL: 'http://127.0.0.1:9',
      SEARCH_URL: 'http://127.0.0.1:9',
    });
    await frontend.waitForLine((l) => l.msg === 'consuming orders');
  }, 180_000);

  afterAll(async () => {
    await Promise.all([frontend?.stop(), order?.stop()]);
    await Promise.all([broker?.destroy(), db?.drop()]);
  }, 60_000);

  it('stores every accepted order once and consumes each exactly once', { timeout: 240_000 }, async () => {
    const load = new OrderLoad({
      url: `${frontend.url}/api/orders`,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      retryDelayMs: 200,
      maxAttempts: 50,
      keyPrefix: KEY_PREFIX,
      giveUpAfterMs: 90_000,
    });

    // The node goes down while the relay is publishing and the consumer consuming.
    load.phase = 'before';
    const before = load.send({ count: BEFORE, concurrency: 6 });
    await eventually(() => (load.accepted.size >= BEFORE / 2 ? true : undefined), 30_000, 'half the first orders');
    // Killed, not stopped: a graceful stop confirms what it took before closing, so
    // only a crash loses the messages in flight that the relay must send again.
    const restarted = (async () => {
      await broker.kill();
      load.phase = 'broker down';
      await broker.start();
    })();
    await before;
    load.phase = 'broker dying';
    // Orders keep coming, paced, while the node stops and boots.
    await load.send({ count: DURING_MAX, concurrency: 2, pauseMs: 100, until: restarted });
    await restarted;
    load.phase = 'after';
    await load.send({ count: AFTER, concurrency: 6 });

    const summary = JSON.stringify(tally(load.answers));
    // The fault really happened under load: orders were placed while the node was down,
    // and both services saw the connection go and come back.
    expect(load.answers.some((a) => a.phase === 'broker down'), summary).toBe(true);
    for (const service of [order, frontend]) {
      expect(service.lines().some((l) => l.msg === 'broker disconnected; reconnecting'), service.name).toBe(true);
    }
    expect(order.running && frontend.running).toBe(true);

    // Every order the client sent was accepted, under one id per key.
    expect(load.accepted.size, summary).toBe(load.keys.length);
    const stored = await storedOrdersByKey(db.pool, KEY_PREFIX);
    const duplicates = [...stored].filter(([, ids]) => ids.length > 1);
    expect(duplicates, 'keys stored more than once').toEqual([]);
    expect(new Map([...stored].map(([key, ids]) => [key, ids[0]]))).toEqual(load.accepted);

    // Every accepted order is published and consumed; the consumer's record holds
    // exactly the accepted order ids: none missing, none extra, none twice.
    const acceptedIds = [...load.accepted.values()].sort();
    await eventually(
      async () => ((await pendingOutboxRows(db.pool)) === 0 && (await consumedMessageIds(db.pool)).length >= acceptedIds.length ? true : undefined),
      DRAIN_TIMEOUT_MS,
      'every accepted order to be published and consumed',
    );
    expect(await consumedMessageIds(db.pool)).toEqual(acceptedIds);
    // The effect (stored row, live feed event) happened once per order: redeliveries
    // after the restart were recognised as duplicates, not applied again.
    expect(await metricValue(frontend.url, 'orders_consumed_total', { outcome: 'consumed' })).toBe(acceptedIds.length);
    expect(await metricValue(frontend.url, 'orders_consumed_total', { outcome: 'poison' })).toBe(0);
    expect(await metricValue(order.url, 'orders_published_total')).toBeGreaterThanOrEqual(acceptedIds.length);
    console.info(
      `broker restart: ${acceptedIds.length} orders, answers ${summary}, ` +
        `duplicates deliveries ${await metricValue(frontend.url, 'orders_consumed_total', { outcome: 'duplicate' })}`,
    );
  });
});
