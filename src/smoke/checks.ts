/**
 * The smoke checks, written once for every runtime: they see only Endpoints. Each
 * failure says what it expected and what it saw (status code, body excerpt).
 */
import { randomUUID } from 'node:crypto';
import { SERVICE_NAMES, type ServiceName } from '../core/system.js';
import { CheckFailed, describe, excerpt, expectStatus, isRecord, request } from './http.js';
import { orderReachesConsumer, placeOrder, orderBody, smokeOrderHeaders, TEST_ORDER_HEADER } from './order-flow.js';
import { metricsCheck } from './metrics-check.js';
import { prometheusTargetsUp } from './prometheus-targets.js';
import type { SmokeCheck } from './types.js';

/** A product the seed catalogue always has. */
export const KNOWN_PRODUCT = { id: 1, name: 'Laptop Pro 14', query: 'lap' };

export interface CheckDeadlines {
  requestMs: number;
  consumerMs: number;
  prometheusMs: number;
}

export const DEFAULT_DEADLINES: CheckDeadlines = { requestMs: 10_000, consumerMs: 30_000, prometheusMs: 45_000 };

export function smokeChecks(deadlines: CheckDeadlines = DEFAULT_DEADLINES): SmokeCheck[] {
  const quick = { deadlineMs: deadlines.requestMs, phase: 1 as const };
  return [
    ...SERVICE_NAMES.map((service) => ({ name: `${service} /health answers 200`, ...quick, run: healthCheck(service) })),
    { name: 'catalog returns products', ...quick, run: catalogReturnsProducts },
    { name: `search "${KNOWN_PRODUCT.query}" finds "${KNOWN_PRODUCT.name}"`, ...quick, run: searchFindsKnownProduct },
    { name: 'an order is created and reaches the consumer', deadlineMs: deadlines.consumerMs, phase: 1, run: orderReachesConsumer },
    { name: 'an idempotent replay returns the same order', ...quick, run: idempotentReplay },
    { name: 'an order with a bad email is rejected with 400', ...quick, run: badEmailRejected },
    { name: 'catalog rejects limit=0 with 400', ...quick, run: badCatalogQueryRejected },
    // After phase 1, so the request counters have samples to show.
    ...SERVICE_NAMES.map((service) => ({
      name: `${service} /metrics parses and has the expected series`,
      deadlineMs: deadlines.requestMs,
      phase: 2 as const,
      run: metricsCheck(service),
    })),
    {
      name: 'Prometheus reports every target up',
      deadlineMs: deadlines.prometheusMs,
      phase: 2,
      skip: (endpoints) => (endpoints.prometheus ? undefined : 'Prometheus is not running'),
      run: prometheusTargetsUp,
    },
  ];
}

function healthCheck(service: ServiceName): SmokeCheck['run'] {
  return async ({ endpoints, signal }) => {
    const res = await request('GET', `${endpoints.services[service]}/health`, { signal });
    expectStatus(res, 200);
    if (isRecord(res.json) && res.json.status === 'degraded') {
      const failing = isRecord(res.json.checks)
        ? Object.entries(res.json.checks).filter(([, c]) => isRecord(c) && c.ok === false).map(([n]) => n)
        : [];
      return `degraded: ${failing.join(', ') || 'a non-critical dependency'} not answering`;
    }
  };
}

const catalogReturnsProducts: SmokeCheck['run'] = async ({ endpoints, signal }) => {
  const res = await request('GET', `${endpoints.services.catalog}/catalog`, { signal });
  expectStatus(res, 200);
  const body = res.json;
  if (!isRecord(body) || !Array.isArray(body.items) || body.items.length === 0 || !(Number(body.total) >= 1)) {
    throw new CheckFailed(`expected a non-empty "items" list and "total" ≥ 1, got ${describe(res)}`);
  }
  return `${body.items.length} of ${String(body.total)} products on the first page`;
};

const searchFindsKnownProduct: SmokeCheck['run'] = async ({ endpoints, signal }) => {
  const res = await request('GET', `${endpoints.services.search}/search?q=${encodeURIComponent(KNOWN_PRODUCT.query)}`, { signal });
  expectStatus(res, 200);
  const items = isRecord(res.json) && Array.isArray(res.json.items) ? res.json.items : undefined;
  if (!items) throw new CheckFailed(`expected an "items" list, got ${describe(res)}`);
  const names = items.map((i) => (isRecord(i) ? String(i.name ?? i.title ?? '?') : '?'));
  if (!names.includes(KNOWN_PRODUCT.name)) {
    const seen = names.length === 0 ? 'no results' : `${names.length} results (${excerpt(names.join(', '), 120)})`;
    throw new CheckFailed(`"${KNOWN_PRODUCT.name}" not found: ${seen}; ${describe(res)}`);
  }
};

const idempotentReplay: SmokeCheck['run'] = async ({ endpoints, signal }) => {
  const key = `smoke-${randomUUID()}`;
  const body = orderBody('replay');
  const first = await placeOrder(endpoints, body, key, signal);
  const replay = await request('POST', `${endpoints.services.order}/create-order`, {
    signal,
    body,
    headers: smokeOrderHeaders(key),
  });
  expectStatus(replay, 200, 201);
  const replayId = isRecord(replay.json) ? replay.json.id : undefined;
  if (replayId !== first) {
    throw new CheckFailed(`the replay answered order ${String(replayId)}, the first request order ${first}: ${describe(replay)}`);
  }
};

const badEmailRejected: SmokeCheck['run'] = async ({ endpoints, signal }) => {
  const body = { customer: { email: 'not-an-email', name: 'Smoke Test' }, items: [{ productId: KNOWN_PRODUCT.id, quantity: 1 }] };
  // Marked like smoke's other orders, so a service that wrongly accepted it would keep it out of the live feed.
  const res = await request('POST', `${endpoints.services.order}/create-order`, { signal, body, headers: { [TEST_ORDER_HEADER]: 'true' } });
  expectStatus(res, 400);
  const details = isRecord(res.json) && isRecord(res.json.error) ? res.json.error.details : undefined;
  const fields = Array.isArray(details) ? details.map((d) => (isRecord(d) ? d.field : undefined)) : [];
  if (!fields.includes('customer.email')) {
    throw new CheckFailed(`expected error.details to name "customer.email", got ${describe(res)}`);
  }
};

const badCatalogQueryRejected: SmokeCheck['run'] = async ({ endpoints, signal }) => {
  const res = await request('GET', `${endpoints.services.catalog}/catalog?limit=0`, { signal });
  expectStatus(res, 400);
};
