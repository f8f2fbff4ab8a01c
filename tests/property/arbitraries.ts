/**
 * Hostile input, as fast-check arbitraries: what a broken or malicious client sends.
 * Sizes are bounded so a run stays within seconds on a shared two-core machine.
 */
import { fc } from '@fast-check/vitest';
import type { RawRequest } from './raw-http.js';
import type { Route } from './routes.js';

/** The services' JSON body limit (src/services/common/app-factory.ts). */
export const BODY_LIMIT = 64 * 1024;

export const INJECTIONS = [
  "' OR '1'='1",
  "1; DROP TABLE orders; --",
  "'); DELETE FROM products; --",
  '1 UNION SELECT NULL, version() --',
  "laptop' AND pg_sleep(0)::text = '",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{7*7}}${7*7}',
  '../../../../etc/passwd',
  '\u0000',
  '\u202e\ufeff',
  '%00%0d%0aSet-Cookie: x=1',
  'a'.repeat(300),
  '😀'.repeat(40),
];

/** Text a field might be given: injections, control characters, astral and lone surrogates. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ maxLength: 20 }).map((s) => `${s}\ud800`),
);

/** Percent-encoded as a client would (a lone surrogate becomes U+FFFD first, as in a browser). */
function escapeText(text: string): string {
  return encodeURIComponent(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}

/** A path segment as it goes on the wire: escaped text, or raw escapes that are not valid. */
export const pathSegment: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -5, max: 20 }).map(String),
  fc.constantFrom('0', '2147483648', '99999999999999999999', '1e3', '0x10', '1.5', ' 1', '00000000-0000-0000-0000-000000000000'),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.constantFrom('%', '%zz', '%C3%28', '%FF%FE', '%ED%A0%80', '..%2F..%2Fetc', '%2e%2e', '%00', 'a%2Fb'),
  // Raw bytes above ASCII in the request line, unescaped (sent as latin1: 0xFF, 0xE9).
  fc.constantFrom('\u00ff', 'caf\u00e9', '\u00c3\u0028'),
  hostileText.map(escapeText).filter((s) => s.length > 0),
);

const queryValue = fc.oneof(
  fc.constantFrom('', '-1', '0', '1', '20', '101', '1e3', '9999999999999999999999', 'NaN', 'abc', '%', '%FF', 'lap', 'lap top'),
  hostileText.map(escapeText),
);
const queryKey = fc.constantFrom('q', 'limit', 'offset', 'cursor', 'q[]', 'limit[a]', '__proto__', 'constructor', 'x');

/** A query string: known and unknown keys, repeated keys, odd values. */
export const queryString: fc.Arbitrary<string> = fc
  .array(fc.tuple(queryKey, queryValue), { maxLength: 5 })
  .map((pairs) => (pairs.length === 0 ? '' : '?' + pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&')));

export const odd_methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE', 'M-SEARCH', 'FOO', 'get'];
export const method: fc.Arbitrary<string> = fc.constantFrom(...odd_methods);

export const contentType: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=UTF-16',
  'application/json; charset=latin1',
  'application/json; charset=bogus',
  'application/json; charset="',
  'application/vnd.api+json',
  'application/merge-patch+json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  '*/*',
  '',
  ';;;',
  'application/json\u00ff',
);

export const contentEncoding: fc.Arbitrary<string | undefined> = fc.constantFrom(undefined, undefined, undefined, 'gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip');

/** Idempotency-Key values: fine, too long, empty, spaces, control and non-ASCII bytes. */
export const idempotencyKey: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.stringMatching(/^[\x21-\x7e]{1,200}$/),
  fc.constantFrom('', ' ', 'a b', 'x'.repeat(201), 'x'.repeat(5000), "k'; DROP TABLE orders; --", '<script>', 'k\t1'),
  fc.uint8Array({ minLength: 1, maxLength: 30 }).map((bytes) => Buffer.from(bytes.map((b) => (b === 10 || b === 13 || b === 0 ? 0x41 : b)))),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }).map((s) => Buffer.from(s, 'utf8')),
).map((key) => (typeof key === 'string' ? key : labelled(key, `Buffer ${preview(key)}`)));

/** JSON nested `depth` levels deep, within the body limit, as arrays or objects. */
export const deepJson: fc.Arbitrary<Buffer> = fc
  .tuple(fc.integer({ min: 50, max: 10_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    Buffer.from(arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  );

const malformedJson: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom('{', '}', '[', '{"customer":', '{"a":1,}', "{'a':1}", 'NaN', 'undefined', '{"a":01}', '\ufeff{}', '{"a":"\\x"}', 'null', '3', '"text"', 'true', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}').map((s) => Buffer.from(s)),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => {
    const text = JSON.stringify(v) ?? 'null';
    return Buffer.from(text.slice(0, Math.max(1, text.length - 1)));
  }),
);

/** Invalid UTF-8 inside an otherwise well-formed JSON document. */
const invalidUtf8: fc.Arbitrary<Buffer> = fc
  .constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0xc0, 0xaf])
  .map((bad) => Buffer.concat([Buffer.from('{"customer":{"email":"a@example.com","name":"'), Buffer.from(bad), Buffer.from('"},"items":[{"productId":1,"quantity":1}]}')]));

/** Just over the limit up to a few times it. */
export const hugeBody: fc.Arbitrary<Buffer> = fc
  .integer({ min: BODY_LIMIT + 1, max: 4 * BODY_LIMIT })
  .map((size) => Buffer.from(`{"customer":{"email":"a@example.com","name":"${'n'.repeat(size)}"},"items":[]}`));

/** A valid order as the order service takes it. */
export const validOrder = fc.record({
  customer: fc.record({ email: fc.constantFrom('a@example.com', 'prop.test@example.org'), name: fc.constantFrom('Ada', 'Prop Tester') }),
  items: fc.constant([{ productId: 1, quantity: 1 }]),
});

/** Where in an order a wrong value can go. */
const ORDER_PATHS: Array<Array<string | number>> = [[], ['customer'], ['customer', 'email'], ['customer', 'name'], ['items'], ['items', 0], ['items', 0, 'productId'], ['items', 0, 'quantity']];

/** A valid order with one part replaced by a value of another type (or an out-of-range one). */
export const wrongTypedOrder: fc.Arbitrary<{ body: unknown; path: Array<string | number> }> = fc
  .tuple(
    validOrder,
    fc.constantFrom(...ORDER_PATHS),
    fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(0, -1, 101, 1.5, 2_147_483_648, 1e308, '1', '', true, null, [], {}, [1], 'a@', INJECTIONS[1]!),
      hostileText,
    ),
  )
  .map(([order, path, value]) => ({ body: setAt(structuredClone(order), path, value), path }));

function setAt(target: unknown, path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  let node = target as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return target;
}

/** Short enough to read in a counterexample: a 60 KiB body printed byte by byte is not. */
function preview(bytes: Buffer | string): string {
  const text = typeof bytes === 'string' ? bytes : bytes.subarray(0, 80).toString('latin1');
  return `${JSON.stringify(text.slice(0, 80))}${bytes.length > 80 ? `… (${bytes.length} bytes)` : ''}`;
}

function labelled<T extends object>(value: T, label: string): T {
  Object.defineProperty(value, fc.toStringMethod, { value: () => label, enumerable: false });
  return value;
}

/** Any body a client could send to a JSON endpoint, malformed or not. */
export const hostileBody: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: malformedJson },
  { weight: 2, arbitrary: deepJson },
  { weight: 2, arbitrary: invalidUtf8 },
  { weight: 2, arbitrary: wrongTypedOrder.map(({ body }) => Buffer.from(JSON.stringify(body) ?? 'null')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: hugeBody },
).map((body) => labelled(body, `Buffer ${preview(body)}`));

/** Extra headers: none, one huge (beyond Node's 16 KiB header limit sometimes), odd bytes. */
type Headers = Array<[string, string | Buffer]>;
export const extraHeaders: fc.Arbitrary<Headers> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Headers>([]) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 40_000 }).map((n): Headers => [['X-Padding', 'p'.repeat(n)]]) },
  { weight: 1, arbitrary: fc.constantFrom<Headers>(
    [['X-Request-Id', '../../etc\u00ff']],
    [['X-Request-Id', 'r'.repeat(500)]],
    [['Accept', 'text/html']],
    [['If-None-Match', '*']],
    [['If-None-Match', 'W/"' + 'x'.repeat(100) + '"']],
    [['Accept-Language', Buffer.from([0xc3, 0x28])]],
    [['Content-Length', '5'], ['Content-Length', '6']],
    [['Expect', '100-continue']],
    [['Cookie', "session=' OR 1=1 --"]],
  ) },
);

/** A request to `route`: its path with hostile segments, a query, a method and maybe a body. */
export function requestFor(route: Route): fc.Arbitrary<RawRequest> {
  const params = route.path.match(/:\w+/g) ?? [];
  return fc
    .record({
      segments: fc.array(pathSegment, { minLength: params.length, maxLength: params.length }),
      query: queryString,
      method: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...route.methods) }, { weight: 2, arbitrary: method }),
      type: contentType,
      encoding: contentEncoding,
      body: fc.option(hostileBody, { freq: 2 }),
      extra: extraHeaders,
      key: fc.option(idempotencyKey, { freq: 3 }),
    })
    .map(({ segments, query, method: m, type, encoding, body, extra, key }) => {
      let i = 0;
      const path = route.path.replace(/:\w+/g, () => segments[i++]!);
      const headers: Array<[string, string | Buffer]> = [...extra];
      if (type !== undefined) headers.push(['Content-Type', type]);
      if (encoding !== undefined && body !== null) headers.push(['Content-Encoding', encoding]);
      if (key !== null) headers.push(['Idempotency-Key', key]);
      const req: RawRequest = { method: m, target: path + query, headers, body: body ?? undefined };
      const shown = headers.map(([name, value]) => `${name}: ${preview(value)}`).join(', ');
      return labelled(req, `${m} ${preview(req.target as string)} [${shown}] body ${body ? preview(body) : 'none'}`);
    });
}
