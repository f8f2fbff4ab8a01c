/**
 * The end-to-end path: an order placed at the order service must come out of the
 * broker at the storefront's consumer. Watched two ways at once (the live SSE feed and
 * polling /api/orders/recent); whichever sees the order id first ends the wait.
 */
import { randomUUID } from 'node:crypto';
import { orOnTimeout, pollUntil } from '../core/poll.js';
import type { Endpoints } from '../core/system.js';
import { CheckFailed, describe, expectStatus, isRecord, request } from './http.js';
import { readEventStream } from './sse.js';
import type { CheckContext } from './types.js';

const POLL_INTERVAL_MS = 500;
/** Kept back from the deadline to ask the services why the order did not arrive. */
const DIAGNOSIS_RESERVE_MS = 2_000;

export interface OrderBody {
  customer: { email: string; name: string };
  items: Array<{ productId: number; quantity: number }>;
}

export function orderBody(purpose: string): OrderBody {
  return { customer: { email: `smoke+${purpose}@example.com`, name: 'Smoke Test' }, items: [{ productId: 1, quantity: 1 }] };
}

/** POSTs the order and returns its id; anything but 201 with an id fails the check. */
export async function placeOrder(endpoints: Endpoints, body: OrderBody, key: string, signal: AbortSignal): Promise<string> {
  const res = await request('POST', `${endpoints.services.order}/create-order`, {
    signal,
    body,
    headers: { 'idempotency-key': key },
  });
  expectStatus(res, 201);
  const id = isRecord(res.json) ? res.json.id : undefined;
  if (typeof id !== 'string' || id === '') throw new CheckFailed(`expected the new order's "id", got ${describe(res)}`);
  return id;
}

export async function orderReachesConsumer(ctx: CheckContext): Promise<string> {
  const { endpoints } = ctx;
  const frontend = endpoints.services.frontend;
  const watch = new AbortController();
  const stop = () => watch.abort();
  ctx.signal.addEventListener('abort', stop, { once: true });
  let sawOnStream = false;
  let wanted: string | undefined;
  const seenOnStream = new Set<string>();
  const stream = readEventStream(
    `${frontend}/api/orders/stream`,
    (event) => {
      if (event.event !== 'order') return;
      const orderId = orderIdOf(safeJson(event.data));
      if (orderId) seenOnStream.add(orderId);
      if (orderId && orderId === wanted) sawOnStream = true;
    },
    watch.signal,
  ).catch(() => {
    // Polling still covers the check when the stream cannot be opened.
  });

  try {
    const started = Date.now();
    wanted = await placeOrder(endpoints, orderBody('consumer'), `smoke-${randomUUID()}`, ctx.signal);
    if (seenOnStream.has(wanted)) sawOnStream = true;
    ctx.saw(`order ${wanted} created; waiting for the frontend to consume it`);
    const note = await untilConsumed(ctx, wanted, () => sawOnStream, started);
    if (note) return note;
    if (sawOnStream) return `consumed after ${Date.now() - started} ms (live feed)`;
    const waited = Math.round((Date.now() - started) / 1000);
    throw new CheckFailed(`order ${wanted} was created but did not reach the frontend's consumer within ${waited} s: ${await whyNotConsumed(endpoints, ctx.signal)}`);
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    watch.abort();
    await stream;
  }
}

/** A note once the order is seen (on the feed or in the recent list); undefined when the time kept for polling runs out. */
function untilConsumed(ctx: CheckContext, orderId: string, sawOnStream: () => boolean, started: number): Promise<string | undefined> {
  const frontend = ctx.endpoints.services.frontend;
  const consumed = pollUntil(
    async () => {
      if (sawOnStream()) return `consumed after ${Date.now() - started} ms (live feed)`;
      return (await inRecentOrders(frontend, orderId, ctx.signal)) ? `consumed after ${Date.now() - started} ms` : undefined;
    },
    {
      what: `order ${orderId} at the consumer`,
      timeoutMs: ctx.remainingMs() - DIAGNOSIS_RESERVE_MS,
      intervalMs: POLL_INTERVAL_MS,
      signal: ctx.signal,
    },
  );
  return orOnTimeout(consumed, undefined);
}

async function inRecentOrders(frontend: string, orderId: string, signal: AbortSignal): Promise<boolean> {
  try {
    const res = await request('GET', `${frontend}/api/orders/recent`, { signal });
    if (res.status !== 200) return false;
    const list = Array.isArray(res.json) ? res.json : isRecord(res.json) ? (res.json.items ?? res.json.orders) : undefined;
    return Array.isArray(list) && list.some((o) => orderIdOf(o) === orderId);
  } catch (err) {
    if (signal.aborted) throw err;
    return false;
  }
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
  return 'no order event on /api/orders/stream and not in /api/orders/recent (is the relay or the consumer stuck? see `ecom logs order` and `ecom logs frontend`)';
}

function orderIdOf(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  const id = value.orderId ?? value.id;
  return typeof id === 'string' ? id : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
