/**
 * The HTTP the smoke checks need: one request with the check's abort signal, the body
 * read as text (and JSON when it is), and failures phrased as what was seen.
 */

export interface HttpResponse {
  method: string;
  url: string;
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
}

export interface RequestOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
}

const EXCERPT_CHARS = 200;

/** A check failed: the message says what was expected and what was seen. */
export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

export async function request(method: string, url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new CheckFailed(`${method} ${url}: ${connectionError(err)}`);
  }
  const text = await res.text();
  return { method, url, status: res.status, headers: res.headers, text, json: parseJson(text) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `connection refused (ECONNREFUSED)` rather than undici's bare "fetch failed". */
export function connectionError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED): is the service running?';
  if (code) return `${e.cause?.message ?? 'request failed'} (${code})`;
  return e.cause?.message ?? e.message ?? String(err);
}

/** The first characters of a body on one line. */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length <= max ? flat : `${flat.slice(0, max)}…`;
}

/** `GET http://…/search?q=lap → HTTP 503: {"error":…}` */
export function describe(res: HttpResponse): string {
  return `${res.method} ${res.url} → HTTP ${res.status}: ${excerpt(res.text)}`;
}

/** Fails unless the status is one of `expected`. */
export function expectStatus(res: HttpResponse, ...expected: number[]): void {
  if (!expected.includes(res.status)) {
    throw new CheckFailed(`expected HTTP ${expected.join(' or ')}, got ${describe(res)}`);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
