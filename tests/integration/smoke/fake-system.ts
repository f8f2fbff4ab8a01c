/**
 * Four small Express apps (and a Prometheus targets API) on port 0 that answer like the
 * real services do, with switches that break one thing at a time.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Express } from 'express';
import type { Endpoints, ServiceName } from '../../../src/core/system.js';

export interface Breakage {
  /** Search answers with no results. */
  searchEmpty?: boolean;
  /** This service's /metrics is not the Prometheus text format. */
  garbageMetrics?: ServiceName;
  /** No broker: orders are created but never consumed, and /health says why. */
  noBroker?: boolean;
  /** This service's /health answers 503. */
  unhealthy?: ServiceName;
  /** A replay with the same Idempotency-Key creates a new order. */
  replayCreatesNew?: boolean;
  /** Prometheus reports the order target down. */
  targetDown?: boolean;
  /** Prometheus has no target for this service (a scrape config that left it out). */
  notScraped?: ServiceName;
  /** The order service ignores X-Ecom-Test-Order: smoke's orders are not marked as test orders. */
  testFlagIgnored?: boolean;
  /** The frontend shows test orders in the live feed (/api/orders/recent and the stream). */
  testOrdersInFeed?: boolean;
}

export interface FakeSystem {
  endpoints: Endpoints;
  close(): Promise<void>;
}

const PRODUCTS = [
  { id: 1, name: 'Laptop Pro 14', price: 1299 },
  { id: 2, name: 'Wireless Mouse', price: 25 },
];

function metricsText(service: ServiceName, requests: Map<string, number>): string {
  const domain: Record<ServiceName, string[]> = {
    catalog: [],
    search: ['# TYPE search_queries_total counter', `search_queries_total{service="search"} 3`],
    order: [
      '# TYPE orders_created_total counter',
      `orders_created_total{service="order"} 2`,
      '# TYPE outbox_pending gauge',
      `outbox_pending{service="order"} 0`,
    ],
    frontend: ['# TYPE orders_consumed_total counter', `orders_consumed_total{service="frontend"} 2`],
  };
  const lines = ['# HELP http_requests_total HTTP requests', '# TYPE http_requests_total counter'];
  for (const [key, n] of requests) {
    const [method, route, status] = key.split(' ');
    lines.push(`http_requests_total{service="${service}",method="${method}",route="${route}",status_code="${status}"} ${n}`);
  }
  lines.push(
    '# TYPE http_request_duration_seconds histogram',
    `http_request_duration_seconds_bucket{service="${service}",method="GET",route="/health",le="0.005"} 1`,
    `http_request_duration_seconds_bucket{service="${service}",method="GET",route="/health",le="+Inf"} 1`,
    `http_request_duration_seconds_sum{service="${service}",method="GET",route="/health"} 0.001`,
    `http_request_duration_seconds_count{service="${service}",method="GET",route="/health"} 1`,
    ...domain[service],
  );
  return `${lines.join('\n')}\n`;
}

function baseApp(service: ServiceName, breakage: Breakage, extraChecks: () => Record<string, { ok: boolean; critical: boolean; error?: string }>): Express {
  const app = express();
  app.use(express.json());
  const requests = new Map<string, number>();
  app.use((req, res, next) => {
    res.on('finish', () => {
      const key = `${req.method} ${req.route?.path ?? 'unmatched'} ${res.statusCode}`;
      requests.set(key, (requests.get(key) ?? 0) + 1);
    });
    next();
  });
  app.get('/health', (_req, res) => {
    if (breakage.unhealthy === service) {
      res.status(503).json({ status: 'unavailable', error: { code: 'dependency_unavailable', message: 'unavailable: postgres', details: [] } });
      return;
    }
    const checks = { postgres: { ok: true, critical: true }, ...extraChecks() };
    const degraded = Object.values(checks).some((c) => !c.ok);
    res.json({ status: degraded ? 'degraded' : 'ok', checks });
  });
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4');
    res.send(breakage.garbageMetrics === service ? '<html>this is not metrics</html>\n' : metricsText(service, requests));
  });
  return app;
}

interface Consumed {
  orderId: string;
  messageId: string;
  test: boolean;
}

export async function startFakeSystem(breakage: Breakage = {}): Promise<FakeSystem> {
  const consumed: Consumed[] = [];
  const streams = new Set<express.Response>();
  const brokerCheck = () =>
    breakage.noBroker ? { broker: { ok: false, critical: false, error: 'connect ECONNREFUSED 127.0.0.1:5672' } } : { broker: { ok: true, critical: false } };

  const catalog = baseApp('catalog', breakage, () => ({}));
  catalog.get('/catalog', (req, res) => {
    if (req.query.limit !== undefined && !(Number(req.query.limit) >= 1)) {
      res.status(400).json({ error: { code: 'bad_request', message: 'invalid query: limit', details: [{ field: 'limit', message: 'too small' }] } });
      return;
    }
    res.json({ items: PRODUCTS, total: PRODUCTS.length, next: null });
  });

  const search = baseApp('search', breakage, () => ({}));
  search.get('/search', (req, res) => {
    const q = String(req.query.q ?? '').toLowerCase();
    const items = breakage.searchEmpty ? [] : PRODUCTS.filter((p) => p.name.toLowerCase().includes(q));
    res.json({ query: q, items, count: items.length });
  });

  const byKey = new Map<string, string>();
  const order = baseApp('order', breakage, brokerCheck);
  order.post('/create-order', (req, res) => {
    const body = req.body as { customer?: { email?: string } };
    if (!/^[^@\s]+@[^@\s]+$/.test(body.customer?.email ?? '')) {
      res.status(400).json({
        error: { code: 'bad_request', message: 'invalid order: customer.email', details: [{ field: 'customer.email', message: 'must be a valid email address' }] },
      });
      return;
    }
    const key = req.get('idempotency-key');
    const test = req.get('x-ecom-test-order') === 'true' && !breakage.testFlagIgnored;
    const known = key && !breakage.replayCreatesNew ? byKey.get(key) : undefined;
    if (known) {
      res.status(200).json({ id: known, status: 'created', test });
      return;
    }
    const id = randomUUID();
    if (key) byKey.set(key, id);
    res.status(201).json({ id, status: 'created', test });
    if (!breakage.noBroker) {
      // The relay and the consumer, a little later as in the real system.
      setTimeout(() => {
        const entry = { orderId: id, messageId: id, test };
        consumed.unshift(entry);
        if (test && !breakage.testOrdersInFeed) return;
        for (const s of streams) s.write(`id: ${id}\nevent: order\ndata: ${JSON.stringify(entry)}\n\n`);
      }, 100);
    }
  });

  const frontend = baseApp('frontend', breakage, brokerCheck);
  frontend.get('/api/orders/recent', (_req, res) => {
    const shown = consumed.filter((c) => !c.test || breakage.testOrdersInFeed).slice(0, 20);
    res.json({ items: shown, count: shown.length });
  });
  frontend.get('/api/orders/:id/consumed', (req, res) => {
    const entry = consumed.find((c) => c.orderId === req.params.id);
    if (entry) res.json({ ...entry, consumedAt: new Date().toISOString() });
    else res.status(404).json({ error: { code: 'not_found', message: 'not consumed', details: [] } });
  });
  frontend.get('/api/orders/stream', (req, res) => {
    res.status(200).setHeader('content-type', 'text/event-stream');
    res.flushHeaders();
    res.write('retry: 3000\n\n');
    streams.add(res);
    req.on('close', () => streams.delete(res));
  });

  let targetCalls = 0;
  const prometheus = express();
  prometheus.get('/api/v1/targets', (_req, res) => {
    targetCalls++;
    // The first answer comes before the first scrape, as with a fresh server.
    const health = targetCalls === 1 ? 'unknown' : 'up';
    const jobs = (['catalog', 'search', 'order', 'frontend'] as const).filter((job) => job !== breakage.notScraped);
    const targets = jobs.map((job) => ({
      labels: { job, service: job, instance: `127.0.0.1:${job}` },
      scrapeUrl: `http://127.0.0.1/${job}/metrics`,
      health: breakage.targetDown && job === 'order' && targetCalls > 1 ? 'down' : health,
      lastError: breakage.targetDown && job === 'order' ? 'connection refused' : '',
      lastScrape: targetCalls === 1 ? '0001-01-01T00:00:00Z' : new Date().toISOString(),
    }));
    res.json({ status: 'success', data: { activeTargets: targets, droppedTargets: [] } });
  });

  const servers: Server[] = [];
  const listen = async (app: Express) => {
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const endpoints: Endpoints = {
    services: { catalog: await listen(catalog), search: await listen(search), order: await listen(order), frontend: await listen(frontend) },
    prometheus: await listen(prometheus),
  };
  return {
    endpoints,
    close: async () => {
      for (const s of streams) s.end();
      await Promise.all(
        servers.map((s) => new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        })),
      );
    },
  };
}
