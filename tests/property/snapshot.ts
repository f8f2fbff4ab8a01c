/**
 * A digest of everything the services store, per table, to show that a rejected
 * request changed nothing. Columns that background work fills in after an accepted
 * order (the relay's published_at, the consumer's table) are left out: they change
 * because of earlier requests, not this one.
 */
import type { Pool } from '../../src/services/common/db/pool.js';

/** Written later by the relay or the consumer, never by the request itself. */
const BACKGROUND_TABLES = new Set(['consumed_orders']);
const BACKGROUND_COLUMNS: Record<string, string[]> = { outbox: ['published_at'] };

export type Snapshot = Record<string, string>;

export async function snapshotTables(pool: Pool): Promise<Snapshot> {
  const { rows } = await pool.query<{ table_name: string; columns: string[] }>(
    `SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position) AS columns
       FROM information_schema.columns
      WHERE table_schema = 'public'
        AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE')
      GROUP BY table_name ORDER BY table_name`,
  );
  const parts: string[] = [];
  for (const { table_name: table, columns } of rows) {
    if (BACKGROUND_TABLES.has(table)) continue;
    const kept = columns.filter((c) => !(BACKGROUND_COLUMNS[table] ?? []).includes(c)).map(quote);
    const row = `ROW(${kept.join(', ')})::text`;
    parts.push(`SELECT ${literal(table)} AS t, count(*)::text || ':' || md5(coalesce(string_agg(${row}, '|' ORDER BY ${row}), '')) AS d FROM ${quote(table)}`);
  }
  const digest = await pool.query<{ t: string; d: string }>(parts.join(' UNION ALL '));
  return Object.fromEntries(digest.rows.map((r) => [r.t, r.d]));
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
