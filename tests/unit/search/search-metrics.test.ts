import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Pool } from '../../../src/services/common/db/pool.js';
import { createSearchApp } from '../../../src/services/search/app.js';
import { SearchUnavailableError, type SearchBackend, type SearchHit } from '../../../src/services/search/backend.js';
import { findSamples, parseMetrics } from '../../../src/smoke/prometheus-text.js';
import { memoryLogger } from '../../helpers/services.js';

const BACKEND_DELAY_MS = 30;

/** A backend that answers "lap" with one hit after a pause, anything else with none, and "down" by failing. */
function stubBackend(): SearchBackend {
  const hit = { id: 1, name: 'Laptop Pro 14' } as unknown as SearchHit;
  return {
    name: 'postgres',
    search: async (query) => {
      await new Promise((r) => setTimeout(r, BACKEND_DELAY_MS));
      if (query === 'down') throw new SearchUnavailableError('postgres', 'connection refused');
      return query === 'lap' ? [hit] : [];
    },
    ping: async () => {},
  };
}

describe('the search metrics', () => {
  it('counts queries by backend and outcome and times the backend on every answer, failures included', async () => {
    const { app } = createSearchApp({ pool: {} as Pool, backend: stubBackend(), logger: memoryLogger('search') });
    const before = parseMetrics((await request(app).get('/metrics').expect(200)).text);
    const counts = findSamples(before, 'search_queries_total').map((s) => [s.labels.backend, s.labels.outcome, s.value]);
    expect(counts.sort()).toEqual([['postgres', 'error', 0], ['postgres', 'hit', 0], ['postgres', 'miss', 0]]);

    await request(app).get('/search?q=lap').expect(200);
    await request(app).get('/search?q=zeppelin').expect(200);
    await request(app).get('/search?q=down').expect(503);
    // Refused before the backend is asked: neither counted nor timed.
    await request(app).get('/search?q=').expect(400);

    const after = parseMetrics((await request(app).get('/metrics').expect(200)).text);
    const queries = (outcome: string) => findSamples(after, 'search_queries_total', { backend: 'postgres', outcome })[0]?.value;
    expect([queries('hit'), queries('miss'), queries('error')]).toEqual([1, 1, 1]);
    const family = 'search_backend_duration_seconds';
    expect(after.get(family)?.type).toBe('histogram');
    expect(findSamples(after, family, { backend: 'postgres', service: 'search' }, `${family}_count`)[0]?.value).toBe(3);
    const sum = findSamples(after, family, { backend: 'postgres' }, `${family}_sum`)[0]!.value;
    expect(sum).toBeGreaterThanOrEqual((3 * (BACKEND_DELAY_MS - 5)) / 1000);
    expect(findSamples(after, family, { le: '0.01' }, `${family}_bucket`)[0]?.value).toBe(0);
  });
});

describe('a search answered before Express', () => {
  // `/search?…` is answered early; `/search/?…` is the same route through Express's
  // router (non-strict routing), so each early answer can be compared with Express's own.
  it('answers as the Express route does: body, status, headers, request id, one count per request', async () => {
    const { app } = createSearchApp({ pool: {} as Pool, backend: stubBackend(), logger: memoryLogger('search') });
    for (const q of ['lap', 'zeppelin', 'down']) {
      const early = await request(app).get(`/search?q=${q}`).set('X-Request-Id', `early-${q}`);
      const routed = await request(app).get(`/search/?q=${q}`);
      expect(early.status).toBe(routed.status);
      expect(early.body).toEqual(routed.body);
      expect(early.headers['content-type']).toBe(routed.headers['content-type']);
      expect(early.headers['x-request-id']).toBe(`early-${q}`);
      expect(routed.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect((await request(app).get('/search?q=down')).body).toMatchObject({ error: { code: 'search_unavailable', details: [{ field: 'postgres' }] } });
    const head = await request(app).head('/search?q=lap').expect(200);
    expect(head.text).toBeUndefined();
    // Invalid queries go through Express and its 400, the field named.
    const bad = await request(app).get('/search?q=%20').expect(400);
    expect(JSON.stringify(bad.body)).toContain('q');

    const metrics = parseMetrics((await request(app).get('/metrics').expect(200)).text);
    const requests = (status: string) =>
      findSamples(metrics, 'http_requests_total', { service: 'search', method: 'GET', route: '/search', status_code: status })[0]?.value;
    // 200: lap and zeppelin, each early and routed; 503: down twice early, once routed.
    expect([requests('200'), requests('503'), requests('400')]).toEqual([4, 3, 1]);
    expect(findSamples(metrics, 'http_requests_total', { method: 'HEAD', route: '/search', status_code: '200' })[0]?.value).toBe(1);
  });
});
