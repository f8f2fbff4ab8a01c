/**
 * RED views: one dashboard per service (rate, errors, duration by route, from the raw
 * series at Grafana's zoom) and an overview of all four from the recorded series.
 */
import type { ServiceName } from '../core/system.js';
import { dashboard, stat, timeseries, type Dashboard, type PanelSpec } from './grafana.js';
import { eq, errorRatio, GRAFANA_RATE_WINDOW as W, HTTP_DURATION, percentile, QUANTILES, quantile, requestRate, series, sumBy } from './promql.js';
import { BURN_RATE_ALERTS, ERROR_RATIO_THRESHOLD, LATENCY_OBJECTIVE, RECORDED } from './rules.js';

export const redDashboardUid = (service: ServiceName): string => `ecom-red-${service}`;

export function redDashboard(service: ServiceName): Dashboard {
  const only = [eq('service', service)];
  return dashboard({
    uid: redDashboardUid(service),
    title: `ecom · ${service} (RED)`,
    description: `Requests, errors and duration of the ${service} service, by route pattern.`,
    tags: ['red', service],
    rows: [summaryRow(service, only), ...byRouteRows(only), [statusCodes(only), objectiveBurnRate(only)]],
  });
}

function summaryRow(service: ServiceName, only: string[]): PanelSpec[] {
  return [
    stat({ title: 'Requests per second', description: 'Every request answered, all routes.', unit: 'reqps', queries: [{ expr: requestRate([], only, W), legend: service }] }),
    stat({
      title: 'Error ratio',
      description: `Share of requests answered 5xx; the alert EcomHighErrorRatio fires above ${ERROR_RATIO_THRESHOLD * 100} % for 5 minutes.`,
      unit: 'percentunit',
      redFrom: ERROR_RATIO_THRESHOLD,
      queries: [{ expr: errorRatio([], only, W), legend: service }],
    }),
    stat({
      title: 'p95 latency',
      description: 'All routes together.',
      unit: 's',
      redFrom: LATENCY_OBJECTIVE.thresholdSeconds,
      queries: [{ expr: quantile(0.95, HTTP_DURATION, [], only, W), legend: service }],
    }),
    stat({
      title: 'Instances up',
      description: 'Targets Prometheus scrapes successfully (one process locally, one per pod in a cluster).',
      unit: 'short',
      queries: [{ expr: sumBy([], series('up', ...only)), legend: service }],
    }),
  ];
}

/** Rate and errors by route, then one panel per latency quantile by route. */
function byRouteRows(only: string[]): PanelSpec[][] {
  const byRoute = ['route'];
  return [
    [
      timeseries({ title: 'Request rate by route', description: 'Route is the matched pattern, never the raw URL.', unit: 'reqps', queries: [{ expr: requestRate(byRoute, only, W), legend: '{{route}}' }] }),
      timeseries({
        title: 'Error ratio by route',
        description: "Share of each route's requests answered 5xx (4xx are the client's mistakes, not errors here).",
        unit: 'percentunit',
        max: 1,
        queries: [{ expr: errorRatio(byRoute, only, W), legend: '{{route}}' }],
      }),
    ],
    QUANTILES.map((q) =>
      timeseries({
        title: `${percentile(q)} latency by route`,
        description: `From the request histogram (${HTTP_DURATION}).`,
        unit: 's',
        queries: [{ expr: quantile(q, HTTP_DURATION, byRoute, only, W), legend: '{{route}}' }],
      }),
    ),
  ];
}

const statusCodes = (only: string[]): PanelSpec =>
  timeseries({ title: 'Responses by status code', description: 'All routes.', unit: 'reqps', queries: [{ expr: requestRate(['status_code'], only, W), legend: '{{status_code}}' }] });

/** The recorded share of slow requests over the error budget: 1 spends it exactly. */
function objectiveBurnRate(only: string[]): PanelSpec {
  const budget = 1 - LATENCY_OBJECTIVE.target;
  const alerts = BURN_RATE_ALERTS.map((b) => `${b.burnRate} over ${b.long} and ${b.short} fires ${b.alert}`).join(', ');
  return timeseries({
    title: 'Latency objective: error budget burn rate',
    description: `Objective: ${LATENCY_OBJECTIVE.target * 100} % of requests within ${LATENCY_OBJECTIVE.thresholdSeconds} s. 1 spends the budget exactly; ${alerts}. From the recording rules.`,
    unit: 'short',
    queries: ['5m', '1h', '6h'].map((window) => ({ expr: `${series(RECORDED.latencyMisses(window), ...only)} / ${budget.toFixed(2)}`, legend: `${window} window` })),
  });
}

export function overviewDashboard(): Dashboard {
  return dashboard({
    uid: 'ecom-overview',
    title: 'ecom · overview',
    description: `The four services side by side, from the recording rules (${RECORDED.serviceRequests} and friends).`,
    tags: ['red', 'overview'],
    rows: [
      [
        timeseries({ title: 'Requests per second by service', description: 'All routes.', unit: 'reqps', queries: [{ expr: RECORDED.serviceRequests, legend: '{{service}}' }] }),
        timeseries({ title: 'Error ratio by service', description: 'Share of requests answered 5xx.', unit: 'percentunit', max: 1, queries: [{ expr: RECORDED.serviceErrorRatio, legend: '{{service}}' }] }),
      ],
      [
        timeseries({
          title: 'Latency by service',
          description: 'p50, p95 and p99 of all routes together.',
          unit: 's',
          queries: QUANTILES.map((q) => ({ expr: RECORDED.serviceLatency(q), legend: `{{service}} ${percentile(q)}` })),
        }),
        timeseries({ title: 'Targets up', description: 'Successful scrapes per service.', unit: 'short', queries: [{ expr: sumBy(['service'], 'up{service!=""}'), legend: '{{service}}' }] }),
      ],
      [
        timeseries({
          title: 'Slowest routes (p95)',
          description: 'Each service\'s routes by their recorded p95.',
          unit: 's',
          queries: [{ expr: `topk(10, ${RECORDED.routeLatency(0.95)})`, legend: '{{service}} {{route}}' }],
        }),
        timeseries({ title: 'Busiest routes', description: 'Requests per second of each service\'s routes.', unit: 'reqps', queries: [{ expr: `topk(10, ${RECORDED.routeRequests})`, legend: '{{service}} {{route}}' }] }),
      ],
    ],
  });
}
