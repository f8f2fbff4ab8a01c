import pg from 'pg';
import { generateProducts, insertProducts } from '../../../src/services/common/db/seed.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/services/common/config.js';
import type { RunningService } from '../../../src/services/common/server.js';
import { searchConfigSchema, startSearchService } from '../../../src/services/search/service.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { eventually, memoryLogger } from '../../helpers/services.js';
import { FakeElasticsearch } from './fake-elasticsearch.js';

/** Changes to the products table reach the Elasticsearch index while the service runs. */
describe('search service keeps the Elasticsearch index live', () => {
  let db: TestDatabase;
  let fake: FakeElasticsearch;
  let logger: ReturnType<typeof memoryLogger>;
  let service: RunningService;
  let base: string;

  const search = async (q: string) => {
    const body = (await (await fetch(`${base}/search?q=${encodeURIComponent(q)}`)).json()) as { items: Array<{ id: number; name: string }> };
    return body.items;
  };
  const resyncs = () => logger.lines().filter((l) => l.msg === 'search index re-synced');
  // The fake shows documents as soon as they are bulk-indexed, a moment before the sync logs.
  const lastResync = () => eventually(() => resyncs().at(-1), 2_000, 'the re-sync log line');

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    fake = new FakeElasticsearch();
    logger = memoryLogger('search');
    const config = parseConfig(searchConfigSchema, {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      DATABASE_URL: db.url,
      SEARCH_BACKEND: 'elasticsearch',
      ELASTICSEARCH_URL: 'http://es.invalid:9200',
    });
    service = await startSearchService(config, logger, { elasticsearchClient: fake.client() });
    base = `http://127.0.0.1:${service.port}`;
  });
  afterEach(async () => {
    await service.close();
  });

  type BulkLine = { index?: { _id: string }; delete?: { _id: string }; id?: number };
  const bulksSince = (before: number) => fake.requestsTo('POST', /^\/_bulk$/).slice(before).map((r) => r.body as BulkLine[]);

  it('re-indexes only the product an UPDATE changed: one bulk operation, not the catalogue', async () => {
    expect(await search('zephyr')).toEqual([]);
    const before = fake.requestsTo('POST', /^\/_bulk$/).length;
    await db.pool.query(`UPDATE products SET name = 'Zephyr Mouse' WHERE id = 3`);
    const items = await eventually(async () => ((await search('zephyr')).length > 0 ? search('zephyr') : undefined), 5_000, 'the new name');
    expect(items).toEqual([expect.objectContaining({ id: 3, name: 'Zephyr Mouse' })]);
    expect(await lastResync()).toMatchObject({ trigger: 'change', scope: 'changed', indexed: 1, deleted: 0 });
    const bulks = bulksSince(before);
    expect(bulks).toHaveLength(1);
    expect(bulks[0]).toEqual([{ index: { _index: 'products', _id: '3' } }, expect.objectContaining({ id: 3, name: 'Zephyr Mouse' })]);
  });

  it('drops a DELETEd product from the results, and indexes an INSERTed one', async () => {
    expect((await search('lap')).map((i) => i.id)).toEqual([1, 13]);
    const before = fake.requestsTo('POST', /^\/_bulk$/).length;
    await db.pool.query('DELETE FROM products WHERE id = 13');
    await eventually(async () => ((await search('lap')).length === 1 ? true : undefined), 5_000, 'the deleted product to disappear');
    expect((await search('lap')).map((i) => i.id)).toEqual([1]);
    expect(fake.indices.get('products')?.docs.has('13')).toBe(false);
    await eventually(() => (resyncs().some((l) => l.deleted === 1) ? true : undefined), 2_000, 'the re-sync log line');
    expect(resyncs().at(-1)).toMatchObject({ trigger: 'change', scope: 'changed', indexed: 0, deleted: 1 });
    expect(bulksSince(before)).toEqual([[{ delete: { _index: 'products', _id: '13' } }]]);

    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO products (name, price_cents, category) VALUES ('Lapdesk Bamboo', 3900, 'furniture') RETURNING id`,
    );
    await eventually(async () => ((await search('lapdesk')).length === 1 ? true : undefined), 5_000, 'the inserted product');
    expect((await search('lap')).map((i) => i.id)).toEqual([1, rows[0]!.id]);
    await eventually(() => (resyncs().at(-1)?.indexed === 1 ? true : undefined), 2_000, 'the re-sync log line');
    expect(resyncs().at(-1)).toMatchObject({ trigger: 'change', scope: 'changed', indexed: 1, deleted: 0 });
  });

  it('re-indexes everything after a statement that changed too many products to name', async () => {
    const before = resyncs().length;
    await insertProducts(db.pool, generateProducts(600, 1_000));
    await eventually(() => (resyncs().slice(before).some((l) => l.scope === 'all') ? true : undefined), 10_000, 'a full re-sync');
    const full = resyncs().slice(before).find((l) => l.scope === 'all');
    expect(full).toMatchObject({ trigger: 'change', scope: 'all' });
    const indexed = Number(full!.indexed);
    expect(fake.indices.get('products')?.docs.size).toBe(indexed);
    await db.pool.query('DELETE FROM products WHERE id >= 1000');
    await eventually(() => (fake.indices.get('products')?.docs.size === indexed - 600 ? true : undefined), 10_000, 'the 600 removed');
  });

  it('keeps a change that failed to sync while Elasticsearch was down, and applies it once it answers', async () => {
    fake.down = true;
    await db.pool.query(`UPDATE products SET name = 'Obsidian Monitor' WHERE id = 4`);
    await eventually(() => (logger.lines().some((l) => l.msg === 'cannot re-sync the search index; retrying') ? true : undefined), 5_000, 'the failed sync');
    fake.down = false;
    await eventually(async () => ((await search('obsidian')).length === 1 ? true : undefined), 10_000, 'the change after the retry');
    expect(await lastResync()).toMatchObject({ trigger: 'retry', scope: 'changed', indexed: 1 });
  });

  it('turns more changed products than one sync should name, piled up while Elasticsearch was down, into a full re-sync', async () => {
    const before = resyncs().length;
    await insertProducts(db.pool, generateProducts(1_200, 5_000));
    await eventually(() => (resyncs().slice(before).some((l) => l.scope === 'all') ? true : undefined), 10_000, 'the 1,200 indexed');
    fake.down = true;
    const failedBefore = logger.lines().filter((l) => l.msg === 'cannot re-sync the search index; retrying').length;
    // Three statements of 400 products each: every notification names its ids.
    for (const from of [5_000, 5_400, 5_800]) {
      await db.pool.query('UPDATE products SET price_cents = price_cents + 1 WHERE id >= $1 AND id < $2', [from, from + 400]);
    }
    await eventually(() => (logger.lines().filter((l) => l.msg === 'cannot re-sync the search index; retrying').length > failedBefore ? true : undefined), 5_000, 'a failed sync');
    const down = resyncs().length;
    fake.down = false;
    await eventually(() => (resyncs().length > down ? true : undefined), 10_000, 'the sync after the outage');
    expect(resyncs().slice(down)[0]).toMatchObject({ scope: 'all' });
    // The other tests' catalogue again.
    const cleaned = resyncs().length;
    await db.pool.query('DELETE FROM products WHERE id >= 5000');
    await eventually(() => (resyncs().length > cleaned ? true : undefined), 10_000, 'the 1,200 removed from the index');
  });

  it('coalesces a burst of 20 updates into far fewer syncs', async () => {
    const before = resyncs().length;
    for (let i = 1; i <= 20; i++) await db.pool.query(`UPDATE products SET name = $1 WHERE id = 5`, [`Burst Headphones ${i}`]);
    await eventually(async () => ((await search('burst')).at(0)?.name === 'Burst Headphones 20' ? true : undefined), 5_000, 'the last update');
    // Let anything still queued run, then count.
    await new Promise((r) => setTimeout(r, 1_500));
    const syncs = resyncs().length - before;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(3);
  });

  it('re-syncs when the change listener reconnects, since changes may have been missed', async () => {
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const before = resyncs().length;
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN %'`,
      );
      // A listener of a service closed just before may still be on its way out.
      expect(rowCount).toBeGreaterThanOrEqual(1);
      await eventually(() => (resyncs().length > before ? true : undefined), 10_000, 'a re-sync after the reconnect');
      expect(resyncs().at(-1)).toMatchObject({ trigger: 'reconnect', scope: 'all' });
    } finally {
      await admin.end();
    }
  });
});
