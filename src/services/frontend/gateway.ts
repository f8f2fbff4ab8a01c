import type { Request, Response } from 'express';
import { HttpError } from '../common/http-errors.js';

export type UpstreamName = 'catalog' | 'search' | 'order';
export type Upstreams = Record<UpstreamName, string>;

export interface GatewayOptions {
  upstreams: Upstreams;
  timeoutMs: number;
}

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** Request headers the upstreams act on; everything else (cookies, hop-by-hop) stays here. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'accept-language', 'if-none-match', 'idempotency-key'];
/** Response headers a browser needs to see from the upstream. */
const PASSED_RESPONSE_HEADERS = ['content-type', 'etag', 'cache-control', 'last-modified', 'retry-after'];
/** Where each upstream's paths live on this gateway, to rewrite a Location header. */
const PUBLIC_PREFIX: Record<UpstreamName, Array<[string, string]>> = {
  catalog: [['/catalog', '/api/catalog']],
  search: [['/search', '/api/search']],
  order: [['/orders/', '/api/orders/']],
};

/**
 * The frontend's only way to reach the other services: one timeout, the caller's
 * request id on every call, and failures turned into 502/504 JSON naming the service.
 */
export class Gateway {
  constructor(private readonly options: GatewayOptions) {}

  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** Calls `upstream` at `pathAndQuery`; throws HttpError 502/504 when it cannot answer. */
  async call(
    upstream: UpstreamName,
    pathAndQuery: string,
    init: { requestId: string; method?: string; headers?: Record<string, string>; body?: Buffer },
  ): Promise<UpstreamResponse> {
    const url = this.options.upstreams[upstream].replace(/\/+$/, '') + pathAndQuery;
    try {
      const res = await fetch(url, {
        method: init.method ?? 'GET',
        headers: { ...init.headers, 'x-request-id': init.requestId },
        body: init.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      // Read inside the try: the timeout also covers a body that trickles in.
      const body = Buffer.from(await res.arrayBuffer());
      return { status: res.status, headers: res.headers, body };
    } catch (err) {
      throw this.upstreamFailure(upstream, err);
    }
  }

  /** GET returning parsed JSON, for server-side rendering; non-2xx is an error. */
  async getJson<T>(upstream: UpstreamName, pathAndQuery: string, requestId: string): Promise<T> {
    const res = await this.call(upstream, pathAndQuery, { requestId, headers: { accept: 'application/json' } });
    if (res.status < 200 || res.status >= 300) {
      throw new HttpError(502, 'upstream_error', `${upstream} service answered ${res.status}`);
    }
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch {
      throw new HttpError(502, 'upstream_error', `${upstream} service answered with a body that is not JSON`);
    }
  }

  /**
   * Forwards the incoming request to `upstream` at `path` (the query string is kept as
   * sent, repeated keys included) and copies status, ETag and body back unchanged.
   *
   * A body goes on as the bytes the client sent, with its Content-Type (charset
   * included), never re-serialised from what express.json() parsed: re-serialising
   * changes what the upstream judges (1e400 becomes null, invalid UTF-8 becomes
   * U+FFFD) and JSON.stringify overflows the stack on a deeply nested body that
   * JSON.parse accepts, which was a 500 here for a body the order service answers 400.
   */
  async forward(upstream: UpstreamName, path: string, req: Request, res: Response): Promise<void> {
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    let body: Buffer | undefined;
    // express.json() has already checked size and syntax; the bytes are what it read.
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.rawBody !== undefined) {
      body = req.rawBody;
      headers['content-type'] = req.headers['content-type'] ?? 'application/json';
    }
    const answer = await this.call(upstream, path + queryString(req), { requestId: req.id, method: req.method, headers, body });
    sendUpstreamResponse(upstream, answer, res);
  }

  /** For health checks: the upstream's liveness endpoint answers 2xx. */
  async ping(upstream: UpstreamName): Promise<void> {
    const res = await this.call(upstream, '/health/live', { requestId: 'frontend-health' });
    if (res.status >= 300) throw new Error(`${upstream} /health/live answered ${res.status}`);
  }

  private upstreamFailure(upstream: UpstreamName, err: unknown): HttpError {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return new HttpError(504, 'upstream_timeout', `${upstream} service did not answer within ${this.options.timeoutMs} ms`);
    }
    const why = e.cause?.code ?? e.cause?.message ?? e.message ?? 'unknown error';
    return new HttpError(502, 'upstream_unavailable', `${upstream} service is unavailable (${why})`);
  }
}

function queryString(req: Request): string {
  const at = req.originalUrl.indexOf('?');
  return at === -1 ? '' : req.originalUrl.slice(at);
}

/**
 * Copies the upstream answer. An error answer that is not JSON (a proxy's HTML page,
 * say) is replaced by our JSON error, so every error body keeps one shape.
 */
function sendUpstreamResponse(upstream: UpstreamName, answer: UpstreamResponse, res: Response): void {
  const type = answer.headers.get('content-type') ?? '';
  if (answer.status >= 400 && !/json/i.test(type)) {
    throw new HttpError(502, 'upstream_error', `${upstream} service answered ${answer.status} without a JSON body`);
  }
  res.status(answer.status);
  for (const name of PASSED_RESPONSE_HEADERS) {
    const value = answer.headers.get(name);
    if (value !== null) res.setHeader(name, value);
  }
  const location = publicLocation(upstream, answer.headers.get('location'));
  if (location) res.setHeader('location', location);
  if (answer.status === 304 || answer.status === 204) {
    res.end();
    return;
  }
  res.end(answer.body);
}

/** An upstream's own path means nothing to a browser; map it to ours, or drop it. */
function publicLocation(upstream: UpstreamName, location: string | null): string | undefined {
  if (!location?.startsWith('/')) return undefined;
  for (const [from, to] of PUBLIC_PREFIX[upstream]) {
    if (location.startsWith(from)) return to + location.slice(from.length);
  }
  return undefined;
}
