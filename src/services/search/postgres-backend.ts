import { pingDatabase, type Pool } from '../common/db/pool.js';
import { isDependencyOutage } from '../common/http-errors.js';
import { searchTokens, SearchUnavailableError, type SearchBackend, type SearchHit } from './backend.js';
import { orderRanges, RANGES_SQL, walkSql, type TermRange } from './postgres-typeahead-sql.js';

/** SQLSTATE classes that mean "the database is away", not "our SQL is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57)/;
const RANGES_STATEMENT = 'ecom-search-ranges';
const WALK_STATEMENT = 'ecom-search-walk';
const MAX_KEPT_WORDS = 10_000;

interface RangeRow extends TermRange {
  word: string;
  matches: number | null;
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
   * Each word's ranges: a function of the word alone (the 'english' stemmer is fixed),
   * so a word typed again skips a round trip. Bounded; the oldest entry goes first.
   */
  private readonly wordRanges = new Map<string, TermRange[]>();
  /**
   * How many products each range matches (up to 1,000), which picks the word a search
   * of several words walks. It changes with the data, so it is kept only while the
   * service hears every catalogue change (catalogChanges) and dropped on each one.
   */
  private readonly rangeMatches = new Map<string, number>();
  private matchesTrusted = false;
  /** Bumped on every change: a count read before it is not kept after it. */
  private generation = 0;

  constructor(private readonly pool: Pool) {}

  /** Any change, or a listener that may have missed one, makes every count stale. */
  readonly catalogChanges = {
    changed: (): void => this.forgetMatches(),
    listening: (on: boolean): void => {
      this.forgetMatches();
      this.matchesTrusted = on;
    },
  };

  private forgetMatches(): void {
    this.generation++;
    this.rangeMatches.clear();
  }

  private async rangesOf(tokens: string[]): Promise<TermRange[]> {
    const known = tokens.map((t) => this.wordRanges.get(t));
    if (known.every((r) => r !== undefined)) {
      const ranges = known.flat();
      const matches = this.rangeMatches;
      if (new Set(ranges.map((r) => r.lo)).size <= 1 || ranges.every((r) => matches.has(r.lo))) {
        return orderRanges(ranges, (lo) => matches.get(lo)!);
      }
    }
    const generation = this.generation;
    const { rows } = await this.pool.query<RangeRow>({ name: RANGES_STATEMENT, text: RANGES_SQL, values: [tokens] });
    for (const token of tokens) {
      remember(this.wordRanges, token, rows.filter((r) => r.word === token).map(({ lo, hi }) => ({ lo, hi })));
    }
    if (this.matchesTrusted && generation === this.generation) {
      for (const row of rows) if (row.matches !== null) remember(this.rangeMatches, row.lo, row.matches);
    }
    const counted = new Map(rows.map((r) => [r.lo, r.matches ?? 0]));
    return orderRanges(rows, (lo) => counted.get(lo)!);
  }

  async search(query: string, limit: number): Promise<SearchHit[]> {
    const tokens = searchTokens(query);
    if (tokens.length === 0) return [];
    try {
      // Named statements: each connection parses them once, and plans the walk once (see walkSql).
      const [walked, ...others] = await this.rangesOf(tokens);
      if (!walked) return [];
      const { rows } = await this.pool.query<SearchHit>({
        name: `${WALK_STATEMENT}-${limit}-${others.length}`,
        text: walkSql(limit, others.length),
        // A statement without other words has no $3 and $4 to send.
        values: others.length === 0 ? [walked.lo, walked.hi] : [walked.lo, walked.hi, others.map((o) => o.lo), others.map((o) => o.hi)],
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
 * other SQLSTATE, or one that is not the database's at all (a bug here), stays a 500 so
 * it gets noticed.
 */
function classify(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  const isSqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
  const unavailable = isSqlState ? UNAVAILABLE_SQLSTATE.test(code) : isDependencyOutage(err) || isClosedPool(err);
  if (!unavailable) return err;
  return new SearchUnavailableError('postgres', (err as Error).message || 'no answer', { cause: err });
}

/** node-postgres refusing work on a pool or client that was closed (while the service stops). */
function isClosedPool(err: unknown): boolean {
  return /after calling end on the pool|is not queryable/.test((err as Error | undefined)?.message ?? '');
}

/** Sets a bounded map's entry; the oldest goes first when it is full. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (!map.has(key) && map.size >= MAX_KEPT_WORDS) map.delete(map.keys().next().value!);
  map.set(key, value);
}
