/**
 * Time from an order accepted to the order consumed, through the outbox, the broker
 * and the consumer: the real order and frontend services in child processes on one
 * PostgreSQL and a private queue, orders sent open-loop at a moderate steady rate.
 * Accepted is the order row's created_at (inside the transaction the 201 waits for),
 * consumed the consumer's consumed_orders.consumed_at: one PostgreSQL clock for both,
 * so a busy bench process cannot skew them. Goal: p99 < 50 ms.
 *
 * Reference, in the same run at the same rate: the same message published straight to
 * a queue on a confirm channel and stored by a plain consumer with the frontend's own
 * insert (no outbox, no relay): what broker and consumer cost alone.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { ConsumeMessage } from 'amqplib';
import { pollUntil } from '../src/core/poll.js';
import { assertOrderTopology, orderQueues } from '../src/services/common/amqp.js';
import { prepareDatabase } from '../src/services/common/db/migrate.js';
import { createPool, type Pool } from '../src/services/common/db/pool.js';
import { insertConsumedOrder } from '../src/services/frontend/consumed-orders.js';
import { ORDER_MESSAGE_TYPE, parseOrderMessage } from '../src/services/frontend/order-message.js';
import { benchDatabase, startServerProcess, stopProcess } from './lib/harness.js';
import { record } from './lib/record.js';
import { BROKER_URL, deleteQueues, openBroker } from './order.js';

const RATE = Number(process.env.BENCH_ORDER_RATE ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = 2;
const WARM_UP_ORDERS = 20;
const GOAL_P99_MS = 50;
const CONSUMED_TIMEOUT_MS = 60_000;
/** Any URL: the frontend's upstreams play no part in consuming. */
const NOWHERE = 'http://127.0.0.1:9';

export async function benchOrderLatency(): Promise<boolean> {
  const broker = await openBroker();
  const base = `bench.latency.${randomBytes(4).toString('hex')}`;
  const queues = orderQueues(`${base}.ours`);
  const refQueues = orderQueues(`${base}.ref`);
  const db = await benchDatabase();
  const pool = createPool(db.url, 4);
  const children: ChildProcess[] = [];
  try {
    await prepareDatabase(pool);
    const productIds = (await pool.query<{ id: number }>('SELECT id FROM products ORDER BY id')).rows.map((r) => r.id);
    const env = { DATABASE_URL: db.url, AMQP_URL: BROKER_URL, ORDERS_QUEUE: queues.orders };
    const order = await startServerProcess('bench/servers/order.ts', env);
    children.push(order.child);
    const frontend = await startServerProcess('bench/servers/frontend.ts', {
      ...env,
      CATALOG_URL: NOWHERE,
      SEARCH_URL: NOWHERE,
      ORDER_URL: NOWHERE,
    });
    children.push(frontend.child);
    const orderUrl = `http://127.0.0.1:${order.port}/create-order`;
    const reference = await referencePath(broker.connection, refQueues, pool);

    const warm = await sendOrders(orderUrl, productIds, WARM_UP_ORDERS, RATE);
    await oursLatencies(pool, warm);
    const payload = (await pool.query<{ p: string }>('SELECT payload::text AS p FROM outbox ORDER BY id LIMIT 1')).rows[0]!.p;
    await reference.run(payload, WARM_UP_ORDERS, RATE);

    const ours: number[] = [];
    const ref: number[] = [];
    const stages = { relay: [] as number[], consume: [] as number[] };
    const count = Math.round(RATE * (SECONDS / ROUNDS));
    for (let round = 0; round < ROUNDS; round++) {
      ref.push(...(await reference.run(payload, count, RATE)));
      ours.push(...(await oursLatencies(pool, await sendOrders(orderUrl, productIds, count, RATE), stages)));
    }
    await reference.close();

    const p = (xs: number[], q: number) => percentile(xs, q);
    const ms = (xs: number[]) => `p50 ${p(xs, 50).toFixed(1)} / p99 ${p(xs, 99).toFixed(1)} ms`;
    const note =
      `${ours.length} orders at ${RATE}/s open-loop in ${ROUNDS} rounds alternating with the reference; real order and frontend services, one PostgreSQL, RabbitMQ at ${new URL(BROKER_URL).host}. ` +
      `Stages: created → claimed by the relay ${ms(stages.relay)}; claimed → consumed (publish, confirm, commit, deliver, store) ${ms(stages.consume)}.`;
    process.stdout.write(`order latency: ${note}\n`);
    record({ name: 'order accepted → consumed p50', figure: p(ours, 50), unit: 'ms', reference: p(ref, 50), referenceName: 'publish → stored by a plain consumer, no outbox, p50', note });
    return record({
      name: 'order accepted → consumed p99',
      figure: p(ours, 99),
      unit: 'ms',
      reference: p(ref, 99),
      referenceName: 'publish → stored by a plain consumer, no outbox, p99',
      goal: { of: 'figure', atMost: GOAL_P99_MS },
    });
  } finally {
    for (const child of children) await stopProcess(child);
    await deleteQueues(broker.channel, queues).catch(() => {});
    await deleteQueues(broker.channel, refQueues).catch(() => {});
    await broker.connection.close().catch(() => {});
    await pool.end();
    await db.close();
  }
}

/** Sends `count` orders at `rate` per second without waiting for answers (open loop); the ids of the 201s. */
async function sendOrders(url: string, productIds: number[], count: number, rate: number): Promise<string[]> {
  const started = performance.now();
  const answers: Promise<string>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const productId = productIds[i % productIds.length]!;
    answers.push(
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customer: { email: 'bench@example.com', name: 'Bench' }, items: [{ productId, quantity: 1 }] }),
      }).then(async (res) => {
        if (res.status !== 201) throw new Error(`POST /create-order answered ${res.status}: ${await res.text()}`);
        return ((await res.json()) as { id: string }).id;
      }),
    );
  }
  return Promise.all(answers);
}

/** Waits until every order is consumed; created_at → consumed_at of each, in ms. */
async function oursLatencies(pool: Pool, ids: string[], stages?: { relay: number[]; consume: number[] }): Promise<number[]> {
  return pollUntil(
    async ({ waiting }) => {
      const { rows } = await pool.query<{ ms: number; relay: number; consume: number }>(
        `SELECT extract(epoch FROM c.consumed_at - o.created_at)::float8 * 1000 AS ms,
                extract(epoch FROM x.published_at - o.created_at)::float8 * 1000 AS relay,
                extract(epoch FROM c.consumed_at - x.published_at)::float8 * 1000 AS consume
           FROM orders o JOIN consumed_orders c ON c.order_id = o.id JOIN outbox x ON x.order_id = o.id
          WHERE o.id = ANY($1::uuid[])`,
        [ids],
      );
      if (rows.length === ids.length) {
        stages?.relay.push(...rows.map((r) => r.relay));
        stages?.consume.push(...rows.map((r) => r.consume));
        return rows.map((r) => r.ms);
      }
      waiting(`${rows.length} of ${ids.length} orders consumed`);
      return undefined;
    },
    { what: 'the frontend to consume every order', timeoutMs: CONSUMED_TIMEOUT_MS, intervalMs: 100 },
  );
}

/** The reference path: a confirm channel publishing to its own queue, a plain consumer storing each message. */
async function referencePath(connection: Awaited<ReturnType<typeof openBroker>>['connection'], queues: ReturnType<typeof orderQueues>, pool: Pool) {
  const publisher = await connection.createConfirmChannel();
  const consumer = await connection.createChannel();
  await assertOrderTopology(publisher, queues);
  await consumer.prefetch(50);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let onStored: (() => void) | undefined;
  const { consumerTag } = await consumer.consume(queues.orders, (msg: ConsumeMessage | null) => {
    if (!msg) return;
    const parsed = parseOrderMessage(msg.content, msg.properties);
    if (!parsed.ok) throw new Error(`reference message rejected: ${parsed.reason}`);
    void insertConsumedOrder(pool, parsed.messageId, parsed.order).then(() => {
      consumer.ack(msg);
      latencies.push(performance.now() - sentAt.get(parsed.messageId)!);
      onStored?.();
    });
  });
  return {
    async run(payload: string, count: number, rate: number): Promise<number[]> {
      latencies.length = 0;
      const done = new Promise<void>((resolve) => (onStored = () => latencies.length >= count && resolve()));
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        const due = started + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const messageId = randomUUID();
        const body = Buffer.from(payload.replace(/"orderId": ?"[^"]+"/, `"orderId": "${randomUUID()}"`));
        sentAt.set(messageId, performance.now());
        publisher.publish('', queues.orders, body, { persistent: true, messageId, contentType: 'application/json', type: ORDER_MESSAGE_TYPE });
      }
      await publisher.waitForConfirms();
      await done;
      return [...latencies];
    },
    async close(): Promise<void> {
      await consumer.cancel(consumerTag);
      await consumer.close();
      await publisher.close();
    },
  };
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((q / 100) * sorted.length) - 1)]!;
}
