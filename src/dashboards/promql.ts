/**
 * Small PromQL builders, so every dashboard and rule spells the RED queries the same
 * way. Expressions are plain strings: what Grafana and Prometheus receive.
 */

/** Grafana's rate window: at least four scrape intervals, whatever the zoom. */
export const GRAFANA_RATE_WINDOW = '$__rate_interval';

/** The HTTP series of every service (docs/architecture.md, "Metrics"). */
export const HTTP_REQUESTS = 'http_requests_total';
export const HTTP_DURATION = 'http_request_duration_seconds';
export const SERVER_ERROR = 'status_code=~"5.."';

export const eq = (label: string, value: string): string => `${label}="${value}"`;

/** `metric{a="b", c=~"d"}`, or the bare name without matchers. */
export const series = (metric: string, ...matchers: string[]): string =>
  matchers.length === 0 ? metric : `${metric}{${matchers.join(', ')}}`;

export const rate = (selector: string, window: string): string => `rate(${selector}[${window}])`;
export const increase = (selector: string, window: string): string => `increase(${selector}[${window}])`;

export const sumBy = (by: readonly string[], expr: string): string =>
  by.length === 0 ? `sum(${expr})` : `sum by (${by.join(', ')}) (${expr})`;

/** Requests per second, summed by the given labels. */
export const requestRate = (by: readonly string[], matchers: readonly string[], window: string): string =>
  sumBy(by, rate(series(HTTP_REQUESTS, ...matchers), window));

/**
 * The share of requests answered 5xx. A group with traffic but no error has no 5xx
 * series; `or … * 0` gives it a zero instead of leaving it out of the answer.
 */
export function errorRatio(by: readonly string[], matchers: readonly string[], window: string): string {
  const all = requestRate(by, matchers, window);
  const errors = requestRate(by, [...matchers, SERVER_ERROR], window);
  return `(${errors} or ${all} * 0) / ${all}`;
}

/** The q-quantile of a histogram's rate, by the given labels. */
export const quantile = (q: number, histogram: string, by: readonly string[], matchers: readonly string[], window: string): string =>
  `histogram_quantile(${q}, ${sumBy([...by, 'le'], rate(series(`${histogram}_bucket`, ...matchers), window))})`;

export const QUANTILES = [0.5, 0.95, 0.99] as const;
export const percentile = (q: number): string => `p${Math.round(q * 100)}`;
