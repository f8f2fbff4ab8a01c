import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sourcePath } from '../paths.js';
import type { Pool } from './pool.js';
import { seedCatalogueIfEmpty } from './seed.js';

/** Any constant shared by all replicas; serializes schema changes across them. */
export const MIGRATION_LOCK_ID = 0x65636f6d; // "ecom"

export const migrationsDir = () => sourcePath('services', 'common', 'db', 'migrations');

/**
 * Applies every migration not yet recorded, each in its own transaction, under a
 * session advisory lock so replicas starting together do not race; then seeds the
 * catalogue when it is empty. Safe to call on every start.
 */
export async function prepareDatabase(pool: Pool, options: { seed?: boolean } = {}): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    const files = (await readdir(migrationsDir())).filter((f) => f.endsWith('.sql')).sort();
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = await readFile(join(migrationsDir(), file), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      applied.push(file);
    }
    if (options.seed ?? true) await seedCatalogueIfEmpty(client);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
    client.release();
  }
  return applied;
}
