import { listenForCatalogChanges, type ChangedIds, type ChangeListener } from '../common/db/change-listener.js';
import type { Logger } from '../common/logger.js';
import type { SyncResult } from './backend.js';

/** The two ways a backend's own index can be brought in step with the products table. */
export interface IndexSync {
  /** Every product indexed, documents of products that no longer exist removed. */
  all: () => Promise<SyncResult>;
  /** Only these products: indexed where they exist, removed where they do not. */
  changed: (ids: number[]) => Promise<SyncResult>;
}

export interface Indexer {
  stop: () => Promise<void>;
}

type SyncTrigger = 'start' | 'retry' | 'change' | 'reconnect';

const SYNC_RETRY_INITIAL_MS = 1_000;
const SYNC_RETRY_MAX_MS = 30_000;
/** How long catalogue changes are collected into one sync. */
export const RESYNC_DELAY_MS = 500;
/** How long the first sync waits for the change listener, so no change falls between the two. */
const LISTENER_READY_WAIT_MS = 2_000;
/**
 * More changed products than this wait for a full sync instead (batched, however many):
 * ids that piled up while Elasticsearch was away would otherwise be one query and one
 * bulk request big enough to time out on every retry.
 */
export const MAX_CHANGED_IDS = 1_000;

/**
 * Keeps the backend's index in step with the products table (docs/architecture.md,
 * "Search"). The first sync indexes everything, before the service listens when the
 * backend answers; when it does not, the service starts anyway and retries with capped
 * back-off: a missing search cluster is a state that /health reports (503 naming
 * elasticsearch), not a crash loop. After that, each catalogue change notification
 * names the products it changed and only those are re-indexed (one product renamed at
 * 100,000 products is one bulk operation, not 100,000); a notification that names none
 * (a bulk load, a TRUNCATE) and the listener getting its connection back (notifications
 * may have been missed meanwhile) ask for everything. Changes within RESYNC_DELAY_MS are
 * collected into one sync, at most one sync runs at a time, and changes arriving while
 * it runs make exactly one more after it. A failed sync keeps its work for the retry.
 */
export async function startIndexing(target: IndexSync, databaseUrl: string, logger: Logger): Promise<Indexer> {
  let stopped = false;
  let built = false;
  let timer: NodeJS.Timeout | undefined;
  let dueAt = Infinity;
  let pendingTrigger: SyncTrigger = 'start';
  let running: Promise<void> | undefined;
  let rerun: SyncTrigger | undefined;
  let retryDelay = SYNC_RETRY_INITIAL_MS;
  // The work waiting for the next sync: everything, or these products.
  let pendingAll = true;
  const pendingIds = new Set<number>();

  const want = (ids: ChangedIds) => {
    if (ids === undefined) pendingAll = true;
    else for (const id of ids) pendingIds.add(id);
    if (pendingIds.size > MAX_CHANGED_IDS) pendingAll = true;
    if (pendingAll) pendingIds.clear();
  };

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
    const all = pendingAll;
    const ids = [...pendingIds].sort((a, b) => a - b);
    pendingAll = false;
    pendingIds.clear();
    // A statement that changed no product still notifies; there is nothing to do.
    if (!all && ids.length === 0) return Promise.resolve();
    const attempt = async () => {
      const started = Date.now();
      try {
        const { indexed, deleted, rebuiltFrom } = all ? await target.all() : await target.changed(ids);
        retryDelay = SYNC_RETRY_INITIAL_MS;
        const scope = all ? 'all' : 'changed';
        if (rebuiltFrom) logger.warn({ was: rebuiltFrom }, 'the search index was made with another mapping: dropped and rebuilt from PostgreSQL');
        logger.info({ trigger, scope, indexed, deleted, ms: Date.now() - started }, built ? 'search index re-synced' : 'search index built');
        built = true;
      } catch (err) {
        if (stopped) return;
        if (all) pendingAll = true;
        else want(ids);
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
    (ids) => {
      want(ids);
      schedule('change', RESYNC_DELAY_MS);
    },
    (listening) => {
      if (!listening) return;
      if (!firstSyncStarted) return listenerReady();
      want(undefined);
      schedule('reconnect', RESYNC_DELAY_MS);
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
