/**
 * Every benchmark `npm run bench` knows, in the order a full run takes them: what it
 * measures against what (for BENCHMARKS.md), and how to run it. `run` resolves false
 * when a figure misses its goal; figures are reported with record() (bench/lib/record.ts).
 * Modules are imported only when their benchmark runs.
 *
 * To add one: an entry here (`search: { about: '…', run: async () => (await
 * import('./search.js')).benchSearch() }`), and in the module one record({ name, figure,
 * unit, reference, referenceName, goal }) per figure; run.ts files the figures under the
 * entry's name in bench/results.json and BENCHMARKS.md.
 */
export interface Bench {
  /** One or two sentences: the figure, its reference, and the goal. */
  about: string;
  run: (options: BenchOptions) => Promise<boolean>;
}

export interface BenchOptions {
  /** `--minutes` for the soak. */
  minutes?: number;
}

export const BENCHES: Record<string, Bench> = {
  catalog: {
    about:
      'GET /catalog?limit=20&offset=40 of the real catalog service (100,000 products) against a minimal Express 5 handler and a bare node:http server sending the same bytes; autocannon, alternating rounds, median round.',
    run: async () => (await import('./catalog.js')).benchCatalog(),
  },
  order: {
    about: 'POST /create-order over HTTP (real order service, PostgreSQL, RabbitMQ) against pgbench committing the same order + outbox transaction.',
    run: async () => (await import('./order.js')).benchOrder(),
  },
  latency: {
    about:
      'Time from an order accepted (its row\'s created_at, inside the transaction the 201 waits for) to consumed (the frontend consumer\'s consumed_at) through outbox, relay, broker and consumer; real order and frontend services, orders sent open-loop at a moderate rate. Reference: the same message published straight to a queue and stored by a plain consumer with the same insert (no outbox).',
    run: async () => (await import('./order-latency.js')).benchOrderLatency(),
  },
  search: {
    about:
      'GET /search of the real search service (PostgreSQL backend, 100,000 products, 8 connections) for the prefixes typed first (l, la, lap, lapt), a two-word query and a selective word: req/s, p50 and p99 each, against the selective word in the same run. Goals: slowest broad prefix / selective word ≥ 0.5, p99 ≤ 15 ms.',
    run: async () => (await import('./search.js')).benchSearch(),
  },
  'search-sync': {
    about:
      'The cost of one product change at 100,000 products: on PostgreSQL a rename (the UPDATE keeps the search terms in step in its own transaction) against the same UPDATE without the search triggers; for Elasticsearch the incremental sync of that product (one bulk operation) against a full sync of the catalogue, the client talking to the test stand-in. Goal: incremental ≤ 0.01 of full.',
    run: async () => (await import('./search-sync.js')).benchSearchSync(),
  },
  relay: {
    about: 'The outbox relay draining a backlog against publishing the same messages straight to the broker with batched confirms.',
    run: async () => (await import('./relay.js')).benchRelay(),
  },
  cli: {
    about: '`ecom --help`, `ecom --version` and `ecom status` (nothing up) against `node -e 0`, interleaved runs, medians.',
    run: async () => (await import('./cli-startup.js')).benchCliStartup(),
  },
  up: {
    about: 'Cold `ecom up` (local runtime) against its slowest dependency booting alone; warm `ecom up` (already up) against `node -e 0`.',
    run: async () => (await import('./up.js')).benchUp(),
  },
  soak: {
    about:
      'A real `ecom up` (local runtime, its own ECOM_HOME) under a steady open-loop rate over the storefront, catalog, search and order paths for a few minutes (default 3, `-- --minutes N`) after 30 s of warm-up: each service\'s RSS and open descriptors after the warm-up and at the end, latency percentiles per minute. Bounds: RSS ≤ 1.2 × after warm-up, descriptors ±10, last minute\'s p99 ≤ 2 × the first\'s, no failed request.',
    run: async ({ minutes }) => (await import('./soak.js')).benchSoak(minutes),
  },
  watch: {
    about:
      "Time from saving src/services/order/app.ts to the order service answering with the new code under `ecom dev` (local runtime, a copy of the project): watch, esbuild rebuild, restart through the supervisor, /health. Goal under 2 s. Reference: the order service's own cold start (spawn → /health 200) in the same rounds.",
    run: async () => (await import('./watch.js')).benchWatch(),
  },
};
