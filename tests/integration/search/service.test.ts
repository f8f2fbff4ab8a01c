import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/services/common/config.js';
import { packageRoot } from '../../../src/services/common/paths.js';
import { searchConfigSchema, startSearchService } from '../../../src/services/search/service.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { eventually, memoryLogger } from '../../helpers/services.js';
import { FakeElasticsearch } from './fake-elasticsearch.js';

const configFor = (env: Record<string, string>) =>
  parseConfig(searchConfigSchema, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env });

const getJson = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { items?: Array<{ id: number }> } };
};

describe('search service as started by main', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('serves PostgreSQL search over HTTP on its own port, then closes', async () => {
    const service = await startSearchService(configFor({ DATABASE_URL: db.url }), memoryLogger('search'));
    const base = `http://127.0.0.1:${service.port}`;
    try {
      expect(service.port).toBeGreaterThan(0);
      const res = await getJson(`${base}/search?q=lap&limit=5`);
      expect(res.status).toBe(200);
      expect(res.body.items?.map((i) => i.id)).toEqual([1, 13]);
      expect((await getJson(`${base}/`)).body).toMatchObject({ service: 'search', backend: 'postgres' });
      expect((await getJson(`${base}/health`)).status).toBe(200);
    } finally {
      await service.close();
    }
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });

  it('walks the rarer of two words, and notices when a catalogue change makes the other one rarer', async () => {
    // "zq yq" matches two products; the answer is ordered by the walked word's terms:
    // walking yq gives yqa (Yqa Zqb) before yqb (Zqa Yqb), walking zq the reverse.
    const own = await createTestDatabase();
    const insert = (names: string[]) =>
      own.pool.query("INSERT INTO products (name, price_cents, category) SELECT unnest($1::text[]), 100, 'test' RETURNING id", [names]);
    const [zqaYqb, yqaZqb] = (await insert(['Zqa Yqb', 'Yqa Zqb'])).rows.map((r: { id: number }) => r.id);
    await insert(['Zqc One', 'Zqc Two', 'Zqc Three']);
    const service = await startSearchService(configFor({ DATABASE_URL: own.url }), memoryLogger('search'));
    const ids = async () => (await getJson(`http://127.0.0.1:${service.port}/search?q=zq%20yq`)).body.items?.map((i) => i.id);
    try {
      // Its change listener is up: from here on the backend keeps the words' match counts.
      const listeners = "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'";
      await eventually(async () => ((await own.pool.query(listeners)).rows[0].n > 0 ? true : undefined), 5_000, 'the change listener');
      expect(await ids()).toEqual([yqaZqb, zqaYqb]);
      expect(await ids()).toEqual([yqaZqb, zqaYqb]);
      await insert(['Yqc One', 'Yqc Two', 'Yqc Three', 'Yqc Four']);
      await eventually(async () => ((await ids())?.[0] === zqaYqb ? true : undefined), 5_000, 'zq walked after the change');
      expect(await ids()).toEqual([zqaYqb, yqaZqb]);
    } finally {
      await service.close();
      await own.drop();
    }
  });

  it('builds the Elasticsearch index at start and serves from it', async () => {
    const fake = new FakeElasticsearch();
    const config = configFor({ DATABASE_URL: db.url, SEARCH_BACKEND: 'elasticsearch', ELASTICSEARCH_URL: 'http://es.invalid:9200', ELASTICSEARCH_INDEX: 'catalogue' });
    const service = await startSearchService(config, memoryLogger('search'), { elasticsearchClient: fake.client() });
    try {
      expect(fake.indices.get('catalogue')?.docs.size).toBe(14);
      const res = await getJson(`http://127.0.0.1:${service.port}/search?q=wireless`);
      expect(res.body.items?.map((i) => i.id)).toEqual([3]);
      expect((await getJson(`http://127.0.0.1:${service.port}/health`)).status).toBe(200);
    } finally {
      await service.close();
    }
  });

  it('starts while Elasticsearch is down, reports it, and builds the index once it answers', async () => {
    const fake = new FakeElasticsearch();
    fake.down = true;
    const logger = memoryLogger('search');
    const config = configFor({ DATABASE_URL: db.url, SEARCH_BACKEND: 'elasticsearch', ELASTICSEARCH_URL: 'http://es.invalid:9200' });
    const service = await startSearchService(config, logger, { elasticsearchClient: fake.client() });
    const base = `http://127.0.0.1:${service.port}`;
    try {
      const health = await getJson(`${base}/health`);
      expect(health.status).toBe(503);
      expect(health.body.error).toMatchObject({ message: 'unavailable: elasticsearch' });
      expect((await getJson(`${base}/search?q=lap`)).status).toBe(503);
      expect(logger.lines().some((l) => l.msg === 'cannot build the search index; retrying')).toBe(true);

      fake.down = false;
      await eventually(async () => ((await getJson(`${base}/health`)).status === 200 ? true : undefined), 10_000, 'the index to be built');
      expect((await getJson(`${base}/search?q=lap`)).body.count).toBe(2);
    } finally {
      await service.close();
    }
  });

  it('refuses to start without ELASTICSEARCH_URL for the Elasticsearch backend, in one line', async () => {
    const env = { PATH: process.env.PATH, PORT: '0', DATABASE_URL: db.url, SEARCH_BACKEND: 'elasticsearch' };
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/services/search/main.ts'], { cwd: packageRoot(), env });
    const failure = (await run.then(() => undefined, (err: unknown) => err)) as { code?: number; stderr?: string } | undefined;
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toBe('search: invalid environment: ELASTICSEARCH_URL is required but not set\n');
  });
});
