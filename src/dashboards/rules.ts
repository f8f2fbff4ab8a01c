/**
 * The Prometheus rules: recording rules for the RED series and the latency objective,
 * and the alerts (docs/architecture.md, "Dashboards and rules"). An alert is a list of
 * conditions `signal op threshold` joined by `and`, so tests can ask Prometheus for
 * each signal without its threshold.
 */
import { errorRatio, eq, HTTP_DURATION, percentile, QUANTILES, quantile, rate, requestRate, series, sumBy } from './promql.js';

/** Window of the recorded RED series: several scrapes even at the chart's 1 m interval. */
export const RED_WINDOW = '5m';
/** 5xx share above which a service is failing its users. */
export const ERROR_RATIO_THRESHOLD = 0.05;

/**
 * 99 % of requests answered within 0.5 s (a bucket of the request histogram), over
 * every route but the live order stream, whose requests last as long as a page is open.
 */
export const LATENCY_OBJECTIVE = { thresholdSeconds: 0.5, bucket: '0.5', target: 0.99 } as const;
export const STREAMING_ROUTES = ['/api/orders/stream'] as const;
const ERROR_BUDGET = '0.01';

/** Burn-rate pairs (a long window to be sure, a short one to stop soon after it ends), as in Google's SRE workbook. */
export const BURN_RATE_ALERTS = [
  { alert: 'EcomLatencyBudgetBurnFast', long: '1h', short: '5m', burnRate: 14.4, for: '2m', severity: 'page' },
  { alert: 'EcomLatencyBudgetBurnSlow', long: '6h', short: '30m', burnRate: 6, for: '15m', severity: 'ticket' },
] as const;
export const BURN_WINDOWS = ['5m', '30m', '1h', '6h'] as const;

export const RECORDED = {
  routeRequests: `service_route:http_requests:rate${RED_WINDOW}`,
  routeErrorRatio: `service_route:http_request_error_ratio:rate${RED_WINDOW}`,
  routeBuckets: `service_route_le:http_request_duration_seconds_bucket:rate${RED_WINDOW}`,
  routeLatency: (q: number) => `service_route:http_request_duration_seconds:${percentile(q)}_rate${RED_WINDOW}`,
  serviceRequests: `service:http_requests:rate${RED_WINDOW}`,
  serviceErrorRatio: `service:http_request_error_ratio:rate${RED_WINDOW}`,
  serviceLatency: (q: number) => `service:http_request_duration_seconds:${percentile(q)}_rate${RED_WINDOW}`,
  latencyMisses: (window: string) => `service:http_request_latency_misses:ratio_rate${window}`,
};

export interface RecordingRule {
  record: string;
  expr: string;
}

export interface AlertCondition {
  signal: string;
  op: '>' | '==';
  threshold: string;
}

export interface AlertSpec {
  alert: string;
  conditions: AlertCondition[];
  /** How long the conditions must hold; none fires at the first evaluation. */
  for?: string;
  severity: 'page' | 'ticket';
  summary: string;
  description: string;
  /** The uid of the dashboard that shows why. */
  dashboard: string;
}

export interface RuleGroup<R> {
  name: string;
  rules: R[];
}

function redRecordingRules(): RecordingRule[] {
  const byRoute = ['service', 'route'];
  return [
    { record: RECORDED.routeRequests, expr: requestRate(byRoute, [], RED_WINDOW) },
    { record: RECORDED.routeErrorRatio, expr: errorRatio(byRoute, [], RED_WINDOW) },
    { record: RECORDED.routeBuckets, expr: sumBy([...byRoute, 'le'], rate(`${HTTP_DURATION}_bucket`, RED_WINDOW)) },
    ...QUANTILES.map((q) => ({ record: RECORDED.routeLatency(q), expr: `histogram_quantile(${q}, ${RECORDED.routeBuckets})` })),
    { record: RECORDED.serviceRequests, expr: requestRate(['service'], [], RED_WINDOW) },
    { record: RECORDED.serviceErrorRatio, expr: errorRatio(['service'], [], RED_WINDOW) },
    ...QUANTILES.map((q) => ({ record: RECORDED.serviceLatency(q), expr: quantile(q, HTTP_DURATION, ['service'], [], RED_WINDOW) })),
  ];
}

/** The share of requests slower than the objective's threshold, per service. */
function latencyMissRule(window: string): RecordingRule {
  const notStreaming = `route!~"${STREAMING_ROUTES.join('|')}"`;
  const fast = sumBy(['service'], rate(series(`${HTTP_DURATION}_bucket`, eq('le', LATENCY_OBJECTIVE.bucket), notStreaming), window));
  const all = sumBy(['service'], rate(series(`${HTTP_DURATION}_count`, notStreaming), window));
  return { record: RECORDED.latencyMisses(window), expr: `1 - (${fast} / ${all})` };
}

export const RECORDING_GROUPS: RuleGroup<RecordingRule>[] = [
  { name: 'ecom-red', rules: redRecordingRules() },
  { name: 'ecom-latency-objective', rules: BURN_WINDOWS.map(latencyMissRule) },
];

const burnRateAlerts: AlertSpec[] = BURN_RATE_ALERTS.map((b) => ({
  alert: b.alert,
  conditions: [b.long, b.short].map((window) => ({ signal: RECORDED.latencyMisses(window), op: '>', threshold: `(${b.burnRate} * ${ERROR_BUDGET})` })),
  for: b.for,
  severity: b.severity,
  summary: `{{ $labels.service }} spends its latency error budget ${b.burnRate}x too fast`,
  description:
    `Over the last ${b.long} and ${b.short}, more than ${b.burnRate} x ${ERROR_BUDGET} of {{ $labels.service }}'s requests ` +
    `took longer than ${LATENCY_OBJECTIVE.thresholdSeconds} s (objective: ${LATENCY_OBJECTIVE.target * 100} % within it); now {{ $value | humanizePercentage }}.`,
  dashboard: 'ecom-red-{{ $labels.service }}',
}));

export const ALERT_GROUPS: RuleGroup<AlertSpec>[] = [
  {
    name: 'ecom-alerts',
    rules: [
      {
        alert: 'EcomHighErrorRatio',
        conditions: [{ signal: RECORDED.serviceErrorRatio, op: '>', threshold: String(ERROR_RATIO_THRESHOLD) }],
        for: '5m',
        severity: 'page',
        summary: '{{ $labels.service }} answers {{ $value | humanizePercentage }} of its requests with a server error',
        description: `More than ${ERROR_RATIO_THRESHOLD * 100} % of {{ $labels.service }}'s requests were answered 5xx over ${RED_WINDOW}, for 5 minutes.`,
        dashboard: 'ecom-red-{{ $labels.service }}',
      },
      ...burnRateAlerts,
      {
        alert: 'EcomOutboxBacklogGrowing',
        conditions: [
          { signal: 'max by (service) (deriv(outbox_pending[10m]))', op: '>', threshold: '0' },
          { signal: 'max by (service) (outbox_pending)', op: '>', threshold: '0' },
        ],
        for: '10m',
        severity: 'ticket',
        summary: 'Orders pile up in the outbox: the relay publishes fewer than are created',
        description: 'outbox_pending has grown for 10 minutes; is the broker reachable? (ecom status, the order log)',
        dashboard: 'ecom-order-pipeline',
      },
      {
        alert: 'EcomOrdersDeadLettered',
        conditions: [{ signal: `sum by (service, reason) (increase(orders_dead_lettered_total[10m]))`, op: '>', threshold: '0' }],
        severity: 'ticket',
        summary: 'Order messages reached the dead-letter queue ({{ $labels.reason }})',
        description: '{{ $value }} order messages were dead-lettered in 10 minutes; they wait in orders.dead, and the frontend log names each.',
        dashboard: 'ecom-order-pipeline',
      },
      {
        alert: 'EcomTargetDown',
        conditions: [{ signal: 'up{service!=""}', op: '==', threshold: '0' }],
        for: '1m',
        severity: 'page',
        summary: "Prometheus cannot scrape {{ $labels.service }} at {{ $labels.instance }}",
        description: '{{ $labels.service }} has not answered /metrics for a minute: it is down or not listening where it should.',
        dashboard: 'ecom-red-{{ $labels.service }}',
      },
    ],
  },
];

/** The alert's expression: its conditions, each in parentheses when there are several. */
export function alertExpr(spec: AlertSpec): string {
  const parts = spec.conditions.map((c) => `${c.signal} ${c.op} ${c.threshold}`);
  return parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(' and ');
}

/** Prometheus's rule file format. */
export interface RuleFile {
  groups: Array<{ name: string; rules: Array<Record<string, unknown>> }>;
}

export function recordingRuleFile(): RuleFile {
  return { groups: RECORDING_GROUPS.map((g) => ({ name: g.name, rules: g.rules.map((r) => ({ record: r.record, expr: r.expr })) })) };
}

export function alertingRuleFile(): RuleFile {
  return {
    groups: ALERT_GROUPS.map((g) => ({
      name: g.name,
      rules: g.rules.map((a) => ({
        alert: a.alert,
        expr: alertExpr(a),
        ...(a.for ? { for: a.for } : {}),
        labels: { severity: a.severity },
        annotations: { summary: a.summary, description: a.description, dashboard: a.dashboard },
      })),
    })),
  };
}

/** Every series a recording rule writes, for dashboards that read them. */
export const recordedNames = (): string[] => RECORDING_GROUPS.flatMap((g) => g.rules.map((r) => r.record));
