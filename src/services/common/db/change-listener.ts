import pg from 'pg';
import type { Logger } from '../logger.js';

export const CATALOG_CHANNEL = 'catalog_changed';
const RECONNECT_MAX_MS = 5_000;

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
 */
export function listenForCatalogChanges(
  databaseUrl: string,
  logger: Logger,
  onChange: (ids: ChangedIds) => void,
  onState: (listening: boolean) => void,
): ChangeListener {
  let client: pg.Client | undefined;
  let listening = false;
  let closed = false;
  let delay = 100;
  let timer: NodeJS.Timeout | undefined;

  const setListening = (value: boolean) => {
    if (listening === value) return;
    listening = value;
    onState(value);
  };

  const connect = async () => {
    const c = new pg.Client({ connectionString: databaseUrl });
    client = c;
    c.on('notification', (message) => onChange(parseChangedIds(message.payload)));
    c.on('error', (err) => {
      logger.warn({ err: err.message }, 'catalog change listener lost its connection');
      setListening(false);
      void c.end().catch(() => {});
      scheduleReconnect();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CATALOG_CHANNEL}`);
      if (closed) return void (await c.end());
      delay = 100;
      setListening(true);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'catalog change listener cannot connect');
      void c.end().catch(() => {});
      scheduleReconnect();
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
      if (timer) clearTimeout(timer);
      setListening(false);
      await client?.end().catch(() => {});
    },
  };
}
