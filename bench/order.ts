/**
 * POST /create-order against PostgreSQL itself committing the same transaction: pgbench
 * running the one-order form of INSERT_ORDERS_SQL (order + line + outbox row, one
 * statement, prepared) with as many clients as the service has pool connections.
 * Goal: ours >= 0.4 of the reference.
 *
 * Ours is the real service in a child process (batcher, relay publishing to a real
 * broker on a queue of its own). The reference writes to a second database on the same
 * server, so the service's relay has nothing of pgbench's to drain and both pay the
 * same commit cost.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import type autocannon from 'autocannon';
import { pollUntil } from '../src/core/poll.js';
import { orderQueues, type OrderQueues } from '../src/services/common/amqp.js';
import { prepareDatabase } from '../src/services/common/db/migrate.js';
import { createPool, type Pool } from '../src/services/common/db/pool.js';
import { INSERT_ORDERS_SQL } from '../src/services/order/orders-repository.js';
import { adminQuery, benchDatabase, load, startServerProcess, stopProcess, type LoadResult } from './lib/harness.js';
import { record } from './lib/record.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Each side runs twice, alternating, so drift on a shared machine hits both alike. */
const ROUNDS = 2;
const ROUND_SECONDS = Math.max(1, Math.ceil(SECONDS / ROUNDS));
const CONNECTIONS = 64;
const PUBLISH_TIMEOUT_MS = 60_000;
const PUBLISH_POLL_MS = 200;
const PGBENCH_THREADS = 2;
const CUSTOMER = { email: 'bench@example.com', name: 'Bench' };

export const BROKER_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export async function benchOrder(): Promise<boolean> {
  requirePgbench();
  const broker = await openBroker();
  const queues = orderQueues(`bench.orders.${randomBytes(4).toString('hex')}`);
  const db = await benchDatabase();
  const refUrl = await createSiblingDatabase(db.adminUrl, db.url, 'pgbench');
  const pool = createPool(db.url, 2);
  const refPool = createPool(refUrl, 2);
  const scriptFile = join(tmpdir(), `ecom-bench-order-${process.pid}.sql`);
  let service: ChildProcess | undefined;
  try {
    await prepareDatabase(pool);
    await prepareDatabase(refPool);
    const productIds = (await pool.query<{ id: number }>('SELECT id FROM products ORDER BY id')).rows.map((r) => r.id);
    writeFileSync(scriptFile, pgbenchScript(productIds));
    // The service's connection budget: its pool, created with createPool's default size.
    const clients = servicePoolSize();

    const started = await startServerProcess('bench/servers/order.ts', {
      DATABASE_URL: db.url,
      AMQP_URL: BROKER_URL,
      ORDERS_QUEUE: queues.orders,
    });
    service = started.child;
    const answered = new Set<string>();
    const requests = orderRequests(productIds, answered);
    const http = (seconds: number) =>
      load({ url: `http://127.0.0.1:${started.port}/create-order`, seconds, connections: CONNECTIONS, requests });
    const bench = (seconds: number) => runPgbench(refUrl, scriptFile, clients, seconds);

    await http(1);
    const warmUp = await bench(1);
    const ours: LoadResult[] = [];
    const ref: PgbenchResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ref.push(await bench(ROUND_SECONDS));
      ours.push(await http(ROUND_SECONDS));
    }

    const failures = ours.reduce((n, r) => n + r.errors + r.non2xx, 0);
    if (failures > 0) throw new Error(`POST /create-order answered ${failures} requests with errors or non-2xx`);
    const pgbenchOrders = await countOrders(refPool);
    const pgbenchTransactions = [warmUp, ...ref].reduce((n, r) => n + r.transactions, 0);
    await checkPgbenchOrders(refPool, pgbenchOrders, pgbenchTransactions);
    const stored = await checkStoredOrders(pool, answered);
    const published = await checkPublished(pool, broker.channel, queues, stored.total);

    const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    process.stdout.write(
      `order: pgbench -M prepared -c ${clients} -j ${PGBENCH_THREADS}, one-order INSERT_ORDERS_SQL over ${productIds.length} products; ` +
        `autocannon ${CONNECTIONS} connections; ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s each\n` +
        `  pgbench   tps per round: ${ref.map((r) => r.tps.toFixed(0)).join(', ')}  (${pgbenchTransactions} transactions incl. warm-up, each stored one order)\n` +
        `  HTTP  req/s per round:   ${ours.map((r) => r.requestsPerSecond.toFixed(0)).join(', ')}  (p99 ${ours.map((r) => r.p99Ms).join(', ')} ms)\n` +
        `  ${answered.size} orders answered 201; ${stored.total} in the database (${stored.cutOff} committed after autocannon ` +
        `cut their connection at the end of a run); ${published} published to the queue\n`,
    );
    return record({
      name: 'POST /create-order',
      figure: avg(ours.map((r) => r.requestsPerSecond)),
      unit: 'orders/s',
      reference: avg(ref.map((r) => r.tps)),
      referenceName: 'pgbench committing the same transaction',
      goal: { atLeast: 0.4 },
      note: `${ROUNDS} alternating rounds of ${ROUND_SECONDS} s, ${CONNECTIONS} connections, pgbench -c ${clients}; ${answered.size} answered 201, ${published} published.`,
    });
  } finally {
    if (service) await stopProcess(service);
    await deleteQueues(broker.channel, queues).catch(() => {});
    await broker.connection.close().catch(() => {});
    rmSync(scriptFile, { force: true });
    await pool.end();
    await refPool.end();
    await dropDatabase(db.adminUrl, refUrl);
    await db.close();
  }
}

function requirePgbench(): void {
  const probe = spawnSync('pgbench', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('pgbench not found: the order benchmark needs it for its reference (apt-get install -y postgresql-client)');
  }
}

/**
 * The service's statement for one order, as pgbench runs it: the same SQL with the
 * arrays of one order written in, the product drawn at random per transaction.
 */
function pgbenchScript(productIds: number[]): string {
  const min = productIds[0]!;
  const max = productIds.at(-1)!;
  if (max - min + 1 !== productIds.length) throw new Error('bench expects the seeded products to have consecutive ids');
  const values: Record<string, string> = {
    '$1::uuid[]': 'ARRAY[gen_random_uuid()]::uuid[]',
    '$2::text[]': `ARRAY['${CUSTOMER.email}']::text[]`,
    '$3::text[]': `ARRAY['${CUSTOMER.name}']::text[]`,
    '$4::text[]': 'ARRAY[NULL]::text[]',
    '$5::text[]': 'ARRAY[NULL]::text[]',
    '$6::int[]': 'ARRAY[1]::int[]',
    '$7::int[]': 'ARRAY[1]::int[]',
    '$8::int[]': 'ARRAY[:product]::int[]',
    '$9::int[]': 'ARRAY[1]::int[]',
    // Not a test order (smoke's orders are marked; the bench's are ordinary ones).
    '$10::bool[]': 'ARRAY[false]::bool[]',
  };
  let sql = INSERT_ORDERS_SQL.replace(/\$\d+::\w+\[\]/g, (param) => {
    const value = values[param];
    if (!value) throw new Error(`INSERT_ORDERS_SQL has a parameter the bench does not know: ${param}`);
    return value;
  });
  // pgbench reads ':MI' as a variable; chr(58) is ':' and folds to the same constant.
  sql = sql.replaceAll('HH24:MI:SS', `HH24' || chr(58) || 'MI' || chr(58) || 'SS`);
  const variables = sql.match(/(?<!:):(?!:)\w+/g) ?? [];
  if (variables.some((v) => v !== ':product')) throw new Error(`pgbench would read ${variables.join(', ')} as variables`);
  return `\\set product random(${min}, ${max})\n${sql.replace(/\s*\n\s*/g, ' ')};\n`;
}

interface PgbenchResult {
  tps: number;
  transactions: number;
}

function runPgbench(url: string, scriptFile: string, clients: number, seconds: number): Promise<PgbenchResult> {
  const args = ['-n', '-M', 'prepared', '-c', String(clients), '-j', String(Math.min(PGBENCH_THREADS, clients)), '-T', String(seconds), '-f', scriptFile, url];
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const tps = /tps = ([\d.]+)/.exec(out);
      const transactions = /number of transactions actually processed: (\d+)/.exec(out);
      const failed = Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? 0);
      if (code !== 0 || !tps || !transactions || failed > 0) {
        reject(new Error(`pgbench failed (exit ${code}):\n${out.trim().split('\n').slice(-15).join('\n')}`));
      } else {
        resolve({ tps: Number(tps[1]), transactions: Number(transactions[1]) });
      }
    });
  });
}

/** One request per product, cycled by each connection; the ids of created orders land in `answered`. */
function orderRequests(productIds: number[], answered: Set<string>): autocannon.Request[] {
  return productIds.map((productId) => ({
    method: 'POST',
    path: '/create-order',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer: CUSTOMER, items: [{ productId, quantity: 1 }] }),
    onResponse: (status: number, body: string) => {
      if (status === 201) answered.add((JSON.parse(body) as { id: string }).id);
    },
  }));
}

function servicePoolSize(): number {
  const probe = createPool('postgres://probe@127.0.0.1/probe');
  const size = probe.options.max ?? 10;
  void probe.end();
  return size;
}

async function countOrders(pool: Pool): Promise<number> {
  return (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows[0]!.n;
}

/** Every pgbench transaction stored one complete order (a missing product would store none). */
async function checkPgbenchOrders(pool: Pool, orders: number, transactions: number): Promise<void> {
  const { rows } = await pool.query<{ items: number; outbox: number }>(
    'SELECT (SELECT count(*) FROM order_items)::int AS items, (SELECT count(*) FROM outbox)::int AS outbox',
  );
  if (orders !== transactions || rows[0]!.items !== orders || rows[0]!.outbox !== orders) {
    throw new Error(
      `pgbench ran ${transactions} transactions but stored ${orders} orders, ${rows[0]!.items} lines, ${rows[0]!.outbox} outbox rows`,
    );
  }
}

/**
 * Every 201 names an order in the database. The database may hold a few more: requests
 * in flight when autocannon stops are cut off on our side but still commit.
 */
async function checkStoredOrders(pool: Pool, answered: Set<string>): Promise<{ total: number; cutOff: number }> {
  await new Promise((r) => setTimeout(r, 500));
  const ids = [...answered];
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[])', [ids]);
  if (rows[0]!.n !== ids.length) throw new Error(`${ids.length - rows[0]!.n} orders answered 201 are not in the database`);
  const total = await countOrders(pool);
  const cutOff = total - ids.length;
  const runs = ROUNDS + 1;
  if (cutOff < 0 || cutOff > CONNECTIONS * runs) {
    throw new Error(`${total} orders in the database for ${ids.length} answered 201 (at most ${CONNECTIONS * runs} may be cut off)`);
  }
  return { total, cutOff };
}

/** The relay published every order: outbox_pending reaches 0 and the queue holds them all. */
async function checkPublished(pool: Pool, channel: Channel, queues: OrderQueues, orders: number): Promise<number> {
  return pollUntil(
    async ({ waiting }) => {
      const pending = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).rows[0]!.n;
      const queued = (await channel.checkQueue(queues.orders)).messageCount;
      if (pending === 0 && queued === orders) return queued;
      waiting(`${pending} pending, ${queued} of ${orders} in ${queues.orders}`);
      return undefined;
    },
    { what: 'the relay to publish every order', timeoutMs: PUBLISH_TIMEOUT_MS, intervalMs: PUBLISH_POLL_MS },
  );
}

async function createSiblingDatabase(adminUrl: string, url: string, suffix: string): Promise<string> {
  const sibling = new URL(url);
  sibling.pathname = `${sibling.pathname}_${suffix}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${sibling.pathname.slice(1)}`);
  return sibling.toString();
}

async function dropDatabase(adminUrl: string, url: string): Promise<void> {
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
}


/** A plain (not recovering) connection for the bench's own declarations, checks and clean-up. */
export async function openBroker(): Promise<{ connection: ChannelModel; channel: Channel }> {
  let connection: ChannelModel;
  try {
    connection = await amqp.connect(BROKER_URL);
  } catch (err) {
    throw new Error(`RabbitMQ not reachable at ${BROKER_URL} (${(err as Error).message}); start it or set BENCH_AMQP_URL`);
  }
  connection.on('error', () => {});
  return { connection, channel: await connection.createChannel() };
}

export async function deleteQueues(channel: Channel, queues: OrderQueues): Promise<void> {
  await channel.deleteQueue(queues.orders);
  await channel.deleteQueue(queues.deadLetterQueue);
  await channel.deleteExchange(queues.deadLetterExchange);
}
