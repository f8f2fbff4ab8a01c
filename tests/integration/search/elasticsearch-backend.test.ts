import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSearchApp } from '../../../src/services/search/app.js';
import { SearchUnavailableError } from '../../../src/services/search/backend.js';
import { ElasticsearchSearchBackend, INDEX_MAPPINGS, INDEX_SETTINGS, MAPPING_VERSION } from '../../../src/services/search/elasticsearch-backend.js';
import { findSamples, parseMetrics } from '../../../src/smoke/prometheus-text.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { memoryLogger } from '../../helpers/services.js';
import { FakeElasticsearch } from './fake-elasticsearch.js';
import { describeSearchBehaviour } from './search-suite.js';

describeSearchBehaviour('Elasticsearch (client mock)', async (db) => {
  const backend = new ElasticsearchSearchBackend(new FakeElasticsearch().client(), db.pool, { index: 'products' });
  await backend.sync();
  return backend;
});

interface BulkLine {
  index?: { _index: string; _id: string };
  id?: number;
}

describe('Elasticsearch search backend', () => {
  let db: TestDatabase;
  let fake: FakeElasticsearch;
  let backend: ElasticsearchSearchBackend;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(() => {
    fake = new FakeElasticsearch();
    backend = new ElasticsearchSearchBackend(fake.client(), db.pool, { index: 'shop-products', batchSize: 5 });
  });

  it('creates the index with an explicit mapping when it is missing', async () => {
    await backend.sync();
    const [create] = fake.requestsTo('PUT', /^\/shop-products$/);
    expect(create?.body).toEqual({
      settings: {
        number_of_shards: 1,
        analysis: {
          filter: {
            english_possessive: { type: 'stemmer', language: 'possessive_english' },
            english_stemmer: { type: 'stemmer', language: 'english' },
          },
          analyzer: {
            english_typed: { type: 'custom', tokenizer: 'standard', filter: ['english_possessive', 'lowercase', 'english_stemmer'] },
          },
        },
      },
      mappings: {
        dynamic: 'strict',
        _meta: { ecom_mapping_version: MAPPING_VERSION },
        properties: {
          id: { type: 'integer' },
          name: { type: 'search_as_you_type', analyzer: 'english_typed' },
          description: { type: 'text', analyzer: 'english_typed' },
          category: { type: 'keyword', fields: { text: { type: 'text', analyzer: 'english_typed' } } },
          price: { type: 'scaled_float', scaling_factor: 100 },
        },
      },
    });
  });

  it('analyzes without a stop filter, so a stop word typed on the way to a word still narrows as a prefix', () => {
    // Elasticsearch's 'english' analyzer drops "in", "no", "a"; the fake does not analyze, so this is checked on the definition.
    const analyzers = (INDEX_SETTINGS.analysis?.analyzer ?? {}) as Record<string, { filter?: string[] }>;
    const filters = (INDEX_SETTINGS.analysis?.filter ?? {}) as Record<string, { type: string }>;
    for (const name of ['english_typed']) {
      const chain = analyzers[name]?.filter ?? [];
      expect(chain.length).toBeGreaterThan(0);
      for (const f of chain) expect(filters[f]?.type ?? f, `${name}: ${f}`).not.toMatch(/stop/);
    }
    const used = JSON.stringify(INDEX_MAPPINGS.properties);
    expect(used).not.toContain('"analyzer":"english"');
  });

  it('drops and rebuilds an index made with another mapping (an older ecom), and says so', async () => {
    fake.indices.set('shop-products', {
      settings: { number_of_shards: 1 },
      mappings: { properties: { name: { type: 'text' } } },
      docs: new Map([['999', { id: 999, name: 'Left Over' }]]),
    });
    await expect(backend.sync()).resolves.toEqual({ indexed: 14, deleted: 0, rebuiltFrom: 'a mapping without a version' });
    expect(fake.requestsTo('DELETE', /^\/shop-products$/)).toHaveLength(1);
    expect(fake.indices.get('shop-products')?.mappings).toEqual(INDEX_MAPPINGS);
    expect(fake.indices.get('shop-products')?.docs.has('999')).toBe(false);
    // Made with this version: left alone from now on.
    await expect(backend.sync()).resolves.toEqual({ indexed: 14, deleted: 0 });
    expect(fake.requestsTo('DELETE', /^\/shop-products$/)).toHaveLength(1);
  });

  it('bulk-indexes every product from PostgreSQL in batches, keyed by id', async () => {
    await expect(backend.sync()).resolves.toEqual({ indexed: 14, deleted: 0 });
    const bulks = fake.requestsTo('POST', /^\/_bulk$/).map((r) => r.body as BulkLine[]);
    expect(bulks.map((lines) => lines.length / 2)).toEqual([5, 5, 4]);
    const lines = bulks.flat();
    const actions = lines.filter((_, i) => i % 2 === 0);
    const docs = lines.filter((_, i) => i % 2 === 1);
    expect(actions.map((a) => a.index)).toEqual(docs.map((d) => ({ _index: 'shop-products', _id: String(d.id) })));
    const { rows } = await db.pool.query(
      'SELECT id, name, description, (price_cents / 100.0)::float8 AS price, category FROM products ORDER BY id',
    );
    expect(docs).toEqual(rows);
    expect(fake.indices.get('shop-products')?.docs.size).toBe(14);
    // Refreshed after indexing, so the first search sees every document.
    expect(fake.requests.at(-1)?.path).toBe('/shop-products/_refresh');
  });

  it('leaves an existing index and its mapping alone, and re-indexes without duplicates', async () => {
    await backend.sync();
    await backend.sync();
    expect(fake.requestsTo('PUT', /^\/shop-products$/)).toHaveLength(1);
    expect(fake.indices.get('shop-products')?.docs.size).toBe(14);
  });

  it('removes documents of products that are gone, walking the index by id in pages', async () => {
    await backend.sync();
    const docs = fake.indices.get('shop-products')!.docs;
    const stale = [15, 16, 17, 18, 19, 20, 40, 41, 99];
    for (const id of stale) docs.set(String(id), { ...docs.get('1')!, id, name: `Gone ${id}` });
    fake.requests.length = 0;

    await expect(backend.sync()).resolves.toEqual({ indexed: 14, deleted: 9 });
    expect([...docs.keys()].map(Number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    // 23 ids in pages of 5: 5 pages, each sorted by id and continuing after the last one seen.
    const walks = fake.requestsTo('POST', /^\/shop-products\/_search$/).map((r) => r.body as { search_after?: number[]; sort: unknown });
    expect(walks.map((w) => w.search_after?.[0])).toEqual([undefined, 5, 10, 15, 20]);
    expect(walks[0]?.sort).toEqual([{ id: { order: 'asc' } }]);
    const deletes = fake.requestsTo('POST', /^\/_bulk$/).map((r) => r.body as Array<{ delete?: { _id: string } }>).filter((b) => b[0]?.delete);
    expect(deletes.map((b) => b.map((l) => l.delete?._id))).toEqual([['15'], ['16', '17', '18', '19', '20'], ['40', '41', '99']]);
    expect(fake.requests.at(-1)?.path).toBe('/shop-products/_refresh');
    expect(await backend.search('gone', 10)).toEqual([]);
  });

  it('sends each word as a boosted prefix query across name, category and description', async () => {
    await backend.sync();
    const before = fake.requestsTo('POST', /^\/shop-products\/_search$/).length;
    const hits = await backend.search('Lap SLEE!', 7);
    expect(hits.map((h) => h.id)).toEqual([13]);
    const [search] = fake.requestsTo('POST', /^\/shop-products\/_search$/).slice(before);
    const fields = ['name^3', 'category.text^2', 'description'];
    expect(search?.body).toEqual({
      size: 7,
      track_total_hits: false,
      _source: ['id', 'name', 'description', 'price', 'category'],
      query: {
        bool: {
          must: [
            { multi_match: { query: 'lap', type: 'bool_prefix', fields } },
            { multi_match: { query: 'slee', type: 'bool_prefix', fields } },
          ],
        },
      },
      sort: [{ _score: { order: 'desc' } }, { id: { order: 'asc' } }],
    });
  });

  it('sends nothing to the cluster for a query without words', async () => {
    await backend.sync();
    const before = fake.requests.length;
    await expect(backend.search('&|!:*()', 5)).resolves.toEqual([]);
    expect(fake.requests).toHaveLength(before);
  });

  it('fails the sync, naming the product, when the cluster rejects a document', async () => {
    fake.rejectIds.add(12);
    await expect(backend.sync()).rejects.toThrow(/product 12: document_parsing_exception/);
    await expect(backend.ping()).rejects.toThrow(/index "shop-products" is not ready: .*product 12/);
  });

  it('reports the cluster as unavailable, not as a crash, when it does not answer', async () => {
    fake.down = true;
    const failure = await backend.sync().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(SearchUnavailableError);
    expect((failure as Error).message).toMatch(/^elasticsearch is unavailable: .*ECONNREFUSED/);
  });

  describe('over HTTP', () => {
    const appFor = (b: ElasticsearchSearchBackend) =>
      createSearchApp({ pool: db.pool, backend: b, logger: memoryLogger('search') }).app;

    it('keeps /health at 503 until the index is built', async () => {
      const app = appFor(backend);
      const before = await request(app).get('/health').expect(503);
      expect(before.body.error.message).toBe('unavailable: elasticsearch');
      expect(before.body.checks.elasticsearch.error).toMatch(/not ready/);
      await backend.sync();
      await request(app).get('/health').expect(200);
    });

    it('answers 503 JSON while Elasticsearch is down, names it in /health, and recovers', async () => {
      await backend.sync();
      const app = appFor(backend);
      fake.down = true;
      const res = await request(app).get('/search?q=lap').expect(503);
      expect(res.body).toEqual({
        error: {
          code: 'search_unavailable',
          message: 'search is unavailable: elasticsearch did not answer',
          details: [{ field: 'elasticsearch', message: expect.stringContaining('ECONNREFUSED') }],
        },
      });
      const health = await request(app).get('/health').expect(503);
      expect(health.body.error.details).toEqual([{ field: 'elasticsearch', message: expect.stringContaining('ECONNREFUSED') }]);
      expect(health.body.checks.postgres.ok).toBe(true);

      fake.down = false;
      expect((await request(app).get('/search?q=lap').expect(200)).body.count).toBe(2);
      await request(app).get('/health').expect(200);
      const text = (await request(app).get('/metrics').expect(200)).text;
      // Only our series: a just-built registry's event-loop gauges read "Nan", which the strict parser refuses.
      const metrics = parseMetrics(text.split('\n').filter((l) => l.includes('search_queries_total')).join('\n'));
      const count = (outcome: string) => findSamples(metrics, 'search_queries_total', { backend: 'elasticsearch', outcome })[0]?.value;
      expect([count('error'), count('hit'), count('miss')]).toEqual([1, 1, 0]);
    });

    it('answers 503, not 500, when the index has disappeared', async () => {
      await backend.sync();
      fake.indices.delete('shop-products');
      const res = await request(appFor(backend)).get('/search?q=lap').expect(503);
      expect(res.body.error.details).toEqual([{ field: 'elasticsearch', message: 'HTTP 404 index_not_found_exception' }]);
    });
  });
});

describe('Elasticsearch incremental sync', () => {
  let db: TestDatabase;
  let fake: FakeElasticsearch;
  let backend: ElasticsearchSearchBackend;
  const bulkBodies = () => fake.requestsTo('POST', /^\/_bulk$/).map((r) => r.body as unknown[]);

  beforeAll(async () => {
    db = await createTestDatabase();
    fake = new FakeElasticsearch();
    backend = new ElasticsearchSearchBackend(fake.client(), db.pool, { index: 'products' });
    await backend.sync();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('sends one index operation for one changed product, then refreshes', async () => {
    await db.pool.query(`UPDATE products SET name = 'Quartz Keyboard' WHERE id = 2`);
    fake.requests.length = 0;
    await expect(backend.syncChanged([2])).resolves.toEqual({ indexed: 1, deleted: 0 });
    expect(bulkBodies()).toEqual([[{ index: { _index: 'products', _id: '2' } }, expect.objectContaining({ id: 2, name: 'Quartz Keyboard' })]]);
    expect(fake.requests.map((r) => r.path)).toEqual(['/_bulk', '/products/_refresh']);
    expect((await backend.search('quartz', 5)).map((h) => h.id)).toEqual([2]);
  });

  it('deletes the document of a product that is gone, and indexes the others in the same bulk', async () => {
    await db.pool.query('DELETE FROM products WHERE id = 9');
    fake.requests.length = 0;
    await expect(backend.syncChanged([5, 9])).resolves.toEqual({ indexed: 1, deleted: 1 });
    expect(bulkBodies()).toEqual([
      [{ index: { _index: 'products', _id: '5' } }, expect.objectContaining({ id: 5 }), { delete: { _index: 'products', _id: '9' } }],
    ]);
    expect(fake.indices.get('products')?.docs.has('9')).toBe(false);
    expect(await backend.search('bamboo', 5)).toEqual([]);
  });

  it('is content with a product already gone from the index', async () => {
    await expect(backend.syncChanged([9])).resolves.toEqual({ indexed: 0, deleted: 1 });
  });

  it('sends nothing for an empty change', async () => {
    fake.requests.length = 0;
    await expect(backend.syncChanged([])).resolves.toEqual({ indexed: 0, deleted: 0 });
    expect(fake.requests).toEqual([]);
  });

  it('fails, naming the product, when the cluster rejects its document', async () => {
    fake.rejectIds.add(3);
    await expect(backend.syncChanged([3])).rejects.toThrow(/product 3: document_parsing_exception/);
    fake.rejectIds.clear();
  });
});

