import type { Client } from '@elastic/elasticsearch';
import { z } from 'zod';
import { baseConfigSchema, httpUrl, postgresUrl } from '../common/config.js';
import { prepareDatabase } from '../common/db/migrate.js';
import { createPool, type Pool } from '../common/db/pool.js';
import type { Logger } from '../common/logger.js';
import { listen, type RunningServer, type RunningService } from '../common/server.js';
import { createSearchApp } from './app.js';
import type { SearchBackend } from './backend.js';
import { createElasticsearchClient, ElasticsearchSearchBackend } from './elasticsearch-backend.js';
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

const SYNC_RETRY_INITIAL_MS = 1_000;
const SYNC_RETRY_MAX_MS = 30_000;

export async function startSearchService(
  config: SearchConfig,
  logger: Logger,
  options: SearchServiceOptions = {},
): Promise<RunningService> {
  const pool = createPool(config.DATABASE_URL);
  const backend = createBackend(config, pool, options);
  let indexer: Indexer | undefined;
  let server: RunningServer;
  try {
    await prepareDatabase(pool);
    if (backend.sync) indexer = await startIndexing(backend.sync.bind(backend), logger);
    const { app } = createSearchApp({ pool, backend, logger });
    server = await listen(app, config.PORT, config.HOST);
  } catch (err) {
    indexer?.stop();
    await backend.close?.();
    await pool.end();
    throw err;
  }
  logger.info({ port: server.port, backend: backend.name }, 'search listening');
  return {
    port: server.port,
    close: async () => {
      await server.close();
      indexer?.stop();
      await backend.close?.();
      await pool.end();
    },
  };
}

function createBackend(config: SearchConfig, pool: Pool, options: SearchServiceOptions): SearchBackend {
  if (config.SEARCH_BACKEND === 'postgres') return new PostgresSearchBackend(pool);
  // The schema guarantees the URL whenever this backend is chosen.
  const client = options.elasticsearchClient ?? createElasticsearchClient(config.ELASTICSEARCH_URL!);
  return new ElasticsearchSearchBackend(client, pool, { index: config.ELASTICSEARCH_INDEX });
}

interface Indexer {
  stop: () => void;
}

/**
 * Builds the index before the service listens when Elasticsearch answers. When it does
 * not, the service starts anyway and retries with capped back-off: a missing search
 * cluster is a state that /health reports (503 naming elasticsearch), not a crash loop.
 */
async function startIndexing(sync: () => Promise<number>, logger: Logger): Promise<Indexer> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let delay = SYNC_RETRY_INITIAL_MS;
  const attempt = async () => {
    try {
      const count = await sync();
      logger.info({ products: count }, 'search index built');
    } catch (err) {
      if (stopped) return;
      logger.warn({ err: (err as Error).message, retryInMs: delay }, 'cannot build the search index; retrying');
      timer = setTimeout(() => void attempt(), delay);
      timer.unref();
      delay = Math.min(delay * 2, SYNC_RETRY_MAX_MS);
    }
  };
  await attempt();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
