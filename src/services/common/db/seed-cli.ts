/**
 * `npm run seed -- --products 100000 [--database-url URL]`: adds a large generated data
 * set after the shipped catalogue (for benchmarks). Applies migrations first.
 */
import { parseArgs } from 'node:util';
import { prepareDatabase } from './migrate.js';
import { createPool } from './pool.js';
import { generateProducts, insertProducts } from './seed.js';

const { values } = parseArgs({
  options: {
    products: { type: 'string', default: '1000' },
    'database-url': { type: 'string' },
  },
});
const count = Number(values.products);
const url = values['database-url'] ?? process.env.DATABASE_URL;
if (!Number.isInteger(count) || count < 1 || count > 10_000_000) {
  process.stderr.write(`seed: --products must be an integer from 1 to 10000000 (got "${values.products}")\n`);
  process.exit(2);
}
if (!url) {
  process.stderr.write('seed: DATABASE_URL is not set; pass --database-url postgres://…\n');
  process.exit(2);
}
const pool = createPool(url, 2);
try {
  // The shipped catalogue stays (smoke checks look for its products); generated ones follow it.
  await prepareDatabase(pool);
  const { rows } = await pool.query<{ next: number }>('SELECT COALESCE(max(id), 0) + 1 AS next FROM products');
  const started = performance.now();
  await insertProducts(pool, generateProducts(count, rows[0]!.next));
  // What autovacuum would do a minute later: statistics for the planner and a visibility
  // map, so search's index-only range scans answer from the first request.
  await pool.query('VACUUM ANALYZE products, product_search_terms');
  process.stderr.write(`seed: ${count} products in ${Math.round(performance.now() - started)} ms\n`);
} catch (err) {
  process.stderr.write(`seed: failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
