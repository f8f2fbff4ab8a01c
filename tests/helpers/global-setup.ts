import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/runtime/local/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of a PostgreSQL server; each test file creates its own database on it. */
    adminDatabaseUrl: string;
  }
}

let server: EmbeddedServer | undefined;

/**
 * One PostgreSQL for the whole run: TEST_DATABASE_URL when set, otherwise an embedded
 * server of our own (never the machine's), removed afterwards.
 */
export async function setup(project: TestProject): Promise<void> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    project.provide('adminDatabaseUrl', given);
    return;
  }
  // Under /tmp (world-traversable) because as root PostgreSQL runs as `postgres`.
  const dataDir = join(tmpdir(), `ecom-test-pg-${randomBytes(4).toString('hex')}`);
  try {
    server = await startEmbeddedPostgres({ dataDir, ephemeral: true });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(
      `cannot start the embedded PostgreSQL for tests (${(err as Error).message}); ` +
        'set TEST_DATABASE_URL=postgres://user@127.0.0.1:5432/postgres to use a running server instead',
    );
  }
  project.provide('adminDatabaseUrl', server.url);
}

export async function teardown(): Promise<void> {
  if (!server) return;
  await server.stop();
  rmSync(server.dataDir, { recursive: true, force: true });
}
