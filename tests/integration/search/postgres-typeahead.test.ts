import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProducts, insertProducts } from '../../../src/services/common/db/seed.js';
import type { SearchHit } from '../../../src/services/search/backend.js';
import { PostgresSearchBackend } from '../../../src/services/search/postgres-backend.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

const GENERATED = 20_000;
const FIRST_GENERATED_ID = 15;

const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
const hasWordStarting = (text: string, prefix: string) => words(text).some((w) => w.startsWith(prefix));
const ids = (hits: SearchHit[]) => hits.map((h) => h.id);

/** Every name hit comes before every hit that is not one. */
function expectNameHitsFirst(hits: SearchHit[], prefix: string): void {
  const inName = hits.map((h) => hasWordStarting(h.name, prefix));
  const firstOther = inName.indexOf(false);
  if (firstOther >= 0) expect(inName.slice(firstOther)).not.toContain(true);
}

describe('PostgreSQL type-ahead over tens of thousands of products', () => {
  let db: TestDatabase;
  let backend: PostgresSearchBackend;
  const countMatching = async (prefix: string) =>
    (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM products WHERE search_vector @@ to_tsquery('simple', $1)`, [`${prefix}:*`]))
      .rows[0]!.n;

  beforeAll(async () => {
    db = await createTestDatabase();
    await insertProducts(db.pool, generateProducts(GENERATED, FIRST_GENERATED_ID));
    backend = new PostgresSearchBackend(db.pool);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('answers "mo", which every product matches, with `limit` name hits', async () => {
    // Every generated description says "model"; only Modular… and …Monitor names have it.
    expect(await countMatching('mo')).toBeGreaterThanOrEqual(GENERATED);
    const hits = await backend.search('mo', 50);
    expect(hits).toHaveLength(50);
    expect(hits.every((h) => hasWordStarting(h.name, 'mo'))).toBe(true);
    expect(new Set(hits.map((h) => h.score))).toEqual(new Set([3]));
    expect(ids(await backend.search('mo', 10))).toEqual(ids(hits).slice(0, 10));
  });

  it.each(['l', 'la', 'lap', 'lapt', 's', 'c'])('answers the broad prefix "%s" within the limit, name hits first', async (prefix) => {
    expect(await countMatching(prefix)).toBeGreaterThan(1_000);
    const hits = await backend.search(prefix, 20);
    expect(hits).toHaveLength(20);
    expect(hits.every((h) => hasWordStarting(`${h.name} ${h.category} ${h.description}`, prefix))).toBe(true);
    expect(hasWordStarting(hits[0]!.name, prefix)).toBe(true);
    expectNameHitsFirst(hits, prefix);
  });

  it('falls back to description hits, once each, when no name has the word', async () => {
    expect(await countMatching('everyday')).toBe(GENERATED);
    const hits = await backend.search('everyday', 50);
    expect(hits).toHaveLength(50);
    expect(hits.every((h) => h.score === 1 && !hasWordStarting(h.name, 'everyday'))).toBe(true);
    expect(new Set(ids(hits)).size).toBe(50);
  });

  it('requires every word of a broad two-word query, name hits first', async () => {
    const hits = await backend.search('pro lap', 30);
    expect(hits).toHaveLength(30);
    for (const h of hits) {
      const text = `${h.name} ${h.category} ${h.description}`;
      expect(hasWordStarting(text, 'pro') && hasWordStarting(text, 'lap'), h.name).toBe(true);
    }
    expect(hits.slice(0, 10).every((h) => hasWordStarting(h.name, 'pro') && hasWordStarting(h.name, 'lap'))).toBe(true);
  });

  it('requires each of three words, the third one checked as the second is', async () => {
    const [first] = await backend.search('pro lap', 1);
    const third = words(`${first!.name} ${first!.description}`).find((w) => w.length > 3 && !/^(pro|lap)/.test(w))!;
    const hits = await backend.search(`pro lap ${third}`, 50);
    expect(ids(hits)).toContain(first!.id);
    for (const h of hits) {
      const text = `${h.name} ${h.category} ${h.description}`;
      expect([hasWordStarting(text, 'pro'), hasWordStarting(text, 'lap'), hasWordStarting(text, third)], `${h.name}: ${third}`).toEqual([true, true, true]);
    }
    expect(await backend.search(`pro lap ${third} zzzz`, 50)).toEqual([]);
  });

  it('finds the one product that has both a broad word and a rare one, and nothing for an impossible pair', async () => {
    const target = generateProducts(GENERATED, FIRST_GENERATED_ID).find((p) => p.id === 12_345)!;
    const noun = words(target.name)[1]!;
    expect(ids(await backend.search(`${noun} 12345`, 10))).toEqual([12_345]);
    const otherNoun = noun === 'laptop' ? 'lamp' : 'laptop';
    expect(await backend.search(`${otherNoun} 12345`, 10)).toEqual([]);
  });
});

describe('PostgreSQL search follows product changes at once', () => {
  let db: TestDatabase;
  let backend: PostgresSearchBackend;
  const searchIds = async (q: string) => ids(await backend.search(q, 50));

  beforeAll(async () => {
    db = await createTestDatabase();
    backend = new PostgresSearchBackend(db.pool);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('finds a renamed product by its new name, and no longer by its old one', async () => {
    await db.pool.query(`UPDATE products SET name = 'Zephyr Mouse' WHERE id = 3`);
    expect(await backend.search('zeph', 10)).toEqual([expect.objectContaining({ id: 3, name: 'Zephyr Mouse', score: 3 })]);
    // "wireless" was only in the old name.
    expect(await searchIds('wireless')).toEqual([]);
  });

  it('keeps a product findable when only its price changes', async () => {
    await db.pool.query(`UPDATE products SET price_cents = price_cents + 100 WHERE id = 2`);
    expect(await searchIds('mechan')).toEqual([2]);
  });

  it('finds an inserted product and forgets a deleted one', async () => {
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO products (name, description, price_cents, category) VALUES ('Lapdesk Bamboo', 'A desk for your lap', 3900, 'furniture') RETURNING id`,
    );
    expect(await searchIds('lapd')).toEqual([rows[0]!.id]);
    await db.pool.query('DELETE FROM products WHERE id = $1', [rows[0]!.id]);
    expect(await searchIds('lapd')).toEqual([]);
    expect(await searchIds('lap')).toEqual([1, 13]);
  });

  it('finds nothing after the catalogue is truncated, and the new one after it is refilled', async () => {
    await db.pool.query('TRUNCATE products');
    expect(await searchIds('lap')).toEqual([]);
    await insertProducts(db.pool, generateProducts(20, 1));
    expect((await searchIds('lap')).length).toBeGreaterThan(0);
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(DISTINCT product_id)::int AS n FROM product_search_terms');
    expect(rows[0]!.n).toBe(20);
  });
});
