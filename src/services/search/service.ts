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
import type { SearchBackend, SyncResult } from './backend.js';
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
/** How long catalogue changes are collected into one re-sync. */
export const RESYNC_DELAY_MS = 500;
/** How long the first sync waits for the change listener, so no change falls between the two. */
const LISTENER_READY_WAIT_MS = 2_000;

export async function startSearchService(
  config: SearchConfig,
  logger: Logger,
  options: SearchServiceOptions = {},
): Promise<RunningService> {
  const pool = createPool(config.DATABASE_URL);
  const backend = createBackend(config, pool, options);
  let indexer: Indexer | undefined;
  const release = async () => {
    await indexer?.stop();
    await backend.close?.();
    await pool.end();
  };
  let app: Express;
  try {
    await prepareDatabase(pool);
    if (backend.sync) indexer = await startIndexing(backend.sync.bind(backend), config.DATABASE_URL, logger);
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

interface Indexer {
  stop: () => Promise<void>;
}

type SyncTrigger = 'start' | 'retry' | 'change' | 'reconnect';

/**
 * Keeps the backend's index in step with the products table. The first sync runs before
 * the service listens when the backend answers; when it does not, the service starts
 * anyway and retries with capped back-off: a missing search cluster is a state that
 * /health reports (503 naming elasticsearch), not a crash loop. After that, every
 * catalogue change notification asks for a re-sync, and so does the listener getting
 * its connection back (notifications may have been missed meanwhile). Requests within
 * RESYNC_DELAY_MS are coalesced, at most one sync runs at a time, and requests arriving
 * while it runs make exactly one more sync after it.
 */
async function startIndexing(
  sync: () => Promise<SyncResult>,
  databaseUrl: string,
  logger: Logger,
): Promise<Indexer> {
  let stopped = false;
  let built = false;
  let timer: NodeJS.Timeout | undefined;
  let dueAt = Infinity;
  let pendingTrigger: SyncTrigger = 'start';
  let running: Promise<void> | undefined;
  let rerun: SyncTrigger | undefined;
  let retryDelay = SYNC_RETRY_INITIAL_MS;

  /** Runs a sync after `delayMs`, unless one is already due sooner or is running (then once more after it). */
  const schedule = (trigger: SyncTrigger, delayMs: number) => {
    if (stopped) return;
    if (running) {
      rerun ??= trigger;
      return;
    }
    if (Date.now() + delayMs >= dueAt) return;
    clearTimeout(timer);
    dueAt = Date.now() + delayMs;
    pendingTrigger = trigger;
    timer = setTimeout(() => void run(pendingTrigger), delayMs);
    timer.unref();
  };

  const run = (trigger: SyncTrigger): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    dueAt = Infinity;
    const attempt = async () => {
      const started = Date.now();
      try {
        const { indexed, deleted } = await sync();
        retryDelay = SYNC_RETRY_INITIAL_MS;
        logger.info({ trigger, indexed, deleted, ms: Date.now() - started }, built ? 'search index re-synced' : 'search index built');
        built = true;
      } catch (err) {
        if (stopped) return;
        const message = built ? 'cannot re-sync the search index; retrying' : 'cannot build the search index; retrying';
        logger.warn({ err: (err as Error).message, retryInMs: retryDelay }, message);
        rerun = undefined;
        running = undefined;
        schedule('retry', retryDelay);
        retryDelay = Math.min(retryDelay * 2, SYNC_RETRY_MAX_MS);
      }
    };
    running = attempt().finally(() => {
      running = undefined;
      const next = rerun;
      rerun = undefined;
      if (next) schedule(next, RESYNC_DELAY_MS);
    });
    return running;
  };

  let listenerReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (listenerReady = resolve));
  let firstSyncStarted = false;
  const listener: ChangeListener = listenForCatalogChanges(
    databaseUrl,
    logger,
    () => schedule('change', RESYNC_DELAY_MS),
    (listening) => {
      if (!listening) return;
      if (firstSyncStarted) schedule('reconnect', RESYNC_DELAY_MS);
      else listenerReady();
    },
  );
  // Listening before the first sync reads the table means no change can slip between
  // them. Should the listener take longer, its connecting later counts as a reconnect.
  const wait = setTimeout(listenerReady, LISTENER_READY_WAIT_MS);
  await ready;
  clearTimeout(wait);
  firstSyncStarted = true;
  await run('start');

  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await listener.close();
      await running?.catch(() => {});
    },
  };
}
