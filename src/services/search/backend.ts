/** A product as every service serializes it, plus how well it matched. */
export interface SearchHit {
  id: number;
  name: string;
  description: string;
  price: number;
  category: string;
  score: number;
}

/** What one sync did: products (re)indexed, and stale documents removed. */
export interface SyncResult {
  indexed: number;
  deleted: number;
  /** Set when the sync dropped an index made with another mapping, saying which. */
  rebuiltFrom?: string;
}

export type BackendName = 'postgres' | 'elasticsearch';

/**
 * Where search runs. Both implementations reduce the query to `searchTokens(query)`
 * before building anything, and share one intent: every token is a prefix, all tokens
 * must match, a hit in the name outranks one in the category, which outranks the description.
 */
export interface SearchBackend {
  readonly name: BackendName;
  /** Best matches first, at most `limit`. Throws SearchUnavailableError when the store does not answer. */
  search(query: string, limit: number): Promise<SearchHit[]>;
  /** Resolves when the backend can answer searches; rejects with the reason otherwise. For /health. */
  ping(): Promise<void>;
  /**
   * Makes the backend's own index match the catalogue, for backends that keep one:
   * indexes every product and removes documents of products that no longer exist.
   */
  sync?(): Promise<SyncResult>;
  /**
   * Brings only these products in step, for the change notifications that name them:
   * each is indexed when it exists and removed when it does not.
   */
  syncChanged?(ids: number[]): Promise<SyncResult>;
  /**
   * For backends that keep something derived from the catalogue in memory: the service
   * wires these to its catalogue change listener (common/db/change-listener.ts).
   */
  readonly catalogChanges?: { changed: () => void; listening: (on: boolean) => void };
  close?(): Promise<void>;
}

/** The search store did not answer: a 503 for the caller, never a 500. */
export class SearchUnavailableError extends Error {
  constructor(
    readonly backend: BackendName,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${backend} is unavailable: ${reason}`, options);
    this.name = 'SearchUnavailableError';
  }
}

/**
 * Bounds on what one query may cost. A 200-character query rarely comes close, but
 * NFKC can expand one character into many (U+FDFA becomes 18), and PostgreSQL
 * rejects a tsquery word over 2 KB with an error, so both are capped here.
 */
export const MAX_TOKENS = 16;
export const MAX_TOKEN_CHARS = 64;

/** A word starts with a letter or digit and may carry combining marks (Devanagari vowel signs, say). */
const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu;

/**
 * The only path from user text to a backend query: lowercase runs of letters, digits
 * and combining marks. Everything a query language could read as syntax (quotes, `&|!:*()<>`,
 * backslashes, NUL) is a separator, so no backend ever sees it. Deduplicated, since a
 * repeated word adds cost but no meaning.
 */
export function searchTokens(query: string): string[] {
  const words = query.normalize('NFKC').toLowerCase().match(WORD) ?? [];
  const tokens = new Set<string>();
  for (const word of words) {
    tokens.add(Array.from(word).slice(0, MAX_TOKEN_CHARS).join(''));
    if (tokens.size === MAX_TOKENS) break;
  }
  return [...tokens];
}

/** True when a query contains something searchable. */
export function hasSearchableText(query: string): boolean {
  return searchTokens(query).length > 0;
}
