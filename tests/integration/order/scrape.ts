import { parseMetrics, type MetricFamily } from '../../../src/smoke/prometheus-text.js';

/**
 * parseMetrics after turning prom-client's `Nan` into `NaN`. prom-client writes `Nan`
 * for an empty event-loop-lag window (two scrapes within its 10 ms resolution), which
 * Prometheus accepts (Go's ParseFloat is case-insensitive) but our strict parser
 * refuses. Remove once src/smoke/prometheus-text.ts accepts it.
 */
export function parseScrape(text: string): Map<string, MetricFamily> {
  return parseMetrics(text.replace(/ Nan$/gm, ' NaN'));
}
