/**
 * The outbox relay draining a backlog against publishing the same messages straight to
 * the broker: a confirm channel, durable queue, persistent messages, in batches of the
 * relay's batch size with one wait for confirms per batch. Goal: ours >= 0.7 of that.
 * One-by-one confirms are printed beside them for scale.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Channel, ConfirmChannel } from 'amqplib';
import { assertOrderTopology, orderQueues, type OrderQueues } from '../src/services/common/amqp.js';
import { prepareDatabase } from '../src/services/common/db/migrate.js';
import { createPool, type Pool } from '../src/services/common/db/pool.js';
import { createLogger } from '../src/services/common/logger.js';
import { connectOrderPublisher, ORDER_MESSAGE_TYPE } from '../src/services/order/broker-publisher.js';
import { insertOrders, type NewOrder } from '../src/services/order/orders-repository.js';
import { OutboxRelay } from '../src/services/order/outbox-relay.js';
import { orderConfigSchema } from '../src/services/order/service.js';
import { benchDatabase } from './lib/harness.js';
import { record } from './lib/record.js';
import { BROKER_URL, deleteQueues, openBroker } from './order.js';

const MESSAGES = Number(process.env.BENCH_RELAY_MESSAGES ?? 20_000);
const ONE_BY_ONE_MESSAGES = 2_000;
/** Each side runs twice, alternating, so drift on a shared machine hits both alike. */
const ROUNDS = 2;
const INSERT_CHUNK = 500;

export async function benchRelay(): Promise<boolean> {
  const broker = await openBroker();
  const base = `bench.relay.${randomBytes(4).toString('hex')}`;
  const refQueues = orderQueues(`${base}.ref`);
  const ourQueues = orderQueues(`${base}.ours`);
  const db = await benchDatabase();
  // The service's pool size: the relay shares it with HTTP there, has it alone here.
  const pool = createPool(db.url);
  const logger = createLogger('order', 'warn');
  const publisher = await connectOrderPublisher(BROKER_URL, ourQueues, logger);
  const confirm = await broker.connection.createConfirmChannel();
  try {
    await prepareDatabase(pool);
    const { RELAY_BATCH_SIZE: batchSize, RELAY_POLL_MS: pollMs } = orderConfigSchema.parse({ DATABASE_URL: db.url, AMQP_URL: BROKER_URL });
    const productIds = (await pool.query<{ id: number }>('SELECT id FROM products ORDER BY id')).rows.map((r) => r.id);
    await assertOrderTopology(confirm, refQueues);
    await new Promise<void>((resolve) => publisher.onReady(resolve));

    // The reference publishes a real payload, as stored by the repository.
    await insertBacklog(pool, productIds, 1);
    const payload = Buffer.from(
      (await pool.query<{ p: string }>('SELECT payload::text AS p FROM outbox ORDER BY id LIMIT 1')).rows[0]!.p,
    );
    await pool.query('TRUNCATE orders CASCADE');

    await publishBatched(confirm, refQueues, payload, batchSize * 4, batchSize);
    await confirm.purgeQueue(refQueues.orders);
    const ours: number[] = [];
    const ref: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ref.push(await publishBatched(confirm, refQueues, payload, MESSAGES, batchSize));
      await expectQueued(broker.channel, refQueues, MESSAGES);
      ours.push(await drainBacklog(pool, productIds, { publisher, logger, batchSize, pollMs }));
      await expectQueued(broker.channel, ourQueues, MESSAGES);
      await broker.channel.purgeQueue(refQueues.orders);
      await broker.channel.purgeQueue(ourQueues.orders);
    }
    const oneByOne = await publishOneByOne(confirm, refQueues, payload, ONE_BY_ONE_MESSAGES);
    await broker.channel.purgeQueue(refQueues.orders);

    const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    process.stdout.write(
      `relay: ${MESSAGES.toLocaleString('en-US')} messages of ${payload.length} bytes, batches of ${batchSize}, ` +
        `${ROUNDS} alternating rounds; each drain ended with outbox_pending = 0 and the queue holding them all\n` +
        `  batched confirms msg/s per round: ${fmt(ref)}\n` +
        `  relay drain      msg/s per round: ${fmt(ours)}\n` +
        `  one-by-one confirms (for scale, ${ONE_BY_ONE_MESSAGES.toLocaleString('en-US')} messages): ${oneByOne.toFixed(0)} msg/s\n`,
    );
    return record({
      name: 'outbox relay drain',
      figure: avg(ours),
      unit: 'msg/s',
      reference: avg(ref),
      referenceName: 'publishing with batched confirms',
      goal: { atLeast: 0.7 },
      note: `${MESSAGES} messages of ${payload.length} bytes, batches of ${batchSize}, ${ROUNDS} alternating rounds; one-by-one confirms ${oneByOne.toFixed(0)} msg/s for scale.`,
    });
  } finally {
    await publisher.close();
    await deleteQueues(broker.channel, refQueues).catch(() => {});
    await deleteQueues(broker.channel, ourQueues).catch(() => {});
    await broker.connection.close().catch(() => {});
    await pool.end();
    await db.close();
  }
}

/** Stores `count` pending orders through the repository, as the service would. */
async function insertBacklog(pool: Pool, productIds: number[], count: number): Promise<void> {
  const order = (): NewOrder => ({
    id: randomUUID(),
    email: 'bench@example.com',
    name: 'Bench',
    productIds: [productIds[Math.floor(Math.random() * productIds.length)]!],
    quantities: [1],
    idempotencyKey: null,
    requestHash: null,
  });
  for (let done = 0; done < count; done += INSERT_CHUNK) {
    const results = await insertOrders(pool, Array.from({ length: Math.min(INSERT_CHUNK, count - done) }, order));
    if (results.some((r) => r.kind !== 'created')) throw new Error('could not store the backlog');
  }
}

/** Msg/s of the relay taking MESSAGES pending rows to the queue: from start until the last batch committed. */
async function drainBacklog(
  pool: Pool,
  productIds: number[],
  options: Omit<ConstructorParameters<typeof OutboxRelay>[0], 'pool' | 'onBatchPublished'>,
): Promise<number> {
  await pool.query('TRUNCATE orders CASCADE');
  await insertBacklog(pool, productIds, MESSAGES);
  let sent = 0;
  let drained!: () => void;
  const finished = new Promise<void>((resolve) => (drained = resolve));
  const relay = new OutboxRelay({
    ...options,
    pool,
    onBatchPublished: (count) => {
      sent += count;
      if (sent >= MESSAGES) drained();
    },
  });
  const started = performance.now();
  relay.start();
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await relay.close();
  const { rows } = await pool.query<{ pending: number }>('SELECT count(*)::int AS pending FROM outbox WHERE published_at IS NULL');
  if (sent !== MESSAGES || rows[0]!.pending !== 0) throw new Error(`relay sent ${sent} of ${MESSAGES}; ${rows[0]!.pending} still pending`);
  return MESSAGES / seconds;
}

function publish(channel: ConfirmChannel, queues: OrderQueues, payload: Buffer): void {
  channel.publish('', queues.orders, payload, {
    persistent: true,
    mandatory: true,
    messageId: randomUUID(),
    contentType: 'application/json',
    type: ORDER_MESSAGE_TYPE,
  });
}

async function publishBatched(channel: ConfirmChannel, queues: OrderQueues, payload: Buffer, count: number, batchSize: number): Promise<number> {
  const started = performance.now();
  for (let done = 0; done < count; done += batchSize) {
    for (let i = 0; i < batchSize && done + i < count; i++) publish(channel, queues, payload);
    await channel.waitForConfirms();
  }
  return count / ((performance.now() - started) / 1000);
}

async function publishOneByOne(channel: ConfirmChannel, queues: OrderQueues, payload: Buffer, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    publish(channel, queues, payload);
    await channel.waitForConfirms();
  }
  return count / ((performance.now() - started) / 1000);
}

async function expectQueued(channel: Channel, queues: OrderQueues, count: number): Promise<void> {
  const queued = (await channel.checkQueue(queues.orders)).messageCount;
  if (queued !== count) throw new Error(`${queues.orders} holds ${queued} messages, expected ${count}`);
}
