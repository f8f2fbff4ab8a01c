import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { Channel } from 'amqplib';
import express, { type Express } from 'express';
import { createCatalogApp } from '../../../src/services/catalog/app.js';
import { PageCache } from '../../../src/services/catalog/page-cache.js';
import type { Pool } from '../../../src/services/common/db/pool.js';
import { listen, type RunningServer } from '../../../src/services/common/server.js';
import type { Registry } from 'prom-client';
import type { OrderQueues } from '../../../src/services/common/amqp.js';
import type { Logger } from '../../../src/services/common/logger.js';
import { createFrontendApp } from '../../../src/services/frontend/app.js';
import { startOrderConsumer, type OrderConsumer, type OrderConsumerOptions } from '../../../src/services/frontend/consumer.js';
import type { OrderFeed } from '../../../src/services/frontend/feed.js';
import { Gateway } from '../../../src/services/frontend/gateway.js';
import { openTestQueues, testAmqpUrl, type TestBroker } from '../../helpers/broker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { eventually, memoryLogger } from '../../helpers/services.js';

export interface Upstream {
  url: string;
  server: RunningServer;
  close: () => Promise<void>;
}

/** Listens on a free port of 127.0.0.1; close() also drops slow in-flight requests. */
export async function serve(app: Express): Promise<Upstream> {
  const server = await listen(app, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${server.port}`,
    server,
    close: async () => {
      server.server.closeAllConnections();
      await server.close();
    },
  };
}

/** The real catalog service over HTTP, on the test's database; its log shows the request ids it saw. */
export async function startCatalogUpstream(pool: Pool) {
  const logger = memoryLogger('catalog');
  const upstream = await serve(createCatalogApp({ pool, logger, cache: new PageCache() }).app);
  return { ...upstream, logger };
}

/** A port nothing listens on: taken from the OS, then released. */
export async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

export interface EventStreamReader {
  status: number;
  headers: Headers;
  events: SseEvent[];
  comments: string[];
  /** Resolves once the server ends the stream. */
  ended: Promise<void>;
  waitFor: (predicate: (e: SseEvent) => boolean, timeoutMs?: number) => Promise<SseEvent>;
  close: () => void;
}

/** Reads a server-sent event stream with fetch and a body reader, as a test client. */
export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStreamReader> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const ended = readBlocks(res, (block) => parseBlock(block, events, comments)).catch(() => {});
  const waitFor = async (predicate: (e: SseEvent) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = events.find(predicate);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return { status: res.status, headers: res.headers, events, comments, ended, waitFor, close: () => abort.abort() };
}

async function readBlocks(res: Response, onBlock: (block: string) => void): Promise<void> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    let at: number;
    while ((at = buffer.indexOf('\n\n')) !== -1) {
      onBlock(buffer.slice(0, at));
      buffer = buffer.slice(at + 2);
    }
  }
}

function parseBlock(block: string, events: SseEvent[], comments: string[]): void {
  const event: SseEvent = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) comments.push(line.slice(1).trim());
    const m = /^(id|event|data): ?(.*)$/.exec(line);
    if (m) event[m[1] as keyof SseEvent] = m[2];
  }
  if (event.data !== undefined) events.push(event);
}

/** A message body as the order service publishes it. */
export function sampleOrder(overrides: Record<string, unknown> = {}) {
  return {
    orderId: randomUUID(),
    createdAt: new Date().toISOString(),
    customer: { email: 'ada@example.com', name: 'Ada Lovelace' },
    items: [{ productId: 1, name: 'Laptop Pro 14', unitPrice: 1299, quantity: 2 }],
    total: 2598,
    currency: 'EUR',
    ...overrides,
  };
}

/** Publishes like the order relay: persistent, JSON, messageId = order id unless told otherwise. */
export function publishOrder(
  channel: Channel,
  queue: string,
  body: unknown,
  props: { messageId?: string | undefined; raw?: string } = {},
): void {
  const orderId = (body as { orderId?: string }).orderId;
  const messageId = 'messageId' in props ? props.messageId : orderId;
  const content = Buffer.from(props.raw ?? JSON.stringify(body));
  channel.sendToQueue(queue, content, {
    persistent: true,
    contentType: 'application/json',
    type: 'order.created',
    ...(messageId === undefined ? {} : { messageId }),
  });
}

/** A stand-in upstream that records what it was sent. */
export function recordingApp() {
  const seen: Array<{ method: string; url: string; requestId?: string; idempotencyKey?: string; body?: unknown }> = [];
  const app = express();
  app.use(express.json());
  app.use((req, _res, next) => {
    seen.push({
      method: req.method,
      url: req.originalUrl,
      requestId: req.header('x-request-id'),
      idempotencyKey: req.header('idempotency-key'),
      body: req.body,
    });
    next();
  });
  app.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return { app, seen };
}

export interface ConsumerStack {
  db: TestDatabase;
  channel: Channel;
  queues: OrderQueues;
  consumer: OrderConsumer;
  registry: Registry;
  /** The frontend app's base URL (its upstreams do not answer: only its own routes work). */
  base: string;
  close: () => Promise<void>;
}

/**
 * The frontend's order consumer on a fresh unseeded database and private queues, and
 * the frontend app that serves its feed, connected before it returns.
 */
export async function startConsumerStack(
  feed: OrderFeed,
  logger: Logger,
  options: Pick<OrderConsumerOptions, 'prefetch' | 'retryDelayMs'>,
): Promise<ConsumerStack> {
  const db = await createTestDatabase({ seed: false });
  let broker: TestBroker | undefined;
  let server: RunningServer | undefined;
  let consumer: OrderConsumer | undefined;
  const close = async () => {
    await consumer?.close();
    feed.close();
    // fetch() opens a spare socket after an aborted stream; it would hold close() for seconds.
    server?.server.closeAllConnections();
    await server?.close();
    await broker?.close();
    await db.drop();
  };
  try {
    broker = await openTestQueues();
    const { channel, queues } = broker;
    const frontend = createFrontendApp({
      pool: db.pool,
      logger,
      feed,
      heartbeatMs: 200,
      gateway: new Gateway({ upstreams: { catalog: 'http://127.0.0.1:9', search: 'http://127.0.0.1:9', order: 'http://127.0.0.1:9' }, timeoutMs: 500 }),
    });
    server = await listen(frontend.app, 0, '127.0.0.1');
    const registry = frontend.registry;
    const started = await startOrderConsumer({ amqpUrl: testAmqpUrl(), queues, pool: db.pool, feed, logger, registry, ...options });
    consumer = started;
    await eventually(() => (started.broker.connected ? true : undefined), 10_000, 'the consumer to connect');
    return { db, channel, queues, consumer: started, registry, base: `http://127.0.0.1:${server.port}`, close };
  } catch (err) {
    await close();
    throw err;
  }
}
