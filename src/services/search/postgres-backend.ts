import { pingDatabase, type Pool } from '../common/db/pool.js';
import { searchTokens, SearchUnavailableError, type SearchBackend, type SearchHit } from './backend.js';

/**
 * ts_rank_cd weights for the classes the migration stores: D (unused), C (description),
 * B (category), A (name). Spread wide so one name hit outranks several description hits.
 */
const RANK_WEIGHTS = [0.02, 0.1, 0.4, 1.0];

/**
 * Each word becomes a prefix term, stemmed like the stored vector ('laptops' finds
 * 'laptop'). An English stop word stems to nothing, which would silently drop it, so
 * such a word falls back to the simple configuration: someone typing "in" on the way
 * to "inch" still gets results. The terms are ANDed by joining their text forms, which
 * tsquery's input accepts back unchanged. The GIN index answers `@@`; ranking runs
 * only on the matches.
 */
const SEARCH_SQL = `
  WITH terms AS (
    SELECT CASE WHEN numnode(stemmed) > 0 THEN stemmed ELSE plain END AS term
    FROM unnest($1::text[]) AS word,
         LATERAL to_tsquery('english', word) AS stemmed,
         LATERAL to_tsquery('simple', word) AS plain
  ), query AS (
    SELECT string_agg(format('(%s)', term), ' & ')::tsquery AS query FROM terms WHERE numnode(term) > 0
  )
  SELECT id, name, description, (price_cents / 100.0)::float8 AS price, category,
         ts_rank_cd($3::float4[], search_vector, query.query)::float8 AS score
  FROM products, query
  WHERE search_vector @@ query.query
  ORDER BY score DESC, id
  LIMIT $2`;

/**
 * `'lap':*` for each token: a prefix term in to_tsquery's syntax (plainto_tsquery
 * cannot express prefixes). Tokens hold only letters, digits and marks, never `'` or
 * `\`, so quoting them is enough to keep to_tsquery from reading anything as an operator.
 */
export function toPrefixTerms(tokens: string[]): string[] {
  return tokens.map((t) => `'${t}':*`);
}

/** SQLSTATE classes that mean "the database is away", not "our SQL is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57)/;

/** Full-text search on the products table itself: no second store to keep in sync. */
export class PostgresSearchBackend implements SearchBackend {
  readonly name = 'postgres' as const;

  constructor(private readonly pool: Pool) {}

  async search(query: string, limit: number): Promise<SearchHit[]> {
    const tokens = searchTokens(query);
    if (tokens.length === 0) return [];
    try {
      const { rows } = await this.pool.query<SearchHit>(SEARCH_SQL, [toPrefixTerms(tokens), limit, RANK_WEIGHTS]);
      return rows;
    } catch (err) {
      throw classify(err);
    }
  }

  ping(): Promise<void> {
    return pingDatabase(this.pool);
  }
}

/**
 * A lost connection or a database that refuses work becomes a 503; an error with any
 * other SQLSTATE is a bug in our SQL and stays a 500 so it gets noticed.
 */
function classify(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  const isSqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
  if (isSqlState && !UNAVAILABLE_SQLSTATE.test(code)) return err;
  return new SearchUnavailableError('postgres', (err as Error).message || 'no answer', { cause: err });
}
