import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../../src/services/common/db/seed.js';
import { createSearchApp } from '../../../src/services/search/app.js';
import type { SearchBackend } from '../../../src/services/search/backend.js';
import { findSamples, parseMetrics } from '../../../src/smoke/prometheus-text.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { memoryLogger } from '../../helpers/services.js';

interface Item {
  id: number;
  name: string;
  score: number;
}

const ids = (res: request.Response) => (res.body.items as Item[]).map((i) => i.id);

const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
const hasWordStarting = (text: string, prefix: string) => words(text).some((w) => w.startsWith(prefix));

/** Ids of the shipped products with a word starting with `prefix` anywhere, and in the name. */
function catalogueMatches(prefix: string): { all: number[]; inName: number[] } {
  const products = loadCatalogue();
  const all = products.filter((p) => hasWordStarting(`${p.name} ${p.category} ${p.description}`, prefix));
  return { all: all.map((p) => p.id).sort((a, b) => a - b), inName: all.filter((p) => hasWordStarting(p.name, prefix)).map((p) => p.id).sort((a, b) => a - b) };
}

/** Every name hit comes before every other hit. */
function expectNameHitsFirst(items: Item[], prefix: string): void {
  const inName = items.map((i) => hasWordStarting(i.name, prefix));
  const firstOther = inName.indexOf(false);
  if (firstOther >= 0) expect(inName.slice(firstOther), `name hits after other hits: ${JSON.stringify(items.map((i) => i.name))}`).not.toContain(true);
}

/** Inputs a search box receives from people and from scanners; none of them may cause a 500. */
export const NASTY_QUERIES = [
  "'",
  '"lap"',
  '&|!:*()<>',
  "lap' OR 1=1 --",
  "'; DROP TABLE products; --",
  'lap:* | !sleeve & (',
  'lap <-> sleeve',
  '\\',
  '\\x00 lap',
  'laptop\u0000',
  '%',
  '<script>alert(1)</script>',
  '{"$gt": ""}',
  'ñandú 💻 Ω',
  'कि़ताब',
  'שלום עולם',
  '\u202Elap',
  '\uFDFA'.repeat(200),
  'a'.repeat(200),
  'x '.repeat(100),
  '(((((lap)))))',
  'name:lap* OR category:*',
  '*:*',
];

/**
 * The behaviour every SearchBackend must show through HTTP, run once per backend:
 * for real against PostgreSQL, and against Elasticsearch through its client mock.
 * `makeBackend` gets a fresh, migrated and seeded database.
 */
export function describeSearchBehaviour(label: string, makeBackend: (db: TestDatabase) => Promise<SearchBackend>): void {
  describe(`search on ${label}`, () => {
    let db: TestDatabase;
    let backend: SearchBackend;
    let app: Express;

    beforeAll(async () => {
      db = await createTestDatabase();
      backend = await makeBackend(db);
      app = createSearchApp({ pool: db.pool, backend, logger: memoryLogger('search') }).app;
    });
    afterAll(async () => {
      await backend?.close?.();
      await db?.drop();
    });

    it('finds both laptops from the prefix "lap", name matches first', async () => {
      const res = await request(app).get('/search?q=lap').expect(200);
      expect(res.body.query).toBe('lap');
      expect(ids(res).slice(0, 2).sort((a, b) => a - b)).toEqual([1, 13]);
      expect(res.body.count).toBe(res.body.items.length);
      expect(res.body.items.find((i: Item) => i.id === 1)).toEqual({
        id: 1,
        name: 'Laptop Pro 14',
        description: expect.stringContaining('laptop'),
        price: 1299,
        category: 'computers',
        score: expect.any(Number),
      });
    });

    it.each([
      ['ergonomic', [10, 3]],
      ['bluetooth', [14, 3]],
      ['ssd', [7, 1]],
    ])('ranks a name match above a description-only match for "%s"', async (q, expected) => {
      const res = await request(app).get('/search').query({ q }).expect(200);
      expect(ids(res)).toEqual(expected);
      const [first, second] = res.body.items as Item[];
      expect(first!.score).toBeGreaterThan(second!.score);
    });

    it.each(['l', 'la', 's', 'c'])('answers the prefix "%s" with every product that has a word starting with it, name hits first', async (q) => {
      const { all, inName } = catalogueMatches(q);
      expect(inName.length, 'the catalogue should have name hits for this prefix').toBeGreaterThan(0);
      const res = await request(app).get('/search').query({ q, limit: 50 }).expect(200);
      const items = res.body.items as Item[];
      expect(ids(res).sort((a, b) => a - b)).toEqual(all);
      expect(ids(res).slice(0, inName.length).sort((a, b) => a - b)).toEqual(inName);
      expectNameHitsFirst(items, q);
      // The score says the same: a name hit scores above anything that is not one.
      const nameScores = items.slice(0, inName.length).map((i) => i.score);
      const otherScores = items.slice(inName.length).map((i) => i.score);
      if (otherScores.length) expect(Math.min(...nameScores)).toBeGreaterThan(Math.max(...otherScores));
    });

    it('narrows as a word is typed, letter by letter', async () => {
      const seen: number[][] = [];
      for (const q of ['l', 'la', 'lap', 'lapt', 'lapto', 'laptop']) {
        const res = await request(app).get('/search').query({ q, limit: 50 }).expect(200);
        seen.push(ids(res).sort((a, b) => a - b));
      }
      for (let i = 1; i < seen.length; i++) expect(seen[i - 1]).toEqual(expect.arrayContaining(seen[i]!));
      // From "lap" on only the two laptops are left.
      expect(seen.slice(2)).toEqual(Array(4).fill([1, 13]));
    });

    it('finds a product by a word only its description has', async () => {
      const res = await request(app).get('/search?q=bamboo').expect(200);
      expect(ids(res)).toEqual([9]);
      expect(res.body.items[0].name).toBe('Standing Desk');
    });

    it('requires every word, each as a prefix', async () => {
      expect(ids(await request(app).get('/search?q=laptop%20sleeve').expect(200))).toEqual([13]);
      expect(ids(await request(app).get('/search?q=lap+slee').expect(200))).toEqual([13]);
      expect(ids(await request(app).get('/search?q=LAPTOP%20Pro').expect(200))).toEqual([1]);
    });

    it('ignores case and punctuation around words', async () => {
      const res = await request(app).get('/search').query({ q: '  "Wireless"!  ' }).expect(200);
      expect(res.body.query).toBe('"Wireless"!');
      expect(ids(res)).toEqual([3]);
    });

    it('returns at most `limit` results, 10 by default', async () => {
      const all = await request(app).get('/search?q=s&limit=50').expect(200);
      expect(all.body.count).toBeGreaterThan(10);
      const three = await request(app).get('/search?q=s&limit=3').expect(200);
      expect(three.body.count).toBe(3);
      expect(ids(three)).toEqual(ids(all).slice(0, 3));
      const byDefault = await request(app).get('/search?q=s').expect(200);
      expect(byDefault.body.items).toHaveLength(10);
    });

    it('answers 200 with no items when nothing matches', async () => {
      const res = await request(app).get('/search?q=zeppelin').expect(200);
      expect(res.body).toEqual({ query: 'zeppelin', items: [], count: 0 });
    });

    it.each([
      ['/search', 'q'],
      ['/search?q=', 'q'],
      ['/search?q=%20%20%20', 'q'],
      ['/search?q=' + 'a'.repeat(201), 'q'],
      ['/search?q=%26%7C!%3A*()%3C%3E', 'q'],
      ['/search?q=---', 'q'],
      ['/search?q=lap&q=top', 'q'],
      ['/search?q[]=lap', 'q'],
      ['/search?q=lap&limit=0', 'limit'],
      ['/search?q=lap&limit=51', 'limit'],
      ['/search?q=lap&limit=ten', 'limit'],
      ['/search?q=lap&limit=-1', 'limit'],
      ['/search?q=lap&limit=1.5', 'limit'],
      ['/search?q=lap&limit=1&limit=2', 'limit'],
    ])('rejects %s with 400 naming %s', async (url, field) => {
      const res = await request(app).get(url).expect(400);
      expect(res.body.error.code).toBe('bad_request');
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual([field]);
    });

    it('never answers 500 to hostile or odd input, and changes nothing', async () => {
      for (const q of NASTY_QUERIES) {
        const res = await request(app).get('/search').query({ q });
        expect([200, 400], `q=${JSON.stringify(q)} gave ${res.status} ${res.text}`).toContain(res.status);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        if (res.status === 200) expect(Array.isArray(res.body.items)).toBe(true);
        else expect(res.body.error.details[0].field).toBe('q');
      }
      for (const raw of ['/search?q=%ED%A0%80lap', '/search?q=%', '/search?q=%zz%', '/search?q=lap%00', '/search?q=%C0%AF']) {
        const res = await request(app).get(raw);
        expect([200, 400], `${raw} gave ${res.status} ${res.text}`).toContain(res.status);
      }
      const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM products');
      expect(rows[0]!.n).toBe(14);
    });

    it('describes itself at /', async () => {
      const res = await request(app).get('/').expect(200);
      expect(res.body).toMatchObject({ service: 'search', backend: backend.name });
    });

    it('is healthy while its dependencies answer', async () => {
      const res = await request(app).get('/health').expect(200);
      expect(res.body.checks.postgres.ok).toBe(true);
      if (backend.name === 'elasticsearch') expect(res.body.checks.elasticsearch.ok).toBe(true);
    });

    it('counts queries in search_queries_total by backend and outcome', async () => {
      await request(app).get('/search?q=lap').expect(200);
      await request(app).get('/search?q=zeppelin').expect(200);
      const metrics = parseMetrics((await request(app).get('/metrics').expect(200)).text);
      expect(metrics.get('search_queries_total')?.type).toBe('counter');
      const value = (outcome: string) =>
        findSamples(metrics, 'search_queries_total', { service: 'search', backend: backend.name, outcome })[0]?.value;
      expect(value('hit')).toBeGreaterThanOrEqual(1);
      expect(value('miss')).toBeGreaterThanOrEqual(1);
      expect(value('error')).toBe(0);
      expect(findSamples(metrics, 'http_requests_total', { route: '/search', status_code: '200' })[0]?.value).toBeGreaterThanOrEqual(2);
    });
  });
}
