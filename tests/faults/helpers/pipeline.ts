/**
 * What the fault tests read back from the database and the services after a load: the
 * orders stored per idempotency key, the outbox backlog and the consumer's record.
 */
import type { Pool } from '../../../src/services/common/db/pool.js';
import { findSamples, parseMetrics } from '../../../src/smoke/prometheus-text.js';

/** Idempotency key to order ids stored under it (more than one would be a duplicate). */
export async function storedOrdersByKey(pool: Pool, keyPrefix: string): Promise<Map<string, string[]>> {
  const { rows } = await pool.query<{ key: string; id: string }>(
    'SELECT idempotency_key AS key, id::text AS id FROM orders WHERE idempotency_key LIKE $1 ORDER BY created_at',
    [`${keyPrefix}-%`],
  );
  const byKey = new Map<string, string[]>();
  for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row.id]);
  return byKey;
}

export async function pendingOutboxRows(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
  return rows[0]!.n;
}

/** The consumer's record of processed messages: one row per message id it stored. */
export async function consumedMessageIds(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>('SELECT message_id AS id FROM consumed_orders ORDER BY message_id');
  return rows.map((r) => r.id);
}

/** One series' value from a service's /metrics, e.g. ('orders_consumed_total', { outcome: 'consumed' }). */
export async function metricValue(serviceUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  const [sample] = findSamples(parseMetrics(text), name, labels);
  if (!sample) throw new Error(`${serviceUrl}/metrics has no ${name}${JSON.stringify(labels)}`);
  return sample.value;
}
