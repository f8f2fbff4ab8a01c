import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/services/common/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

describe('createPool', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ seed: false, migrate: false });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("adds its server settings to those of DATABASE_URL's options instead of dropping either", async () => {
    const url = new URL(db.url);
    url.searchParams.set('options', '-c statement_timeout=12345');
    const pool = createPool(url.toString(), 1, { options: '-c plan_cache_mode=force_generic_plan' });
    try {
      const { rows } = await pool.query<{ timeout: string; plans: string }>(
        "SELECT current_setting('statement_timeout') AS timeout, current_setting('plan_cache_mode') AS plans",
      );
      expect(rows[0]).toEqual({ timeout: '12345ms', plans: 'force_generic_plan' });
    } finally {
      await pool.end();
    }
  });
});
