import { Counter, Histogram, type Registry } from 'prom-client';

export type QueryOutcome = 'hit' | 'miss' | 'error';
const OUTCOMES: readonly QueryOutcome[] = ['hit', 'miss', 'error'];

/** A full-text query on PostgreSQL or Elasticsearch: from a millisecond to a backend timing out. */
export const BACKEND_DURATION_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface SearchMetrics {
  /** One query the backend answered (hit or miss) or failed (error), and how long the backend took. */
  answered: (outcome: QueryOutcome, backendSeconds: number) => void;
}

/**
 * The search series of docs/architecture.md ("Metrics"): queries by backend and outcome,
 * and the backend's own latency (the HTTP histogram also counts validation and JSON).
 * Every outcome starts at zero, so a rate() over it answers before the first error.
 */
export function createSearchMetrics(registry: Registry, backend: string): SearchMetrics {
  const queries = new Counter({
    name: 'search_queries_total',
    help: 'Search queries answered, by backend and outcome (hit, miss, error)',
    labelNames: ['backend', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'search_backend_duration_seconds',
    help: 'Seconds the search backend took to answer a query (or fail), by backend',
    labelNames: ['backend'] as const,
    buckets: BACKEND_DURATION_BUCKETS_S,
    registers: [registry],
  });
  for (const outcome of OUTCOMES) queries.inc({ backend, outcome }, 0);
  const timer = duration.labels(backend);
  return {
    answered: (outcome, backendSeconds) => {
      queries.inc({ backend, outcome });
      timer.observe(backendSeconds);
    },
  };
}
