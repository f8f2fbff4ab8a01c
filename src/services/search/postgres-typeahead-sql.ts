/**
 * The PostgreSQL backend's query, in two steps: RANGES_SQL turns the search tokens into
 * ranges of terms, walkSql(limit) walks them.
 *
 * Why not `search_vector @@ 'l':*` on the GIN index: GIN answers a prefix only by
 * collecting every matching row into a bitmap, and ranking then read every match, so
 * `l` at 100,000 products cost 200 ms against 0.2 ms for a rare word. Here each
 * product's lexemes sit in `product_search_terms`, a B-tree on (tier, term, product_id),
 * tier 0 for a word of the name, 1 of the category, 2 of the description only. A prefix
 * is a range of that index, read in order and left after `limit` rows: the cost is about
 * `limit` index entries whether 5 products match or 50,000.
 *
 * - Words: each token stemmed like the stored vector ('laptops' finds 'laptop'); an
 *   English stop word stems to nothing and falls back to the plain lowercase word, so
 *   "in" on the way to "inch" still narrows the results.
 * - Ranking: name hits, then category hits, then description-only hits; within a tier
 *   alphabetically by the matched word (completions grouped: lamp…, then laptop…),
 *   then by id. `score` is 3 for a name hit, 2 for category, 1 for description.
 * - A product appears once, at its best (tier, word): a row is skipped when the same
 *   product has an earlier matching word (a probe of the (product_id, term) index).
 * - Several words must all match, each as a prefix. The walk follows the word with the
 *   fewest matches (counted up to 1,000 on the index) and keeps a product only when
 *   it also has a word starting with each of the others. Its cost is about `limit`
 *   divided by how often the other words occur among the driver's matches.
 * - Each tier's walk runs only while the tiers before it found fewer than `limit`.
 *
 * The scalar `(SELECT EXISTS …)` forms keep the planner from turning the per-row checks
 * into hash joins over every match, which would bring back the cost this avoids.
 */
const MAX_DRIVER_COUNT = 1_000;

/**
 * Step one, with `$1` the search tokens: for each token (`word`) its ranges of terms
 * `[lo, hi)` (usually one; an English stop word falls back to the plain word) and,
 * when the tokens give more than one range, how many index entries each range has
 * (`matches`, counted up to 1,000). The backend orders them (orderRanges: the walk
 * follows the word with the fewest matches) and keeps what it can (postgres-backend.ts).
 * It is separate so that step two has plain scalar parameters.
 */
export const RANGES_SQL = `
  WITH words AS (
    SELECT DISTINCT word, COALESCE(stemmed.lexeme, plain.lexeme) COLLATE "C" AS lo
    FROM unnest($1::text[]) AS word
    LEFT JOIN LATERAL unnest(to_tsvector('english', word)) AS stemmed ON true
    LEFT JOIN LATERAL unnest(to_tsvector('simple', word)) AS plain ON stemmed.lexeme IS NULL
    WHERE COALESCE(stemmed.lexeme, plain.lexeme) IS NOT NULL
  ),
  -- Every string starting with lo sorts (in "C" order) before lo followed by the last code point.
  ranges AS (
    SELECT word, lo, lo || U&'\\+10FFFF' AS hi FROM words
  )
  SELECT word, lo, hi,
         CASE WHEN (SELECT count(DISTINCT lo) FROM ranges) > 1 THEN
           (SELECT count(*) FROM (SELECT FROM product_search_terms c
                                  WHERE c.tier = ANY ('{0,1,2}') AND c.term >= ranges.lo AND c.term < ranges.hi
                                  LIMIT ${MAX_DRIVER_COUNT}) AS seen)::int
         END AS matches
  FROM ranges`;

export interface TermRange {
  lo: string;
  hi: string;
}

/**
 * The ranges of a search, distinct, the one to walk first: the fewest matches, then the
 * longest word (the narrower prefix), then in "C" order (UTF-8 bytes), so the answer
 * does not depend on the order of the words. `matchesOf` is asked only when there are
 * several ranges.
 */
export function orderRanges(ranges: TermRange[], matchesOf: (lo: string) => number): TermRange[] {
  const distinct = [...new Map(ranges.map((r) => [r.lo, { lo: r.lo, hi: r.hi }])).values()];
  if (distinct.length <= 1) return distinct;
  const keyed = distinct.map((r) => ({ r, matches: matchesOf(r.lo), chars: [...r.lo].length, bytes: Buffer.from(r.lo) }));
  keyed.sort((a, b) => a.matches - b.matches || b.chars - a.chars || Buffer.compare(a.bytes, b.bytes));
  return keyed.map((k) => k.r);
}

const tierWalk = (tier: number, earlierTiers: string[], limit: number, others: number) => `
  walk${tier} AS (
    SELECT t.product_id, t.tier, t.term FROM product_search_terms t
    WHERE ${earlierTiers.length ? `(${earlierTiers.map((w) => `(SELECT count(*) FROM ${w})`).join(' + ')}) < ${limit} AND` : ''}
          t.tier = ${tier} AND t.term >= $1 AND t.term < $2
      AND NOT (SELECT EXISTS (
            SELECT FROM product_search_terms e
            WHERE e.product_id = t.product_id AND e.term >= $1 AND e.term < $2
              AND (e.tier < t.tier OR (e.tier = t.tier AND e.term < t.term))))
${otherWords(others)}
    ORDER BY t.term, t.product_id
    LIMIT ${limit}
  )`;

/**
 * Step two, with `$1`/`$2` the walked word's range and `$3`/`$4` the other words' `lo`
 * and `hi` (arrays of `others` elements): the walk itself, for one `limit` and one count
 * of other words (literals: one prepared statement per pair).
 *
 * Why two steps: planning the walk took about 1.4 ms while running it took about 0.1 ms
 * (pgbench: the same query planned once, 9,500 queries/s; planned on every call, 420).
 * With the tokens as its parameter PostgreSQL re-planned it on every call, since its
 * generic plan (planned without the values) ran 30 times slower. With scalar ranges
 * the generic plan is the index walk, planned once per connection.
 */
export function walkSql(limit: number, others = 0): string {
  const key = `${limit}/${others}`;
  let text = walkStatements.get(key);
  if (text === undefined) {
    text = buildWalkSql(limit, others);
    walkStatements.set(key, text);
  }
  return text;
}

/** Built once per limit and count of other words (1 to 50, 0 to 15), not on every search. */
const walkStatements = new Map<string, string>();

/**
 * One probe per other word: the product has a term in that word's range. Written out
 * per word (`$3[i]`, `$4[i]`) rather than as a join over the arrays: the planner then
 * has the range in the index condition of `(product_id, term)` — one index probe —
 * where over the arrays it read all of the product's terms and filtered them, which
 * made "pro lap" at 100,000 products 2.3 times as slow as one word.
 */
function otherWords(count: number): string {
  return Array.from(
    { length: count },
    (_, i) => `      AND (SELECT EXISTS (
            SELECT FROM product_search_terms m
            WHERE m.product_id = t.product_id AND m.term >= ($3::text[])[${i + 1}] AND m.term < ($4::text[])[${i + 1}]))`,
  ).join('\n');
}

function buildWalkSql(limit: number, others: number): string {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  if (!Number.isSafeInteger(others) || others < 0) throw new RangeError(`others must be a count, got ${others}`);
  return `
  WITH
  ${tierWalk(0, [], limit, others)},
  ${tierWalk(1, ['walk0'], limit, others)},
  ${tierWalk(2, ['walk0', 'walk1'], limit, others)},
  hits AS (
    SELECT * FROM walk0 UNION ALL SELECT * FROM walk1 UNION ALL SELECT * FROM walk2
    ORDER BY tier, term, product_id
    LIMIT ${limit}
  )
  SELECT p.id, p.name, p.description, (p.price_cents / 100.0)::float8 AS price, p.category,
         (3 - h.tier)::float8 AS score
  FROM hits h JOIN products p ON p.id = h.product_id
  ORDER BY h.tier, h.term, h.product_id`;
}
