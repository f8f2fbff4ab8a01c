/**
 * The console's charts: the time-series panels of the overview and order-pipeline
 * dashboards, with the dashboards' own queries (src/dashboards), asked of Prometheus's
 * query_range API by the console server and handed to the page as aligned columns,
 * ready for uPlot (docs/architecture.md, "Console").
 */
import { httpGet } from '../core/health-probe.js';
import { orderPipelineDashboard } from '../dashboards/domain.js';
import type { Dashboard, Unit } from '../dashboards/grafana.js';
import { GRAFANA_RATE_WINDOW } from '../dashboards/promql.js';
import { overviewDashboard } from '../dashboards/red.js';

/**
 * Grafana's `$__rate_interval` as a fixed window: four scrapes of a cluster's 15 s
 * interval, twelve of the local runtime's 5 s.
 */
export const CONSOLE_RATE_WINDOW = '1m';
export const CHART_RANGE_MINUTES = 15;
export const CHART_STEP_SECONDS = 10;
/** A chart with more lines than this is unreadable; the rest are dropped (the legend says so). */
export const MAX_SERIES_PER_CHART = 12;
const QUERY_RANGE_TIMEOUT_MS = 5_000;

export interface ChartQuery {
  expr: string;
  /** Grafana's legend format: `{{service}} p95`. */
  legend: string;
}

export interface ConsoleChart {
  id: string;
  /** The dashboard the panel comes from. */
  dashboard: string;
  title: string;
  description: string;
  unit: Unit;
  queries: ChartQuery[];
}

/** What the page gets for one chart: x in epoch seconds, one value column per line (null where no sample). */
export interface ChartData {
  id: string;
  xs: number[];
  series: Array<{ name: string; values: Array<number | null> }>;
  /** Lines beyond MAX_SERIES_PER_CHART that were dropped. */
  dropped: number;
}

const chartsOf = (dashboard: Dashboard): ConsoleChart[] =>
  dashboard.panels
    .filter((p) => p.type === 'timeseries')
    .map((p) => ({
      id: `${dashboard.uid}-${p.id}`,
      dashboard: dashboard.uid,
      title: p.title,
      description: p.description,
      unit: p.fieldConfig.defaults.unit,
      queries: p.targets.map((t) => ({ expr: t.expr.replaceAll(GRAFANA_RATE_WINDOW, CONSOLE_RATE_WINDOW), legend: t.legendFormat })),
    }));

/** The RED series (overview) and the order pipeline, in dashboard order. */
export function consoleCharts(): ConsoleChart[] {
  return [...chartsOf(overviewDashboard()), ...chartsOf(orderPipelineDashboard())];
}

/** Grafana's legend format filled from a series' labels. */
export function formatLegend(legend: string, labels: Record<string, string>): string {
  const text = legend.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_m, name: string) => labels[name] ?? '').trim();
  if (text !== '') return text;
  const pairs = Object.entries(labels).filter(([k]) => k !== '__name__');
  return pairs.length === 0 ? 'value' : pairs.map(([k, v]) => `${k}=${v}`).join(', ');
}

export interface TimeRange {
  /** Epoch seconds, multiples of `step`, so every query's samples fall on the same grid. */
  start: number;
  end: number;
  step: number;
}

export function chartRange(nowMs: number, minutes = CHART_RANGE_MINUTES, step = CHART_STEP_SECONDS): TimeRange {
  const end = Math.floor(nowMs / 1000 / step) * step;
  return { start: end - minutes * 60, end, step };
}

interface MatrixAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
}

export class PrometheusQueryError extends Error {}

/** One query_range; a refused query or no answer is a PrometheusQueryError saying why. */
async function queryRange(prometheus: string, expr: string, range: TimeRange): Promise<NonNullable<MatrixAnswer['data']>['result']> {
  const params = new URLSearchParams({ query: expr, start: String(range.start), end: String(range.end), step: String(range.step) });
  let res: { status: number; body: string };
  try {
    res = await httpGet(`${prometheus}/api/v1/query_range?${params}`, QUERY_RANGE_TIMEOUT_MS);
  } catch (err) {
    throw new PrometheusQueryError(`Prometheus at ${prometheus} does not answer (${(err as Error).message})`);
  }
  let answer: MatrixAnswer;
  try {
    answer = JSON.parse(res.body) as MatrixAnswer;
  } catch {
    throw new PrometheusQueryError(`Prometheus answered ${res.status} without JSON`);
  }
  if (answer.status !== 'success' || answer.data?.resultType !== 'matrix') throw new PrometheusQueryError(`Prometheus refused a query: ${answer.error ?? res.status}`);
  return answer.data.result;
}

/** Every query of the chart over the range, aligned on the range's grid. */
export async function chartData(prometheus: string, chart: ConsoleChart, range: TimeRange): Promise<ChartData> {
  const xs: number[] = [];
  for (let t = range.start; t <= range.end; t += range.step) xs.push(t);
  const results = await Promise.all(chart.queries.map((q) => queryRange(prometheus, q.expr, range)));
  // Query order kept (created, published, consumed); within a query, by name.
  const series = results.flatMap((result, i) =>
    result.map((r) => ({ name: formatLegend(chart.queries[i]!.legend, r.metric), values: onGrid(r.values, xs.length, range) })).sort((a, b) => a.name.localeCompare(b.name)),
  );
  return { id: chart.id, xs, series: series.slice(0, MAX_SERIES_PER_CHART), dropped: Math.max(0, series.length - MAX_SERIES_PER_CHART) };
}

/** Samples placed on the range's grid; null where Prometheus has none (a gap, not a zero). */
function onGrid(samples: Array<[number, string]>, length: number, range: TimeRange): Array<number | null> {
  const values: Array<number | null> = Array.from({ length }, () => null);
  for (const [t, v] of samples) {
    const at = Math.round((t - range.start) / range.step);
    const value = Number(v);
    if (at >= 0 && at < length && Number.isFinite(value)) values[at] = value;
  }
  return values;
}
