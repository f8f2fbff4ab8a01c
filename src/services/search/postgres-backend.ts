import { pingDatabase, type Pool } from '../common/db/pool.js';
import { searchTokens, SearchUnavailableError, type SearchBackend, type SearchHit } from './backend.js';
import { RANGES_SQL, walkSql } from './postgres-typeahead-sql.js';

/** SQLSTATE classes that mean "the database is away", not "our SQL is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57)/;
const RANGES_STATEMENT = 'ecom-search-ranges';
const WALK_STATEMENT = 'ecom-search-walk';
const MAX_KEPT_WORDS = 10_000;

interface TermRange {
  lo: string;
  hi: string;
}

/**
 * Search on PostgreSQL itself, no second store to keep in sync: the products table's
 * lexemes in `product_search_terms` (kept by triggers, migration 004), walked as a
 * B-tree so a query costs about `limit` index entries however many products match
 * (see postgres-typeahead-sql.ts and docs/architecture.md, "Search").
 */
export class PostgresSearchBackend implements SearchBackend {
  readonly name = 'postgres' as const;

  /**
   * One word's ranges, when they are at most one: a function of the word alone (the
   * 'english' stemmer is fixed), so a word typed again skips a round trip. Several
   * ranges from one word are ordered by how many products match, which changes with
   * the data: those are not kept. Bounded; the oldest entry goes first.
   */
  private readonly wordRanges = new Map<string, TermRange[]>();

  constructor(private readonly pool: Pool) {}

  private async rangesOf(tokens: string[]): Promise<TermRange[]> {
    const word = tokens.length === 1 ? tokens[0]! : undefined;
    const kept = word === undefined ? undefined : this.wordRanges.get(word);
    if (kept) return kept;
    const { rows } = await this.pool.query<TermRange>({ name: RANGES_STATEMENT, text: RANGES_SQL, values: [tokens] });
    if (word !== undefined && rows.length <= 1) {
      if (this.wordRanges.size >= MAX_KEPT_WORDS) this.wordRanges.delete(this.wordRanges.keys().next().value!);
      this.wordRanges.set(word, rows);
    }
    return rows;
  }

  async search(query: string, limit: number): Promise<SearchHit[]> {
    const tokens = searchTokens(query);
    if (tokens.length === 0) return [];
    try {
      // Named statements: each connection parses them once, and plans the walk once (see walkSql).
      const [walked, ...others] = await this.rangesOf(tokens);
      if (!walked) return [];
      const { rows } = await this.pool.query<SearchHit>({
        name: `${WALK_STATEMENT}-${limit}`,
        text: walkSql(limit),
        values: [walked.lo, walked.hi, others.map((o) => o.lo), others.map((o) => o.hi)],
      });
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
