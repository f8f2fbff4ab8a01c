import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../../src/services/common/db/pool.js';
import { createFrontendApp } from '../../../src/services/frontend/app.js';
import { OrderFeed } from '../../../src/services/frontend/feed.js';
import { Gateway, type Upstreams } from '../../../src/services/frontend/gateway.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { memoryLogger } from '../../helpers/services.js';
import { closedPort, recordingApp, serve, type Upstream } from './helpers.js';

describe('frontend health', () => {
  let db: TestDatabase;
  let live: Upstream;
  let deadUrl: string;
  const feed = new OrderFeed();

  const frontendWith = (pool: Pool, upstreams: Upstreams, brokerCheck: () => Promise<void>) =>
    createFrontendApp({ pool, logger: memoryLogger('frontend'), feed, brokerCheck, gateway: new Gateway({ upstreams, timeoutMs: 1_000 }) }).app;

  beforeAll(async () => {
    db = await createTestDatabase({ seed: false });
    live = await serve(recordingApp().app);
    deadUrl = `http://127.0.0.1:${await closedPort()}`;
  });
  afterAll(async () => {
    feed.close();
    await live?.close();
    await db?.drop();
  });

  it('is ok when PostgreSQL, the broker and every upstream answer', async () => {
    const app = frontendWith(db.pool, { catalog: live.url, search: live.url, order: live.url }, async () => {});
    const res = await request(app).get('/health').expect(200);
    expect(res.body.status).toBe('ok');
    expect(Object.keys(res.body.checks).sort()).toEqual(['catalog', 'order', 'postgres', 'rabbitmq', 'search']);
  });

  it('answers 503 naming postgres when the database is unreachable', async () => {
    const pool = createPool(`postgres://nobody:secret@127.0.0.1:${await closedPort()}/nowhere`, 1);
    try {
      const app = frontendWith(pool, { catalog: live.url, search: live.url, order: live.url }, async () => {});
      const res = await request(app).get('/health').expect(503);
      expect(res.body.error.code).toBe('dependency_unavailable');
      expect(res.body.error.message).toBe('unavailable: postgres');
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(['postgres']);
    } finally {
      await pool.end();
    }
  });

  it('stays up (degraded) without the broker or an upstream, naming each one down', async () => {
    const app = frontendWith(db.pool, { catalog: deadUrl, search: live.url, order: deadUrl }, async () => {
      throw new Error('broker unreachable: connect ECONNREFUSED');
    });
    const res = await request(app).get('/health').expect(200);
    expect(res.body.status).toBe('degraded');
    expect(res.body.checks.postgres).toEqual({ ok: true, critical: true });
    expect(res.body.checks.search).toEqual({ ok: true, critical: false });
    expect(res.body.checks.rabbitmq).toMatchObject({ ok: false, critical: false, error: 'broker unreachable: connect ECONNREFUSED' });
    expect(res.body.checks.catalog).toMatchObject({ ok: false, critical: false, error: expect.stringMatching(/^catalog service is unavailable/) });
    expect(res.body.checks.order.ok).toBe(false);
  });

  it('answers liveness and metrics from the common skeleton', async () => {
    const app = frontendWith(db.pool, { catalog: live.url, search: live.url, order: live.url }, async () => {});
    await request(app).get('/health/live').expect(200, { status: 'ok' });
    const metrics = await request(app).get('/metrics').expect(200);
    expect(metrics.text).toContain('http_requests_total');
  });
});
