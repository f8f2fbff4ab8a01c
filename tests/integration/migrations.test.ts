import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDatabase } from '../../src/services/common/db/migrate.js';
import { createPool } from '../../src/services/common/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

describe('database migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(() => db.drop());

  it('applies every migration once when several replicas start together, and seeds the catalogue', async () => {
    const pools = [createPool(db.url, 2), createPool(db.url, 2), createPool(db.url, 2)];
    const applied = await Promise.all(pools.map((p) => prepareDatabase(p)));
    await Promise.all(pools.map((p) => p.end()));
    // Exactly one replica did the work; the others found it done.
    const all = applied.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all).toContain('001_products.sql');
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM products');
    expect(rows[0]!.n).toBeGreaterThanOrEqual(10);
  });

  it('is a no-op on a second start', async () => {
    expect(await prepareDatabase(db.pool)).toEqual([]);
  });
});
