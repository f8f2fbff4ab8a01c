/**
 * PostgreSQL stopped during load (docs/architecture.md, "Faults"): a server of the
 * test's own is stopped (fast shutdown) and started again while a client places orders
 * through the frontend (retrying failures with the same Idempotency-Key) and readers
 * ask the catalog, search, order and feed paths. Real processes: the four built
 * services, PostgreSQL, the test broker. Every answer is a success or a 503 JSON error
 * within the client's deadline, never a hang and never a 500; the same processes serve
 * again once PostgreSQL is back, and every accepted order is stored once and consumed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, deleteQueues, testAmqpUrl, uniqueQueues } from '../helpers/broker.js';
import { eventually } from '../helpers/services.js';
import { OrderLoad, tally, type Answer } from './helpers/order-load.js';
import { consumedMessageIds, pendingOutboxRows, storedOrdersByKey } from './helpers/pipeline.js';
import { startPrivatePostgres, type PrivatePostgres } from './helpers/private-postgres.js';
import { ReadLoad, type ReadAnswer } from './helpers/read-load.js';
import { startService, type ServiceProcess } from './helpers/service-process.js';

const KEY_PREFIX = 'pg-outage';
// The client's deadline: an answer must come before it, whatever PostgreSQL does.
const REQUEST_TIMEOUT_MS = 10_000;
const OUTAGE_MS = 5_000;
const DRAIN_TIMEOUT_MS = 60_000;
const RECOVERY_TIMEOUT_MS = 30_000;

/** A success, or a 503 whose body is the JSON error of every service. */
function acceptable(a: Pick<Answer, 'status' | 'contentType' | 'body'>): boolean {
  if (typeof a.status !== 'number') return false;
  if (a.status < 400) return true;
  const error = (a.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return a.status === 503 && /json/.test(a.contentType) && typeof error?.code === 'string' && typeof error.message === 'string';
}

describe('PostgreSQL stopped under load', () => {
  let postgres: PrivatePostgres;
  const queues = uniqueQueues();
  let services: Record<'catalog' | 'search' | 'order' | 'frontend', ServiceProcess>;
  let pool: pg.Pool;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
    pool.on('error', () => {});
    const common = { DATABASE_URL: postgres.url, AMQP_URL: testAmqpUrl(), ORDERS_QUEUE: queues.orders };
    // Catalog first: it seeds the products the orders name.
    const catalog = await startService('catalog', common);
    const [search, order] = await Promise.all([startService('search', common), startService('order', common)]);
    const frontend = await startService('frontend', { ...common, CATALOG_URL: catalog.url, SEARCH_URL: search.url, ORDER_URL: order.url });
    services = { catalog, search, order, frontend };
    await frontend.waitForLine((l) => l.msg === 'consuming orders');
  }, 180_000);

  afterAll(async () => {
    await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
    await pool?.end();
    await postgres?.destroy();
    const broker = await connectTestBroker();
    await deleteQueues(broker, queues);
    await broker.close();
  }, 60_000);

  it('answers 503 JSON while it is down, recovers without a restart and loses no accepted order', { timeout: 180_000 }, async () => {
    const { frontend, catalog } = services;
    const orders = new OrderLoad({
      url: `${frontend.url}/api/orders`,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      retryDelayMs: 200,
      maxAttempts: 60,
      keyPrefix: KEY_PREFIX,
      giveUpAfterMs: 90_000,
    });
    const someOrder = () => orders.accepted.values().next().value;
    const reads = new ReadLoad(
      frontend.url,
      () => ['/api/catalog', '/api/catalog/2', '/api/search?q=lap', '/api/orders/recent', ...(someOrder() ? [`/api/orders/${someOrder()}`] : [])],
      REQUEST_TIMEOUT_MS,
    );
    const setPhase = (phase: string) => {
      orders.phase = phase;
      reads.phase = phase;
    };

    setPhase('before');
    reads.start(2, 20);
    const placing = orders.send({ count: 300, concurrency: 4, pauseMs: 10 });
    await eventually(() => (orders.accepted.size >= 50 ? true : undefined), 30_000, 'the first orders');
    await postgres.stop();
    setPhase('postgres down');
    await sleep(OUTAGE_MS);
    await postgres.start();
    setPhase('after');
    await placing;
    await eventually(() => (reads.answers.filter((a) => a.phase === 'after' && a.status === 200).length >= 20 ? true : undefined), RECOVERY_TIMEOUT_MS, 'reads to succeed again');
    await reads.stop();

    for (const service of Object.values(services)) {
      expect(service.running, `${service.name} exited during the outage: ${service.stderr()}`).toBe(true);
    }
    const summary = JSON.stringify({ orders: tally(orders.answers), reads: tallyReads(reads.answers) });
    // The outage was real and seen by clients.
    expect(
      [...orders.answers, ...reads.answers].filter((a) => a.phase === 'postgres down' && a.status === 503).length,
      summary,
    ).toBeGreaterThan(0);
    // Never a 500, another 5xx, a hang past the client's deadline or a dropped connection.
    const bad = [...orders.answers, ...reads.answers].filter((a) => !acceptable(a));
    expect(bad.slice(0, 5), summary).toEqual([]);

    // The same processes serve again, healthy, without a restart.
    for (const service of Object.values(services)) {
      expect(service.running, `${service.name} still runs`).toBe(true);
      await eventually(
        async () => ((await fetch(`${service.url}/health`)).status === 200 ? true : undefined),
        RECOVERY_TIMEOUT_MS,
        `${service.name} /health to answer 200`,
      );
    }
    // The catalog's change listener is back: a price change shows without a restart.
    await pool.query('UPDATE products SET price_cents = price_cents + 100 WHERE id = 2');
    const { rows } = await pool.query<{ price: number }>('SELECT (price_cents / 100.0)::float8 AS price FROM products WHERE id = 2');
    await eventually(
      async () => ((await (await fetch(`${catalog.url}/catalog/2`)).json()) as { price: number }).price === rows[0]!.price ? true : undefined,
      RECOVERY_TIMEOUT_MS,
      'the catalog to show a price changed after the outage',
    );

    // Every order was accepted in the end, stored once under its key, and consumed once.
    expect(orders.accepted.size, summary).toBe(orders.keys.length);
    const stored = await storedOrdersByKey(pool, KEY_PREFIX);
    expect([...stored].filter(([, ids]) => ids.length > 1), 'keys stored more than once').toEqual([]);
    expect(new Map([...stored].map(([key, ids]) => [key, ids[0]]))).toEqual(orders.accepted);
    const acceptedIds = [...orders.accepted.values()].sort();
    await eventually(
      async () => ((await pendingOutboxRows(pool)) === 0 && (await consumedMessageIds(pool)).length >= acceptedIds.length ? true : undefined),
      DRAIN_TIMEOUT_MS,
      'every accepted order to be published and consumed',
    );
    expect(await consumedMessageIds(pool)).toEqual(acceptedIds);
    console.info(`postgres outage: ${acceptedIds.length} orders; ${summary}`);
  });
});

function tallyReads(answers: ReadAnswer[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const a of answers) {
    const key = `${a.phase} ${a.path.replace(/[0-9a-f-]{36}/, ':id')}`;
    const byStatus = (out[key] ??= {});
    byStatus[String(a.status)] = (byStatus[String(a.status)] ?? 0) + 1;
  }
  return out;
}
