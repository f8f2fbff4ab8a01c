import type { Pool } from '../common/db/pool.js';

export interface Product {
  id: number;
  name: string;
  description: string;
  price: number;
  category: string;
}

const PRODUCT_COLUMNS = 'id, name, description, (price_cents / 100.0)::float8 AS price, category';

export async function listProductsByOffset(pool: Pool, limit: number, offset: number) {
  const [page, count] = await Promise.all([
    pool.query<Product>(`SELECT ${PRODUCT_COLUMNS} FROM products ORDER BY id LIMIT $1 OFFSET $2`, [limit, offset]),
    pool.query<{ total: number }>('SELECT count(*)::int AS total FROM products'),
  ]);
  return { items: page.rows, total: count.rows[0]!.total };
}

/** Keyset pagination: stable under inserts and as cheap on page 1,000 as on page 1. */
export async function listProductsAfter(pool: Pool, limit: number, afterId: number) {
  const { rows } = await pool.query<Product>(
    `SELECT ${PRODUCT_COLUMNS} FROM products WHERE id > $1 ORDER BY id LIMIT $2`,
    [afterId, limit],
  );
  return rows;
}

export async function findProduct(pool: Pool, id: number): Promise<Product | undefined> {
  const { rows } = await pool.query<Product>(`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = $1`, [id]);
  return rows[0];
}
