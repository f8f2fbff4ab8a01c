import { readFileSync } from 'node:fs';
import { sourcePath } from '../paths.js';
import type { Pool, PoolClient } from './pool.js';

export interface ProductSeed {
  id: number;
  name: string;
  description: string;
  price: number;
  category: string;
}

const INSERT_BATCH = 5_000;

export function loadCatalogue(): ProductSeed[] {
  return JSON.parse(readFileSync(sourcePath('services', 'common', 'db', 'catalogue.json'), 'utf8')) as ProductSeed[];
}

/** Inserts the shipped catalogue when the products table is empty (first start). */
export async function seedCatalogueIfEmpty(db: Pool | PoolClient): Promise<number> {
  const { rows } = await db.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM products) AS any');
  if (rows[0]?.any) return 0;
  return insertProducts(db, loadCatalogue());
}

/** Batched multi-row insert through unnest: one round trip per batch. Keeps given ids. */
export async function insertProducts(db: Pool | PoolClient, products: ProductSeed[]): Promise<number> {
  for (let i = 0; i < products.length; i += INSERT_BATCH) {
    const batch = products.slice(i, i + INSERT_BATCH);
    await db.query(
      `INSERT INTO products (id, name, description, price_cents, category)
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::text[])
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
         price_cents = EXCLUDED.price_cents, category = EXCLUDED.category, updated_at = now()`,
      [
        batch.map((p) => p.id),
        batch.map((p) => p.name),
        batch.map((p) => p.description),
        batch.map((p) => Math.round(p.price * 100)),
        batch.map((p) => p.category),
      ],
    );
  }
  // Explicit ids leave the identity behind; move it past them so later inserts work.
  await db.query(
    "SELECT setval(pg_get_serial_sequence('products', 'id'), GREATEST((SELECT max(id) FROM products), 1))",
  );
  return products.length;
}

const ADJECTIVES = ['Compact', 'Pro', 'Ultra', 'Quiet', 'Rugged', 'Slim', 'Smart', 'Classic', 'Wireless', 'Modular'];
const NOUNS = ['Laptop', 'Keyboard', 'Monitor', 'Headset', 'Camera', 'Router', 'Speaker', 'Charger', 'Drive', 'Lamp', 'Desk', 'Chair'];
const CATEGORIES = ['computers', 'accessories', 'displays', 'audio', 'video', 'networking', 'storage', 'furniture'];

/** A deterministic large catalogue for benchmarks: the same n gives the same rows. */
export function generateProducts(count: number, firstId = 1): ProductSeed[] {
  const out: ProductSeed[] = [];
  for (let i = 0; i < count; i++) {
    const id = firstId + i;
    const adjective = ADJECTIVES[id % ADJECTIVES.length]!;
    const noun = NOUNS[Math.floor(id / ADJECTIVES.length) % NOUNS.length]!;
    out.push({
      id,
      name: `${adjective} ${noun} ${id}`,
      description: `${adjective} ${noun.toLowerCase()} model ${id} for everyday work`,
      price: ((id * 7919) % 100_000) / 100 + 1,
      category: CATEGORIES[id % CATEGORIES.length]!,
    });
  }
  return out;
}
