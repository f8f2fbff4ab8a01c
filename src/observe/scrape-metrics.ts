/**
 * RED numbers from two /metrics scrapes of a service, for when no Prometheus runs
 * (docs/architecture.md, "Live status"): the counters' increase between the scrapes
 * over the time between them, with Prometheus's own rules for counter resets and
 * histogram quantiles, so the numbers mean what the recorded series mean. The
 * observer's own GET /metrics requests are left out: they would be all the traffic of
 * an idle system.
 */
import { HTTP_DURATION, HTTP_REQUESTS } from '../dashboards/promql.js';
import { findSamples, parseMetrics } from '../smoke/prometheus-text.js';
import type { ServiceMetrics } from '../runtime/types.js';

/** The route the observer's own scrapes are counted under. */
export const METRICS_ROUTE = '/metrics';
export const P95 = 0.95;

/** The RED counters of one scrape: per series (labels without `le`), keyed by a stable string. */
export interface RedSnapshot {
  /** When it was taken (ms since the epoch). */
  at: number;
  /** Requests per series, and whether the series counts 5xx answers. */
  requests: Map<string, { count: number; serverError: boolean }>;
  /** Cumulative bucket counts per series, by upper bound (Infinity for +Inf). */
  buckets: Map<string, Map<number, number>>;
}

const seriesKey = (labels: Record<string, string>): string =>
  JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort(([a], [b]) => a.localeCompare(b)));

/** Reads the RED counters from a /metrics text; throws on text that is not the exposition format. */
export function redSnapshot(text: string, at: number): RedSnapshot {
  const families = parseMetrics(text);
  const requests = new Map<string, { count: number; serverError: boolean }>();
  for (const s of findSamples(families, HTTP_REQUESTS)) {
    if (s.labels.route === METRICS_ROUTE) continue;
    requests.set(seriesKey(s.labels), { count: s.value, serverError: /^5\d\d$/.test(s.labels.status_code ?? '') });
  }
  const buckets = new Map<string, Map<number, number>>();
  for (const s of findSamples(families, HTTP_DURATION, {}, `${HTTP_DURATION}_bucket`)) {
    if (s.labels.route === METRICS_ROUTE || s.labels.le === undefined) continue;
    const key = seriesKey(s.labels);
    const series = buckets.get(key) ?? new Map<number, number>();
    series.set(s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value);
    buckets.set(key, series);
  }
  return { at, requests, buckets };
}

/**
 * A counter's increase as Prometheus's rate() sees it: a value lower than before means
 * the process restarted and counted from zero, so all of the new value is the increase.
 * A series that did not exist before started at zero.
 */
export const counterIncrease = (before: number | undefined, after: number): number =>
  before === undefined || after < before ? after : after - before;

/** The RED numbers between two snapshots of the same service; undefined when they are not in order. */
export function redBetween(before: RedSnapshot, after: RedSnapshot): ServiceMetrics | undefined {
  const seconds = (after.at - before.at) / 1000;
  if (!(seconds > 0)) return undefined;
  let requests = 0;
  let errors = 0;
  for (const [key, now] of after.requests) {
    const increase = counterIncrease(before.requests.get(key)?.count, now.count);
    requests += increase;
    if (now.serverError) errors += increase;
  }
  const metrics: ServiceMetrics = { source: 'scrape', windowSeconds: round(seconds, 3), requestsPerSecond: requests / seconds };
  if (requests > 0) metrics.errorRatio = errors / requests;
  const p95 = histogramQuantile(P95, bucketIncrease(before.buckets, after.buckets));
  if (p95 !== undefined) metrics.p95Seconds = p95;
  return metrics;
}

/** Each bucket's increase summed over every series; a series whose +Inf count fell restarted, so it counts whole. */
export function bucketIncrease(before: RedSnapshot['buckets'], after: RedSnapshot['buckets']): Map<number, number> {
  const sum = new Map<number, number>();
  for (const [key, now] of after) {
    const then = before.get(key);
    const restarted = then !== undefined && (now.get(Infinity) ?? 0) < (then.get(Infinity) ?? 0);
    for (const [le, count] of now) {
      const increase = restarted ? count : counterIncrease(then?.get(le), count);
      sum.set(le, (sum.get(le) ?? 0) + increase);
    }
  }
  return sum;
}

/**
 * Prometheus's histogram_quantile over cumulative buckets (upper bound → count): the
 * bucket holding the q-th observation, interpolated linearly inside it; the first
 * bucket starts at 0, and an answer in the +Inf bucket is the highest finite bound.
 * Undefined without observations or without a +Inf bucket.
 */
export function histogramQuantile(q: number, cumulative: Map<number, number>): number | undefined {
  const buckets = [...cumulative.entries()].sort(([a], [b]) => a - b);
  const total = buckets.at(-1);
  if (!total || total[0] !== Infinity || !(total[1] > 0)) return undefined;
  const rank = q * total[1];
  const index = buckets.findIndex(([, count]) => count >= rank);
  if (index === buckets.length - 1) return buckets.length > 1 ? buckets[buckets.length - 2]![0] : undefined;
  const [upper, count] = buckets[index]!;
  const [lower, below] = index === 0 ? [0, 0] : buckets[index - 1]!;
  if (count === below) return upper;
  return lower + (upper - lower) * ((rank - below) / (count - below));
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));
