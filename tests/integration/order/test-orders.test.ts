import request from 'supertest';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrderApp } from '../../../src/services/order/app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { memoryLogger } from '../../helpers/services.js';

const body = { customer: { email: 'smoke+test@example.com', name: 'Smoke Test' }, items: [{ productId: 1, quantity: 1 }] };

/** X-Ecom-Test-Order (docs/architecture.md, "Test orders"): validated, stored with the order, carried in its message. */
describe('order API: test orders', () => {
  let db: TestDatabase;
  let app: Express;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = createOrderApp({ pool: db.pool, logger: memoryLogger('order') }).app;
  });
  afterAll(() => db.drop());

  const stored = async (id: string) => {
    const { rows } = await db.pool.query<{ test: boolean; payload: { test: boolean } }>(
      'SELECT o.test, ob.payload FROM orders o JOIN outbox ob ON ob.order_id = o.id WHERE o.id = $1',
      [id],
    );
    return rows[0]!;
  };

  it('marks an order placed with X-Ecom-Test-Order: true, in the answer, the row, the outbox message and GET /orders/:id', async () => {
    const res = await request(app).post('/create-order').set('X-Ecom-Test-Order', 'true').send(body).expect(201);
    expect(res.body.test).toBe(true);
    expect(await stored(res.body.id)).toMatchObject({ test: true, payload: { test: true, orderId: res.body.id } });
    const shown = await request(app).get(`/orders/${res.body.id}`).expect(200);
    expect(shown.body).toEqual(res.body);
  });

  it.each([
    ['without the header', undefined],
    ['with X-Ecom-Test-Order: false', 'false'],
  ])('places an ordinary order %s', async (_what, value) => {
    const req = request(app).post('/orders');
    if (value !== undefined) req.set('X-Ecom-Test-Order', value);
    const res = await req.send(body).expect(201);
    expect(res.body.test).toBe(false);
    expect(await stored(res.body.id)).toMatchObject({ test: false, payload: { test: false } });
  });

  it.each(['yes', '1', 'TRUE', ''])('refuses X-Ecom-Test-Order: %j with 400 naming the header, storing nothing', async (value) => {
    const before = (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows[0]!.n;
    const res = await request(app).post('/create-order').set('X-Ecom-Test-Order', value).send(body).expect(400);
    expect(res.body.error.code).toBe('bad_request');
    expect(res.body.error.details).toEqual([{ field: 'X-Ecom-Test-Order', message: 'must be "true" or "false"' }]);
    expect((await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows[0]!.n).toBe(before);
  });

  it('replays a test order for its Idempotency-Key, and refuses the same key for the same body as a real order (422)', async () => {
    const first = await request(app).post('/create-order').set('Idempotency-Key', 'test-1').set('X-Ecom-Test-Order', 'true').send(body).expect(201);
    const again = await request(app).post('/create-order').set('Idempotency-Key', 'test-1').set('X-Ecom-Test-Order', 'true').send(body).expect(200);
    expect(again.body).toEqual(first.body);
    const real = await request(app).post('/create-order').set('Idempotency-Key', 'test-1').send(body).expect(422);
    expect(real.body.error.code).toBe('idempotency_key_reused');
  });
});
