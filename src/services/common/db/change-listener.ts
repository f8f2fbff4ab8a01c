import pg from 'pg';
import type { Logger } from '../logger.js';

export const CATALOG_CHANNEL = 'catalog_changed';
const RECONNECT_MAX_MS = 5_000;
/**
 * A LISTEN connection only receives, so a peer that vanished without a reset (a database
 * pod replaced, a network partition) would leave it "listening" to nothing for good,
 * and every cache built on it stale. A query now and then must come back in time.
 */
const HEARTBEAT_MS = 15_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;
const CLOSE_WAIT_MS = 1_000;

/** Drops a client's socket at once (node-postgres has no public way to). */
function destroyStream(c: pg.Client): void {
  (c as unknown as { connection?: { stream?: { destroy: () => void } } }).connection?.stream?.destroy();
}

export interface ListenerTiming {
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
}

/**
 * What one notification says changed: the product ids (old and new), or `undefined`
 * when it does not say (more than 500 products, a TRUNCATE, an unreadable payload):
 * then anything may have changed. Migration 005 writes the payload.
 */
export type ChangedIds = number[] | undefined;

export function parseChangedIds(payload: string | undefined): ChangedIds {
  try {
    const ids = (JSON.parse(payload ?? '') as { ids?: unknown }).ids;
    return Array.isArray(ids) && ids.every((id) => Number.isInteger(id)) ? (ids as number[]) : undefined;
  } catch {
    return undefined;
  }
}

export interface ChangeListener {
  readonly listening: boolean;
  close: () => Promise<void>;
}

/**
 * LISTENs for catalogue changes on a dedicated connection (shared by the catalog's page
 * cache and search's index sync). `onState(false)` when the connection is lost (whatever
 * the caller derived from the table must stop trusting itself, since notifications may
 * be missed), `onState(true)` once listening again; reconnects with capped back-off.
 * A connection that stops answering its heartbeat counts as lost.
 */
export function listenForCatalogChanges(
  databaseUrl: string,
  logger: Logger,
  onChange: (ids: ChangedIds) => void,
  onState: (listening: boolean) => void,
  timing: ListenerTiming = {},
): ChangeListener {
  let client: pg.Client | undefined;
  let listening = false;
  let closed = false;
  let delay = 100;
  let timer: NodeJS.Timeout | undefined;
  const heartbeatTimeoutMs = timing.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS;

  const setListening = (value: boolean) => {
    if (listening === value) return;
    listening = value;
    onState(value);
  };

  /** Gives up on `c` (unless already replaced) and connects again later. */
  const drop = (c: pg.Client, why: string, message: string) => {
    if (c !== client) return;
    client = undefined;
    logger.warn({ err: why }, message);
    setListening(false);
    // end() waits for the server's answer, which a vanished peer never sends.
    destroyStream(c);
    void c.end().catch(() => {});
    scheduleReconnect();
  };
  const lost = (c: pg.Client, why: string) => drop(c, why, 'catalog change listener lost its connection');

  const heartbeat = setInterval(() => {
    const c = client;
    if (!c || !listening) return;
    const deadline = setTimeout(() => lost(c, `no answer to a heartbeat within ${heartbeatTimeoutMs} ms`), heartbeatTimeoutMs);
    c.query('SELECT 1').then(
      () => clearTimeout(deadline),
      () => clearTimeout(deadline),
    );
  }, timing.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  const connect = async () => {
    const c = new pg.Client({ connectionString: databaseUrl, keepAlive: true });
    client = c;
    c.on('notification', (message) => onChange(parseChangedIds(message.payload)));
    c.on('error', (err) => lost(c, err.message));
    try {
      await c.connect();
      await c.query(`LISTEN ${CATALOG_CHANNEL}`);
      if (closed) return void (await c.end());
      delay = 100;
      setListening(true);
    } catch (err) {
      drop(c, (err as Error).message, 'catalog change listener cannot connect');
    }
  };

  const scheduleReconnect = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  };

  void connect();
  return {
    get listening() {
      return listening;
    },
    close: async () => {
      closed = true;
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
      setListening(false);
      const c = client;
      client = undefined;
      if (!c) return;
      // A connection that went quiet would never finish end(): give it a moment, then drop it.
      let wait: NodeJS.Timeout | undefined;
      const dropped = new Promise<void>((resolve) => (wait = setTimeout(resolve, CLOSE_WAIT_MS)));
      await Promise.race([c.end().catch(() => {}), dropped.then(() => destroyStream(c))]);
      clearTimeout(wait);
    },
  };
}
