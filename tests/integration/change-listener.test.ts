/**
 * The catalogue change listener (src/services/common/db/change-listener.ts) when its
 * connection goes quiet without closing, as when the database's pod is replaced or the
 * network drops its packets: a relay between it and PostgreSQL that stops passing bytes
 * both ways but keeps both sockets open.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenForCatalogChanges, type ChangedIds } from '../../src/services/common/db/change-listener.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { eventually, memoryLogger } from '../helpers/services.js';

/** A TCP relay to `target` whose current connections can be frozen (nothing passes, nothing closes). */
async function startRelay(target: URL): Promise<{ port: number; freeze: () => void; close: () => Promise<void> }> {
  const pairs: Array<[Socket, Socket]> = [];
  const all: Socket[] = [];
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(target.port || 5432), target.hostname);
    inbound.pipe(outbound).pipe(inbound);
    const quiet = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', quiet);
    outbound.on('error', quiet);
    pairs.push([inbound, outbound]);
    all.push(inbound, outbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    freeze: () => {
      for (const [inbound, outbound] of pairs.splice(0)) {
        inbound.unpipe(outbound);
        outbound.unpipe(inbound);
        inbound.pause();
        outbound.pause();
      }
    },
    close: async () => {
      for (const socket of all) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('catalogue change listener', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ seed: false });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('counts a connection that stops answering its heartbeat as lost, says so, and listens again on a new one', async () => {
    const relay = await startRelay(new URL(db.url));
    const viaRelay = new URL(db.url);
    viaRelay.hostname = '127.0.0.1';
    viaRelay.port = String(relay.port);
    const states: boolean[] = [];
    const changes: ChangedIds[] = [];
    const logger = memoryLogger('catalog');
    const listener = listenForCatalogChanges(viaRelay.toString(), logger, (ids) => changes.push(ids), (on) => states.push(on), {
      heartbeatMs: 100,
      heartbeatTimeoutMs: 300,
    });
    try {
      await eventually(() => (listener.listening ? true : undefined), 5_000, 'the listener');
      relay.freeze();
      await eventually(() => (states.length >= 3 ? true : undefined), 5_000, 'the listener to notice and listen again');
      expect(states.slice(0, 3)).toEqual([true, false, true]);
      expect(logger.lines().some((l) => l.msg === 'catalog change listener lost its connection' && String(l.err).includes('heartbeat'))).toBe(true);
      // The new connection hears changes.
      await db.pool.query("INSERT INTO products (name, price_cents, category) VALUES ('Heard Again', 100, 'test')");
      await eventually(() => (changes.length > 0 ? true : undefined), 5_000, 'a notification on the new connection');
    } finally {
      await listener.close();
      await relay.close();
    }
  });
});
