/**
 * The end-to-end path: an order placed at the order service must come out of the
 * broker at the storefront's consumer. Every order smoke places is a test order
 * (docs/architecture.md, "Test orders"): stored, published and consumed like any other,
 * and kept out of the live feed shoppers see, so smoke asks the frontend whether it
 * consumed the order (GET /api/orders/:id/consumed), then checks that the shoppers'
 * list (/api/orders/recent) does not show it.
 */
import { randomUUID } from 'node:crypto';
import { orOnTimeout, pollUntil } from '../core/poll.js';
import type { Endpoints } from '../core/system.js';
import { CheckFailed, describe, expectStatus, isRecord, request } from './http.js';
import type { CheckContext } from './types.js';

/** The order service's test-order mark (the same name as src/services/order/test-order.ts; smoke imports no service). */
export const TEST_ORDER_HEADER = 'X-Ecom-Test-Order';
const POLL_INTERVAL_MS = 100;
/** Kept back from the deadline to ask the services why the order did not arrive. */
const DIAGNOSIS_RESERVE_MS = 2_000;
/** As many as /api/orders/recent gives: a test order must not be among them. */
const RECENT_LIMIT = 100;

export interface OrderBody {
  customer: { email: string; name: string };
  items: Array<{ productId: number; quantity: number }>;
}

export function orderBody(purpose: string): OrderBody {
  return { customer: { email: `smoke+${purpose}@example.com`, name: 'Smoke Test' }, items: [{ productId: 1, quantity: 1 }] };
}

/** The headers of every order smoke places: a test order, with the caller's idempotency key. */
export function smokeOrderHeaders(key: string): Record<string, string> {
  return { 'idempotency-key': key, [TEST_ORDER_HEADER]: 'true' };
}

/**
 * POSTs a test order and returns its id; anything but 201 with an id, or an order not
 * marked as a test order (it would show in the shoppers' live feed), fails the check.
 */
export async function placeOrder(endpoints: Endpoints, body: OrderBody, key: string, signal: AbortSignal): Promise<string> {
  const res = await request('POST', `${endpoints.services.order}/create-order`, { signal, body, headers: smokeOrderHeaders(key) });
  expectStatus(res, 201);
  const id = isRecord(res.json) ? res.json.id : undefined;
  if (typeof id !== 'string' || id === '') throw new CheckFailed(`expected the new order's "id", got ${describe(res)}`);
  if (!isRecord(res.json) || res.json.test !== true) {
    throw new CheckFailed(`order ${id} is not marked as a test order ("test": true for ${TEST_ORDER_HEADER}: true), so shoppers would see it: ${describe(res)}`);
  }
  return id;
}

export async function orderReachesConsumer(ctx: CheckContext): Promise<string> {
  const { endpoints } = ctx;
  const frontend = endpoints.services.frontend;
  const started = Date.now();
  const orderId = await placeOrder(endpoints, orderBody('consumer'), `smoke-${randomUUID()}`, ctx.signal);
  ctx.saw(`test order ${orderId} created; waiting for the frontend to consume it`);
  const consumed = pollUntil(async () => ((await isConsumed(frontend, orderId, ctx.signal)) ? Date.now() - started : undefined), {
    what: `order ${orderId} at the consumer`,
    timeoutMs: ctx.remainingMs() - DIAGNOSIS_RESERVE_MS,
    intervalMs: POLL_INTERVAL_MS,
    signal: ctx.signal,
  });
  const afterMs = await orOnTimeout(consumed, undefined);
  if (afterMs === undefined) {
    const waited = Math.round((Date.now() - started) / 1000);
    throw new CheckFailed(`order ${orderId} was created but did not reach the frontend's consumer within ${waited} s: ${await whyNotConsumed(endpoints, ctx.signal)}`);
  }
  // Stored before this answer, so the shoppers' list would show it already if it showed test orders.
  if (await inRecentOrders(frontend, orderId, ctx.signal)) {
    throw new CheckFailed(`test order ${orderId} was consumed but shows in the shoppers' live feed (${frontend}/api/orders/recent)`);
  }
  return `consumed after ${afterMs} ms; kept out of the live feed`;
}

async function isConsumed(frontend: string, orderId: string, signal: AbortSignal): Promise<boolean> {
  try {
    const res = await request('GET', `${frontend}/api/orders/${orderId}/consumed`, { signal });
    return res.status === 200;
  } catch (err) {
    if (signal.aborted) throw err;
    return false;
  }
}

async function inRecentOrders(frontend: string, orderId: string, signal: AbortSignal): Promise<boolean> {
  const res = await request('GET', `${frontend}/api/orders/recent?limit=${RECENT_LIMIT}`, { signal });
  expectStatus(res, 200);
  const list = isRecord(res.json) ? res.json.items : undefined;
  if (!Array.isArray(list)) throw new CheckFailed(`expected {"items": [...]} from /api/orders/recent, got ${describe(res)}`);
  return list.some((o) => orderIdOf(o) === orderId);
}

/** The broker named by either side's /health when it is down; otherwise what is known. */
async function whyNotConsumed(endpoints: Endpoints, signal: AbortSignal): Promise<string> {
  const reasons: string[] = [];
  for (const service of ['order', 'frontend'] as const) {
    try {
      const res = await request('GET', `${endpoints.services[service]}/health`, { signal });
      const checks = isRecord(res.json) && isRecord(res.json.checks) ? res.json.checks : {};
      for (const [name, check] of Object.entries(checks)) {
        if (/broker|amqp|rabbit/i.test(name) && isRecord(check) && check.ok === false) {
          reasons.push(`${service} /health reports ${name}: ${String(check.error ?? 'not ok')}`);
        }
      }
    } catch {
      // The health checks of phase 1 report an unreachable service on their own.
    }
  }
  if (reasons.length > 0) return `the broker is missing (${reasons.join('; ')}); orders wait in the outbox until one runs`;
  return 'GET /api/orders/<id>/consumed still answers 404 (is the relay or the consumer stuck? see `ecom logs order` and `ecom logs frontend`)';
}

function orderIdOf(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  const id = value.orderId ?? value.id;
  return typeof id === 'string' ? id : undefined;
}
