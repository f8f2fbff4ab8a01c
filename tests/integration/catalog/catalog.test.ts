import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import { createCatalogApp } from '../../../src/services/catalog/app.js';
import { listenForCatalogChanges, type ChangeListener } from '../../../src/services/common/db/change-listener.js';
import { PageCache } from '../../../src/services/catalog/page-cache.js';
import { findSamples, parseMetrics } from '../../../src/smoke/prometheus-text.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { eventually, memoryLogger } from '../../helpers/services.js';

describe('catalog service', () => {
  let db: TestDatabase;
  let app: Express;
  let listener: ChangeListener;
  const cache = new PageCache();

  beforeAll(async () => {
    db = await createTestDatabase();
    const logger = memoryLogger('catalog');
    listener = listenForCatalogChanges(db.url, logger, () => cache.invalidate(), (on) => cache.setEnabled(on));
    app = createCatalogApp({ pool: db.pool, logger, cache }).app;
    await eventually(() => (listener.listening ? true : undefined), 5_000, 'the change listener');
  });
  afterAll(async () => {
    await listener.close();
    await db.drop();
  });

  it('lists the seeded products with a total and a next link', async () => {
    const res = await request(app).get('/catalog?limit=5').expect(200);
    expect(res.body.items).toHaveLength(5);
    expect(res.body.items[0]).toEqual({
      id: 1,
      name: 'Laptop Pro 14',
      description: expect.any(String),
      price: 1299,
      category: 'computers',
    });
    expect(res.body.total).toBeGreaterThanOrEqual(10);
    expect(res.body.next).toBe('/catalog?limit=5&offset=5');
  });

  it('walks the whole catalogue by cursor without repeats', async () => {
    const seen: number[] = [];
    let next: string | undefined = '/catalog?limit=4&cursor=MA';
    while (next) {
      const res: request.Response = await request(app).get(next).expect(200);
      seen.push(...res.body.items.map((p: { id: number }) => p.id));
      next = res.body.next ?? undefined;
    }
    const total = (await request(app).get('/catalog').expect(200)).body.total;
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('answers 304 to a request carrying the current ETag', async () => {
    const first = await request(app).get('/catalog').expect(200);
    expect(first.headers.etag).toMatch(/^".+"$/);
    await request(app).get('/catalog').set('If-None-Match', String(first.headers.etag)).expect(304);
  });

  it('serves fresh data after a product changes, through LISTEN/NOTIFY', async () => {
    const before = await request(app).get('/catalog/2').expect(200);
    await db.pool.query("UPDATE products SET name = 'Mechanical Keyboard MkII' WHERE id = 2");
    const after = await eventually(async () => {
      const res = await request(app).get('/catalog/2');
      return res.body.name === 'Mechanical Keyboard MkII' ? res : undefined;
    }, 5_000, 'the renamed product');
    expect(after.headers.etag).not.toBe(before.headers.etag);
    await request(app).get('/catalog/2').set('If-None-Match', String(before.headers.etag)).expect(200);
  });

  it('returns one product, and 404 JSON for an unknown id', async () => {
    const res = await request(app).get('/catalog/3').expect(200);
    expect(res.body.name).toBe('Wireless Mouse');
    for (let i = 0; i < 2; i++) {
      // Twice: the second answer comes from the cache and must still be a 404.
      const missing = await request(app).get('/catalog/999999').expect(404);
      expect(missing.body.error.code).toBe('not_found');
    }
  });

  it.each([
    ['/catalog?limit=0', 'limit'],
    ['/catalog?limit=101', 'limit'],
    ['/catalog?limit=abc', 'limit'],
    ['/catalog?offset=-1', 'offset'],
    ['/catalog?limit=1&limit=2', 'limit'],
    ['/catalog?cursor=!!', 'cursor'],
    ['/catalog?cursor=eHl6', 'cursor'],
    ['/catalog?cursor=MA&offset=3', 'cursor'],
    ['/catalog/abc', 'id'],
    ['/catalog/0', 'id'],
    ['/catalog/99999999999', 'id'],
  ])('rejects %s with 400 naming %s', async (url, field) => {
    const res = await request(app).get(url).expect(400);
    expect(res.body.error.code).toBe('bad_request');
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('says in words that a parameter was repeated', async () => {
    const res = await request(app).get('/catalog?limit=1&limit=2').expect(400);
    expect(res.body.error.details).toEqual([{ field: 'limit', message: 'must be given once, as a whole number' }]);
  });

  it('answers a known path with the wrong method with 405 JSON and Allow', async () => {
    const res = await request(app).delete('/catalog/1').expect(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.body.error.code).toBe('method_not_allowed');
  });

  it('answers unknown routes with 404 JSON', async () => {
    const res = await request(app).get('/nope').expect(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'no route for GET /nope', details: [] } });
  });

  it('echoes a given request id and generates one otherwise', async () => {
    const given = await request(app).get('/health/live').set('X-Request-Id', 'abc-123').expect(200);
    expect(given.headers['x-request-id']).toBe('abc-123');
    const generated = await request(app).get('/health/live').expect(200);
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports route patterns, not raw URLs, in /metrics', async () => {
    // The second answer comes from memory before routing; it must be labelled the same.
    await request(app).get('/catalog/1').expect(200);
    await request(app).get('/catalog/1').expect(200);
    const text = (await request(app).get('/metrics').expect(200)).text;
    const metrics = parseMetrics(text);
    const hits = findSamples(metrics, 'http_requests_total', { service: 'catalog', method: 'GET', route: '/catalog/:id', status_code: '200' });
    expect(hits[0]?.value).toBeGreaterThanOrEqual(2);
    expect(metrics.get('http_request_duration_seconds')?.type).toBe('histogram');
    expect(findSamples(metrics, 'http_request_duration_seconds', { route: '/catalog/:id' }, 'http_request_duration_seconds_count')).toHaveLength(1);
    expect(text).not.toContain('route="/catalog/1"');
    expect(metrics.has('process_cpu_user_seconds_total')).toBe(true);
  });

  it('answers a read it has served before from memory as Express would: request id, ETag, HEAD, each request counted once', async () => {
    const count = async () => {
      const metrics = parseMetrics((await request(app).get('/metrics').expect(200)).text);
      return findSamples(metrics, 'http_requests_total', { service: 'catalog', method: 'GET', route: '/catalog', status_code: '200' })[0]?.value ?? 0;
    };
    const url = '/catalog?limit=3&offset=7';
    const before = await count();
    // The first goes through Express and fills the cache; the others are answered before it.
    const first = await request(app).get(url).expect(200);
    const again = await request(app).get(url).set('X-Request-Id', 'cached-1').expect(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers).toMatchObject({ 'x-request-id': 'cached-1', etag: first.headers.etag, 'content-type': 'application/json; charset=utf-8' });
    const head = await request(app).head(url).expect(200);
    expect(head.text).toBeUndefined();
    expect(head.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    await request(app).get(url).set('If-None-Match', String(first.headers.etag)).expect(304);
    expect(await count()).toBe(before + 2);
  });

  it('is healthy while PostgreSQL answers', async () => {
    const res = await request(app).get('/health').expect(200);
    expect(res.body.checks.postgres.ok).toBe(true);
  });
});
