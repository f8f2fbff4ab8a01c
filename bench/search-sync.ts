/**
 * The cost of one product change at 100,000 products, for each search backend, as a
 * ratio against a reference measured in the same run (issue: search keeps its index in
 * step incrementally instead of re-indexing the whole catalogue on every change).
 *
 * - PostgreSQL: one product renamed (an UPDATE that also rewrites its rows of
 *   product_search_terms, in the same transaction; search sees it at commit) against
 *   the same UPDATE with the search triggers disabled: what keeping search in step adds
 *   to a write.
 * - Elasticsearch: bringing the index in step after that change the way the service
 *   does now (`syncChanged([id])`: read one row, one bulk operation, refresh) against
 *   what it did before, a full sync of the catalogue. Elasticsearch cannot run here, so
 *   the client talks to the test suite's stand-in (@elastic/elasticsearch-mock): the
 *   PostgreSQL reads, the client's serialization and the number and size of requests
 *   are real, the cluster's own indexing time is not. Goal: under 1/100 of a full sync.
 */
import { prepareDatabase } from '../src/services/common/db/migrate.js';
import { createPool, type Pool } from '../src/services/common/db/pool.js';
import { generateProducts, insertProducts } from '../src/services/common/db/seed.js';
import { ElasticsearchSearchBackend } from '../src/services/search/elasticsearch-backend.js';
import { FakeElasticsearch } from '../tests/integration/search/fake-elasticsearch.js';
import { benchDatabase } from './lib/harness.js';
import { record } from './lib/record.js';

const PRODUCTS = 100_000;
const UPDATES = Number(process.env.BENCH_SYNC_UPDATES ?? 300);
const INCREMENTAL_SYNCS = 50;
const FULL_SYNCS = 2;
const ES_GOAL = 0.01;
const SEARCH_TRIGGER = 'products_search_terms_update';

export async function benchSearchSync(): Promise<boolean> {
  const db = await benchDatabase();
  const pool = createPool(db.url, 2);
  try {
    await prepareDatabase(pool);
    await insertProducts(pool, generateProducts(PRODUCTS, 15));
    await pool.query('VACUUM ANALYZE products');
    await pool.query('VACUUM ANALYZE product_search_terms');
    const setting = `${PRODUCTS.toLocaleString('en-US')} products`;

    // Alternate with and without the trigger so drift on a shared machine hits both alike.
    const withSearch: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < UPDATES; i++) {
      const id = 1_000 + ((i * 7_919) % 90_000);
      withSearch.push(await timedRename(pool, id, `Renamed Gadget ${i}`));
      await pool.query(`ALTER TABLE products DISABLE TRIGGER ${SEARCH_TRIGGER}`);
      without.push(await timedRename(pool, id + 1, `Renamed Gadget ${i}`));
      await pool.query(`ALTER TABLE products ENABLE TRIGGER ${SEARCH_TRIGGER}`);
    }
    // The renames without the trigger left their search terms stale; the database is dropped at the end.
    record({
      name: 'PostgreSQL: rename one product (UPDATE, median)',
      figure: median(withSearch),
      unit: 'ms',
      reference: median(without),
      referenceName: 'the same UPDATE without the search triggers',
      note: `${setting}; ${UPDATES} renames each, alternating; p90 ${quantile(withSearch, 0.9).toFixed(2)} vs ${quantile(without, 0.9).toFixed(2)} ms. Search sees the change at commit: there is no index to sync.`,
    });

    const fake = new FakeElasticsearch();
    const backend = new ElasticsearchSearchBackend(fake.client(), pool, { index: 'products' });
    const full: number[] = [];
    for (let i = 0; i < FULL_SYNCS; i++) {
      const started = performance.now();
      await backend.sync();
      full.push(performance.now() - started);
    }
    const incremental: number[] = [];
    for (let i = 0; i < INCREMENTAL_SYNCS; i++) {
      const id = 2_000 + i * 1_001;
      await pool.query('UPDATE products SET name = $2 WHERE id = $1', [id, `Synced Gadget ${i}`]);
      fake.requests.length = 0;
      const started = performance.now();
      await backend.syncChanged([id]);
      incremental.push(performance.now() - started);
      if (fake.requestsTo('POST', /^\/_bulk$/).length !== 1) throw new Error('an incremental sync sent more than one bulk request');
    }
    await backend.close();
    return record({
      name: 'Elasticsearch: sync after one change (median)',
      figure: median(incremental),
      unit: 'ms',
      reference: Math.min(...full),
      referenceName: 'a full sync of the catalogue (the behaviour before)',
      goal: { atMost: ES_GOAL },
      note: `${setting}; client against the test stand-in (@elastic/elasticsearch-mock), so the cluster's own work is not in either figure; one bulk request of one operation against ${Math.ceil(PRODUCTS / 1000)} bulk requests of 1,000 plus the walk for stale documents; ${INCREMENTAL_SYNCS} incremental syncs, best of ${FULL_SYNCS} full ones.`,
    });
  } finally {
    await pool.end();
    await db.close();
  }
}

async function timedRename(pool: Pool, id: number, name: string): Promise<number> {
  const started = performance.now();
  await pool.query('UPDATE products SET name = $2 WHERE id = $1', [id, name]);
  return performance.now() - started;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const median = (values: number[]) => quantile(values, 0.5);
