import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFrontendApp } from '../../../src/services/frontend/app.js';
import { OrderFeed } from '../../../src/services/frontend/feed.js';
import { Gateway, type Upstreams } from '../../../src/services/frontend/gateway.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { memoryLogger } from '../../helpers/services.js';
import { closedPort, recordingApp, serve, startCatalogUpstream, type Upstream } from './helpers.js';

const SLOW_MS = 1_500;

/** Search and order stand-ins: they record what the gateway sent and answer like the real ones. */
function standIns() {
  const { app, seen } = recordingApp();
  const orders = new Map<string, unknown>();
  app.get('/search', (req, res) => {
    res.json({ query: req.query.q, items: [{ id: 1, name: 'Laptop Pro 14', score: 0.9 }], count: 1 });
  });
  app.get('/slow/search', async (_req, res) => {
    await new Promise((r) => setTimeout(r, SLOW_MS));
    res.json({ late: true });
  });
  app.get('/html/search', (_req, res) => {
    res.status(503).type('html').send('<h1>Service Unavailable</h1>');
  });
  app.post('/create-order', (req, res) => {
    const email = req.body?.customer?.email;
    if (typeof email !== 'string' || !email.includes('@')) {
      res.status(400).json({
        error: { code: 'bad_request', message: 'invalid body: customer.email', details: [{ field: 'customer.email', message: 'Invalid email address' }] },
      });
      return;
    }
    const order = { id: randomUUID(), customer: req.body.customer, items: [], total: 0, currency: 'EUR', published: false };
    orders.set(order.id, order);
    res.status(201).location(`/orders/${order.id}`).json(order);
  });
  app.get('/orders/:id', (req, res) => {
    const order = orders.get(req.params.id);
    if (order) res.json(order);
    else res.status(404).json({ error: { code: 'not_found', message: `order ${req.params.id} does not exist`, details: [] } });
  });
  return { app, seen };
}

describe('frontend gateway', () => {
  let db: TestDatabase;
  let catalog: Awaited<ReturnType<typeof startCatalogUpstream>>;
  let others: Upstream;
  let recorded: ReturnType<typeof standIns>['seen'];
  let app: Express;
  const feed = new OrderFeed();

  const frontendWith = (upstreams: Partial<Upstreams>, timeoutMs = 2_000) =>
    createFrontendApp({
      pool: db.pool,
      logger: memoryLogger('frontend'),
      feed,
      gateway: new Gateway({ upstreams: { catalog: catalog.url, search: others.url, order: others.url, ...upstreams }, timeoutMs }),
    }).app;

  beforeAll(async () => {
    db = await createTestDatabase();
    catalog = await startCatalogUpstream(db.pool);
    const stand = standIns();
    recorded = stand.seen;
    others = await serve(stand.app);
    app = frontendWith({});
  });
  afterAll(async () => {
    feed.close();
    await catalog?.close();
    await others?.close();
    await db?.drop();
  });

  it('passes the catalogue page through with its status, body and query string', async () => {
    const direct = await fetch(`${catalog.url}/catalog?limit=3&offset=2`).then((r) => r.json());
    const res = await request(app).get('/api/catalog?limit=3&offset=2').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(direct);
    expect(res.body.items.map((p: { id: number }) => p.id)).toEqual([3, 4, 5]);
    const one = await request(app).get('/api/catalog/3').expect(200);
    expect(one.body.name).toBe('Wireless Mouse');
  });

  it("passes the catalog's ETag through and answers 304 to If-None-Match", async () => {
    const first = await request(app).get('/api/catalog?limit=2').expect(200);
    expect(first.headers.etag).toMatch(/^".+"$/);
    const again = await request(app).get('/api/catalog?limit=2').set('If-None-Match', String(first.headers.etag)).expect(304);
    expect(again.text).toBe('');
  });

  it.each([
    ['/api/catalog?limit=abc', 400, 'limit'],
    ['/api/catalog?limit=1&limit=2', 400, 'limit'],
    ['/api/catalog/abc', 400, 'id'],
    ['/api/catalog/999999', 404, undefined],
  ])("passes the catalog's own answer to %s through (%i)", async (url, status, field) => {
    const res = await request(app).get(url).expect(status);
    expect(res.body.error.code).toBe(status === 404 ? 'not_found' : 'bad_request');
    if (field) expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('sends the caller\'s X-Request-Id to the catalog, or one it generated, and echoes it', async () => {
    const given = await request(app).get('/api/catalog?limit=2').set('X-Request-Id', 'trace-gw-1').expect(200);
    expect(given.headers['x-request-id']).toBe('trace-gw-1');
    const generated = await request(app).get('/api/catalog?limit=1').expect(200);
    const id = String(generated.headers['x-request-id']);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const seenByCatalog = catalog.logger.lines().filter((l) => l.msg === 'request').map((l) => [l.reqId, l.url]);
    expect(seenByCatalog).toContainEqual(['trace-gw-1', '/catalog?limit=2']);
    expect(seenByCatalog).toContainEqual([id, '/catalog?limit=1']);
  });

  it('forwards search with its exact query string and the request id', async () => {
    const res = await request(app).get('/api/search?q=lap%20top&limit=2').set('X-Request-Id', 'trace-search').expect(200);
    expect(res.body).toEqual({ query: 'lap top', items: [{ id: 1, name: 'Laptop Pro 14', score: 0.9 }], count: 1 });
    expect(recorded.at(-1)).toMatchObject({ method: 'GET', url: '/search?q=lap%20top&limit=2', requestId: 'trace-search' });
  });

  it('forwards an order with its body, Idempotency-Key and request id, and maps Location', async () => {
    const body = { customer: { email: 'ada@example.com', name: 'Ada' }, items: [{ productId: 1, quantity: 2 }] };
    const res = await request(app)
      .post('/api/orders')
      .set('Idempotency-Key', 'key-123')
      .set('X-Request-Id', 'trace-order')
      .send(body)
      .expect(201);
    expect(res.body.customer).toEqual(body.customer);
    expect(res.headers.location).toBe(`/api/orders/${res.body.id}`);
    expect(recorded.at(-1)).toEqual({ method: 'POST', url: '/create-order', requestId: 'trace-order', idempotencyKey: 'key-123', body });
    const fetched = await request(app).get(`/api/orders/${res.body.id}`).expect(200);
    expect(fetched.body.id).toBe(res.body.id);
    expect(recorded.at(-1)).toMatchObject({ url: `/orders/${res.body.id}` });
  });

  it("passes the order service's 400 and 404 through unchanged", async () => {
    const bad = await request(app)
      .post('/api/orders')
      .send({ customer: { email: 'nope', name: 'Ada' }, items: [{ productId: 1, quantity: 1 }] })
      .expect(400);
    expect(bad.body.error.details).toEqual([{ field: 'customer.email', message: 'Invalid email address' }]);
    const missing = await request(app).get(`/api/orders/${randomUUID()}`).expect(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it('rejects malformed JSON itself, without calling the order service', async () => {
    const before = recorded.length;
    const res = await request(app).post('/api/orders').set('Content-Type', 'application/json').send('{"customer":').expect(400);
    expect(res.body.error.code).toBe('bad_request');
    expect(recorded).toHaveLength(before);
  });

  it('answers 502 JSON naming the service when its port is closed', async () => {
    const port = await closedPort();
    const broken = frontendWith({ search: `http://127.0.0.1:${port}`, catalog: `http://127.0.0.1:${port}` });
    const res = await request(broken).get('/api/search?q=x').expect(502);
    expect(Object.keys(res.body)).toEqual(['error']);
    expect(res.body.error.code).toBe('upstream_unavailable');
    expect(res.body.error.message).toMatch(/^search service is unavailable/);
    expect(res.text).not.toMatch(/\bat .+:\d+:\d+/);
    const cat = await request(broken).get('/api/catalog/1').expect(502);
    expect(cat.body.error.message).toMatch(/^catalog service/);
  });

  it('answers 504 JSON when the upstream is slower than the timeout', async () => {
    const slow = frontendWith({ search: `${others.url}/slow` }, 200);
    const res = await request(slow).get('/api/search?q=x').expect(504);
    expect(res.body.error).toEqual({ code: 'upstream_timeout', message: 'search service did not answer within 200 ms', details: [] });
  });

  it('turns an upstream error page that is not JSON into a 502 JSON body', async () => {
    const html = frontendWith({ search: `${others.url}/html` });
    const res = await request(html).get('/api/search?q=x').expect(502);
    expect(res.body.error.code).toBe('upstream_error');
    expect(res.body.error.message).toBe('search service answered 503 without a JSON body');
  });
});
