/**
 * Every /metrics must parse strictly and carry the RED series plus the service's own
 * domain series (docs/architecture.md, "Metrics").
 */
import type { ServiceName } from '../core/system.js';
import { CheckFailed, describe, expectStatus, request } from './http.js';
import { MetricsParseError, parseMetrics, type MetricFamily } from './prometheus-text.js';
import type { SmokeCheck } from './types.js';

export const COMMON_SERIES = ['http_requests_total', 'http_request_duration_seconds'];

export const DOMAIN_SERIES: Record<ServiceName, string[]> = {
  catalog: [],
  search: ['search_queries_total'],
  order: ['orders_created_total', 'outbox_pending'],
  frontend: ['orders_consumed_total'],
};

const REQUEST_LABELS = ['service', 'method', 'route', 'status_code'];

export function metricsCheck(service: ServiceName): SmokeCheck['run'] {
  return async ({ endpoints, signal }) => {
    const res = await request('GET', `${endpoints.services[service]}/metrics`, { signal });
    expectStatus(res, 200);
    let families: Map<string, MetricFamily>;
    try {
      families = parseMetrics(res.text);
    } catch (err) {
      if (err instanceof MetricsParseError) throw new CheckFailed(`/metrics does not parse: ${err.message}`);
      throw err;
    }
    const expected = [...COMMON_SERIES, ...DOMAIN_SERIES[service]];
    const missing = expected.filter((name) => !families.has(name));
    if (missing.length > 0) {
      const has = [...families.keys()].filter((n) => !n.startsWith('process_') && !n.startsWith('nodejs_'));
      throw new CheckFailed(`missing series: ${missing.join(', ')} (it has: ${has.slice(0, 12).join(', ') || 'nothing but process defaults'}); ${describe(res)}`);
    }
    const requests = families.get('http_requests_total')!.samples;
    const labelled = requests.find((s) => REQUEST_LABELS.every((l) => l in s.labels));
    if (!labelled) {
      const seen = requests[0] ? JSON.stringify(requests[0].labels) : 'no samples';
      throw new CheckFailed(`http_requests_total has no sample labelled ${REQUEST_LABELS.join(', ')} (saw ${seen})`);
    }
    const histogram = families.get('http_request_duration_seconds')!;
    if (histogram.type !== 'histogram') {
      throw new CheckFailed(`http_request_duration_seconds is a ${histogram.type}, expected a histogram`);
    }
    return `${families.size} series`;
  };
}
