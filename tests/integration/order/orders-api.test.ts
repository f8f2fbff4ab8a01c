import request from 'supertest';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrderApp } from '../../../src/services/order/app.js';
import { createPool } from '../../../src/services/common/db/pool.js';
import { findSamples } from '../../../src/smoke/prometheus-text.js';
import { parseScrape } from './scrape.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { memoryLogger } from '../../helpers/services.js';

const customer = { email: 'ada@example.com', name: 'Ada Lovelace' };
const body = (items: Array<{ productId: number; quantity: number }> = [{ productId: 3, quantity: 3 }]) => ({ customer, items });

describe('order API', () => {
  let db: TestDatabase;
  let app: Express;
  let signals = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = createOrderApp({ pool: db.pool, logger: memoryLogger('order'), onOrderCreated: () => signals++ }).app;
  });
  afterAll(() => db.drop());

  const countOrders = async (key?: string) => {
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM orders WHERE $1::text IS NULL OR idempotency_key = $1',
      [key ?? null],
    );
    return rows[0]!.n;
  };

  it('describes itself at /', async () => {
    const res = await request(app).get('/').expect(200);
    expect(res.body.service).toBe('order');
    expect(res.body.endpoints).toContain('POST /create-order');
  });

  it('creates an order priced from the database, ignoring a client price', async () => {
    const before = signals;
    const res = await request(app)
      .post('/create-order')
      .send({ ...body([{ productId: 3, quantity: 3 }, { productId: 2, quantity: 1 }]), items: [
        { productId: 3, quantity: 3, price: 0.01 },
        { productId: 2, quantity: 1, price: 0.01 },
      ], coupon: 'FREE' })
      .expect(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      customer,
      items: [
        { productId: 3, name: 'Wireless Mouse', unitPrice: 29.99, quantity: 3, lineTotal: 89.97 },
        { productId: 2, name: 'Mechanical Keyboard', unitPrice: 89.9, quantity: 1, lineTotal: 89.9 },
      ],
      total: 179.87,
      currency: 'USD',
      test: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      published: false,
      publishedAt: null,
    });
    expect(res.headers.location).toBe(`/orders/${res.body.id}`);
    expect(signals).toBe(before + 1);

    const { rows } = await db.pool.query('SELECT payload FROM outbox WHERE order_id = $1 AND published_at IS NULL', [res.body.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].payload).toEqual({
      orderId: res.body.id,
      createdAt: res.body.createdAt,
      customer,
      items: res.body.items.map(({ lineTotal: _, ...line }: { lineTotal: number }) => line),
      total: 179.87,
      currency: 'USD',
      test: false,
    });
  });

  it('trims the customer name and email', async () => {
    const res = await request(app)
      .post('/orders')
      .send({ customer: { email: '  grace@example.com ', name: '  Grace Hopper ' }, items: [{ productId: 1, quantity: 1 }] })
      .expect(201);
    expect(res.body.customer).toEqual({ email: 'grace@example.com', name: 'Grace Hopper' });
  });

  it('accepts POST /orders as an alias and shows the order at GET /orders/:id', async () => {
    const created = await request(app).post('/orders').send(body([{ productId: 1, quantity: 2 }])).expect(201);
    expect(created.body.total).toBe(2598);
    const shown = await request(app).get(`/orders/${created.body.id}`).expect(200);
    expect(shown.body).toEqual(created.body);
    const upper = await request(app).get(`/orders/${String(created.body.id).toUpperCase()}`).expect(200);
    expect(upper.body.id).toBe(created.body.id);
  });

  it('shows published and publishedAt once the relay has marked the row', async () => {
    const created = await request(app).post('/create-order').send(body()).expect(201);
    await db.pool.query('UPDATE outbox SET published_at = now() WHERE order_id = $1', [created.body.id]);
    const shown = await request(app).get(`/orders/${created.body.id}`).expect(200);
    expect(shown.body.published).toBe(true);
    expect(shown.body.publishedAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
  });

  it('answers 404 JSON for an unknown order and 400 naming id for a malformed one', async () => {
    const missing = await request(app).get('/orders/00000000-0000-4000-8000-000000000000').expect(404);
    expect(missing.body.error.code).toBe('not_found');
    const bad = await request(app).get('/orders/not-a-uuid').expect(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(['id']);
  });

  it('replays the same order for a repeated Idempotency-Key', async () => {
    const first = await request(app).post('/create-order').set('Idempotency-Key', 'replay-1').send(body()).expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Same order, different bytes: key order, whitespace and ignored fields do not matter.
    const again = await request(app)
      .post('/orders')
      .set('Idempotency-Key', 'replay-1')
      .set('Content-Type', 'application/json')
      .send(`{ "items": [ { "quantity": 3, "productId": 3, "price": 1 } ], "customer": { "name": "Ada Lovelace", "email": "ada@example.com" } }`)
      .expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await countOrders('replay-1')).toBe(1);
  });

  it('refuses a reused Idempotency-Key with another body with 422', async () => {
    await request(app).post('/create-order').set('Idempotency-Key', 'reuse-1').send(body()).expect(201);
    const res = await request(app)
      .post('/create-order')
      .set('Idempotency-Key', 'reuse-1')
      .send(body([{ productId: 3, quantity: 4 }]))
      .expect(422);
    expect(res.body.error.code).toBe('idempotency_key_reused');
    expect(res.body.error.details[0].field).toBe('Idempotency-Key');
    expect(await countOrders('reuse-1')).toBe(1);
  });

  it('creates exactly one order for simultaneous requests with one key', async () => {
    const sends = Array.from({ length: 12 }, () =>
      request(app).post('/create-order').set('Idempotency-Key', 'race-1').send(body([{ productId: 5, quantity: 2 }])),
    );
    const responses = await Promise.all(sends);
    expect(responses.map((r) => r.status).sort((a, b) => a - b)).toEqual([...Array(11).fill(200), 201]);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(await countOrders('race-1')).toBe(1);
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE order_id = $1',
      [responses[0]!.body.id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('still answers 422 rather than 400 when a reused key comes with an unknown product', async () => {
    await request(app).post('/create-order').set('Idempotency-Key', 'reuse-2').send(body()).expect(201);
    await request(app).post('/create-order').set('Idempotency-Key', 'reuse-2').send(body([{ productId: 999, quantity: 1 }])).expect(422);
  });

  it.each([
    ['missing customer', { items: [{ productId: 1, quantity: 1 }] }, ['customer']],
    ['bad email', { customer: { ...customer, email: 'not-an-email' }, items: [{ productId: 1, quantity: 1 }] }, ['customer.email']],
    ['over-long email', { customer: { ...customer, email: `${'a'.repeat(250)}@x.io` }, items: [{ productId: 1, quantity: 1 }] }, ['customer.email']],
    ['blank name', { customer: { ...customer, name: '   ' }, items: [{ productId: 1, quantity: 1 }] }, ['customer.name']],
    ['empty items', { customer, items: [] }, ['items']],
    ['51 items', { customer, items: Array.from({ length: 51 }, (_, i) => ({ productId: i + 1, quantity: 1 })) }, ['items']],
    ['quantity 0', body([{ productId: 1, quantity: 0 }]), ['items[0].quantity']],
    ['quantity 101', body([{ productId: 1, quantity: 101 }]), ['items[0].quantity']],
    ['quantity 1.5', body([{ productId: 1, quantity: 1.5 }]), ['items[0].quantity']],
    ['quantity "2"', { customer, items: [{ productId: 1, quantity: '2' }] }, ['items[0].quantity']],
    ['productId -1', body([{ productId: 1, quantity: 1 }, { productId: -1, quantity: 1 }]), ['items[1].productId']],
    ['duplicate productId', body([{ productId: 1, quantity: 1 }, { productId: 1, quantity: 2 }]), ['items[1].productId']],
    ['unknown productId', body([{ productId: 1, quantity: 1 }, { productId: 999_999, quantity: 1 }]), ['items[1].productId']],
    ['a JSON array body', [1, 2], ['(root)']],
    ['a NUL byte in the name', { customer: { ...customer, name: 'A\u0000B' }, items: [{ productId: 1, quantity: 1 }] }, ['customer.name']],
    ['a control character in the name', { customer: { ...customer, name: 'A\u0007B' }, items: [{ productId: 1, quantity: 1 }] }, ['customer.name']],
  ])('rejects %s with 400 naming the field', async (_what, payload, fields) => {
    const before = await countOrders();
    const res = await request(app).post('/create-order').send(payload as object).expect(400);
    expect(res.body.error.code).toBe('bad_request');
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(fields);
    expect(await countOrders()).toBe(before);
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(201)],
    ['with a space', 'two words'],
  ])('rejects an Idempotency-Key that is %s with 400 naming the header', async (_what, key) => {
    const res = await request(app).post('/create-order').set('Idempotency-Key', key).send(body()).expect(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(['Idempotency-Key']);
  });

  it('rejects a body that is not JSON with 415 naming Content-Type, and no body with 400', async () => {
    const plain = await request(app).post('/create-order').set('Content-Type', 'text/plain').send(JSON.stringify(body())).expect(415);
    expect(plain.body.error.details.map((d: { field: string }) => d.field)).toEqual(['Content-Type']);
    const none = await request(app).post('/create-order').expect(400);
    expect(none.body.error.code).toBe('bad_request');
  });

  it('rejects malformed JSON with 400 and an oversized body with 413', async () => {
    const bad = await request(app).post('/create-order').set('Content-Type', 'application/json').send('{"customer": ').expect(400);
    expect(bad.body.error.code).toBe('bad_request');
    const huge = { customer, items: [{ productId: 1, quantity: 1 }], padding: 'x'.repeat(100_000) };
    const big = await request(app).post('/create-order').send(huge).expect(413);
    expect(big.body.error.code).toBe('payload_too_large');
  });

  it('exposes the order series and route-labelled request counts in /metrics', async () => {
    await request(app).post('/create-order').send(body()).expect(201);
    const metrics = parseScrape((await request(app).get('/metrics').expect(200)).text);
    const created = findSamples(metrics, 'orders_created_total', { service: 'order' })[0]?.value ?? 0;
    expect(created).toBeGreaterThanOrEqual(1);
    expect(findSamples(metrics, 'orders_published_total')).toHaveLength(1);
    expect(findSamples(metrics, 'outbox_pending')[0]?.value).toBe(await pendingRows(db));
    expect(findSamples(metrics, 'http_requests_total', { route: '/create-order', method: 'POST', status_code: '201' })[0]?.value).toBeGreaterThanOrEqual(1);
    expect(findSamples(metrics, 'http_requests_total', { route: '/orders', status_code: '201' })[0]?.value).toBeGreaterThanOrEqual(1);
    expect(findSamples(metrics, 'http_requests_total', { route: '/orders/:id' }).length).toBeGreaterThanOrEqual(1);
  });

  it('is healthy while PostgreSQL answers, and 503 naming postgres when it does not', async () => {
    const ok = await request(app).get('/health').expect(200);
    expect(ok.body.checks.postgres.ok).toBe(true);
    const deadPool = createPool('postgres://nobody@127.0.0.1:1/none', 1);
    try {
      const down = createOrderApp({ pool: deadPool, logger: memoryLogger('order') }).app;
      const res = await request(down).get('/health').expect(503);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(['postgres']);
      // Metrics still answer without PostgreSQL: outbox_pending keeps its last value.
      await request(down).get('/metrics').expect(200);
    } finally {
      await deadPool.end();
    }
  });
});

async function pendingRows(db: TestDatabase): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
  return rows[0]!.n;
}
