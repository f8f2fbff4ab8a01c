import type { Client } from '@elastic/elasticsearch';
import type { Express } from 'express';
import { z } from 'zod';
import { baseConfigSchema, httpUrl, postgresUrl } from '../common/config.js';
import { listenForCatalogChanges, type ChangeListener } from '../common/db/change-listener.js';
import { prepareDatabase } from '../common/db/migrate.js';
import { createPool, type Pool } from '../common/db/pool.js';
import type { Logger } from '../common/logger.js';
import { serve, type RunningService } from '../common/server.js';
import { createSearchApp } from './app.js';
import type { SearchBackend } from './backend.js';
import { createElasticsearchClient, ElasticsearchSearchBackend } from './elasticsearch-backend.js';
import { startIndexing, type Indexer } from './indexer.js';
import { PostgresSearchBackend } from './postgres-backend.js';

/** An empty variable (as a manifest template may leave it) means "not set". */
const emptyAsUnset = (v: unknown) => (v === '' ? undefined : v);

export const searchConfigSchema = baseConfigSchema
  .extend({
    DATABASE_URL: postgresUrl,
    PORT: baseConfigSchema.shape.PORT.default(5002),
    SEARCH_BACKEND: z.enum(['postgres', 'elasticsearch']).default('postgres'),
    ELASTICSEARCH_URL: z.preprocess(emptyAsUnset, httpUrl.optional()),
    ELASTICSEARCH_INDEX: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,199}$/, 'must be a lowercase index name (letters, digits, - and _)')
      .default('products'),
  })
  .superRefine((config, ctx) => {
    if (config.SEARCH_BACKEND === 'elasticsearch' && config.ELASTICSEARCH_URL === undefined) {
      ctx.addIssue({ code: 'custom', path: ['ELASTICSEARCH_URL'], message: 'is required when SEARCH_BACKEND=elasticsearch' });
    }
  });
export type SearchConfig = z.infer<typeof searchConfigSchema>;

export interface SearchServiceOptions {
  /** An Elasticsearch client to use instead of one built from ELASTICSEARCH_URL (tests pass a mocked one). */
  elasticsearchClient?: Client;
}

/**
 * A search is all CPU on the database side (about 0.1 ms once planned): more sessions
 * than cores only take turns. 4 rather than the default 10 gave 20% more searches per
 * second and a lower p99 with 8 clients on 2 cores (bench/search.ts).
 */
const SEARCH_POOL_SIZE = 4;

export async function startSearchService(
  config: SearchConfig,
  logger: Logger,
  options: SearchServiceOptions = {},
): Promise<RunningService> {
  // The search statements' plans do not depend on their values (postgres-typeahead-sql.ts):
  // planned once per connection instead of on every keystroke.
  const pool = createPool(config.DATABASE_URL, SEARCH_POOL_SIZE, { options: '-c plan_cache_mode=force_generic_plan' });
  const backend = createBackend(config, pool, options);
  let indexer: Indexer | undefined;
  let listener: ChangeListener | undefined;
  const release = async () => {
    await listener?.close();
    await indexer?.stop();
    await backend.close?.();
    await pool.end();
  };
  let app: Express;
  try {
    await prepareDatabase(pool);
    if (backend.sync && backend.syncChanged) {
      const sync = { all: backend.sync.bind(backend), changed: backend.syncChanged.bind(backend) };
      indexer = await startIndexing(sync, config.DATABASE_URL, logger);
    }
    if (backend.catalogChanges) {
      const { changed, listening } = backend.catalogChanges;
      listener = listenForCatalogChanges(config.DATABASE_URL, logger, changed, listening);
    }
    app = createSearchApp({ pool, backend, logger }).app;
  } catch (err) {
    await release();
    throw err;
  }
  const service = await serve(app, config.PORT, config.HOST, release);
  logger.info({ port: service.port, backend: backend.name }, 'search listening');
  return service;
}

function createBackend(config: SearchConfig, pool: Pool, options: SearchServiceOptions): SearchBackend {
  if (config.SEARCH_BACKEND === 'postgres') return new PostgresSearchBackend(pool);
  // The schema guarantees the URL whenever this backend is chosen.
  const client = options.elasticsearchClient ?? createElasticsearchClient(config.ELASTICSEARCH_URL!);
  return new ElasticsearchSearchBackend(client, pool, { index: config.ELASTICSEARCH_INDEX });
}
