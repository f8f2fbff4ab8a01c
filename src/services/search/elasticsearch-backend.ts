import { Client, errors, type estypes } from '@elastic/elasticsearch';
import type { Pool } from '../common/db/pool.js';
import { searchTokens, SearchUnavailableError, type SearchBackend, type SearchHit, type SyncResult } from './backend.js';

export type IndexedProduct = Omit<SearchHit, 'score'>;

export const DEFAULT_INDEX_BATCH_SIZE = 1_000;
const REQUEST_TIMEOUT_MS = 5_000;
const PING_TIMEOUT_MS = 1_500;

/**
 * Bumped whenever INDEX_SETTINGS or INDEX_MAPPINGS change. The index is derived from
 * PostgreSQL, so one made with another version (an older ecom, a cluster kept across an
 * upgrade) is dropped and built again by the first sync; Elasticsearch cannot change an
 * existing field's analyzer in place.
 */
export const MAPPING_VERSION = 2;

/**
 * One shard: a catalogue is small, and one shard keeps scores comparable across
 * documents. `english_typed` is Elasticsearch's 'english' analyzer without its stop
 * filter: a stop word typed on the way to a longer word ("in" → "inch", "no" →
 * "notebook") would otherwise analyze to nothing and match no product at all, where
 * PostgreSQL's backend keeps it as a plain prefix.
 */
export const INDEX_SETTINGS: estypes.IndicesIndexSettings = {
  number_of_shards: 1,
  analysis: {
    filter: {
      english_possessive: { type: 'stemmer', language: 'possessive_english' },
      english_stemmer: { type: 'stemmer', language: 'english' },
    },
    analyzer: {
      english_typed: { type: 'custom', tokenizer: 'standard', filter: ['english_possessive', 'lowercase', 'english_stemmer'] },
    },
  },
};

/**
 * Explicit, strict mapping, type-ahead the engine's way: `name` is search_as_you_type,
 * whose `._index_prefix` sub-field holds the edge n-grams of every word, so a one-letter
 * prefix is a term lookup rather than a scan of every term starting with it, however
 * many products match. Name, category and description are analyzed as English, stemmed
 * like PostgreSQL's vector ('laptops' finds 'Laptop'); `category` is a keyword for
 * filters with a text sub-field for search. `_meta` records MAPPING_VERSION.
 */
export const INDEX_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  _meta: { ecom_mapping_version: MAPPING_VERSION },
  properties: {
    id: { type: 'integer' },
    name: { type: 'search_as_you_type', analyzer: 'english_typed' },
    description: { type: 'text', analyzer: 'english_typed' },
    category: { type: 'keyword', fields: { text: { type: 'text', analyzer: 'english_typed' } } },
    price: { type: 'scaled_float', scaling_factor: 100 },
  },
};

/** Name over category over description, the same order as PostgreSQL's weights A, B, C. */
export const SEARCH_FIELDS = ['name^3', 'category.text^2', 'description'];

export function createElasticsearchClient(url: string): Client {
  return new Client({ node: url, requestTimeout: REQUEST_TIMEOUT_MS, maxRetries: 1 });
}

/**
 * Every token must match some field as a prefix (bool_prefix with one token is a
 * prefix query on each field), mirroring PostgreSQL's `'a':* & 'b':*`. Ties go to the
 * lower id, as in PostgreSQL, so both backends page the same way.
 */
export function buildSearchRequest(index: string, tokens: string[], limit: number): estypes.SearchRequest {
  return {
    index,
    size: limit,
    track_total_hits: false,
    _source: ['id', 'name', 'description', 'price', 'category'],
    query: {
      bool: {
        must: tokens.map((token) => ({ multi_match: { query: token, type: 'bool_prefix' as const, fields: SEARCH_FIELDS } })),
      },
    },
    sort: [{ _score: { order: 'desc' } }, { id: { order: 'asc' } }],
  };
}

export interface ElasticsearchBackendOptions {
  index: string;
  batchSize?: number;
}

/**
 * Search in Elasticsearch, fed from PostgreSQL by `sync()`. Until a sync has succeeded
 * `ping()` fails, so /health keeps traffic away from an index that is not there yet.
 */
export class ElasticsearchSearchBackend implements SearchBackend {
  readonly name = 'elasticsearch' as const;
  private synced = false;
  private syncProblem = 'the index has not been built yet';

  constructor(
    private readonly client: Client,
    private readonly pool: Pool,
    private readonly options: ElasticsearchBackendOptions,
  ) {}

  async search(query: string, limit: number): Promise<SearchHit[]> {
    const tokens = searchTokens(query);
    if (tokens.length === 0) return [];
    const response = await this.call(() =>
      this.client.search<IndexedProduct>(buildSearchRequest(this.options.index, tokens, limit)),
    );
    return response.hits.hits.flatMap((hit) => (hit._source ? [toHit(hit._source, hit._score)] : []));
  }

  async ping(): Promise<void> {
    const answered = await this.call(() => this.client.ping(undefined, { requestTimeout: PING_TIMEOUT_MS }));
    if (!answered) throw new Error('the cluster did not answer the ping');
    if (!this.synced) throw new Error(`index "${this.options.index}" is not ready: ${this.syncProblem}`);
  }

  /**
   * Creates the index when missing, indexes every product, then removes documents of
   * products that no longer exist, all in batches so a large catalogue never sits in
   * memory at once. Documents are keyed by product id, so running it again overwrites
   * rather than duplicates, and the index is not dropped (unless made with another
   * mapping version): searches keep answering (from the old documents, then the new
   * ones) while a sync runs.
   */
  async sync(): Promise<SyncResult> {
    try {
      const rebuiltFrom = await this.ensureIndex();
      const batchSize = this.options.batchSize ?? DEFAULT_INDEX_BATCH_SIZE;
      let indexed = 0;
      for await (const batch of productBatches(this.pool, batchSize)) {
        await this.indexBatch(batch);
        indexed += batch.length;
      }
      const deleted = await this.deleteStale(batchSize);
      // Without a refresh the next searches could see the old state for up to a second.
      await this.call(() => this.client.indices.refresh({ index: this.options.index }));
      this.synced = true;
      return rebuiltFrom ? { indexed, deleted, rebuiltFrom } : { indexed, deleted };
    } catch (err) {
      this.syncProblem = (err as Error).message;
      throw err;
    }
  }

  /**
   * Deletes the documents whose product is gone. It walks the index's ids in order
   * (`search_after` on the unique `id`, a page of `batchSize` at a time, so it neither
   * skips nor repeats while documents change, and needs no scroll context to clean up)
   * and asks PostgreSQL which ids of each page still exist. Memory and request sizes
   * stay bounded at 100,000 products (100 pages of 1,000), unlike one
   * `must_not: ids` over the whole catalogue; and the check is against the table as it
   * is now, so a product inserted meanwhile (and indexed by another replica) is kept.
   * A document deleted while we walk is a 404 on delete, which is fine.
   */
  private async deleteStale(batchSize: number): Promise<number> {
    const { index } = this.options;
    let deleted = 0;
    let after: number | undefined;
    for (;;) {
      const page = await this.call(() =>
        this.client.search({
          index,
          size: batchSize,
          track_total_hits: false,
          _source: false,
          query: { match_all: {} },
          sort: [{ id: { order: 'asc' } }],
          ...(after === undefined ? {} : { search_after: [after] }),
        }),
      );
      const ids = page.hits.hits.map((hit) => Number(hit._id));
      if (ids.length === 0) return deleted;
      const { rows } = await this.pool.query<{ id: number }>('SELECT id FROM products WHERE id = ANY($1::int[])', [ids]);
      const existing = new Set(rows.map((r) => r.id));
      const stale = ids.filter((id) => !existing.has(id));
      if (stale.length > 0) {
        await this.deleteDocuments(stale);
        deleted += stale.length;
      }
      if (ids.length < batchSize) return deleted;
      after = ids.at(-1)!;
    }
  }

  /**
   * Re-indexes just these products (the ids a change notification carries): one bulk
   * request with an index operation for each that exists and a delete for each that
   * does not, then a refresh. A change of one product costs one operation whatever the
   * size of the catalogue.
   */
  async syncChanged(ids: number[]): Promise<SyncResult> {
    if (ids.length === 0) return { indexed: 0, deleted: 0 };
    const { rows } = await this.pool.query<IndexedProduct>(CHANGED_SQL, [ids]);
    const found = new Set(rows.map((r) => r.id));
    const gone = ids.filter((id) => !found.has(id));
    const { index } = this.options;
    const operations = [
      ...rows.flatMap((product) => [{ index: { _index: index, _id: String(product.id) } }, product]),
      ...gone.map((id) => ({ delete: { _index: index, _id: String(id) } })),
    ];
    const response = await this.call(() => this.client.bulk({ operations }));
    // A delete of a document that is not there is a 404 without an error: fine.
    const failed = response.errors ? response.items.map((item) => item.index ?? item.delete).find((r) => r?.error) : undefined;
    if (failed?.error) throw new Error(`bulk sync failed for product ${failed._id}: ${failed.error.type}: ${failed.error.reason}`);
    await this.call(() => this.client.indices.refresh({ index }));
    return { indexed: rows.length, deleted: gone.length };
  }

  private async deleteDocuments(ids: number[]): Promise<void> {
    const operations = ids.map((id) => ({ delete: { _index: this.options.index, _id: String(id) } }));
    const response = await this.call(() => this.client.bulk({ operations }));
    if (!response.errors) return;
    const failed = response.items.find((item) => item.delete?.error && item.delete.status !== 404)?.delete;
    if (failed) throw new Error(`bulk delete failed for product ${failed._id}: ${failed.error?.type}: ${failed.error?.reason}`);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /**
   * Creates the index when missing, or when made with another mapping version (dropped
   * first); returns what it dropped. Another replica doing the same first is fine.
   */
  private async ensureIndex(): Promise<string | undefined> {
    const { index } = this.options;
    let rebuiltFrom: string | undefined;
    if (await this.call(() => this.client.indices.exists({ index }))) {
      const mappings = await this.call(() => this.client.indices.getMapping({ index }));
      const version = Object.values(mappings)[0]?.mappings?._meta?.ecom_mapping_version;
      if (version === MAPPING_VERSION) return undefined;
      rebuiltFrom = version === undefined ? 'a mapping without a version' : `mapping version ${String(version)}`;
      try {
        await this.client.indices.delete({ index });
      } catch (err) {
        if (errorType(err) !== 'index_not_found_exception') throw unavailable(err);
      }
    }
    try {
      await this.client.indices.create({ index, settings: INDEX_SETTINGS, mappings: INDEX_MAPPINGS });
    } catch (err) {
      if (errorType(err) !== 'resource_already_exists_exception') throw unavailable(err);
    }
    return rebuiltFrom;
  }

  private async indexBatch(batch: IndexedProduct[]): Promise<void> {
    const operations = batch.flatMap((product) => [{ index: { _index: this.options.index, _id: String(product.id) } }, product]);
    const response = await this.call(() => this.client.bulk({ operations }));
    if (!response.errors) return;
    const failed = response.items.find((item) => item.index?.error)?.index;
    throw new Error(`bulk indexing failed for product ${failed?._id}: ${failed?.error?.type}: ${failed?.error?.reason}`);
  }

  /** Any client error (refused, timed out, 4xx/5xx from the cluster) means search is unavailable. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw unavailable(err);
    }
  }
}

function unavailable(err: unknown): unknown {
  if (!(err instanceof errors.ElasticsearchClientError)) return err;
  const type = errorType(err);
  const reason = err instanceof errors.ResponseError ? `HTTP ${err.statusCode}${type ? ` ${type}` : ''}` : err.message;
  return new SearchUnavailableError('elasticsearch', reason, { cause: err });
}

function errorType(err: unknown): string | undefined {
  if (!(err instanceof errors.ResponseError)) return undefined;
  const body = err.body as { error?: { type?: string } } | undefined;
  return body?.error?.type;
}

function toHit(source: IndexedProduct, score: number | null | undefined): SearchHit {
  const { id, name, description, price, category } = source;
  return { id, name, description, price, category, score: score ?? 0 };
}

const BATCH_SQL = `
  SELECT id, name, description, (price_cents / 100.0)::float8 AS price, category
  FROM products WHERE id > $1 ORDER BY id LIMIT $2`;

const CHANGED_SQL = `
  SELECT id, name, description, (price_cents / 100.0)::float8 AS price, category
  FROM products WHERE id = ANY($1::int[]) ORDER BY id`;

async function* productBatches(pool: Pool, size: number): AsyncGenerator<IndexedProduct[]> {
  let afterId = 0;
  for (;;) {
    const { rows } = await pool.query<IndexedProduct>(BATCH_SQL, [afterId, size]);
    if (rows.length > 0) yield rows;
    if (rows.length < size) return;
    afterId = rows.at(-1)!.id;
  }
}
