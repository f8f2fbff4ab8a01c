/**
 * SIGTERM with requests in flight, and the order service's shutdown when the broker
 * stalls its confirms (docs/architecture.md, "Faults"). Real processes of the built
 * services against the test PostgreSQL and broker; a table lock (PostgreSQL), a slow
 * upstream (the frontend's gateway) and a TCP proxy that holds back the broker's
 * answers keep work in flight at the moment of the signal.
 */
import { connect } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertOrderTopology } from '../../src/services/common/amqp.js';
import { MIGRATION_LOCK_ID } from '../../src/services/common/db/migrate.js';
import type { PoolClient } from '../../src/services/common/db/pool.js';
import { connectTestBroker, deleteQueues, testAmqpUrl, uniqueQueues } from '../helpers/broker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { eventually } from '../helpers/services.js';
import { amqpTarget, createTcpProxy, viaProxy, type TcpProxy } from '../integration/order/tcp-proxy.js';
import { launchService, startService, type LaunchedService } from './helpers/service-process.js';

const order = (i: number) => ({ customer: { email: `term${i}@example.com`, name: `Term ${i}` }, items: [{ productId: 1 + (i % 3), quantity: 1 }] });

function post(url: string, key: string, body: unknown): Promise<{ status: number; body: { id?: string } }> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as { id?: string } }));
}

/** Whether a new TCP connection to the port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('shutdown', () => {
  let db: TestDatabase;
  let broker: ChannelModel;
  let channel: Channel;
  const queues = uniqueQueues();
  const delivered: ConsumeMessage[] = [];
  const started: LaunchedService[] = [];
  const env = () => ({ DATABASE_URL: db.url, AMQP_URL: testAmqpUrl(), ORDERS_QUEUE: queues.orders });
  const start = async (name: string, extra: Record<string, string> = {}) => {
    const service = await startService(name, { ...env(), ...extra });
    started.push(service);
    return service;
  };
  const upstreams = { CATALOG_URL: 'http://127.0.0.1:9', SEARCH_URL: 'http://127.0.0.1:9', ORDER_URL: 'http://127.0.0.1:9' };
  const sessions = async (condition: string) =>
    (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND ${condition}`, [db.name])).rows[0]!.n;
  const publishedAt = async (id: string) =>
    (await db.pool.query<{ at: Date | null }>('SELECT published_at AS at FROM outbox WHERE order_id = $1', [id])).rows[0]?.at;

  beforeAll(async () => {
    [db, broker] = await Promise.all([createTestDatabase(), connectTestBroker()]);
    channel = await broker.createChannel();
    await assertOrderTopology(channel, queues);
    await channel.consume(queues.orders, (msg) => msg && delivered.push(msg), { noAck: true });
  });
  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
    await deleteQueues(broker, queues);
    await broker?.close();
    await db?.drop();
  }, 60_000);

  it('order: requests in flight at SIGTERM get their full answers, new connections are refused, nothing is lost', { timeout: 90_000 }, async () => {
    const service = await start('order');
    // Orders wait on this lock: in flight inside the service when the signal comes.
    const lock: PoolClient = await db.pool.connect();
    const answers: Array<ReturnType<typeof post>> = [];
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE orders IN EXCLUSIVE MODE');
      for (let i = 0; i < 3; i++) {
        answers.push(post(`${service.url}/create-order`, `term-order-${i}`, order(i)));
        await eventually(async () => ((await sessions("wait_event_type = 'Lock'")) === i + 1 ? true : undefined), 10_000, `order ${i} to wait on the lock`);
      }
      service.signal('SIGTERM');
      await service.waitForLine((l) => l.msg === 'shutting down');
      // The line is written just before the listener closes: poll, with the orders still held.
      await eventually(async () => ((await refused(service.port)) ? true : undefined), 5_000, 'new connections to be refused');
      expect(service.running).toBe(true);
    } finally {
      await lock.query('COMMIT');
      lock.release();
    }
    const settled = await Promise.all(answers);
    expect(settled.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(await service.exited).toBe(0);

    // Stored, and published now or by the next start: none lost.
    const ids = settled.map((a) => a.body.id!);
    const next = await start('order');
    await eventually(
      () => (ids.every((id) => delivered.some((m) => m.properties.messageId === id)) ? true : undefined),
      20_000,
      'the three orders on the queue',
    );
    expect(await next.stop()).toBe(0);
  });

  // A supervisor may stop a service while it starts or the moment it says it listens;
  // Node's default action for SIGTERM would kill it then without closing anything.
  it.each(['order', 'catalog', 'search', 'frontend'])(
    '%s: a signal while it starts waits for the start, then closes and exits 0',
    { timeout: 60_000 },
    async (name) => {
      // Its start waits on the lock migrations take: the signal comes mid-start.
      const lock: PoolClient = await db.pool.connect();
      let service: LaunchedService;
      try {
        await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
        service = launchService(name, { ...env(), ...(name === 'frontend' ? upstreams : {}) });
        started.push(service);
        await eventually(async () => ((await sessions("wait_event = 'advisory'")) === 1 ? true : undefined), 20_000, `${name} to wait on the migration lock`);
        service.signal('SIGTERM');
        await service.waitForLine((l) => l.msg === 'shutting down');
        expect(service.running).toBe(true);
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
        lock.release();
      }
      expect(await service.exited, service.stderr()).toBe(0);
      const said = service.lines().map((l) => l.msg);
      expect(said.indexOf(`${name} listening`)).toBeGreaterThan(-1);
      expect(said.indexOf('stopped')).toBeGreaterThan(said.indexOf(`${name} listening`));
    },
  );

  describe('frontend with a slow upstream', () => {
    let upstream: Server;
    let upstreamPort = 0;
    const held: ServerResponse[] = [];
    beforeAll(async () => {
      upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
        req.resume();
        req.on('end', () => held.push(res));
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      upstreamPort = (upstream.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const res of held) res.destroy();
      await new Promise((resolve) => upstream.close(resolve));
    });

    it('gateway requests in flight at SIGTERM get their full answers; new connections are refused', { timeout: 60_000 }, async () => {
      const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
      const frontend = await start('frontend', { CATALOG_URL: upstreamUrl, SEARCH_URL: upstreamUrl, ORDER_URL: upstreamUrl, UPSTREAM_TIMEOUT_MS: '30000' });
      const answers = [0, 1, 2].map((i) => post(`${frontend.url}/api/orders`, `term-front-${i}`, order(i)));
      await eventually(() => (held.length === 3 ? true : undefined), 10_000, 'three requests at the upstream');
      frontend.signal('SIGTERM');
      await frontend.waitForLine((l) => l.msg === 'shutting down');
      await eventually(async () => ((await refused(frontend.port)) ? true : undefined), 5_000, 'new connections to be refused');
      held.forEach((res, i) => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `slow-${i}` })));
      const settled = await Promise.all(answers);
      expect(settled).toEqual([0, 1, 2].map((i) => ({ status: 201, body: { id: `slow-${i}` } })));
      expect(await frontend.exited).toBe(0);
    });
  });

  describe('order with a broker that stalls its confirms', () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = await createTcpProxy(amqpTarget(testAmqpUrl()));
    });
    afterAll(async () => {
      await proxy?.stop();
    });

    it('stops within its grace period, exit 0, and the unconfirmed order is published by the next start', { timeout: 90_000 }, async () => {
      const viaStall = { AMQP_URL: viaProxy(testAmqpUrl(), proxy), SHUTDOWN_GRACE_MS: '10000' };
      const service = await start('order', viaStall);
      await service.waitForLine((l) => l.msg === 'broker connected');
      proxy.holdReplies();
      const placed = await post(`${service.url}/create-order`, 'term-stall', order(7));
      expect(placed.status).toBe(201);
      const id = placed.body.id!;
      // The relay has published it and holds its transaction open, waiting for a confirm.
      await eventually(async () => ((await sessions("state = 'idle in transaction'")) > 0 ? true : undefined), 10_000, 'the relay waiting for confirms');

      service.signal('SIGTERM');
      // The grace timer would exit 1 ("shutdown exceeded the grace period").
      expect(await service.exited, JSON.stringify(service.lines().slice(-5))).toBe(0);
      expect(service.lines().some((l) => l.msg === 'stopped')).toBe(true);
      // Rolled back, not marked sent: the row waits for the next start.
      expect(await publishedAt(id)).toBeNull();

      await proxy.stop();
      await proxy.start();
      const next = await start('order', viaStall);
      await eventually(async () => ((await publishedAt(id)) ? true : undefined), 20_000, 'the order published by the next start');
      await eventually(() => (delivered.some((m) => m.properties.messageId === id) ? true : undefined), 10_000, 'the order on the queue');
      expect(await next.stop()).toBe(0);
    });

    // A broker that answers nothing more never acknowledges a close or a consumer's
    // cancel either: each service still exits 0 within its grace period.
    it.each(['order', 'frontend'])('%s with a silent broker and nothing in flight exits 0', { timeout: 60_000 }, async (name) => {
      await proxy.stop();
      await proxy.start();
      const service = await start(name, { AMQP_URL: viaProxy(testAmqpUrl(), proxy), SHUTDOWN_GRACE_MS: '10000', ...(name === 'frontend' ? upstreams : {}) });
      await service.waitForLine((l) => l.msg === (name === 'order' ? 'broker connected' : 'consuming orders'));
      proxy.holdReplies();
      service.signal('SIGTERM');
      expect(await service.exited, JSON.stringify(service.lines().slice(-5))).toBe(0);
    });
  });
});
