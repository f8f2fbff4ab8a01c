import MockModule from '@elastic/elasticsearch-mock';
import { Client, errors, type DiagnosticResult } from '@elastic/elasticsearch';

// The package's types declare an ES default export, but it is CommonJS
// (`module.exports = Mocker`), so under NodeNext the default import is the class itself.
const Mock = MockModule as unknown as typeof MockModule.default;

/**
 * The subset of Elasticsearch the search backend uses, on @elastic/elasticsearch-mock:
 * ping, index exists/create/delete and its mapping, bulk (index and delete), refresh and search. It keeps what
 * it is sent, so tests can assert the mapping and bulk bodies, and it answers searches
 * by evaluating the request's own multi_match clauses (fields, boosts, prefix on the
 * last term, sort, size) over the documents bulk-indexed into it, or match_all with
 * sort and search_after (the sync's walk over the index's ids). Text analysis is simplified to
 * lowercased letter/digit runs: no stemming, no stop words.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
}

interface FakeIndex {
  settings: unknown;
  mappings: { properties?: Record<string, unknown> } | undefined;
  docs: Map<string, Record<string, unknown>>;
}

interface MockParams {
  method: string;
  path: string;
  body?: unknown;
}

type Resolver = (params: MockParams & { index: string }) => Record<string, unknown> | Error;

export class FakeElasticsearch {
  readonly requests: RecordedRequest[] = [];
  readonly indices = new Map<string, FakeIndex>();
  /** While true every request fails as a refused connection. */
  down = false;
  /** Product ids whose bulk item the fake rejects, as a mapping error would. */
  rejectIds = new Set<number>();
  private readonly mock = new Mock();

  constructor() {
    this.route('HEAD', '/', () => ({}));
    this.route('HEAD', '/:index', ({ index }) => (this.indices.has(index) ? {} : responseError(404, {})));
    this.route('PUT', '/:index', ({ index, body }) => this.createIndex(index, body));
    this.route('DELETE', '/:index', ({ index }) => (this.indices.delete(index) ? { acknowledged: true } : indexNotFound(index)));
    this.route('GET', '/:index/_mapping', ({ index }) => {
      const found = this.indices.get(index);
      return found ? { [index]: { mappings: found.mappings ?? {} } } : indexNotFound(index);
    });
    this.route('POST', '/_bulk', ({ body }) => this.bulk(body as Array<Record<string, unknown>>));
    this.route(['POST', 'GET'], '/:index/_refresh', ({ index }) =>
      this.indices.has(index) ? { _shards: { total: 1, successful: 1, failed: 0 } } : indexNotFound(index),
    );
    this.route(['POST', 'GET'], '/:index/_search', ({ index, body }) => this.search(index, body as SearchBody));
  }

  client(): Client {
    // The mock's connection lacks close(), which Client.close() calls on shutdown.
    class ClosableConnection extends this.mock.getConnection() {
      override async close(): Promise<void> {}
    }
    return new Client({ node: 'http://elasticsearch.test:9200', Connection: ClosableConnection, maxRetries: 0 });
  }

  requestsTo(method: string, pathPattern: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && pathPattern.test(r.path));
  }

  private route(method: string | string[], path: string, resolve: Resolver): void {
    this.mock.add({ method, path }, (params) => {
      const p = params as unknown as MockParams;
      this.requests.push({ method: p.method, path: p.path, body: p.body });
      if (this.down) return new errors.ConnectionError('connect ECONNREFUSED 127.0.0.1:9200');
      const index = decodeURIComponent(p.path.split('/')[1] ?? '');
      return resolve({ ...p, index }) as Record<string, unknown>;
    });
  }

  private createIndex(index: string, body: unknown) {
    if (this.indices.has(index)) {
      return responseError(400, { type: 'resource_already_exists_exception', reason: `index [${index}] already exists` });
    }
    const { settings, mappings } = (body ?? {}) as Pick<FakeIndex, 'settings' | 'mappings'>;
    this.indices.set(index, { settings, mappings, docs: new Map() });
    return { acknowledged: true, shards_acknowledged: true, index };
  }

  private bulk(lines: Array<Record<string, unknown>>) {
    const items: Array<Record<string, unknown>> = [];
    for (let i = 0; i < lines.length; i++) {
      const remove = lines[i]!.delete as { _index: string; _id: string } | undefined;
      if (remove) {
        const found = this.indices.get(remove._index)?.docs.delete(remove._id) ?? false;
        items.push({ delete: { ...remove, status: found ? 200 : 404, result: found ? 'deleted' : 'not_found' } });
        continue;
      }
      const action = lines[i]!.index as { _index: string; _id: string };
      const doc = lines[++i]!;
      // Like Elasticsearch, an unknown index is created on the fly, without our mapping.
      if (!this.indices.has(action._index)) this.indices.set(action._index, { settings: {}, mappings: undefined, docs: new Map() });
      const target = this.indices.get(action._index)!;
      const problem = this.documentProblem(target, doc);
      if (problem) {
        items.push({ index: { ...action, status: 400, error: problem } });
        continue;
      }
      const created = !target.docs.has(action._id);
      target.docs.set(action._id, doc);
      items.push({ index: { ...action, status: created ? 201 : 200, result: created ? 'created' : 'updated' } });
    }
    const errors = items.some((it) => (Object.values(it)[0] as { error?: unknown }).error);
    return { took: 1, errors, items };
  }

  private documentProblem(target: FakeIndex, doc: Record<string, unknown>) {
    const known = target.mappings?.properties;
    const unknownField = known ? Object.keys(doc).find((k) => !(k in known)) : undefined;
    if (unknownField) {
      return { type: 'strict_dynamic_mapping_exception', reason: `mapping set to strict, dynamic introduction of [${unknownField}] within [_doc] is not allowed` };
    }
    if (this.rejectIds.has(Number(doc.id))) {
      return { type: 'document_parsing_exception', reason: 'failed to parse field [price] of type [scaled_float]' };
    }
    return undefined;
  }

  private search(index: string, body: SearchBody) {
    const target = this.indices.get(index);
    if (!target) return indexNotFound(index);
    if (body.query?.match_all) return this.matchAll(index, target, body);
    const clauses = body.query?.bool?.must;
    if (!Array.isArray(clauses) || clauses.some((c) => c.multi_match?.type !== 'bool_prefix')) {
      return responseError(400, { type: 'parsing_exception', reason: 'the fake understands bool.must of multi_match bool_prefix only' });
    }
    const scored = [...target.docs.entries()]
      .map(([id, doc]) => ({ id, doc, score: scoreDocument(doc, clauses.map((c) => c.multi_match!)) }))
      .filter((hit): hit is { id: string; doc: Record<string, unknown>; score: number } => hit.score !== undefined);
    scored.sort((a, b) => compareBySort(a, b, body.sort ?? [{ _score: { order: 'desc' } }]));
    const hits = scored.slice(0, body.size ?? 10).map((hit) => ({
      _index: index,
      _id: hit.id,
      _score: hit.score,
      _source: pick(hit.doc, body._source || undefined),
    }));
    return { took: 1, timed_out: false, hits: { max_score: hits[0]?._score ?? null, hits } };
  }

  /** match_all sorted by one numeric field ascending, paged with search_after, as the sync walks ids. */
  private matchAll(index: string, target: FakeIndex, body: SearchBody) {
    const [field, spec] = Object.entries(body.sort?.[0] ?? {})[0] ?? [];
    if (!field || spec?.order !== 'asc' || body.sort!.length !== 1) {
      return responseError(400, { type: 'parsing_exception', reason: 'the fake pages match_all by one ascending field only' });
    }
    const after = body.search_after?.[0] ?? -Infinity;
    const hits = [...target.docs.entries()]
      .map(([id, doc]) => ({ id, doc, value: Number(doc[field]) }))
      .filter((hit) => hit.value > after)
      .sort((a, b) => a.value - b.value)
      .slice(0, body.size ?? 10)
      .map((hit) => ({
        _index: index,
        _id: hit.id,
        _score: null,
        ...(body._source === false ? {} : { _source: pick(hit.doc, body._source || undefined) }),
        sort: [hit.value],
      }));
    return { took: 1, timed_out: false, hits: { max_score: null, hits } };
  }
}

interface MultiMatch {
  query: string;
  type?: string;
  fields: string[];
}

interface SearchBody {
  size?: number;
  _source?: string[] | false;
  query?: { match_all?: object; bool?: { must?: Array<{ multi_match?: MultiMatch }> } };
  sort?: Array<Record<string, { order: 'asc' | 'desc' }>>;
  search_after?: number[];
}

const analyze = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** Sum over clauses; a document that misses any clause (bool.must) is not a hit. */
function scoreDocument(doc: Record<string, unknown>, clauses: MultiMatch[]): number | undefined {
  let total = 0;
  for (const clause of clauses) {
    const terms = analyze(clause.query);
    let clauseScore = 0;
    // bool_prefix scores like most_fields: every matching field adds its boost.
    for (const spec of clause.fields) {
      const [path, boost] = spec.split('^') as [string, string | undefined];
      const words = analyze(String(doc[path.split('.')[0]!] ?? ''));
      const matched = terms.filter((term, i) =>
        i === terms.length - 1 ? words.some((w) => w.startsWith(term)) : words.includes(term),
      ).length;
      clauseScore += matched * Number(boost ?? 1);
    }
    if (clauseScore === 0) return undefined;
    total += clauseScore;
  }
  return total;
}

function compareBySort(
  a: { doc: Record<string, unknown>; score: number },
  b: { doc: Record<string, unknown>; score: number },
  sort: Array<Record<string, { order: 'asc' | 'desc' }>>,
): number {
  for (const entry of sort) {
    const [field, { order }] = Object.entries(entry)[0]!;
    const va = field === '_score' ? a.score : Number(a.doc[field]);
    const vb = field === '_score' ? b.score : Number(b.doc[field]);
    if (va !== vb) return order === 'asc' ? va - vb : vb - va;
  }
  return 0;
}

function pick(doc: Record<string, unknown>, fields: string[] | undefined): Record<string, unknown> {
  if (!fields) return doc;
  return Object.fromEntries(fields.filter((f) => f in doc).map((f) => [f, doc[f]]));
}

function responseError(statusCode: number, error: Record<string, unknown>): Error {
  const body = Object.keys(error).length ? { error: { root_cause: [error], ...error }, status: statusCode } : {};
  return new errors.ResponseError({ body, statusCode, headers: {}, warnings: null } as unknown as DiagnosticResult);
}

function indexNotFound(index: string): Error {
  return responseError(404, { type: 'index_not_found_exception', reason: `no such index [${index}]` });
}
