import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** bigint columns (COUNT, BIGSERIAL) arrive as numbers: our counts fit in 2^53. */
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

/**
 * `options`: server settings for every connection, as libpq's options (`-c name=value`),
 * added to any the URL gives (node-postgres would otherwise keep only the URL's).
 */
export function createPool(connectionString: string, max = 10, settings: { options?: string } = {}): Pool {
  const pool = new pg.Pool({
    ...withOptions(connectionString, settings.options),
    max,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    application_name: process.env.npm_package_name ?? 'ecom',
  });
  // An idle client losing its server emits here; without a listener the process dies.
  pool.on('error', () => {});
  return pool;
}

function withOptions(connectionString: string, options: string | undefined): { connectionString: string; options?: string } {
  if (!options) return { connectionString };
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return { connectionString, options };
  }
  const given = url.searchParams.get('options');
  url.searchParams.delete('options');
  return { connectionString: url.toString(), options: given ? `${given} ${options}` : options };
}

export async function pingDatabase(pool: Pool): Promise<void> {
  await pool.query('SELECT 1');
}

/**
 * Runs `fn` in a transaction on one client, rolling back on any error. While checked
 * out, the client is not the pool's: if PostgreSQL ends the session between two
 * statements (a shutdown while the outbox relay waits for confirms), the client emits
 * 'error', which with no listener kills the process. The listener here keeps that
 * error, the next statement fails, and the broken client is destroyed, not pooled.
 */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken ??= err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackFailed: Error) => {
      broken ??= rollbackFailed;
    });
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
