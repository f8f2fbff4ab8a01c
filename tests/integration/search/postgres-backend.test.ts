import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/runtime/local/embedded-postgres.js';
import { createPool } from '../../../src/services/common/db/pool.js';
import { createSearchApp } from '../../../src/services/search/app.js';
import { MAX_TOKEN_CHARS, SearchUnavailableError } from '../../../src/services/search/backend.js';
import { PostgresSearchBackend } from '../../../src/services/search/postgres-backend.js';
import { findSamples, parseMetrics } from '../../../src/smoke/prometheus-text.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { memoryLogger } from '../../helpers/services.js';
import { describeSearchBehaviour } from './search-suite.js';

describeSearchBehaviour('PostgreSQL full-text', async (db) => new PostgresSearchBackend(db.pool));

describe('PostgreSQL search backend', () => {
  let db: TestDatabase;
  let backend: PostgresSearchBackend;

  beforeAll(async () => {
    db = await createTestDatabase();
    backend = new PostgresSearchBackend(db.pool);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('stems whole words, so a plural finds the singular', async () => {
    expect((await backend.search('laptops', 10)).map((h) => h.id)).toEqual([1, 13]);
  });

  it('treats an English stop word as a plain prefix instead of dropping it', async () => {
    // "in" is a stop word; typed on the way to "inch" it still narrows the results.
    expect((await backend.search('in', 10)).map((h) => h.id)).toContain(4);
    expect((await backend.search('27 in', 10)).map((h) => h.id)).toEqual([4]);
  });

  it('answers random text from a hostile alphabet without a database error', async () => {
    const alphabet = [..."abcXYZ019 '\"\\&|!:*()<>-_%;{}[]$@#^~`,.?/=+\u0000\u00e9\u0301\u00b2\ufdfa\u4e2d💻\u202e"];
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const length = 1 + Math.floor(random() * 60);
      const q = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      await expect(backend.search(q, 5), JSON.stringify(q)).resolves.toBeInstanceOf(Array);
    }
  });

  /** A backend whose pool records the name of every statement it runs. */
  const recordingBackend = () => {
    const statements: string[] = [];
    const pool = Object.create(db.pool) as typeof db.pool;
    pool.query = ((config: { name?: string }, ...rest: unknown[]) => {
      statements.push(config.name ?? 'unnamed');
      return (db.pool.query as (...args: unknown[]) => unknown)(config, ...rest);
    }) as typeof db.pool.query;
    return { backend: new PostgresSearchBackend(pool), rangeQueries: () => statements.filter((n) => n === 'ecom-search-ranges').length, statements };
  };

  it('asks the database for the term range of a word once, and for a search of several words each time', async () => {
    const { backend: counted, statements, rangeQueries } = recordingBackend();

    const first = await counted.search('laptops', 10);
    expect(await counted.search('laptops', 10)).toEqual(first);
    expect(await counted.search('laptops', 5)).toEqual(first.slice(0, 5));
    expect(statements).toEqual(['ecom-search-ranges', 'ecom-search-walk-10-0', 'ecom-search-walk-10-0', 'ecom-search-walk-5-0']);

    // Which of several words to walk depends on how many products match each: unknown
    // to a backend that does not hear of catalogue changes, so it asks every time.
    await counted.search('27 in', 10);
    await counted.search('27 in', 10);
    expect(rangeQueries()).toBe(3);
  });

  it('keeps the match counts of several words while it hears of every change, and drops them on one', async () => {
    const { backend: counted, rangeQueries } = recordingBackend();
    counted.catalogChanges.listening(true);
    const answer = await counted.search('27 in', 10);
    expect(await counted.search('in 27', 10)).toEqual(answer);
    expect(rangeQueries()).toBe(1);

    counted.catalogChanges.changed();
    expect(await counted.search('27 in', 10)).toEqual(answer);
    expect(rangeQueries()).toBe(2);

    counted.catalogChanges.listening(false);
    await counted.search('27 in', 10);
    await counted.search('27 in', 10);
    expect(rangeQueries()).toBe(4);
  });

  it('answers several words the same with counts kept as without', async () => {
    const { backend: kept } = recordingBackend();
    kept.catalogChanges.listening(true);
    for (const q of ['lap slee', 'pro lap', 'wire mou', 'in 27', '27 in', 'laptops laptop', 'a b c', 's de']) {
      const fresh = await backend.search(q, 10);
      expect(await kept.search(q, 10), q).toEqual(fresh);
      expect(await kept.search(q, 10), `${q} again`).toEqual(fresh);
    }
  });

  it('calls an outage of the database unavailable (503), and leaves a bug a bug (500)', async () => {
    const failing = (err: Error) => new PostgresSearchBackend({ query: async () => Promise.reject(err) } as unknown as typeof db.pool);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    await expect(failing(refused).search('lap', 5)).rejects.toBeInstanceOf(SearchUnavailableError);
    await expect(failing(new Error('Cannot use a pool after calling end on the pool')).search('lap', 5)).rejects.toBeInstanceOf(SearchUnavailableError);
    await expect(failing(Object.assign(new Error('the database system is shutting down'), { code: '57P03' })).search('lap', 5)).rejects.toBeInstanceOf(SearchUnavailableError);
    const bug = new TypeError("Cannot read properties of undefined (reading 'lo')");
    await expect(failing(bug).search('lap', 5)).rejects.toBe(bug);
    const badSql = Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' });
    await expect(failing(badSql).search('lap', 5)).rejects.toBe(badSql);
  });

  it('caps very long words instead of letting PostgreSQL reject them', async () => {
    const word = 'laptop' + 'x'.repeat(MAX_TOKEN_CHARS * 4);
    await expect(backend.search(word, 5)).resolves.toEqual([]);
  });
});

describe('search service without PostgreSQL', () => {
  it('answers 503 JSON for a search and names postgres in /health', async () => {
    const pool = createPool(`postgres://nobody:secret@127.0.0.1:${await freePort()}/none`, 1);
    try {
      const { app } = createSearchApp({ pool, backend: new PostgresSearchBackend(pool), logger: memoryLogger('search') });
      const res = await request(app).get('/search?q=lap').expect(503);
      expect(res.body.error).toMatchObject({ code: 'search_unavailable', details: [{ field: 'postgres' }] });
      expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
      const health = await request(app).get('/health').expect(503);
      expect(health.body.error.message).toBe('unavailable: postgres');
      // Only our series: a just-built registry's event-loop gauges read "Nan", which the strict parser refuses.
      const text = (await request(app).get('/metrics')).text;
      const metrics = parseMetrics(text.split('\n').filter((l) => l.includes('search_queries_total')).join('\n'));
      expect(findSamples(metrics, 'search_queries_total', { backend: 'postgres', outcome: 'error' })[0]?.value).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
