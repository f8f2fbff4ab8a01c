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
