/**
 * Bad input against every HTTP endpoint of every service, as real processes on a real
 * PostgreSQL and RabbitMQ: whatever a client sends, no 5xx, no process dies, every
 * error the app answers is the JSON error shape, and a rejected request stores nothing.
 * Run counts are bounded so the file stays well under a minute on two shared cores.
 */
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES, type ServiceName } from '../../src/core/system.js';
import { hostileBody, idempotencyKey, requestFor, validOrder, wrongTypedOrder } from './arbitraries.js';
import { sendRaw, type RawRequest, type RawResponse } from './raw-http.js';
import { listRoutes } from './routes.js';
import { snapshotTables, type Snapshot } from './snapshot.js';
import { startSystem, type PropertySystem } from './system.js';

/** ECOM_PROPERTY_RUNS=5 runs five times as many cases (a deeper search than CI's bounded one). */
const SCALE = Math.max(1, Number(process.env.ECOM_PROPERTY_RUNS ?? 1) || 1);
const RUNS_PER_ROUTE = 8 * SCALE;
const BODY_RUNS = 30 * SCALE;
const KEY_RUNS = 25 * SCALE;
/**
 * Generous: a property that outlives its test keeps sending requests into the next
 * one (vitest cannot cancel it), whose stored-data checks would then fail for nothing.
 */
const PROPERTY_TIMEOUT_MS = 120_000 * SCALE;
const routes = listRoutes();
let system: PropertySystem;
let initial: Snapshot;

beforeAll(async () => {
  system = await startSystem();
  initial = await snapshotTables(system.db.pool);
}, 120_000);
afterAll(async () => {
  await system?.stop();
});

/** Reads never write, so only other methods are checked against the stored data. */
const mayWrite = (method: string) => !['GET', 'HEAD', 'OPTIONS', 'TRACE'].includes(method.toUpperCase());

/** Sends `req` to `service` and checks what holds for any request at all. */
async function send(service: ServiceName, req: RawRequest): Promise<RawResponse> {
  const before = mayWrite(req.method) ? await snapshotTables(system.db.pool) : undefined;
  const res = await sendRaw(system.services[service].url, req);
  const what = `${service} ${req.method} ${String(req.target).slice(0, 120)} → ${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
  for (const name of SERVICE_NAMES) {
    const exit = system.services[name].exit();
    if (exit !== undefined) throw new Error(`${name} exited (${exit}) after ${what}\n${system.services[name].lastLines().slice(-20).join('\n')}`);
  }
  if (res.status >= 500) throw new Error(`server error: ${what}\n${system.services[service].lastLines().filter((l) => l.includes('"level":50')).slice(-3).join('\n')}`);
  // Node's own parser answers malformed HTTP before the app runs (no request id): a bare 400/431.
  if (res.status >= 400 && res.headers['x-request-id'] !== undefined && req.method.toUpperCase() !== 'HEAD') {
    expect(res.headers['content-type'], what).toMatch(/^application\/json/);
    expect(res.json, what).toMatchObject({ error: { code: expect.any(String), message: expect.any(String), details: expect.any(Array) } });
  }
  if (before && res.status >= 400) expect(await snapshotTables(system.db.pool), `stored data changed after ${what}`).toEqual(before);
  return res;
}

const jsonHeaders = (key?: string | Buffer): Array<[string, string | Buffer]> => [
  ['Content-Type', 'application/json'],
  ...(key === undefined ? [] : [['Idempotency-Key', key] as [string, string | Buffer]]),
];

describe('every endpoint of every service under hostile requests', () => {
  it('finds the routes of all four services in their routers', () => {
    const listed = routes.map((r) => `${r.service} ${r.methods.join(',')} ${r.path}`);
    for (const expected of ['catalog GET /catalog/:id', 'search GET /search', 'order POST /create-order', 'order POST /orders', 'frontend POST /api/orders', 'frontend GET /api/orders/stream']) {
      expect(listed).toContain(expected);
    }
    for (const service of SERVICE_NAMES) expect(listed).toContain(`${service} GET /health`);
  });

  for (const route of routes) {
    test.prop([requestFor(route)], { numRuns: RUNS_PER_ROUTE })(`${route.service} ${route.path}: no 5xx, no crash, nothing stored when rejected`, async (req) => {
      await send(route.service, req);
    }, PROPERTY_TIMEOUT_MS);
  }
});

describe('order bodies', () => {
  it('a body nested 10,000 deep gets the order service\'s own 400 through the gateway, not a 500', async () => {
    const body = Buffer.from('{"customer":' + '['.repeat(10_000) + ']'.repeat(10_000) + ',"items":[]}');
    const direct = await send('order', { method: 'POST', target: '/create-order', headers: jsonHeaders(), body });
    const viaGateway = await send('frontend', { method: 'POST', target: '/api/orders', headers: jsonHeaders(), body });
    expect(direct.status).toBe(400);
    expect(viaGateway.json).toEqual(direct.json);
    expect(viaGateway.status).toBe(400);
  });

  test.prop([hostileBody, fc.option(idempotencyKey, { nil: undefined })], { numRuns: BODY_RUNS })(
    'the frontend gateway answers a body exactly as the order service does',
    async (body, key) => {
      const direct = await send('order', { method: 'POST', target: '/create-order', headers: jsonHeaders(key), body });
      const viaGateway = await send('frontend', { method: 'POST', target: '/api/orders', headers: jsonHeaders(key), body });
      if (direct.status < 300) {
        expect(viaGateway.status).toBeLessThan(300);
      } else {
        expect({ status: viaGateway.status, body: viaGateway.json }).toEqual({ status: direct.status, body: direct.json });
      }
    },
    PROPERTY_TIMEOUT_MS,
  );

  test.prop([wrongTypedOrder], { numRuns: BODY_RUNS })('a wrong value is a 400 naming its field, or a valid order', async ({ body, path }) => {
    const res = await send('order', { method: 'POST', target: '/create-order', headers: jsonHeaders(), body: Buffer.from(JSON.stringify(body)) });
    expect([201, 400]).toContain(res.status);
    if (res.status === 400) {
      const fields = (res.json as { error: { details: Array<{ field: string }> } }).error.details.map((d) => d.field);
      const prefix = fieldName(path);
      expect(fields.some((f) => f.startsWith(prefix) || (prefix === '' && f.length > 0)), `${fields.join(', ')} should name ${prefix || 'a field'}`).toBe(true);
    }
  }, PROPERTY_TIMEOUT_MS);

  test.prop([validOrder, idempotencyKey], { numRuns: KEY_RUNS })('any Idempotency-Key is taken, replayed or refused naming the header', async (order, key) => {
    const body = Buffer.from(JSON.stringify(order));
    const first = await send('order', { method: 'POST', target: '/create-order', headers: jsonHeaders(key), body });
    expect([200, 201, 400, 422]).toContain(first.status);
    // A key with control bytes is refused by Node's HTTP parser before the app (a bare 400).
    if (first.status === 400 && first.headers['x-request-id'] !== undefined) {
      expect((first.json as { error: { details: Array<{ field: string }> } }).error.details[0]?.field).toBe('Idempotency-Key');
    }
    if (first.status === 400) return;
    const again = await send('order', { method: 'POST', target: '/create-order', headers: jsonHeaders(key), body });
    if (first.status !== 422) {
      // The same key and body again: the same order, replayed.
      expect(again.status).toBe(200);
      expect((again.json as { id: string }).id).toBe((first.json as { id: string }).id);
    }
  }, PROPERTY_TIMEOUT_MS);
});

describe('afterwards', () => {
  it('every service still answers /health with 200 and the catalogue is unchanged', async () => {
    for (const name of SERVICE_NAMES) {
      expect(system.services[name].exit(), `${name} is running`).toBeUndefined();
      const res = await sendRaw(system.services[name].url, { method: 'GET', target: '/health' });
      expect(res.status, `${name} /health: ${res.body.toString('utf8')}`).toBe(200);
    }
    const now = await snapshotTables(system.db.pool);
    expect(now.products).toBe(initial.products);
  });
});

/** The field name the service reports for a path (`items[0].quantity`). */
function fieldName(path: Array<string | number>): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}
