import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const seed = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/services/common/db/seed-cli.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('npm run seed', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(() => db.drop());

  it('adds generated products after the shipped catalogue, which stays', async () => {
    const result = seed(['--products', '2000', '--database-url', db.url]);
    expect(result.stderr).toContain('seed: 2000 products');
    expect(result.status).toBe(0);
    const { rows } = await db.pool.query<{ n: number; first: string }>(
      'SELECT count(*)::int AS n, (SELECT name FROM products WHERE id = 1) AS first FROM products',
    );
    expect(rows[0]).toEqual({ n: 2014, first: 'Laptop Pro 14' });
  });

  it('rejects a bad count with one line and exit 2', () => {
    const result = seed(['--products', 'lots', '--database-url', db.url]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe('seed: --products must be an integer from 1 to 10000000 (got "lots")');
  });
});
