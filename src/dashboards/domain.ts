/**
 * The domain views: the order pipeline (order service → outbox → queue → frontend
 * consumer) and search (queries by backend and outcome, latency).
 */
import { dashboard, stat, timeseries, type Dashboard, type PanelSpec, type Query } from './grafana.js';
import { eq, GRAFANA_RATE_WINDOW as W, HTTP_DURATION, increase, percentile, QUANTILES, quantile, rate, requestRate, series, sumBy } from './promql.js';

const CONSUMPTION_DELAY = 'orders_consumption_delay_seconds';
const SEARCH_QUERIES = 'search_queries_total';
const SEARCH_BACKEND_DURATION = 'search_backend_duration_seconds';

const quantiles = (histogram: string, by: string[], matchers: string[], legend: (p: string) => string): Query[] =>
  QUANTILES.map((q) => ({ expr: quantile(q, histogram, by, matchers, W), legend: legend(percentile(q)) }));

const perSecond = (metric: string, by: string[] = [], ...matchers: string[]): string => sumBy(by, rate(series(metric, ...matchers), W));

export function orderPipelineDashboard(): Dashboard {
  return dashboard({
    uid: 'ecom-order-pipeline',
    title: 'ecom · order pipeline',
    description: 'Orders from creation through the outbox and the orders queue to the frontend consumer.',
    tags: ['orders'],
    rows: [pipelineSummaryRow(), ...pipelineRows()],
  });
}

const OUTBOX_PENDING = 'max(outbox_pending)';

function pipelineSummaryRow(): PanelSpec[] {
  return [
    stat({ title: 'Orders created per second', description: 'Stored by the order service (idempotent replays not counted).', unit: 'ops', queries: [{ expr: perSecond('orders_created_total'), legend: 'created' }] }),
    stat({ title: 'Outbox pending', description: 'Orders stored but not yet confirmed by the broker.', unit: 'short', queries: [{ expr: OUTBOX_PENDING, legend: 'pending' }] }),
    stat({
      title: 'Dead-lettered (last hour)',
      description: 'Messages the consumer sent to orders.dead; the alert EcomOrdersDeadLettered fires on any.',
      unit: 'short',
      redFrom: 1,
      queries: [{ expr: sumBy([], increase('orders_dead_lettered_total', '1h')), legend: 'dead-lettered' }],
    }),
    stat({ title: 'p95 order to consumption', description: "From the order's createdAt to its storage by the consumer.", unit: 's', queries: [{ expr: quantile(0.95, CONSUMPTION_DELAY, [], [], W), legend: 'p95' }] }),
  ];
}

function pipelineRows(): PanelSpec[][] {
  return [
    [
      timeseries({
        title: 'Created, published and consumed',
        description: 'Per second: stored by the order service, confirmed by the broker, stored by the consumer. Apart for long, something between them is stuck.',
        unit: 'ops',
        queries: [
          { expr: perSecond('orders_created_total'), legend: 'created' },
          { expr: perSecond('orders_published_total'), legend: 'published' },
          { expr: perSecond('orders_consumed_total', [], eq('outcome', 'consumed')), legend: 'consumed' },
        ],
      }),
      timeseries({ title: 'Outbox pending', description: 'The alert EcomOutboxBacklogGrowing fires when it keeps growing for 10 minutes.', unit: 'short', queries: [{ expr: OUTBOX_PENDING, legend: 'pending' }] }),
    ],
    [
      timeseries({ title: 'Consumed by outcome', description: 'consumed: stored; duplicate: a redelivery, ignored; poison: dead-lettered.', unit: 'ops', queries: [{ expr: perSecond('orders_consumed_total', ['outcome']), legend: '{{outcome}}' }] }),
      timeseries({
        title: 'Dead-lettered by reason',
        description: 'invalid: the message breaks the order contract; rejected: the database refused it for good. Messages per interval.',
        unit: 'short',
        queries: [{ expr: sumBy(['reason'], increase('orders_dead_lettered_total', W)), legend: '{{reason}}' }],
      }),
    ],
    [
      timeseries({ title: 'Time from order to consumption', description: `From ${CONSUMPTION_DELAY}.`, unit: 's', queries: quantiles(CONSUMPTION_DELAY, [], [], (p) => p) }),
      timeseries({
        title: 'Relay batches and consumer retries',
        description: 'Messages per confirmed relay batch (p95) and messages requeued per second after a transient database failure.',
        unit: 'short',
        queries: [
          { expr: quantile(0.95, 'outbox_publish_batch_size', [], [], W), legend: 'batch size p95' },
          { expr: perSecond('orders_consume_retries_total'), legend: 'retries per second' },
        ],
      }),
    ],
  ];
}

export function searchDashboard(): Dashboard {
  const searchRoute = [eq('service', 'search'), eq('route', '/search')];
  const outcomeRatio = (outcome: string) => `${perSecond(SEARCH_QUERIES, [], eq('outcome', outcome))} / ${perSecond(SEARCH_QUERIES)}`;
  return dashboard({
    uid: 'ecom-search',
    title: 'ecom · search',
    description: 'Search queries by backend (PostgreSQL full-text or Elasticsearch) and outcome, and how long they take.',
    tags: ['search'],
    rows: [
      [
        stat({ title: 'Queries per second', description: 'Queries the backend was asked (invalid ones are refused before).', unit: 'reqps', queries: [{ expr: perSecond(SEARCH_QUERIES), legend: 'queries' }] }),
        stat({ title: 'Hit ratio', description: 'Share of queries with at least one result.', unit: 'percentunit', queries: [{ expr: outcomeRatio('hit'), legend: 'hits' }] }),
        stat({ title: 'Backend error ratio', description: 'Share of queries the backend failed (answered 503).', unit: 'percentunit', redFrom: 0.01, queries: [{ expr: outcomeRatio('error'), legend: 'errors' }] }),
        stat({ title: 'p95 backend latency', description: `From ${SEARCH_BACKEND_DURATION}.`, unit: 's', queries: [{ expr: quantile(0.95, SEARCH_BACKEND_DURATION, [], [], W), legend: 'p95' }] }),
      ],
      [
        timeseries({ title: 'Queries by backend and outcome', description: 'hit, miss (no result) or error, per second.', unit: 'reqps', queries: [{ expr: perSecond(SEARCH_QUERIES, ['backend', 'outcome']), legend: '{{backend}} {{outcome}}' }] }),
        timeseries({
          title: 'Backend latency by backend',
          description: 'The backend\'s own time per query, failures included.',
          unit: 's',
          queries: quantiles(SEARCH_BACKEND_DURATION, ['backend'], [], (p) => `{{backend}} ${p}`),
        }),
      ],
      [
        timeseries({ title: 'GET /search latency', description: 'The whole request: validation, backend and JSON.', unit: 's', queries: quantiles(HTTP_DURATION, [], searchRoute, (p) => p) }),
        timeseries({ title: 'GET /search responses by status code', description: '400: invalid query; 503: backend unavailable.', unit: 'reqps', queries: [{ expr: requestRate(['status_code'], searchRoute, W), legend: '{{status_code}}' }] }),
      ],
    ],
  });
}
